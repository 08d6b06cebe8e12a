//! The address book: names to destinations, and where each name came from.
//!
//! Two kinds of entries. Local ones come from the hosts.txt files the operator lists in
//! the configuration; they are read at every start, never written back, and always
//! win: a subscription can neither add a name the operator has nor change one. The
//! others were learned from subscriptions (and are what the router saves in its data
//! directory, [`AddressBook::saved_text`]); among them the first source to name a host
//! keeps it, as the naming specification wants ("existing entries are not
//! overwritten"), unless the holder of the name sends a signed command.
//!
//! Every change keeps a destination-to-names index, so that a `.b32.i2p` address can
//! be shown by its name and a subscription cannot give a second name to a destination
//! the book already has (the specification's "keys are checked for conflict").

use super::dest::BookDestination;
use super::line::{Entry, Line, LineError, Options};
use super::name::HostName;
use crate::data::Hash;
use std::collections::{BTreeMap, BTreeSet};

/// Option keys the saved book uses for an entry's origin.
const SOURCE_KEY: &str = "src";
const ADDED_KEY: &str = "added";
/// Garbage lines remembered per load or merge, for the log.
const GARBAGE_SAMPLES: usize = 8;

/// Where an entry came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local hosts.txt file of the configuration.
    Local,
    /// A subscription, by its URL (empty if the saved book did not say).
    Subscription(String),
}

/// One name's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookEntry {
    pub dest: BookDestination,
    pub source: Source,
    /// When it was added, seconds since the UNIX epoch (0: unknown).
    pub added: u64,
}

/// The names the router knows. See the module documentation.
#[derive(Debug, Clone)]
pub struct AddressBook {
    names: BTreeMap<HostName, BookEntry>,
    by_hash: BTreeMap<Hash, BTreeSet<HostName>>,
    max_entries: usize,
}

/// What happened to an entry offered to the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    Added,
    /// The book already has this name for this destination.
    Unchanged,
    /// The book has the name for another destination (kept), or the destination under
    /// another name from the same kind of source.
    Conflict,
    /// The book is full.
    Full,
}

/// What reading a hosts.txt text did: counts, and the first garbage lines with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub lines: usize,
    pub added: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    pub full: usize,
    pub garbage: usize,
    /// Signed commands applied, and ones refused or not understood.
    pub commands: usize,
    pub commands_refused: usize,
    /// `(line number from 1, why)` of the first few garbage lines.
    pub garbage_samples: Vec<(usize, LineError)>,
}

impl Report {
    pub(crate) fn count(&mut self, insert: Insert) {
        match insert {
            Insert::Added => self.added += 1,
            Insert::Unchanged => self.unchanged += 1,
            Insert::Conflict => self.conflicts += 1,
            Insert::Full => self.full += 1,
        }
    }

    pub(crate) fn garbage(&mut self, line: usize, why: LineError) {
        self.garbage += 1;
        if self.garbage_samples.len() < GARBAGE_SAMPLES {
            self.garbage_samples.push((line, why));
        }
    }
}

/// Splits a hosts.txt text into numbered lines (from 1) and parses each; a line that
/// does not parse is counted in `report`, never fatal. Blank lines and comments go.
pub(crate) fn parse_lines(text: &[u8], report: &mut Report) -> Vec<(usize, Line)> {
    let mut lines = Vec::new();
    for (i, bytes) in text.split(|b| *b == b'\n').enumerate() {
        report.lines += 1;
        match Line::parse_bytes(bytes) {
            Ok(Line::Nothing) => {}
            Ok(line) => lines.push((i + 1, line)),
            Err(why) => report.garbage(i + 1, why),
        }
    }
    lines
}

impl AddressBook {
    /// An empty book holding at most `max_entries` names.
    pub fn new(max_entries: usize) -> AddressBook {
        AddressBook {
            names: BTreeMap::new(),
            by_hash: BTreeMap::new(),
            max_entries,
        }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The entry for a name, written in any case; `None` for names that are not valid.
    pub fn lookup(&self, name: &str) -> Option<&BookEntry> {
        self.names.get(&HostName::parse(name).ok()?)
    }

    /// The names of a destination, by its hash.
    pub fn names_of(&self, hash: &Hash) -> impl Iterator<Item = &HostName> {
        self.by_hash.get(hash).into_iter().flatten()
    }

    pub fn entries(&self) -> impl Iterator<Item = (&HostName, &BookEntry)> {
        self.names.iter()
    }

    /// Reads a local hosts.txt: its names win over subscriptions' (replacing theirs),
    /// but not over an earlier local file's. Options on its lines are ignored.
    pub fn load_local(&mut self, text: &[u8]) -> Report {
        let mut report = Report::default();
        for (_, line) in parse_lines(text, &mut report) {
            match line {
                Line::Entry(entry) => {
                    let insert = self.insert_local(entry.name, entry.dest);
                    report.count(insert);
                }
                Line::Command(_) => report.commands_refused += 1,
                Line::Nothing => {}
            }
        }
        report
    }

    fn insert_local(&mut self, name: HostName, dest: BookDestination) -> Insert {
        match self.names.get(&name) {
            Some(e) if e.source == Source::Local && e.dest == dest => Insert::Unchanged,
            Some(e) if e.source == Source::Local => Insert::Conflict,
            Some(_) => {
                self.remove(&name);
                self.put(name, dest, Source::Local, 0)
            }
            None => self.put(name, dest, Source::Local, 0),
        }
    }

    /// Adds a name a subscription offers, under the rules of the module documentation.
    pub fn insert_learned(
        &mut self,
        name: HostName,
        dest: BookDestination,
        source: &str,
        now_secs: u64,
    ) -> Insert {
        if let Some(existing) = self.names.get(&name) {
            return match existing.dest == dest {
                true => Insert::Unchanged,
                false => Insert::Conflict,
            };
        }
        if self.by_hash.contains_key(&dest.hash()) {
            return Insert::Conflict;
        }
        self.put(
            name,
            dest,
            Source::Subscription(source.to_owned()),
            now_secs,
        )
    }

    /// Adds an alias for a destination the book may already have (a signed `addname`).
    pub(crate) fn insert_alias(
        &mut self,
        name: HostName,
        dest: BookDestination,
        source: &str,
        now_secs: u64,
    ) -> Insert {
        if self.names.contains_key(&name) {
            return Insert::Conflict;
        }
        self.put(
            name,
            dest,
            Source::Subscription(source.to_owned()),
            now_secs,
        )
    }

    fn put(&mut self, name: HostName, dest: BookDestination, source: Source, added: u64) -> Insert {
        if self.names.len() >= self.max_entries {
            return Insert::Full;
        }
        self.by_hash
            .entry(dest.hash())
            .or_default()
            .insert(name.clone());
        self.names.insert(
            name,
            BookEntry {
                dest,
                source,
                added,
            },
        );
        Insert::Added
    }

    /// Removes a name; returns its entry.
    pub(crate) fn remove(&mut self, name: &HostName) -> Option<BookEntry> {
        let entry = self.names.remove(name)?;
        let hash = entry.dest.hash();
        if let Some(names) = self.by_hash.get_mut(&hash) {
            names.remove(name);
            if names.is_empty() {
                self.by_hash.remove(&hash);
            }
        }
        Some(entry)
    }

    /// The entry of a name if a subscription brought it (commands touch only those).
    pub(crate) fn learned(&self, name: &HostName) -> Option<&BookEntry> {
        self.names
            .get(name)
            .filter(|e| matches!(e.source, Source::Subscription(_)))
    }

    /// The learned names of a destination.
    pub(crate) fn learned_names_of(&self, dest: &BookDestination) -> Vec<HostName> {
        self.names_of(&dest.hash())
            .filter(|n| self.learned(n).is_some_and(|e| e.dest == *dest))
            .cloned()
            .collect()
    }

    /// The learned entries as a hosts.txt text (with `#!src=...#added=...`), for the
    /// data directory. Local entries are the operator's files and are not copied.
    pub fn saved_text(&self) -> String {
        let mut text = String::from("# ramsons address book: names learned from subscriptions\n");
        for (name, entry) in &self.names {
            let Source::Subscription(source) = &entry.source else {
                continue;
            };
            let mut pairs = vec![(ADDED_KEY.to_owned(), entry.added.to_string())];
            if !source.is_empty() {
                pairs.push((SOURCE_KEY.to_owned(), source.clone()));
            }
            let options = Options::from_pairs(pairs).unwrap_or_default();
            let line = Entry {
                name: name.clone(),
                dest: entry.dest.clone(),
                options,
            };
            text.push_str(&line.to_string());
            text.push('\n');
        }
        text
    }

    /// Reads back what [`AddressBook::saved_text`] wrote (before the local files).
    pub fn load_saved(&mut self, text: &[u8]) -> Report {
        let mut report = Report::default();
        for (_, line) in parse_lines(text, &mut report) {
            if let Line::Entry(entry) = line {
                let source = entry.options.get(SOURCE_KEY).unwrap_or_default().to_owned();
                let added = entry
                    .options
                    .get(ADDED_KEY)
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(0);
                let insert = self.insert_learned(entry.name, entry.dest, &source, added);
                report.count(insert);
            }
        }
        report
    }
}
