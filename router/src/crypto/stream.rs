//! STREAM: the plain ChaCha20 stream cipher of the I2P specifications.
//!
//! The specifications define it once (spec: EncryptedLeaseSet, "STREAM"): ChaCha20 as
//! RFC 7539 section 2.4 has it, 32-byte key, 12-byte IV, with the initial block counter
//! set to 1. Tunnel build messages use it for the records a hop does not own (spec:
//! tunnel-creation-ecies, "Record Encryption").

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20::ChaCha20;

/// Bytes per ChaCha20 block: starting at counter 1 means skipping one block of keystream.
const BLOCK_LEN: u64 = 64;

/// XORs `buf` with the keystream for (`key`, `iv`); encryption and decryption alike.
pub(crate) fn apply(key: &[u8; 32], iv: &[u8; 12], buf: &mut [u8]) {
    let mut cipher = ChaCha20::new(key.into(), iv.into());
    cipher.seek(BLOCK_LEN);
    cipher.apply_keystream(buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7539 (and RFC 8439) section 2.4.2: the test vector uses counter 1, as STREAM does.
    #[test]
    fn rfc7539_section_2_4_2() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let iv = [0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0];
        let mut buf = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".to_vec();
        apply(&key, &iv, &mut buf);
        let expected = "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b\
                        f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8\
                        07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736\
                        5af90bbf74a35be6b40b8eedf2785e42874d";
        let hex: String = buf.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
        apply(&key, &iv, &mut buf);
        assert!(buf.starts_with(b"Ladies and Gentlemen"));
    }
}
