//! Elligator2: decoding any 32 bytes must not panic, and a point that decodes must encode
//! back (with one of its two representatives) to bytes that decode to it again, except
//! u = 0: representative 0 decodes to it, but the encoder gives that low-order point no
//! representative by design (no honest key is it, and the ratchet's DH refuses it). Also
//! opening any bytes as a ratchet message, which decodes New Session keys first.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::crypto::elligator2::{public_key, representative};
use ramsons_router::crypto::RouterKeys;
use ramsons_router::garlic::ratchet::RatchetEndpoint;
use ramsons_router::time::Instant;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    if let Ok(bytes) = <[u8; 32]>::try_from(data) {
        if let Some(point) = public_key(&bytes).filter(|point| *point != [0; 32]) {
            let back = representative(&point, false).or_else(|| representative(&point, true));
            let back = back.expect("a decoded point has a representative");
            assert_eq!(public_key(&back), Some(point));
        }
    }
    static KEYS: OnceLock<RouterKeys> = OnceLock::new();
    let keys = KEYS.get_or_init(|| RouterKeys::from_secret_bytes(&[7; 96]));
    let mut endpoint = RatchetEndpoint::new(keys.encryption_secret().clone());
    let _ = endpoint.open(Instant::from_secs(1_700_000_000), data);
});
