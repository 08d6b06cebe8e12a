//! The per-hop layer of encryption (spec: tunnel implementation, Participant Processing).
//!
//! Every hop applies the same operation to the IV and the 1008 data bytes:
//!
//! ```text
//! IV   = AES-256-ECB-encrypt(ivKey, IV)
//! data = AES-256-CBC-encrypt(layerKey, IV, data)
//! IV   = AES-256-ECB-encrypt(ivKey, IV)
//! ```
//!
//! The spec encrypts the IV both before and after use to "help address a certain class
//! of confirmation attacks": the IV a hop chains with is neither the one it received nor
//! the one it sends on.
//!
//! Hops never decrypt. The creator of a tunnel, who holds every hop's keys, runs the
//! exact inverse of all the hops' layers: the outbound gateway before sending (so the
//! hops' encryptions reveal the plaintext at the endpoint), the inbound endpoint after
//! receiving. Either way it is the same computation, last hop first.

use crate::i2np::TunnelData;
use aes::cipher::consts::U16;
use aes::cipher::inout::InOutBuf;
use aes::cipher::{BlockDecrypt, BlockDecryptMut, BlockEncrypt, InnerIvInit, KeyInit};
use aes::{Aes256Dec, Aes256Enc, Block};
use std::fmt;

type Iv = [u8; TunnelData::IV_LEN];
type Data = [u8; TunnelData::DATA_LEN];

/// One hop's symmetric keys, chosen by the tunnel's creator and given to the hop in its
/// build request.
///
/// `Debug` never shows the keys.
#[derive(Clone, PartialEq, Eq)]
pub struct HopKeys {
    pub layer_key: [u8; 32],
    pub iv_key: [u8; 32],
}

impl fmt::Debug for HopKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HopKeys { .. }")
    }
}

/// A hop's own layer: the encrypting direction, with its key schedules expanded once.
#[derive(Clone)]
struct HopLayer {
    layer: Aes256Enc,
    iv: Aes256Enc,
}

impl HopLayer {
    fn new(keys: &HopKeys) -> HopLayer {
        HopLayer {
            layer: Aes256Enc::new(&keys.layer_key.into()),
            iv: Aes256Enc::new(&keys.iv_key.into()),
        }
    }

    fn encrypt(&self, iv: &mut Iv, data: &mut Data) {
        let iv = Block::from_mut_slice(iv);
        self.iv.encrypt_block(iv);
        // CBC encryption is one serial chain of 63 blocks; encrypting them in place one
        // at a time is all the cbc crate would do, without building an encryptor.
        let mut previous = *iv;
        for chunk in data.chunks_exact_mut(16) {
            let block = Block::from_mut_slice(chunk);
            xor(block, &previous);
            self.layer.encrypt_block(block);
            previous = *block;
        }
        self.iv.encrypt_block(iv);
    }
}

/// The inverse of one hop's layer, held by the tunnel's creator.
#[derive(Clone)]
struct InverseLayer {
    layer: Aes256Dec,
    iv: Aes256Dec,
}

impl InverseLayer {
    fn new(keys: &HopKeys) -> InverseLayer {
        InverseLayer {
            layer: Aes256Dec::new(&keys.layer_key.into()),
            iv: Aes256Dec::new(&keys.iv_key.into()),
        }
    }

    fn decrypt(&self, iv: &mut Iv, data: &mut Data) {
        let iv = Block::from_mut_slice(iv);
        self.iv.decrypt_block(iv);
        // Unlike encryption, CBC decryption parallelises across blocks; the cbc crate
        // does that (8 blocks at a time with AES-NI), so use it here.
        let (blocks, _) = InOutBuf::from(&mut data[..]).into_chunks::<U16>();
        cbc::Decryptor::inner_iv_init(self.layer.clone(), iv).decrypt_blocks_inout_mut(blocks);
        self.iv.decrypt_block(iv);
    }
}

/// What a role does to each tunnel message it handles.
#[derive(Clone)]
pub(crate) struct LayerCrypto(Layers);

#[derive(Clone)]
enum Layers {
    /// A hop that is not the creator adds its own layer (participants, the inbound
    /// gateway, the outbound endpoint).
    Hop(Box<HopLayer>),
    /// The creator undoes every hop's layer, last hop first (the outbound gateway, the
    /// inbound endpoint). The layers are stored in tunnel order.
    Creator(Vec<InverseLayer>),
}

impl LayerCrypto {
    pub(crate) fn hop(keys: &HopKeys) -> LayerCrypto {
        LayerCrypto(Layers::Hop(Box::new(HopLayer::new(keys))))
    }

    /// `hops`: the keys of every hop but the creator, in tunnel order.
    pub(crate) fn creator(hops: &[HopKeys]) -> LayerCrypto {
        LayerCrypto(Layers::Creator(
            hops.iter().map(InverseLayer::new).collect(),
        ))
    }

    pub(crate) fn apply(&self, iv: &mut Iv, data: &mut Data) {
        match &self.0 {
            Layers::Hop(layer) => layer.encrypt(iv, data),
            Layers::Creator(layers) => {
                for layer in layers.iter().rev() {
                    layer.decrypt(iv, data);
                }
            }
        }
    }
}

/// Shows the shape, never key material.
impl fmt::Debug for LayerCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Layers::Hop(_) => f.write_str("LayerCrypto::Hop"),
            Layers::Creator(layers) => write!(f, "LayerCrypto::Creator({} hops)", layers.len()),
        }
    }
}

fn xor(block: &mut Block, other: &Block) {
    for (b, o) in block.iter_mut().zip(other.iter()) {
        *b ^= o;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::block_padding::NoPadding;
    use aes::cipher::{BlockEncryptMut, KeyIvInit};

    fn keys(seed: u8) -> HopKeys {
        HopKeys {
            layer_key: [seed; 32],
            iv_key: [seed.wrapping_add(100); 32],
        }
    }

    fn sample() -> (Iv, Box<Data>) {
        let iv = std::array::from_fn(|i| i as u8);
        let data = Box::new(std::array::from_fn(|i| (i * 7) as u8));
        (iv, data)
    }

    /// The hop operation, written out with the aes and cbc crates' plain APIs.
    #[test]
    fn hop_layer_matches_the_spec_formula() {
        let k = keys(1);
        let (mut iv, mut data) = sample();
        let (iv0, data0) = sample();

        let ecb = Aes256Enc::new(&k.iv_key.into());
        let mut expected_iv = Block::clone_from_slice(&iv0);
        ecb.encrypt_block(&mut expected_iv);
        let mut expected_data = *data0;
        cbc::Encryptor::<Aes256Enc>::new(&k.layer_key.into(), &expected_iv)
            .encrypt_padded_mut::<NoPadding>(&mut expected_data, TunnelData::DATA_LEN)
            .expect("whole blocks");
        ecb.encrypt_block(&mut expected_iv);

        HopLayer::new(&k).encrypt(&mut iv, &mut data);
        assert_eq!(&iv[..], &expected_iv[..]);
        assert_eq!(&data[..], &expected_data[..]);
    }

    #[test]
    fn creator_undoes_every_hop_in_reverse_order() {
        let hops = [keys(1), keys(2), keys(3)];
        let (iv0, data0) = sample();
        let (mut iv, mut data) = sample();
        for k in &hops {
            HopLayer::new(k).encrypt(&mut iv, &mut data);
        }
        assert_ne!(data, data0);
        LayerCrypto::creator(&hops).apply(&mut iv, &mut data);
        assert_eq!((iv, &data), (iv0, &data0));

        // And the other way round: pre-undone by the creator, redone by the hops.
        LayerCrypto::creator(&hops).apply(&mut iv, &mut data);
        for k in &hops {
            LayerCrypto::hop(k).apply(&mut iv, &mut data);
        }
        assert_eq!((iv, &data), (iv0, &data0));
    }

    #[test]
    fn debug_hides_keys() {
        let text = format!("{:?} {:?}", keys(0xab), LayerCrypto::hop(&keys(0xab)));
        assert!(!text.contains("171"), "{text}");
    }
}
