//! Packet signatures (spec: Streaming, SIGNATURE_INCLUDED and "Variable Length Signature
//! Notes"): the sender's destination signs the whole packet, header and payload, with
//! the signature field set to zeroes. With an OFFLINE_SIGNATURE option, the SYN's
//! destination has delegated signing to a transient key, which then signs this packet
//! and every later one of the stream.

use super::packet::Packet;
use super::StreamingError;
use crate::crypto::DestinationKeys;
use crate::data::reader::Reader;
use crate::data::{Destination, OfflineSignature};
use crate::time::Instant;

/// Ed25519 signatures (the only type the data layer supports).
const SIGNATURE_LEN: usize = 64;

/// Who signs a peer's packets: learned from its SYN, used for its CLOSE and RESET too
/// (which carry no FROM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerKey {
    Destination(Destination),
    /// The SYN's offline block, verified: the destination delegated to its transient key.
    Transient {
        destination: Destination,
        offline: OfflineSignature,
    },
}

impl PeerKey {
    /// The signer a SYN names: its FROM, or the transient key of its offline block once
    /// FROM's signature over the block verifies and the block has not expired at `now`.
    pub fn from_syn(packet: &Packet, now: Instant) -> Result<PeerKey, StreamingError> {
        let Some(destination) = packet.options.from.clone() else {
            return Err(StreamingError::Invalid {
                what: "streaming: SYN",
                reason: "FROM_INCLUDED must be set",
            });
        };
        let Some(block) = &packet.options.offline_signature else {
            return Ok(PeerKey::Destination(destination));
        };
        let mut r = Reader::new(block);
        let offline = OfflineSignature::read(&mut r, &destination)?;
        if u64::from(offline.expires_s()) < now.as_secs() {
            return Err(StreamingError::OfflineSignatureExpired);
        }
        Ok(PeerKey::Transient {
            destination,
            offline,
        })
    }

    pub fn destination(&self) -> &Destination {
        match self {
            PeerKey::Destination(d) | PeerKey::Transient { destination: d, .. } => d,
        }
    }

    /// Checks `packet`'s signature; a packet without one fails.
    pub fn verify(&self, packet: &Packet) -> Result<(), StreamingError> {
        let signature = packet
            .options
            .signature
            .as_deref()
            .ok_or(StreamingError::Unsigned)?;
        let signed = signed_bytes(packet)?;
        let result = match self {
            PeerKey::Destination(d) => d.verify(&signed, signature),
            PeerKey::Transient { offline, .. } => offline.verify(&signed, signature),
        };
        result.map_err(|_| StreamingError::BadSignature)
    }
}

/// Signs `packet` with our destination's key, replacing any signature it had.
pub fn sign(packet: &mut Packet, keys: &DestinationKeys) -> Result<(), StreamingError> {
    packet.options.signature = Some(vec![0; SIGNATURE_LEN]);
    let signed = packet.emit()?;
    packet.options.signature = Some(keys.sign(&signed).to_vec());
    Ok(())
}

/// The packet's encoding with its signature zeroed: what was signed. The signature is
/// the last option, so it sits just before the payload.
fn signed_bytes(packet: &Packet) -> Result<Vec<u8>, StreamingError> {
    let mut bytes = packet.emit()?;
    let signature_len = packet.options.signature.as_ref().map_or(0, Vec::len);
    let end = bytes.len() - packet.payload.len();
    bytes[end - signature_len..end].fill(0);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::streaming::packet::{Flags, Options};
    use crate::data::KeyCertificate;
    use ed25519_dalek::{Signer, SigningKey};

    const NOW: Instant = Instant::from_secs(1_800_000_000);

    fn syn(keys: &DestinationKeys) -> Packet {
        Packet {
            recv_stream_id: 42,
            flags: Flags::SYNCHRONIZE | Flags::NO_ACK,
            options: Options {
                from: Some(keys.destination().clone()),
                max_packet_size: Some(1730),
                ..Options::default()
            },
            payload: b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            ..Packet::default()
        }
    }

    #[test]
    fn signed_syn_verifies_and_any_change_breaks_it() {
        let keys = DestinationKeys::from_secret_bytes(&[1; 96]);
        let mut packet = syn(&keys);
        sign(&mut packet, &keys).expect("signs");
        // Through the wire and back.
        let packet = Packet::parse(&packet.emit().expect("emits")).expect("parses");
        let signer = PeerKey::from_syn(&packet, NOW).expect("FROM present");
        assert_eq!(signer.destination(), keys.destination());
        assert_eq!(signer.verify(&packet), Ok(()));

        let mut tampered = packet.clone();
        tampered.payload[0] ^= 1;
        assert_eq!(signer.verify(&tampered), Err(StreamingError::BadSignature));
        let mut tampered = packet.clone();
        tampered.nacks = vec![1];
        assert_eq!(signer.verify(&tampered), Err(StreamingError::BadSignature));

        let other = DestinationKeys::from_secret_bytes(&[2; 96]);
        let stranger = PeerKey::Destination(other.destination().clone());
        assert_eq!(stranger.verify(&packet), Err(StreamingError::BadSignature));

        let mut unsigned = packet;
        unsigned.options.signature = None;
        assert_eq!(signer.verify(&unsigned), Err(StreamingError::Unsigned));
    }

    #[test]
    fn offline_signature_delegates_to_the_transient_key() {
        let keys = DestinationKeys::from_secret_bytes(&[5; 96]);
        let transient = SigningKey::from_bytes(&[6; 32]);
        let expires = (NOW.as_secs() + 3600) as u32;
        let mut block = expires.to_be_bytes().to_vec();
        block.extend_from_slice(&KeyCertificate::SIG_ED25519.to_be_bytes());
        block.extend_from_slice(&transient.verifying_key().to_bytes());
        let delegation = keys.sign(&block);
        block.extend_from_slice(&delegation);

        let mut packet = syn(&keys);
        packet.options.offline_signature = Some(block.clone());
        packet.options.signature = Some(vec![0; SIGNATURE_LEN]);
        let signed = packet.emit().expect("emits");
        packet.options.signature = Some(transient.sign(&signed).to_bytes().to_vec());
        let packet = Packet::parse(&packet.emit().expect("emits")).expect("parses");

        let signer = PeerKey::from_syn(&packet, NOW).expect("delegation verifies");
        assert!(matches!(signer, PeerKey::Transient { .. }));
        assert_eq!(signer.verify(&packet), Ok(()));
        // The destination's own key did not sign this packet.
        let direct = PeerKey::Destination(keys.destination().clone());
        assert_eq!(direct.verify(&packet), Err(StreamingError::BadSignature));
        // Expired, or a delegation the destination did not sign.
        assert_eq!(
            PeerKey::from_syn(&packet, Instant::from_secs(u64::from(expires) + 1)),
            Err(StreamingError::OfflineSignatureExpired)
        );
        let mut forged = packet;
        if let Some(block) = forged.options.offline_signature.as_mut() {
            block[0] ^= 1;
        }
        assert!(PeerKey::from_syn(&forged, NOW).is_err());
    }
}
