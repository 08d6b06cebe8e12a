//! Naming: the address book (host names to destinations), sans-IO.
//!
//! - [`name`]: what a valid host name is (the naming specification's rules).
//! - [`dest`]: destinations as the book keeps them (any well-formed one).
//! - [`line`]: one hosts.txt line, plain or with the subscription feed's `#!` options.
//! - [`book`]: the [`AddressBook`] store, local files over learned names.
//! - [`merge`]: merging a fetched subscription, and its ETag / Last-Modified.
//!
//! The driver side (files named in `router.toml`, the book in the data directory,
//! written atomically, shared by SAM and the proxies) is [`crate::host::addressbook`].
//! b32 and b33 addresses are not names: they are decoded where they are used.

pub mod book;
pub mod dest;
pub mod line;
pub mod merge;
pub mod name;

pub use book::{AddressBook, BookEntry, Insert, Report, Source};
pub use dest::{BookDestination, DestError};
pub use line::{Entry, Line, LineError, Options};
pub use merge::{merge, Fetched, MergeError, Subscription};
pub use name::{HostName, NameError};
