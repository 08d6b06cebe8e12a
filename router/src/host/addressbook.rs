//! The address book on a real router: the sans-IO [`AddressBook`] with its files.
//!
//! ```text
//! <data_dir>/addressbook/hosts.txt            names learned from subscriptions
//! <data_dir>/addressbook/subscriptions.json   per subscription: URL, ETag, Last-Modified, last fetch
//! ```
//!
//! At start the saved book is read, then the local files of `[addressbook] hosts`
//! (which win). A damaged or missing file is logged, never fatal: the book is a cache
//! of names. Every change from a subscription is saved at once, atomically (temporary
//! file, fsync, rename), so a crash leaves the old book or the new one.
//!
//! [`SharedBook`] is a cheap handle: SAM's NAMING LOOKUP (through
//! [`crate::host::apps::RouterBackend`]) and the proxies read the same book.

use super::config::AddressBookSection;
use super::datadir::{write_file, DataDir, DataDirError};
use crate::data::Hash;
use crate::naming::{
    AddressBook, BookDestination, Fetched, HostName, Insert, MergeError, Report, Source,
    Subscription,
};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tracing::{info, warn};

pub(super) const FOLDER: &str = "addressbook";
const BOOK_FILE: &str = "hosts.txt";
const SUBSCRIPTIONS_FILE: &str = "subscriptions.json";

/// The router's address book, shared. See the module documentation.
#[derive(Debug, Clone)]
pub struct SharedBook {
    inner: Arc<RwLock<Inner>>,
}

#[derive(Debug)]
struct Inner {
    book: AddressBook,
    subscriptions: BTreeMap<String, Subscription>,
    /// Where the book is saved; none for a book only in memory (tests).
    folder: Option<PathBuf>,
    max_subscription_size: usize,
}

impl SharedBook {
    /// A book in memory only, empty.
    pub fn in_memory(config: &AddressBookSection) -> SharedBook {
        SharedBook::from_inner(Inner {
            book: AddressBook::new(config.max_entries),
            subscriptions: subscriptions(config, BTreeMap::new()),
            folder: None,
            max_subscription_size: config.max_subscription_size,
        })
    }

    /// Reads the saved book and subscription state from `data`, then the local files.
    pub fn open(config: &AddressBookSection, data: &DataDir) -> SharedBook {
        let folder = data.root().join(FOLDER);
        let mut book = AddressBook::new(config.max_entries);
        if let Some(bytes) = read_if_there(&folder.join(BOOK_FILE)) {
            log_report("saved address book", &book.load_saved(&bytes));
        }
        for path in &config.hosts {
            match fs::read(path) {
                Ok(bytes) => log_report(&path.display().to_string(), &book.load_local(&bytes)),
                Err(e) => warn!("address book: cannot read {}: {e}", path.display()),
            }
        }
        let saved = read_if_there(&folder.join(SUBSCRIPTIONS_FILE))
            .and_then(
                |bytes| match serde_json::from_slice::<Vec<Subscription>>(&bytes) {
                    Ok(saved) => Some(saved),
                    Err(e) => {
                        warn!("address book: ignoring {SUBSCRIPTIONS_FILE}: {e}");
                        None
                    }
                },
            )
            .unwrap_or_default();
        let saved = saved.into_iter().map(|s| (s.url.clone(), s)).collect();
        info!(names = book.len(), "address book loaded");
        SharedBook::from_inner(Inner {
            book,
            subscriptions: subscriptions(config, saved),
            folder: Some(folder),
            max_subscription_size: config.max_subscription_size,
        })
    }

    fn from_inner(inner: Inner) -> SharedBook {
        SharedBook {
            inner: Arc::new(RwLock::new(inner)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // Nothing panics while holding it (the book's code returns errors).
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The destination of a host name (any case), if the book has it.
    pub fn lookup(&self, name: &str) -> Option<BookDestination> {
        self.read().book.lookup(name).map(|e| e.dest.clone())
    }

    /// Names in the book.
    pub fn len(&self) -> usize {
        self.read().book.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a name from the console (kept like a subscription's, with source
    /// `console`, so it is saved and survives restarts) and saves the book. Blocking
    /// file I/O, like [`SharedBook::apply_fetch`].
    pub fn add(&self, name: HostName, dest: BookDestination, now_secs: u64) -> Insert {
        let mut inner = self.write();
        let insert = inner.book.insert_learned(name, dest, "console", now_secs);
        if insert == Insert::Added {
            if let Err(e) = inner.save() {
                warn!("address book not saved: {e}");
            }
        }
        insert
    }

    /// Up to `max` entries in name order, from the first name at or after `from`:
    /// name, destination hash, and where it came from.
    pub fn entries(&self, from: &str, max: usize) -> Vec<(String, Hash, String)> {
        let inner = self.read();
        inner
            .book
            .entries()
            .filter(|(name, _)| name.as_str() >= from)
            .take(max)
            .map(|(name, entry)| {
                let source = match &entry.source {
                    Source::Local => "local".to_string(),
                    Source::Subscription(url) => url.clone(),
                };
                (name.as_str().to_owned(), entry.dest.hash(), source)
            })
            .collect()
    }

    /// The configured subscriptions with what their last fetch left (for the fetcher:
    /// which are due, and the validators to send).
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.read().subscriptions.values().cloned().collect()
    }

    /// Merges what a fetch of subscription `url` returned, logs what it did, and saves
    /// the book and the subscription state. Blocking file I/O: call it from
    /// `spawn_blocking` on a busy runtime.
    pub fn apply_fetch(
        &self,
        url: &str,
        fetched: Fetched<'_>,
        now_secs: u64,
    ) -> Result<Report, MergeError> {
        let mut inner = self.write();
        let Inner {
            book,
            subscriptions,
            max_subscription_size,
            ..
        } = &mut *inner;
        let subscription = subscriptions
            .entry(url.to_owned())
            .or_insert_with(|| Subscription::new(url));
        let report = subscription.apply(book, fetched, *max_subscription_size, now_secs)?;
        log_report(url, &report);
        if let Err(e) = inner.save() {
            warn!("address book not saved: {e}");
        }
        Ok(report)
    }
}

impl Inner {
    fn save(&self) -> Result<(), DataDirError> {
        let Some(folder) = &self.folder else {
            return Ok(());
        };
        fs::create_dir_all(folder).map_err(|source| DataDirError::Io {
            path: folder.clone(),
            source,
        })?;
        write_file(&folder.join(BOOK_FILE), self.book.saved_text().as_bytes())?;
        let state: Vec<&Subscription> = self.subscriptions.values().collect();
        let json = serde_json::to_vec_pretty(&state).unwrap_or_default();
        write_file(&folder.join(SUBSCRIPTIONS_FILE), &json)
    }
}

/// The configured subscriptions, with the saved state of those still configured.
fn subscriptions(
    config: &AddressBookSection,
    mut saved: BTreeMap<String, Subscription>,
) -> BTreeMap<String, Subscription> {
    config
        .subscriptions
        .iter()
        .map(|url| {
            let state = saved.remove(url).unwrap_or_else(|| Subscription::new(url));
            (url.clone(), state)
        })
        .collect()
}

fn read_if_there(path: &Path) -> Option<Vec<u8>> {
    match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            warn!("address book: cannot read {}: {e}", path.display());
            None
        }
    }
}

/// Logs what reading a hosts.txt did; garbage lines by number and why.
fn log_report(what: &str, report: &Report) {
    info!(
        source = what,
        added = report.added,
        unchanged = report.unchanged,
        conflicts = report.conflicts,
        garbage = report.garbage,
        commands = report.commands,
        commands_refused = report.commands_refused,
        full = report.full,
        "address book: read hosts"
    );
    for (line, why) in &report.garbage_samples {
        warn!(source = what, line, "address book: skipped a line: {why}");
    }
    if report.garbage > report.garbage_samples.len() {
        warn!(
            source = what,
            "address book: {} more lines skipped",
            report.garbage - report.garbage_samples.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DestinationKeys;
    use rand::SeedableRng;

    fn dest(seed: u64) -> String {
        let keys = DestinationKeys::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed));
        keys.destination().to_base64()
    }

    #[test]
    fn local_files_saved_book_and_subscription_state() {
        let dir = tempfile::tempdir().expect("temp dir");
        let local = dir.path().join("myhosts.txt");
        fs::write(&local, format!("mine.i2p={}\nnot a line\n", dest(1))).expect("write");
        let config = AddressBookSection {
            hosts: vec![local.clone(), dir.path().join("missing.txt")],
            ..AddressBookSection::default()
        };
        let data = DataDir::open(&dir.path().join("data")).expect("data dir");
        let book = SharedBook::open(&config, &data);
        assert_eq!(
            book.lookup("MINE.i2p").map(|d| d.to_base64()),
            Some(dest(1))
        );

        let url = config.subscriptions[0].clone();
        let body = format!("mine.i2p={}\nlearned.i2p={}\n", dest(2), dest(3));
        let fetched = Fetched::Body {
            bytes: body.as_bytes(),
            etag: Some("\"v1\"".into()),
            last_modified: None,
        };
        let report = book.apply_fetch(&url, fetched, 1000).expect("merged");
        assert_eq!((report.added, report.conflicts), (1, 1));

        // A restart finds both, and the validators for the next fetch.
        let again = SharedBook::open(&config, &data);
        assert_eq!(
            again.lookup("mine.i2p").map(|d| d.to_base64()),
            Some(dest(1))
        );
        assert_eq!(
            again.lookup("learned.i2p").map(|d| d.to_base64()),
            Some(dest(3))
        );
        let subs = again.subscriptions();
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].etag.as_deref(), Some("\"v1\""));
        assert_eq!(subs[0].fetched, 1000);
        let saved = fs::read_to_string(data.root().join(FOLDER).join(BOOK_FILE)).expect("saved");
        assert!(
            saved.contains("learned.i2p=") && !saved.contains("mine.i2p"),
            "{saved}"
        );
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(data.root().join(FOLDER))
            .expect("folder")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn damaged_files_are_not_fatal() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::open(dir.path()).expect("data dir");
        fs::create_dir_all(dir.path().join(FOLDER)).expect("folder");
        fs::write(
            dir.path().join(FOLDER).join(BOOK_FILE),
            b"\xff\x00garbage\n=\n",
        )
        .expect("w");
        fs::write(
            dir.path().join(FOLDER).join(SUBSCRIPTIONS_FILE),
            b"{not json",
        )
        .expect("w");
        let book = SharedBook::open(&AddressBookSection::default(), &data);
        assert!(book.is_empty());
        assert_eq!(book.subscriptions().len(), 1);
    }
}
