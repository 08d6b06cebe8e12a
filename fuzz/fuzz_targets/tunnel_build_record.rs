//! The cleartext of short tunnel build records: a 154-byte request and a 202-byte reply,
//! cut from arbitrary bytes (zero-padded). Neither parser panics; what parses encodes
//! back (with fresh random padding) to a record that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::tunnel::build::{ReplyRecord, RequestRecord};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const REQUEST_LEN: usize = 154;
const REPLY_LEN: usize = 202;

fn padded<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = bytes.len().min(N);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

fuzz_target!(|data: &[u8]| {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    if let Ok(request) = RequestRecord::parse(&padded::<REQUEST_LEN>(data)) {
        // Options too long to re-encode can still be read: the parser takes what a
        // peer wrote, the encoder keeps room for the fields.
        if let Ok(encoded) = request.encode(&mut rng) {
            assert_eq!(RequestRecord::parse(&encoded), Ok(request));
        }
    }
    if let Ok(reply) = ReplyRecord::parse(&padded::<REPLY_LEN>(data)) {
        let encoded = reply
            .encode(&mut rng)
            .expect("a parsed reply fits its record");
        assert_eq!(ReplyRecord::parse(&encoded), Ok(reply));
    }
});
