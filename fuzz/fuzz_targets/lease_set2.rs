//! LeaseSet2::parse on arbitrary bytes: never panics; whatever parses (so verifies) keeps
//! exactly its input, re-parses the same, and is keyed by its destination's hash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::data::{Hash, LeaseSet2};

fuzz_target!(|data: &[u8]| {
    if let Ok(ls) = LeaseSet2::parse(data) {
        assert_eq!(ls.as_bytes(), data);
        let again = LeaseSet2::parse(ls.as_bytes()).expect("a parsed LeaseSet2 re-parses");
        assert_eq!(again, ls);
        assert_eq!(ls.hash(), Hash::digest(ls.destination().as_bytes()));
        assert!(ls.leases().len() <= LeaseSet2::MAX_LEASES);
        assert!(!ls.encryption_keys().is_empty());
    }
});
