//! The peer profiles file (`profiles.dat` in the data directory) on arbitrary bytes:
//! never panics; what decodes encodes back to exactly its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::profile::Profiles;

fuzz_target!(|data: &[u8]| {
    if let Ok(profiles) = Profiles::decode(data) {
        let encoded = profiles.encode();
        assert_eq!(Profiles::decode(&encoded).map(|p| p.encode()), Ok(encoded));
    }
});
