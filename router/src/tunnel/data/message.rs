//! The plaintext layout of a tunnel message's 1008 bytes (spec: tunnel-message, Tunnel
//! Message (Decrypted)):
//!
//! ```text
//! checksum (4) | nonzero padding (0 or more) | 0x00 | instructions, fragment, ...
//! ```
//!
//! The checksum is the first 4 bytes of SHA-256(everything after the zero byte ‖ IV),
//! where the IV is the one that goes with the plaintext: the gateway's before any layer,
//! the endpoint's after removing (or adding) the last one. It covers neither the padding
//! nor the zero byte, so padding may be tampered with unnoticed; the fragments may not.
//! The padding comes first because the fragments must end exactly at the end.

use super::TunnelDataError;
use crate::i2np::TunnelData;
use rand::RngCore;
use sha2::{Digest, Sha256};

type Iv = [u8; TunnelData::IV_LEN];
type Data = [u8; TunnelData::DATA_LEN];

const CHECKSUM_LEN: usize = 4;
/// Room for instructions and fragments: all but the checksum and the zero byte.
pub(crate) const MAX_CONTENT_LEN: usize = TunnelData::DATA_LEN - CHECKSUM_LEN - 1;

fn checksum(content: &[u8], iv: &Iv) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::new()
        .chain_update(content)
        .chain_update(iv)
        .finalize();
    let mut out = [0; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

/// Lays out `content` (at most [`MAX_CONTENT_LEN`] bytes of instructions and fragments)
/// behind a random IV, checksum and random padding, ready for the first layer.
pub(crate) fn encode_payload<R: RngCore>(rng: &mut R, content: &[u8]) -> (Iv, Box<Data>) {
    debug_assert!(
        content.len() <= MAX_CONTENT_LEN,
        "the packer fills at most one message"
    );
    let mut iv = [0; TunnelData::IV_LEN];
    rng.fill_bytes(&mut iv);
    let mut data = Box::new([0; TunnelData::DATA_LEN]);
    let start = TunnelData::DATA_LEN - content.len().min(MAX_CONTENT_LEN);
    let (head, body) = data.split_at_mut(start);
    body.copy_from_slice(&content[..body.len()]);
    let (sum, padding) = head.split_at_mut(CHECKSUM_LEN);
    sum.copy_from_slice(&checksum(body, &iv));
    // The last byte of the head stays zero: it ends the padding.
    if let Some((_zero, padding)) = padding.split_last_mut() {
        fill_nonzero(rng, padding);
    }
    (iv, data)
}

/// Random bytes from 1 to 255: padding must not contain the zero that ends it.
fn fill_nonzero<R: RngCore>(rng: &mut R, bytes: &mut [u8]) {
    rng.fill_bytes(bytes);
    for byte in bytes {
        while *byte == 0 {
            let mut one = [0];
            rng.fill_bytes(&mut one);
            *byte = one[0];
        }
    }
}

/// Finds the content of a plaintext tunnel message and checks its checksum.
pub(crate) fn decode_payload<'a>(iv: &Iv, data: &'a Data) -> Result<&'a [u8], TunnelDataError> {
    let (sum, rest) = data.split_at(CHECKSUM_LEN);
    let zero = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(TunnelDataError::NoPaddingEnd)?;
    let content = &rest[zero + 1..];
    if checksum(content, iv) != sum {
        return Err(TunnelDataError::BadChecksum);
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn layout() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let content = [7u8; 10];
        let (iv, data) = encode_payload(&mut rng, &content);
        let zero = TunnelData::DATA_LEN - 11;
        assert!(data[4..zero].iter().all(|&b| b != 0));
        assert_eq!(data[zero], 0);
        assert_eq!(&data[zero + 1..], &content);
        let mut hashed = content.to_vec();
        hashed.extend_from_slice(&iv);
        assert_eq!(&data[..4], &Sha256::digest(&hashed)[..4]);
        assert_eq!(decode_payload(&iv, &data), Ok(&content[..]));
    }

    #[test]
    fn full_and_empty_content() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let full = [1u8; MAX_CONTENT_LEN];
        let (iv, data) = encode_payload(&mut rng, &full);
        assert_eq!(data[4], 0);
        assert_eq!(decode_payload(&iv, &data), Ok(&full[..]));
        // Cover traffic: padding only.
        let (iv, data) = encode_payload(&mut rng, &[]);
        assert_eq!(data[TunnelData::DATA_LEN - 1], 0);
        assert_eq!(decode_payload(&iv, &data), Ok(&[][..]));
    }

    #[test]
    fn checksum_covers_content_and_iv_only() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (iv, data) = encode_payload(&mut rng, &[5; 100]);
        let mut tampered = data.clone();
        tampered[TunnelData::DATA_LEN - 1] ^= 1;
        assert_eq!(
            decode_payload(&iv, &tampered),
            Err(TunnelDataError::BadChecksum)
        );
        let mut other_iv = iv;
        other_iv[15] ^= 1;
        assert_eq!(
            decode_payload(&other_iv, &data),
            Err(TunnelDataError::BadChecksum)
        );
        // The spec's blind spot: padding is not covered.
        let mut padded = data.clone();
        padded[10] = padded[10].wrapping_add(1).max(1);
        assert!(decode_payload(&iv, &padded).is_ok());

        let no_zero = Box::new([1; TunnelData::DATA_LEN]);
        assert_eq!(
            decode_payload(&iv, &no_zero),
            Err(TunnelDataError::NoPaddingEnd)
        );
    }

    proptest! {
        #[test]
        fn round_trip(seed in any::<u64>(), content in proptest::collection::vec(any::<u8>(), 0..=MAX_CONTENT_LEN)) {
            let (iv, data) = encode_payload(&mut ChaCha20Rng::seed_from_u64(seed), &content);
            prop_assert_eq!(decode_payload(&iv, &data)?, &content[..]);
        }

        #[test]
        fn random_bytes_never_panic(iv in any::<[u8; 16]>(), fill in any::<u8>(), zero_at in 0..TunnelData::DATA_LEN) {
            let mut data = Box::new([fill; TunnelData::DATA_LEN]);
            data[zero_at] = 0;
            let _ = decode_payload(&iv, &data);
        }
    }
}
