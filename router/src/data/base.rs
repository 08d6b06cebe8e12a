//! I2P's text encodings: base64 with `-` and `~` in place of `+` and `/` (so hashes and
//! destinations are safe in URLs and file names), and lowercase RFC 4648 base32 without
//! padding as used in `.b32.i2p` addresses.

use super::DataError;
use data_encoding::{Encoding, Specification};
use std::sync::OnceLock;

const BASE64_SYMBOLS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~";
const BASE32_SYMBOLS: &str = "abcdefghijklmnopqrstuvwxyz234567";

fn base64_spec(padding: bool) -> Encoding {
    let mut spec = Specification::new();
    spec.symbols.push_str(BASE64_SYMBOLS);
    spec.padding = padding.then_some('=');
    // The specification is a constant known to be valid (64 distinct ASCII symbols).
    spec.encoding()
        .expect("I2P base64 alphabet is a valid specification")
}

fn base64_padded() -> &'static Encoding {
    static ENCODING: OnceLock<Encoding> = OnceLock::new();
    ENCODING.get_or_init(|| base64_spec(true))
}

fn base64_unpadded() -> &'static Encoding {
    static ENCODING: OnceLock<Encoding> = OnceLock::new();
    ENCODING.get_or_init(|| base64_spec(false))
}

fn base32() -> &'static Encoding {
    static ENCODING: OnceLock<Encoding> = OnceLock::new();
    ENCODING.get_or_init(|| {
        let mut spec = Specification::new();
        spec.symbols.push_str(BASE32_SYMBOLS);
        // Accept upper case on input; always emit lower case.
        spec.translate.from.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        spec.translate.to.push_str("abcdefghijklmnopqrstuvwxyz");
        spec.encoding()
            .expect("I2P base32 alphabet is a valid specification")
    })
}

/// Encodes with the I2P base64 alphabet, `=`-padded to a multiple of 4 characters as I2P does.
pub fn base64_encode(bytes: &[u8]) -> String {
    base64_padded().encode(bytes)
}

/// Decodes I2P base64; accepts the text with or without its trailing `=` padding, but
/// rejects non-canonical trailing bits so that every value has one spelling.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, DataError> {
    let encoding = if s.len().is_multiple_of(4) {
        base64_padded()
    } else {
        base64_unpadded()
    };
    encoding
        .decode(s.as_bytes())
        .map_err(|_| DataError::InvalidEncoding { what: "base64" })
}

/// Encodes as lowercase base32 without padding (`.b32.i2p` style, without the suffix).
pub fn base32_encode(bytes: &[u8]) -> String {
    base32().encode(bytes)
}

/// Decodes unpadded base32, either case.
pub fn base32_decode(s: &str) -> Result<Vec<u8>, DataError> {
    base32()
        .decode(s.as_bytes())
        .map_err(|_| DataError::InvalidEncoding { what: "base32" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base64_uses_i2p_alphabet() {
        // Standard base64 would be "+/8=" and "+A==".
        assert_eq!(base64_encode(&[0xfb, 0xff]), "-~8=");
        assert_eq!(base64_encode(&[0xf8]), "-A==");
        assert_eq!(base64_decode("-~8="), Ok(vec![0xfb, 0xff]));
        assert_eq!(base64_decode("-~8"), Ok(vec![0xfb, 0xff]));
        assert!(base64_decode("+/8=").is_err());
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn base64_rejects_noncanonical_and_garbage() {
        assert!(base64_decode("-~9=").is_err()); // trailing bits set
        assert!(base64_decode("A").is_err());
        assert!(base64_decode("AB=C").is_err());
        assert!(base64_decode("é").is_err());
    }

    #[test]
    fn base32_known_vectors() {
        assert_eq!(base32_encode(b"foobar"), "mzxw6ytboi");
        assert_eq!(base32_decode("mzxw6ytboi"), Ok(b"foobar".to_vec()));
        assert_eq!(base32_decode("MZXW6YTBOI"), Ok(b"foobar".to_vec()));
        assert!(base32_decode("mzxw6ytboi======").is_err());
        assert!(base32_decode("mzxw1").is_err());
    }

    proptest! {
        #[test]
        fn base64_round_trip(bytes in any::<Vec<u8>>()) {
            let text = base64_encode(&bytes);
            prop_assert_eq!(text.len() % 4, 0);
            prop_assert_eq!(base64_decode(&text)?, bytes.clone());
            prop_assert_eq!(base64_decode(text.trim_end_matches('='))?, bytes);
        }

        #[test]
        fn base32_round_trip(bytes in any::<Vec<u8>>()) {
            let text = base32_encode(&bytes);
            prop_assert_eq!(base32_decode(&text)?, bytes.clone());
            prop_assert_eq!(base32_decode(&text.to_uppercase())?, bytes);
        }

        #[test]
        fn decoders_never_panic(text in "\\PC{0,64}") {
            let _ = base64_decode(&text);
            let _ = base32_decode(&text);
        }
    }
}
