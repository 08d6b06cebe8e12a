//! I2NP decoding with both header forms. The first input byte picks the form; whatever
//! decodes must re-encode and decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::i2np::I2npMessage;

fuzz_target!(|data: &[u8]| {
    let Some((&form, bytes)) = data.split_first() else {
        return;
    };
    if form & 1 == 0 {
        if let Ok(msg) = I2npMessage::decode(bytes) {
            let encoded = msg.try_encode().expect("a decoded message re-encodes");
            assert_eq!(I2npMessage::decode(&encoded).expect("re-decodes"), msg);
        }
    } else if let Ok(msg) = I2npMessage::decode_short(bytes) {
        let encoded = msg
            .try_encode_short()
            .expect("a decoded message re-encodes");
        assert_eq!(
            I2npMessage::decode_short(&encoded).expect("re-decodes"),
            msg
        );
    }
});
