//! The gateway, participant and endpoint of a tunnel (spec: tunnel implementation,
//! Gateway Processing, Participant Processing, Endpoint Processing).

use super::bloom::ReplayFilter;
use super::fragment::{Delivered, Packer, Reassembler};
use super::instructions::{Delivery, Fragment};
use super::layer::{HopKeys, LayerCrypto};
use super::message::{decode_payload, encode_payload};
use super::TunnelDataError;
use crate::data::reader::Reader;
use crate::data::Hash;
use crate::i2np::TunnelData;
use crate::time::Instant;
use crate::tunnel::TunnelId;
use rand::RngCore;

/// Where a role sends the tunnel messages it makes: the next router, and its id for
/// the tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextHop {
    pub router: Hash,
    pub tunnel: TunnelId,
}

/// The entrance of a tunnel: packs I2NP messages into tunnel messages for the first hop
/// (or, at an inbound gateway, the second).
#[derive(Debug, Clone)]
pub struct Gateway {
    crypto: LayerCrypto,
    next: NextHop,
}

impl Gateway {
    /// The creator's gateway of an outbound tunnel. `hops` holds the keys of every hop
    /// in tunnel order, the outbound endpoint last; `next` is the first of them. The
    /// creator has no layer of its own.
    pub fn outbound(next: NextHop, hops: &[HopKeys]) -> Gateway {
        Gateway {
            crypto: LayerCrypto::creator(hops),
            next,
        }
    }

    /// The gateway of an inbound tunnel, a hop like the others: it adds its own layer.
    pub fn inbound(keys: &HopKeys, next: NextHop) -> Gateway {
        Gateway {
            crypto: LayerCrypto::hop(keys),
            next,
        }
    }

    pub fn next_hop(&self) -> NextHop {
        self.next
    }

    /// Packs `messages` (I2NP messages in their standard encoding, each with where the
    /// endpoint should deliver it) into tunnel messages for [`Gateway::next_hop`].
    ///
    /// Fails, sending nothing, if a message is empty or too large for 64 fragments.
    pub fn send<R: RngCore>(
        &self,
        rng: &mut R,
        messages: &[(Delivery, &[u8])],
    ) -> Result<Vec<TunnelData>, TunnelDataError> {
        let mut packer = Packer::default();
        for &(delivery, message) in messages {
            // Random rather than the I2NP message's own id, which the endpoint should
            // not learn from the fragments of an inbound tunnel's messages.
            packer.push(delivery, message, rng.next_u32())?;
        }
        let contents = packer.finish();
        Ok(contents
            .iter()
            .map(|content| {
                let (mut iv, mut data) = encode_payload(rng, content);
                self.crypto.apply(&mut iv, &mut data);
                TunnelData {
                    tunnel_id: self.next.tunnel,
                    iv,
                    data,
                }
            })
            .collect())
    }
}

/// A hop in the middle of a tunnel.
#[derive(Debug, Clone)]
pub struct Participant {
    crypto: LayerCrypto,
    next: NextHop,
}

impl Participant {
    pub fn new(keys: &HopKeys, next: NextHop) -> Participant {
        Participant {
            crypto: LayerCrypto::hop(keys),
            next,
        }
    }

    pub fn next_hop(&self) -> NextHop {
        self.next
    }

    /// Drops a replay, else adds this hop's layer and readdresses the message to
    /// [`Participant::next_hop`].
    pub fn forward(
        &self,
        now: Instant,
        replays: &mut ReplayFilter,
        mut msg: TunnelData,
    ) -> Result<TunnelData, TunnelDataError> {
        if !replays.insert_message(now, &msg) {
            return Err(TunnelDataError::Replayed);
        }
        self.crypto.apply(&mut msg.iv, &mut msg.data);
        msg.tunnel_id = self.next.tunnel;
        Ok(msg)
    }
}

/// The exit of a tunnel: recovers the gateway's plaintext and reassembles messages.
///
/// What to do with a [`Delivered`] message is the caller's decision: an outbound
/// endpoint sends it on; the creator, at an inbound endpoint, should accept only
/// [`Delivery::Local`] from a gateway it does not control.
#[derive(Debug)]
pub struct Endpoint {
    crypto: LayerCrypto,
    reassembly: Reassembler,
}

impl Endpoint {
    /// The last hop of an outbound tunnel: adding its layer reveals the plaintext.
    pub fn outbound(keys: &HopKeys) -> Endpoint {
        Endpoint {
            crypto: LayerCrypto::hop(keys),
            reassembly: Reassembler::default(),
        }
    }

    /// The creator's endpoint of an inbound tunnel. `hops` holds the keys of every hop
    /// in tunnel order, the inbound gateway first. The creator has no layer of its own.
    pub fn inbound(hops: &[HopKeys]) -> Endpoint {
        Endpoint {
            crypto: LayerCrypto::creator(hops),
            reassembly: Reassembler::default(),
        }
    }

    /// Takes one tunnel message; returns the messages it completes, in order.
    ///
    /// A replay, a bad checksum or malformed instructions drop the whole tunnel message.
    pub fn receive(
        &mut self,
        now: Instant,
        replays: &mut ReplayFilter,
        mut msg: TunnelData,
    ) -> Result<Vec<Delivered>, TunnelDataError> {
        if !replays.insert_message(now, &msg) {
            return Err(TunnelDataError::Replayed);
        }
        self.reassembly.expire(now);
        self.crypto.apply(&mut msg.iv, &mut msg.data);
        let content = decode_payload(&msg.iv, &msg.data)?;
        // Parse everything before taking anything, so a bad fragment leaves no trace.
        let mut r = Reader::new(content);
        let mut fragments = Vec::new();
        while r.remaining() > 0 {
            fragments.push(Fragment::read(&mut r)?);
        }
        Ok(fragments
            .into_iter()
            .filter_map(|fragment| self.reassembly.receive(now, fragment))
            .collect())
    }

    /// Drops fragments of messages that did not complete in time.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.reassembly.expire(now);
    }

    /// When [`Endpoint::handle_timeout`] next has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.reassembly.next_expiry()
    }

    /// Bytes held in incomplete messages.
    pub fn pending_bytes(&self) -> usize {
        self.reassembly.pending_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::super::instructions::strategies::arb_delivery;
    use super::super::message::MAX_CONTENT_LEN;
    use super::*;
    use crate::i2np::{
        DatabaseStore, DeliveryStatus, I2npMessage, MessageBody, StoreEntry, TunnelGateway,
    };
    use proptest::prelude::*;
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;
    use std::time::Duration;

    const NOW: Instant = Instant::from_secs(1_800_000_000);

    /// The routers of a test tunnel: router `i` knows the tunnel as `1000 + i`.
    fn hop(i: usize) -> NextHop {
        NextHop {
            router: Hash([i as u8; 32]),
            tunnel: TunnelId(1000 + i as u32),
        }
    }

    /// A tunnel through `len` routers besides the creator, each with its own filter.
    struct Tunnel {
        gateway: Gateway,
        participants: Vec<(Participant, ReplayFilter)>,
        endpoint: Endpoint,
        endpoint_filter: ReplayFilter,
        rng: ChaCha20Rng,
    }

    impl Tunnel {
        fn new(len: usize, outbound: bool, seed: u64) -> Tunnel {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let keys: Vec<HopKeys> = (0..len)
                .map(|_| {
                    let mut k = HopKeys {
                        layer_key: [0; 32],
                        iv_key: [0; 32],
                    };
                    rng.fill_bytes(&mut k.layer_key);
                    rng.fill_bytes(&mut k.iv_key);
                    k
                })
                .collect();
            // Outbound: creator -> hop 1 .. hop len (the endpoint).
            // Inbound: hop 1 (the gateway) .. hop len -> creator (router len + 1).
            let (gateway, middle, endpoint) = if outbound {
                (
                    Gateway::outbound(hop(1), &keys),
                    0..len - 1,
                    Endpoint::outbound(&keys[len - 1]),
                )
            } else {
                (
                    Gateway::inbound(&keys[0], hop(2)),
                    1..len,
                    Endpoint::inbound(&keys),
                )
            };
            let participants = middle
                .map(|i| {
                    let filter = ReplayFilter::new(&mut rng, 1000, NOW);
                    (Participant::new(&keys[i], hop(i + 2)), filter)
                })
                .collect();
            let endpoint_filter = ReplayFilter::new(&mut rng, 1000, NOW);
            Tunnel {
                gateway,
                participants,
                endpoint,
                endpoint_filter,
                rng,
            }
        }

        fn send(&mut self, messages: &[(Delivery, &[u8])]) -> Vec<TunnelData> {
            self.gateway
                .send(&mut self.rng, messages)
                .expect("sendable")
        }

        /// Through every participant, and through the I2NP encoding at each hop.
        fn through_participants(&mut self, msg: TunnelData) -> TunnelData {
            let mut msg = wire(msg);
            for (participant, filter) in &mut self.participants {
                let out = participant.forward(NOW, filter, msg).expect("fresh");
                assert_eq!(out.tunnel_id, participant.next_hop().tunnel);
                msg = wire(out);
            }
            msg
        }

        fn carry(&mut self, msgs: Vec<TunnelData>) -> Vec<Delivered> {
            let mut out = Vec::new();
            for msg in msgs {
                let msg = self.through_participants(msg);
                let delivered = self.endpoint.receive(NOW, &mut self.endpoint_filter, msg);
                out.extend(delivered.expect("intact"));
            }
            out
        }
    }

    fn wire(msg: TunnelData) -> TunnelData {
        let body = MessageBody::TunnelData(msg).encode().expect("fixed size");
        assert_eq!(body.len(), TunnelData::BODY_LEN);
        match MessageBody::decode(18, &body) {
            Ok(MessageBody::TunnelData(msg)) => msg,
            other => panic!("{other:?}"),
        }
    }

    fn small_message() -> Vec<u8> {
        I2npMessage {
            id: 42,
            expiration_ms: 1_800_000_060_000,
            body: MessageBody::DeliveryStatus(DeliveryStatus {
                msg_id: 7,
                timestamp_ms: 1_800_000_000_000,
            }),
        }
        .encode()
    }

    /// A 3 KB DatabaseStore: three tunnel messages' worth.
    fn large_message() -> Vec<u8> {
        I2npMessage {
            id: 43,
            expiration_ms: 1_800_000_060_000,
            body: MessageBody::DatabaseStore(DatabaseStore {
                key: Hash([5; 32]),
                reply: None,
                entry: StoreEntry::LeaseSet {
                    store_type: 1,
                    data: (0..3000).map(|i| (i % 256) as u8).collect(),
                },
            }),
        }
        .encode()
    }

    #[test]
    fn outbound_round_trips() {
        let router = Delivery::Router(Hash([0xee; 32]));
        let tunnel = Delivery::Tunnel {
            tunnel: TunnelId(77),
            gateway: Hash([0xdd; 32]),
        };
        for len in 1..=3 {
            let mut t = Tunnel::new(len, true, len as u64);
            let (small, large) = (small_message(), large_message());
            let msgs = t.send(&[(router, &small), (tunnel, &large)]);
            assert_eq!(msgs.len(), 4);
            assert!(msgs.iter().all(|m| m.tunnel_id == hop(1).tunnel));
            let delivered = t.carry(msgs);
            assert_eq!(
                delivered,
                vec![
                    Delivered {
                        delivery: router,
                        message: small.clone()
                    },
                    Delivered {
                        delivery: tunnel,
                        message: large.clone()
                    },
                ]
            );
            assert!(I2npMessage::decode(&delivered[1].message).is_ok());
            assert_eq!(t.endpoint.pending_bytes(), 0);
        }
    }

    #[test]
    fn inbound_round_trips() {
        for len in 1..=3 {
            let mut t = Tunnel::new(len, false, 10 + len as u64);
            // As the inbound gateway receives them: in TunnelGateway messages.
            let wrapped = TunnelGateway {
                tunnel_id: hop(1).tunnel,
                message: large_message(),
            };
            let body = MessageBody::TunnelGateway(wrapped).encode().expect("fits");
            let Ok(MessageBody::TunnelGateway(received)) = MessageBody::decode(19, &body) else {
                panic!("decodes");
            };
            let small = small_message();
            let msgs = t.send(&[
                (Delivery::Local, &received.message),
                (Delivery::Local, &small),
            ]);
            assert!(msgs.iter().all(|m| m.tunnel_id == hop(2).tunnel));
            let delivered = t.carry(msgs);
            let messages: Vec<_> = delivered.iter().map(|d| &d.message).collect();
            assert_eq!(messages, [&received.message, &small]);
            assert!(delivered.iter().all(|d| d.delivery == Delivery::Local));
        }
    }

    #[test]
    fn hops_see_different_ivs_and_data() {
        let mut t = Tunnel::new(3, true, 20);
        let msg = t.send(&[(Delivery::Local, &small_message())]).remove(0);
        let (iv, first_block) = (msg.iv, msg.data[..16].to_vec());
        let (participant, filter) = &mut t.participants[0];
        let out = participant.forward(NOW, filter, msg).expect("fresh");
        assert_ne!(out.iv, iv);
        assert_ne!(out.data[..16], first_block[..]);
    }

    #[test]
    fn fragments_reassemble_out_of_order() {
        for outbound in [true, false] {
            let mut t = Tunnel::new(2, outbound, 30);
            let large = large_message();
            let mut msgs = t.send(&[(Delivery::Local, &large)]);
            assert_eq!(msgs.len(), 4);
            msgs.reverse();
            let last = msgs.pop().expect("four");
            assert!(t.carry(msgs).is_empty());
            assert!(t.endpoint.pending_bytes() > 0);
            let delivered = t.carry(vec![last]);
            assert_eq!(delivered.len(), 1);
            assert_eq!(delivered[0].message, large);
            assert_eq!(t.endpoint.pending_bytes(), 0);
        }
    }

    #[test]
    fn tampered_messages_fail_the_checksum() {
        fn receive_tampered(
            outbound: bool,
            tamper: fn(&mut TunnelData),
        ) -> Result<usize, TunnelDataError> {
            let mut t = Tunnel::new(3, outbound, 40);
            let msg = t.send(&[(Delivery::Local, &small_message())]).remove(0);
            let mut msg = t.through_participants(msg);
            tamper(&mut msg);
            t.endpoint
                .receive(NOW, &mut t.endpoint_filter, msg)
                .map(|delivered| delivered.len())
        }
        let rejected = |result| {
            matches!(
                result,
                Err(TunnelDataError::BadChecksum | TunnelDataError::NoPaddingEnd)
            )
        };
        let last_byte = |m: &mut TunnelData| m.data[TunnelData::DATA_LEN - 1] ^= 0x01;
        let iv = |m: &mut TunnelData| m.iv[3] ^= 0x80;
        let middle = |m: &mut TunnelData| m.data[500] ^= 0x10;
        for outbound in [true, false] {
            // The last byte is always message content; the IV is covered too.
            assert!(rejected(receive_tampered(outbound, last_byte)));
            assert!(rejected(receive_tampered(outbound, iv)));
        }
        // Byte 500 lies in the padding before a small message. The outbound endpoint's
        // CBC encryption carries the change into every later block, content included...
        assert!(rejected(receive_tampered(true, middle)));
        // ...but the creator's CBC decryption confines it to two blocks of padding,
        // which the checksum does not cover: the spec's design, nothing is lost.
        assert_eq!(receive_tampered(false, middle), Ok(1));
    }

    #[test]
    fn replays_are_dropped() {
        let mut t = Tunnel::new(2, true, 50);
        let msg = t.send(&[(Delivery::Local, &small_message())]).remove(0);
        let (participant, filter) = &mut t.participants[0];
        let out = participant
            .forward(NOW, filter, msg.clone())
            .expect("fresh");
        let later = NOW + Duration::from_secs(60);
        assert_eq!(
            participant.forward(later, filter, msg),
            Err(TunnelDataError::Replayed)
        );
        assert_eq!(
            t.endpoint
                .receive(NOW, &mut t.endpoint_filter, out.clone())
                .map(|d| d.len()),
            Ok(1)
        );
        assert_eq!(
            t.endpoint.receive(later, &mut t.endpoint_filter, out),
            Err(TunnelDataError::Replayed)
        );
    }

    #[test]
    fn incomplete_messages_time_out() {
        let mut t = Tunnel::new(1, false, 60);
        let mut msgs = t.send(&[(Delivery::Local, &large_message())]);
        msgs.pop();
        assert!(t.carry(msgs).is_empty());
        assert!(t.endpoint.pending_bytes() > 2000);
        let deadline = t.endpoint.poll_timeout().expect("pending");
        assert!(deadline > NOW);
        t.endpoint.handle_timeout(deadline);
        assert_eq!(t.endpoint.pending_bytes(), 0);
        assert_eq!(t.endpoint.poll_timeout(), None);
    }

    #[test]
    fn unsendable_messages_send_nothing() {
        let t = Tunnel::new(1, true, 70);
        let mut rng = ChaCha20Rng::seed_from_u64(0);
        let huge = vec![1; 64_000];
        for messages in [
            &[(Delivery::Local, &[][..])][..],
            &[(Delivery::Local, &[1, 2][..]), (Delivery::Local, &huge[..])][..],
        ] {
            assert!(t.gateway.send(&mut rng, messages).is_err());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn any_messages_round_trip(
            len in 1usize..=3,
            outbound in any::<bool>(),
            seed in any::<u64>(),
            messages in proptest::collection::vec(
                (arb_delivery(), proptest::collection::vec(any::<u8>(), 1..4000)),
                1..5,
            ),
        ) {
            let mut t = Tunnel::new(len, outbound, seed);
            let borrowed: Vec<(Delivery, &[u8])> =
                messages.iter().map(|(d, m)| (*d, &m[..])).collect();
            let msgs = t.send(&borrowed);
            let delivered = t.carry(msgs);
            let expected: Vec<Delivered> = messages
                .into_iter()
                .map(|(delivery, message)| Delivered { delivery, message })
                .collect();
            prop_assert_eq!(delivered, expected);
        }

        #[test]
        fn random_content_never_panics(
            seed in any::<u64>(),
            content in proptest::collection::vec(any::<u8>(), 0..=MAX_CONTENT_LEN),
        ) {
            // Random ciphertext would stop at the checksum; this gets past it, to the
            // instruction parser and the reassembly.
            let mut t = Tunnel::new(1, true, seed);
            let (mut iv, mut data) = encode_payload(&mut t.rng, &content);
            t.gateway.crypto.apply(&mut iv, &mut data);
            let msg = TunnelData { tunnel_id: hop(1).tunnel, iv, data };
            let _ = t.endpoint.receive(NOW, &mut t.endpoint_filter, msg);
        }
    }
}
