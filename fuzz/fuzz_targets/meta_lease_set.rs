//! MetaLeaseSet::parse on arbitrary bytes: never panics; whatever parses (so verifies)
//! keeps exactly its input, re-parses the same, and lists at least one entry.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::data::{Hash, MetaLeaseSet};

fuzz_target!(|data: &[u8]| {
    if let Ok(meta) = MetaLeaseSet::parse(data) {
        assert_eq!(meta.as_bytes(), data);
        let again = MetaLeaseSet::parse(meta.as_bytes()).expect("a parsed MetaLeaseSet re-parses");
        assert_eq!(again, meta);
        assert_eq!(meta.hash(), Hash::digest(meta.destination().as_bytes()));
        assert!(!meta.entries().is_empty());
    }
});
