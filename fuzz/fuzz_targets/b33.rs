//! B33Address parsing on arbitrary input, read both as the binary form and (when UTF-8) as
//! a host name: never panics, and whatever parses re-encodes to an address that parses
//! the same (our encoder always writes the one-byte sig type form, so the text may differ).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::data::B33Address;

fn check_round_trip(address: &B33Address) {
    let text = address.to_string();
    assert_eq!(&B33Address::parse(&text).expect("own text parses"), address);
    let bytes = address.to_bytes();
    assert_eq!(
        &B33Address::from_bytes(&bytes).expect("own bytes parse"),
        address
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(address) = B33Address::from_bytes(data) {
        check_round_trip(&address);
    }
    if let Some(Ok(address)) = std::str::from_utf8(data).ok().map(B33Address::parse) {
        check_round_trip(&address);
    }
});
