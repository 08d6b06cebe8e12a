//! The common structures a RouterInfo, a Destination or an address book entry is made
//! of, each on arbitrary bytes; the first byte picks which. None panics; what parses
//! writes back to exactly its input (mapping keys aside, none of them reorders).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::data::{Certificate, Destination, RouterAddress, RouterIdentity};
use ramsons_router::host::sam::keys;
use ramsons_router::naming::BookDestination;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 6 {
        0 => {
            if let Ok(identity) = RouterIdentity::parse(bytes) {
                assert_eq!(identity.as_bytes(), bytes);
                assert_eq!(RouterIdentity::parse(identity.as_bytes()), Ok(identity));
            }
        }
        1 => {
            if let Ok(destination) = Destination::parse(bytes) {
                assert_eq!(destination.as_bytes(), bytes);
                let text = destination.to_base64();
                let again = keys::parse_destination(&text).expect("own base64 parses");
                assert_eq!(again, destination);
            }
        }
        2 => {
            if let Ok(cert) = Certificate::parse(bytes) {
                assert_eq!(cert.to_bytes().expect("a parsed certificate fits"), bytes);
            }
        }
        3 => {
            if let Ok(address) = RouterAddress::parse(bytes) {
                let encoded = address.to_bytes().expect("a parsed address re-encodes");
                assert_eq!(encoded.len(), bytes.len());
                assert_eq!(RouterAddress::parse(&encoded), Ok(address));
            }
        }
        4 => {
            if let Ok(dest) = BookDestination::from_bytes(bytes.to_vec()) {
                assert_eq!(dest.as_bytes(), bytes);
                let again = BookDestination::parse_base64(&dest.to_base64());
                assert_eq!(again.as_ref().map(BookDestination::as_bytes), Ok(bytes));
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(bytes) {
                let _ = keys::parse_destination(text);
                let _ = BookDestination::parse_base64(text);
            }
        }
    }
});
