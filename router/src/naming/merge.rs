//! Merging a subscription's hosts.txt into the book, and what is kept per subscription.
//!
//! The fetcher (over the HTTP proxy, later) only supplies what it got: a body with its
//! ETag and Last-Modified, or "not modified" ([`Fetched`]). [`Subscription::apply`]
//! merges the body and remembers the validators for the next conditional request.
//!
//! A body over the size cap is refused whole (a fetcher should stop reading past it).
//! Inside a body, every line stands alone: a line that does not parse, names a host
//! badly or carries a bad signature is skipped and counted ([`Report`]); it never
//! stops the merge or touches the book.
//!
//! Commands (the "Address Subscription Feed Commands" specification) need signatures
//! the router can check, so only holders of Ed25519 destinations can use them; they
//! touch only names learned from subscriptions, never the operator's local files:
//! - add (no action), `addname`, `addsubdomain`, `adddest`, `update`: the line's name and
//!   destination are offered like a plain line (a present signature must verify);
//!   `addname` may give a destination a second name.
//! - `changedest`: the name moves from `olddest` to the line's destination (both sign).
//! - `changename`: `oldname` of the line's destination becomes the line's name.
//! - `remove` (name, dest) and `removeall` (dest): the learned names go.

use super::book::{parse_lines, AddressBook, Report};
use super::dest::BookDestination;
use super::line::{Entry, Line, Options};
use super::name::HostName;
use crate::data::base64_decode;

/// What a conditional fetch of a subscription returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched<'a> {
    /// 304 Not Modified.
    NotModified,
    /// 200 OK with this body and these validators.
    Body {
        bytes: &'a [u8],
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Why a fetched body was not merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("{size} bytes, over the cap of {cap}")]
    TooLarge { size: usize, cap: usize },
}

/// One subscription and what the last fetch left: the validators to send back
/// (`If-None-Match`, `If-Modified-Since`) and when it was fetched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Subscription {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Seconds since the UNIX epoch of the last successful fetch (0: never).
    pub fetched: u64,
}

impl Subscription {
    pub fn new(url: impl Into<String>) -> Subscription {
        Subscription {
            url: url.into(),
            ..Subscription::default()
        }
    }

    /// Whether a fetch is due, every `interval_secs`.
    pub fn due(&self, now_secs: u64, interval_secs: u64) -> bool {
        self.fetched == 0 || now_secs.saturating_sub(self.fetched) >= interval_secs
    }

    /// Merges what a fetch returned and keeps its validators. A refused body leaves
    /// the validators as they were, so the next fetch asks for it whole again.
    pub fn apply(
        &mut self,
        book: &mut AddressBook,
        fetched: Fetched<'_>,
        cap: usize,
        now_secs: u64,
    ) -> Result<Report, MergeError> {
        let report = match fetched {
            Fetched::NotModified => Report::default(),
            Fetched::Body {
                bytes,
                etag,
                last_modified,
            } => {
                let report = merge(book, &self.url, bytes, cap, now_secs)?;
                self.etag = etag;
                self.last_modified = last_modified;
                report
            }
        };
        self.fetched = now_secs;
        Ok(report)
    }
}

/// Merges the hosts.txt `bytes` fetched from `source` into `book`.
pub fn merge(
    book: &mut AddressBook,
    source: &str,
    bytes: &[u8],
    cap: usize,
    now_secs: u64,
) -> Result<Report, MergeError> {
    if bytes.len() > cap {
        return Err(MergeError::TooLarge {
            size: bytes.len(),
            cap,
        });
    }
    let mut report = Report::default();
    let ctx = Context { source, now_secs };
    for (_, line) in parse_lines(bytes, &mut report) {
        match line {
            Line::Entry(entry) => ctx.entry(book, entry, &mut report),
            Line::Command(options) => ctx.command(book, &options, &mut report),
            Line::Nothing => {}
        }
    }
    Ok(report)
}

/// Where a line came from.
struct Context<'a> {
    source: &'a str,
    now_secs: u64,
}

/// Whether a signature checks out.
#[derive(Debug, PartialEq, Eq)]
enum Checked {
    Valid,
    /// The destination's key type is one we cannot verify (not Ed25519).
    Unverifiable,
    Invalid,
}

/// Checks `sig` (base64) by `dest` over `text`.
fn check(dest: &BookDestination, text: &str, sig: Option<&str>) -> Checked {
    let Some(sig) = sig else {
        return Checked::Invalid;
    };
    let Ok(dest) = dest.to_destination() else {
        return Checked::Unverifiable;
    };
    match base64_decode(sig).map(|s| dest.verify(text.as_bytes(), &s)) {
        Ok(Ok(())) => Checked::Valid,
        _ => Checked::Invalid,
    }
}

impl Context<'_> {
    fn entry(&self, book: &mut AddressBook, entry: Entry, report: &mut Report) {
        let prefix = format!("{}={}", entry.name, entry.dest.to_base64());
        let options = &entry.options;
        let action = options.get("action");
        if options.get("sig").is_some() || action.is_some() {
            let outer = options.signed_text(&prefix, &["sig"]);
            match check(&entry.dest, &outer, options.get("sig")) {
                Checked::Valid => {}
                // An unsigned plain line would be taken as it is; so is an add whose
                // signature we cannot check. Commands that change entries are not.
                Checked::Unverifiable if action.is_none() => {}
                _ => return self.refused(report),
            }
        }
        match action {
            None | Some("addsubdomain" | "adddest" | "update") => {
                let insert =
                    book.insert_learned(entry.name, entry.dest, self.source, self.now_secs);
                report.count(insert);
            }
            Some("addname") => {
                let insert = book.insert_alias(entry.name, entry.dest, self.source, self.now_secs);
                report.count(insert);
            }
            Some("changedest") => self.change_dest(book, entry, &prefix, report),
            Some("changename") => self.change_name(book, entry, report),
            Some(_) => self.refused(report),
        }
    }

    /// `changedest`: signed by the new destination (outer) and the old one (inner).
    fn change_dest(&self, book: &mut AddressBook, entry: Entry, prefix: &str, report: &mut Report) {
        let options = &entry.options;
        let old = options
            .get("olddest")
            .and_then(|d| BookDestination::parse_base64(d).ok());
        let Some(old) = old else {
            return self.refused(report);
        };
        let inner = options.signed_text(prefix, &["sig", "oldsig"]);
        let holds = book.learned(&entry.name).is_some_and(|e| e.dest == old);
        if !holds || check(&old, &inner, options.get("oldsig")) != Checked::Valid {
            return self.refused(report);
        }
        book.remove(&entry.name);
        book.insert_alias(entry.name, entry.dest, self.source, self.now_secs);
        report.commands += 1;
    }

    /// `changename`: signed by the destination, which must hold `oldname`.
    fn change_name(&self, book: &mut AddressBook, entry: Entry, report: &mut Report) {
        let old = entry
            .options
            .get("oldname")
            .and_then(|n| HostName::parse(n).ok());
        let Some(old) = old else {
            return self.refused(report);
        };
        let holds = book.learned(&old).is_some_and(|e| e.dest == entry.dest);
        if !holds || book.lookup(entry.name.as_str()).is_some() {
            return self.refused(report);
        }
        book.remove(&old);
        book.insert_alias(entry.name, entry.dest, self.source, self.now_secs);
        report.commands += 1;
    }

    /// `#!action=remove#name=..#dest=..#sig=..` and `#!action=removeall#dest=..#sig=..`.
    fn command(&self, book: &mut AddressBook, options: &Options, report: &mut Report) {
        let dest = options
            .get("dest")
            .and_then(|d| BookDestination::parse_base64(d).ok());
        let Some(dest) = dest else {
            return self.refused(report);
        };
        if check(
            &dest,
            &options.signed_text("", &["sig"]),
            options.get("sig"),
        ) != Checked::Valid
        {
            return self.refused(report);
        }
        let names = match options.get("action") {
            Some("remove") => options
                .get("name")
                .and_then(|n| HostName::parse(n).ok())
                .filter(|n| book.learned(n).is_some_and(|e| e.dest == dest))
                .into_iter()
                .collect(),
            Some("removeall") => book.learned_names_of(&dest),
            _ => return self.refused(report),
        };
        for name in &names {
            book.remove(name);
        }
        report.commands += 1;
    }

    /// A command that was not applied: bad or missing signatures, a name the sender
    /// does not hold, an action we do not know.
    fn refused(&self, report: &mut Report) {
        report.commands_refused += 1;
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
