//! AppPayload::decode (the I2CP gzip payload) on arbitrary bytes, with a small output
//! limit so bombs are cut short. What decodes must re-encode, both ways, to the same
//! payload; the stored encoding has exactly the predicted length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::client::app_payload::AppPayload;

const MAX_LEN: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = AppPayload::decode(data, MAX_LEN) {
        assert!(payload.data.len() <= MAX_LEN);
        for compress in [false, true] {
            let encoded = payload.encode(compress);
            assert!(encoded.len() <= AppPayload::stored_len(payload.data.len()));
            assert_eq!(
                AppPayload::decode(&encoded, MAX_LEN).expect("re-decodes"),
                payload
            );
        }
    }
});
