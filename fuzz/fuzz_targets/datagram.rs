//! Datagram::parse on arbitrary bytes; the first byte picks the protocol (the four
//! datagram kinds, and anything else). What parses unsigned re-emits to the same
//! datagram; signed kinds only parse with a valid signature, which the fuzzer can reach
//! only from a seed corpus.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::client::app_payload::protocol;
use ramsons_router::client::datagram::{Datagram, MAX_DATAGRAM_LEN};
use ramsons_router::crypto::DestinationKeys;
use ramsons_router::data::Hash;
use ramsons_router::time::Instant;

const NOW: Instant = Instant::from_secs(1_800_000_000);

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let protocol = match selector % 5 {
        0 => protocol::RAW,
        1 => protocol::DATAGRAM,
        2 => protocol::DATAGRAM2,
        3 => protocol::DATAGRAM3,
        _ => selector,
    };
    let to = Hash([7; 32]);
    if let Ok(datagram) = Datagram::parse(NOW, protocol, bytes, &to) {
        assert_eq!(datagram.protocol(), protocol);
        let unsigned = matches!(datagram, Datagram::Raw(_) | Datagram::Datagram3 { .. });
        // We accept somewhat larger datagrams than we send.
        if unsigned && datagram.encoded_len() <= MAX_DATAGRAM_LEN {
            let keys = DestinationKeys::from_secret_bytes(&[1; 96]);
            let encoded = datagram
                .emit(&keys, &to)
                .expect("unsigned and small enough");
            assert_eq!(
                Datagram::parse(NOW, protocol, &encoded, &to).expect("re-parses"),
                datagram
            );
        }
    }
});
