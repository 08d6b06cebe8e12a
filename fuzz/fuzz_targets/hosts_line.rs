//! A hosts.txt line on arbitrary bytes: never panics; an entry that parses is written
//! back to a line that parses to the same entry. Then the whole input as a subscription
//! body merged into an empty book: never panics, and the book holds what it counted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::naming::{merge, AddressBook, Line};

fuzz_target!(|data: &[u8]| {
    if let Ok(Line::Entry(entry)) = Line::parse_bytes(data) {
        let text = entry.to_string();
        assert_eq!(Line::parse(&text), Ok(Line::Entry(entry)));
    }
    let mut book = AddressBook::new(1000);
    if let Ok(report) = merge(&mut book, "fuzz", data, 1 << 20, 1) {
        assert_eq!(report.added, book.len());
    }
});
