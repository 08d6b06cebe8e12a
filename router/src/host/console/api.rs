//! The JSON API: one endpoint per page (the slice of the snapshot the page shows), the
//! whole snapshot, the log, and the address book's look-up and addition.

use super::{field, Answer, Console};
use crate::host::addressbook::SharedBook;
use crate::host::status::Status;
use crate::naming::{BookDestination, HostName, Insert};
use http::StatusCode;
use serde::Serialize;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

pub(super) fn get(console: &Console, s: &Status, path: &str, query: &[(String, String)]) -> Answer {
    match path {
        "/status.json" | "/api/status" => Answer::json(s),
        "/api/overview" => Answer::json(&json!({
            "router": s.router,
            "version": s.version,
            "net_id": s.net_id,
            "floodfill": s.floodfill,
            "published": s.published,
            "uptime_secs": s.uptime_secs,
            "network": s.network,
            "bandwidth": s.bandwidth,
            "peers": { "connected": s.peers.connected, "inbound": s.peers.inbound,
                       "outbound": s.peers.outbound, "connecting": s.peers.connecting },
            "netdb": { "routers": s.netdb.routers, "floodfills": s.netdb.floodfills,
                       "lease_sets": s.netdb.lease_sets },
            "tunnels": { "exploratory_inbound": s.tunnels.exploratory_inbound,
                         "exploratory_outbound": s.tunnels.exploratory_outbound,
                         "participating": s.tunnels.participating },
            "destinations": s.destinations.len(),
        })),
        "/api/peers" => Answer::json(&s.peers),
        "/api/tunnels" => Answer::json(&json!({ "tunnels": s.tunnels, "tiers": s.tiers })),
        "/api/netdb" => Answer::json(&s.netdb),
        "/api/destinations" => Answer::json(&json!({
            "destinations": s.destinations,
            "tunnels": console.tunnels,
        })),
        "/api/log" => Answer::json(&console.log.recent()),
        "/api/token" => Answer::json(&json!({ "token": console.token })),
        "/api/addressbook" => {
            let name = field(query, "name").unwrap_or("").trim();
            let lookup = (!name.is_empty()).then(|| Lookup::of(&console.book, name));
            let page = book_page(&console.book, field(query, "from").unwrap_or(""), 100);
            Answer::json(&json!({ "lookup": lookup, "names": page }))
        }
        _ => Answer::text(StatusCode::NOT_FOUND, "no such API endpoint\n"),
    }
}

/// A look-up's answer.
#[derive(Debug, Serialize)]
pub(super) struct Lookup {
    pub name: String,
    pub b32: Option<String>,
    /// Base64, as hosts.txt has it.
    pub destination: Option<String>,
    pub error: Option<String>,
}

impl Lookup {
    pub fn of(book: &SharedBook, name: &str) -> Lookup {
        let mut lookup = Lookup {
            name: name.to_owned(),
            b32: None,
            destination: None,
            error: None,
        };
        match HostName::parse(name) {
            Err(e) => lookup.error = Some(format!("{name:?} is not a host name: {e}")),
            Ok(_) => {
                if let Some(dest) = book.lookup(name) {
                    lookup.b32 = Some(super::snapshot::b32(&dest.hash()));
                    lookup.destination = Some(dest.to_base64());
                }
            }
        }
        lookup
    }
}

#[derive(Debug, Serialize)]
pub(super) struct BookRow {
    pub name: String,
    pub b32: String,
    pub source: String,
}

#[derive(Debug, Serialize)]
pub(super) struct BookPage {
    pub count: usize,
    pub entries: Vec<BookRow>,
    /// The `from` of the next page, if there is one.
    pub next: Option<String>,
}

pub(super) fn book_page(book: &SharedBook, from: &str, max: usize) -> BookPage {
    let mut rows = book.entries(from, max + 1);
    let next = (rows.len() > max).then(|| rows.remove(max).0);
    BookPage {
        count: book.len(),
        entries: rows
            .into_iter()
            .map(|(name, hash, source)| BookRow {
                name,
                b32: super::snapshot::b32(&hash),
                source,
            })
            .collect(),
        next,
    }
}

/// Adds `name` = `destination` (base64) from a form; the name added, or why not.
pub(super) fn add_name(book: &SharedBook, form: &[(String, String)]) -> Result<String, String> {
    let name = field(form, "name").unwrap_or("").trim();
    let dest = field(form, "destination").unwrap_or("").trim();
    let host = HostName::parse(name).map_err(|e| format!("{name:?} is not a host name: {e}"))?;
    let dest = BookDestination::parse_base64(dest)
        .map_err(|e| format!("the destination is not a base64 destination: {e}"))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match book.add(host.clone(), dest, now) {
        Insert::Added => Ok(host.as_str().to_owned()),
        Insert::Unchanged => Ok(host.as_str().to_owned()),
        Insert::Conflict => Err(format!(
            "{} or this destination is already in the book under another name or destination",
            host.as_str()
        )),
        Insert::Full => Err("the address book is full ([addressbook] max_entries)".into()),
    }
}
