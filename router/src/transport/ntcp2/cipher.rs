//! The data phase's ciphers (spec: NTCP2, "KDF for data phase" and "Data Phase"): one
//! ChaChaPoly key with a frame counter, and one SipHash length mask, per direction.

use super::siphash::LengthMask;
use super::Ntcp2Error;
use crate::crypto::noise::{self, hkdf, SymmetricState, MAC_LEN};

/// Which end of the handshake we were: Alice (initiator) sends with `k_ab`, Bob with `k_ba`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Initiator,
    Responder,
}

/// One direction: the AEAD key, the next nonce (= frames done so far) and the length mask.
#[cfg_attr(fuzzing, derive(Clone))]
pub(crate) struct FrameCipher {
    key: [u8; 32],
    nonce: u64,
    mask: LengthMask,
}

/// Both directions, as seen from one end.
#[cfg_attr(fuzzing, derive(Clone))]
pub(crate) struct DataKeys {
    pub(crate) send: FrameCipher,
    pub(crate) recv: FrameCipher,
}

impl DataKeys {
    /// The data-phase keys from the final handshake state: `Split()` for the ciphers, and
    /// for the SipHash keys `ask_master = HKDF(ck, ZEROLEN, "ask")`,
    /// `sip_master = HKDF(ask_master, h || "siphash")`, `sipkeys_ab, sipkeys_ba =
    /// HKDF(sip_master, ZEROLEN)`, each HKDF taking its first output where one is used.
    pub(crate) fn derive(state: &SymmetricState, role: Role) -> DataKeys {
        let (k_ab, k_ba) = state.split();
        let (ask_master, _) = hkdf(state.chaining_key(), &[], b"ask");
        let mut ikm = [0u8; 32 + 7];
        ikm[..32].copy_from_slice(state.handshake_hash());
        ikm[32..].copy_from_slice(b"siphash");
        let (sip_master, _) = hkdf(&ask_master, &ikm, b"");
        let (sip_ab, sip_ba) = hkdf(&sip_master, &[], b"");
        let ab = FrameCipher::new(k_ab, &sip_ab);
        let ba = FrameCipher::new(k_ba, &sip_ba);
        match role {
            Role::Initiator => DataKeys { send: ab, recv: ba },
            Role::Responder => DataKeys { send: ba, recv: ab },
        }
    }
}

impl FrameCipher {
    fn new(key: [u8; 32], sipkeys: &[u8; 32]) -> FrameCipher {
        FrameCipher {
            key,
            nonce: 0,
            mask: LengthMask::new(sipkeys),
        }
    }

    /// Appends one frame to `out`: the masked 2-byte length, then `payload` sealed.
    /// `payload` is at most `block::MAX_PAYLOAD_LEN` bytes (callers build it so).
    pub(crate) fn seal_frame(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let len = (payload.len() + MAC_LEN) as u16;
        out.extend_from_slice(&(len ^ self.mask.next_mask()).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(payload);
        let tag = noise::seal(&self.key, self.nonce, &[], &mut out[start..]);
        out.extend_from_slice(&tag);
        self.nonce += 1;
    }

    /// Unmasks the next frame's length (MAC included); call exactly once per frame.
    pub(crate) fn frame_len(&mut self, masked: [u8; 2]) -> Result<usize, Ntcp2Error> {
        let len = usize::from(u16::from_be_bytes(masked) ^ self.mask.next_mask());
        if len < MAC_LEN {
            return Err(Ntcp2Error::BadFrameLength(len));
        }
        Ok(len)
    }

    /// Authenticates and decrypts a frame (ciphertext then MAC) in place; returns its
    /// plaintext.
    pub(crate) fn open_frame<'a>(&mut self, frame: &'a mut [u8]) -> Result<&'a [u8], Ntcp2Error> {
        let split = frame
            .len()
            .checked_sub(MAC_LEN)
            .ok_or(Ntcp2Error::BadFrameLength(frame.len()))?;
        let (ciphertext, tag) = frame.split_at_mut(split);
        let mut mac = [0u8; MAC_LEN];
        mac.copy_from_slice(tag);
        noise::open(&self.key, self.nonce, &[], ciphertext, &mac)
            .map_err(|_| Ntcp2Error::BadMac("data phase frame"))?;
        self.nonce += 1;
        Ok(ciphertext)
    }

    /// Frames sealed or opened so far: what a Termination block reports for `recv`.
    pub(crate) fn frames(&self) -> u64 {
        self.nonce
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (DataKeys, DataKeys) {
        let mut state = SymmetricState::new(b"test");
        state.mix_key(&[1; 32]);
        state.mix_hash(b"h");
        (
            DataKeys::derive(&state, Role::Initiator),
            DataKeys::derive(&state, Role::Responder),
        )
    }

    #[test]
    fn frames_open_on_the_other_side_in_order() {
        let (mut alice, mut bob) = pair();
        let mut wire = Vec::new();
        alice.send.seal_frame(b"first", &mut wire);
        alice.send.seal_frame(b"", &mut wire);
        let mut rest = &mut wire[..];
        for expected in [&b"first"[..], b""] {
            let len = bob.recv.frame_len([rest[0], rest[1]]).expect("long enough");
            assert_eq!(len, expected.len() + MAC_LEN);
            let (frame, after) = rest[2..].split_at_mut(len);
            assert_eq!(bob.recv.open_frame(frame).expect("authentic"), expected);
            rest = after;
        }
        assert_eq!(bob.recv.frames(), 2);
        // Bob's sending direction uses other keys: Alice's receiving side opens it,
        // Alice's own sending keys would not.
        let mut back = Vec::new();
        bob.send.seal_frame(b"reply", &mut back);
        let len = alice
            .recv
            .frame_len([back[0], back[1]])
            .expect("long enough");
        assert_eq!(len, 5 + MAC_LEN);
        assert_eq!(
            alice.recv.open_frame(&mut back[2..]).expect("authentic"),
            b"reply"
        );
    }

    #[test]
    fn tampering_is_a_bad_mac() {
        let (mut alice, mut bob) = pair();
        let mut wire = Vec::new();
        alice.send.seal_frame(b"payload", &mut wire);
        wire[5] ^= 1;
        bob.recv
            .frame_len([wire[0], wire[1]])
            .expect("length untouched");
        assert_eq!(
            bob.recv.open_frame(&mut wire[2..]),
            Err(Ntcp2Error::BadMac("data phase frame"))
        );
    }

    #[test]
    fn lengths_below_the_mac_are_errors() {
        let (mut alice, mut bob) = pair();
        let mask = alice.send.mask.next_mask();
        assert_eq!(
            bob.recv.frame_len((15 ^ mask).to_be_bytes()),
            Err(Ntcp2Error::BadFrameLength(15))
        );
    }
}
