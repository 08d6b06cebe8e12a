//! RouterInfo::parse on arbitrary bytes: never panics; whatever parses re-parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::data::RouterInfo;

fuzz_target!(|data: &[u8]| {
    if let Ok(ri) = RouterInfo::parse(data) {
        assert_eq!(ri.as_bytes(), data);
        let again = RouterInfo::parse(ri.as_bytes()).expect("a parsed RouterInfo re-parses");
        assert_eq!(again, ri);
        assert_eq!(
            ri.hash(),
            ramsons_router::data::Hash::digest(ri.identity().as_bytes())
        );
    }
});
