//! Mapping::parse on arbitrary bytes; what parses must survive a (sorted) re-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::data::Mapping;

fuzz_target!(|data: &[u8]| {
    if let Ok(mapping) = Mapping::parse(data) {
        let encoded = mapping.to_bytes();
        assert_eq!(encoded.len(), data.len());
        assert_eq!(Mapping::parse(&encoded).expect("re-parses"), mapping);
    }
});
