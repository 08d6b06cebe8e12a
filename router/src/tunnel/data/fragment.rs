//! Fragmentation at the gateway, reassembly at the endpoint (spec: tunnel-message,
//! Notes: I2NP Message Maximum Size; Ordering, Batching, Packing).

use super::instructions::{Delivery, Fragment, Instructions, FOLLOW_ON_LEN, MAX_FRAGMENT_NUMBER};
use super::message::MAX_CONTENT_LEN;
use super::TunnelDataError;
use crate::time::Instant;
use std::collections::BTreeMap;
use std::time::Duration;

/// The most a follow-on fragment can carry: a tunnel message with no padding.
const MAX_FOLLOW_ON_LEN: usize = MAX_CONTENT_LEN - FOLLOW_ON_LEN;

/// Packs I2NP messages, in order, into the contents of tunnel messages.
///
/// A message that fits whole goes into the tunnel message being filled, or else whole
/// into a fresh one: splitting a small message would only make its arrival depend on
/// two tunnel messages. A message larger than a tunnel message is fragmented, starting
/// in the space left if that still lets it fit in 64 fragments.
#[derive(Debug, Default)]
pub(crate) struct Packer {
    done: Vec<Vec<u8>>,
    current: Vec<u8>,
}

impl Packer {
    /// Adds `message`; `message_id` ties its fragments together if it needs several.
    pub(crate) fn push(
        &mut self,
        delivery: Delivery,
        message: &[u8],
        message_id: u32,
    ) -> Result<(), TunnelDataError> {
        if message.is_empty() {
            return Err(TunnelDataError::EmptyMessage);
        }
        let whole = Instructions::First {
            delivery,
            message_id: None,
        };
        let whole_len = whole.encoded_len() + message.len();
        if whole_len <= MAX_CONTENT_LEN {
            if whole_len > self.room() {
                self.start_next();
            }
            self.add(whole, message);
            return Ok(());
        }

        let first = Instructions::First {
            delivery,
            message_id: Some(message_id),
        };
        let fits_from = |room: usize| {
            room > first.encoded_len()
                && (message.len() - (room - first.encoded_len())).div_ceil(MAX_FOLLOW_ON_LEN)
                    <= usize::from(MAX_FRAGMENT_NUMBER)
        };
        if !fits_from(self.room()) {
            if !fits_from(MAX_CONTENT_LEN) {
                return Err(TunnelDataError::MessageTooLarge(message.len()));
            }
            self.start_next();
        }
        let (head, rest) = message.split_at(self.room() - first.encoded_len());
        self.add(first, head);
        let count = rest.len().div_ceil(MAX_FOLLOW_ON_LEN);
        for (number, piece) in (1..=MAX_FRAGMENT_NUMBER).zip(rest.chunks(MAX_FOLLOW_ON_LEN)) {
            self.start_next();
            let follow_on = Instructions::FollowOn {
                message_id,
                number,
                last: usize::from(number) == count,
            };
            self.add(follow_on, piece);
        }
        Ok(())
    }

    /// The contents of the tunnel messages, in sending order.
    pub(crate) fn finish(mut self) -> Vec<Vec<u8>> {
        self.start_next();
        self.done
    }

    fn room(&self) -> usize {
        MAX_CONTENT_LEN - self.current.len()
    }

    fn start_next(&mut self) {
        if !self.current.is_empty() {
            self.done.push(std::mem::take(&mut self.current));
        }
    }

    fn add(&mut self, instructions: Instructions, data: &[u8]) {
        Fragment { instructions, data }.emit(&mut self.current);
    }
}

/// An I2NP message that came out of a tunnel, and where it asked to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub delivery: Delivery,
    /// The message in its standard (16-byte header) encoding, not yet checked.
    pub message: Vec<u8>,
}

/// How long the endpoint keeps the fragments of an incomplete message. The gateway
/// sends a message's fragments back to back, so they arrive within moments of each
/// other; after this long the missing ones were lost, and waiting only holds memory.
pub(crate) const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(30);

/// The most fragment bytes one endpoint holds: several of the largest messages at once,
/// but a gateway that sends only first fragments cannot make us hold more.
pub(crate) const MAX_PENDING_BYTES: usize = 256 * 1024;

/// Collects fragments until their message is whole.
#[derive(Debug, Default)]
pub(crate) struct Reassembler {
    pending: BTreeMap<u32, Partial>,
    pending_bytes: usize,
}

#[derive(Debug)]
struct Partial {
    /// Known once the first fragment arrives.
    delivery: Option<Delivery>,
    fragments: BTreeMap<u8, Vec<u8>>,
    /// Known once the last fragment arrives.
    last: Option<u8>,
    bytes: usize,
    expires: Instant,
}

impl Partial {
    /// Adds fragment `number`, or returns false if it contradicts the fragments already
    /// here (a repeated number, or one beyond the last).
    fn add(&mut self, number: u8, last: bool, delivery: Option<Delivery>, data: &[u8]) -> bool {
        let highest = self.fragments.keys().next_back().copied();
        let consistent = !self.fragments.contains_key(&number)
            && self.last.is_none_or(|end| number < end)
            && !(last && (self.last.is_some() || highest.is_some_and(|h| h > number)));
        if consistent {
            self.fragments.insert(number, data.to_vec());
            self.bytes += data.len();
            if last {
                self.last = Some(number);
            }
            if delivery.is_some() {
                self.delivery = delivery;
            }
        }
        consistent
    }

    /// The delivery, once every fragment from the first to the last is here.
    fn complete(&self) -> Option<Delivery> {
        let last = usize::from(self.last?);
        self.delivery.filter(|_| self.fragments.len() == last + 1)
    }
}

impl Reassembler {
    /// Takes one fragment; returns the message it completes, if any.
    ///
    /// A fragment that contradicts the others of its message (sent twice, or beyond the
    /// last) discards the whole message: only a broken or hostile gateway sends one.
    pub(crate) fn receive(&mut self, now: Instant, fragment: Fragment<'_>) -> Option<Delivered> {
        let (message_id, number, last, delivery) = match fragment.instructions {
            Instructions::First {
                delivery,
                message_id: None,
            } => {
                return Some(Delivered {
                    delivery,
                    message: fragment.data.to_vec(),
                })
            }
            Instructions::First {
                delivery,
                message_id: Some(id),
            } => (id, 0, false, Some(delivery)),
            Instructions::FollowOn {
                message_id,
                number,
                last,
            } => (message_id, number, last, None),
        };
        let partial = self.pending.entry(message_id).or_insert_with(|| Partial {
            delivery: None,
            fragments: BTreeMap::new(),
            last: None,
            bytes: 0,
            expires: now + REASSEMBLY_TIMEOUT,
        });
        if !partial.add(number, last, delivery, fragment.data) {
            self.remove(message_id);
            return None;
        }
        self.pending_bytes += fragment.data.len();
        if let Some(delivery) = partial.complete() {
            let fragments = self.remove(message_id)?.fragments;
            return Some(Delivered {
                delivery,
                message: fragments.into_values().flatten().collect(),
            });
        }
        while self.pending_bytes > MAX_PENDING_BYTES {
            let oldest = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.expires)
                .map(|(&id, _)| id)?;
            self.remove(oldest);
        }
        None
    }

    /// Drops the fragments of messages that did not complete in time.
    pub(crate) fn expire(&mut self, now: Instant) {
        let mut freed = 0;
        self.pending.retain(|_, p| {
            let keep = p.expires > now;
            if !keep {
                freed += p.bytes;
            }
            keep
        });
        self.pending_bytes -= freed;
    }

    /// When [`Reassembler::expire`] next has something to do.
    pub(crate) fn next_expiry(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.expires).min()
    }

    pub(crate) fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    fn remove(&mut self, message_id: u32) -> Option<Partial> {
        let partial = self.pending.remove(&message_id)?;
        self.pending_bytes -= partial.bytes;
        Some(partial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::reader::Reader;
    use crate::data::Hash;
    use crate::tunnel::TunnelId;

    fn fragments(content: &[u8]) -> Vec<Fragment<'_>> {
        let mut r = Reader::new(content);
        let mut out = Vec::new();
        while r.remaining() > 0 {
            out.push(Fragment::read(&mut r).expect("packer output parses"));
        }
        out
    }

    fn message(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    const TUNNEL: Delivery = Delivery::Tunnel {
        tunnel: TunnelId(9),
        gateway: Hash([4; 32]),
    };

    #[test]
    fn small_messages_share_a_tunnel_message() {
        let mut packer = Packer::default();
        for len in [100, 200, 300] {
            packer
                .push(Delivery::Local, &message(len), 1)
                .expect("fits");
        }
        let contents = packer.finish();
        assert_eq!(contents.len(), 1);
        assert_eq!(contents[0].len(), 3 * 3 + 600);
    }

    #[test]
    fn a_message_that_fits_whole_is_not_split() {
        let mut packer = Packer::default();
        packer
            .push(Delivery::Local, &message(600), 1)
            .expect("fits");
        packer
            .push(Delivery::Local, &message(600), 2)
            .expect("fits");
        // Exactly one tunnel message's worth: 3 bytes of instructions + 1000.
        packer
            .push(Delivery::Local, &message(1000), 3)
            .expect("fits");
        let contents = packer.finish();
        assert_eq!(contents.len(), 3);
        for content in &contents {
            let parsed = fragments(content);
            assert_eq!(parsed.len(), 1);
            assert!(matches!(
                parsed[0].instructions,
                Instructions::First {
                    message_id: None,
                    ..
                }
            ));
        }
        assert_eq!(contents[2].len(), MAX_CONTENT_LEN);
    }

    #[test]
    fn large_messages_fill_the_space_left() {
        let mut packer = Packer::default();
        packer
            .push(Delivery::Local, &message(500), 1)
            .expect("fits");
        packer.push(TUNNEL, &message(3000), 0xabcd).expect("fits");
        let contents = packer.finish();
        // 503 bytes used, so the first fragment gets 500 - 43; then 996, 996, 551.
        assert_eq!(contents.len(), 4);
        assert_eq!(contents[0].len(), MAX_CONTENT_LEN);
        let first = fragments(&contents[0]);
        assert_eq!(first.len(), 2);
        assert_eq!(
            first[1].instructions,
            Instructions::First {
                delivery: TUNNEL,
                message_id: Some(0xabcd)
            }
        );
        let numbers: Vec<_> = contents[1..]
            .iter()
            .map(|c| fragments(c)[0].instructions)
            .collect();
        let n = numbers.len() as u8;
        for (i, instructions) in numbers.into_iter().enumerate() {
            assert_eq!(
                instructions,
                Instructions::FollowOn {
                    message_id: 0xabcd,
                    number: i as u8 + 1,
                    last: i as u8 + 1 == n,
                }
            );
        }
    }

    #[test]
    fn size_limits() {
        let mut packer = Packer::default();
        assert_eq!(
            packer.push(Delivery::Local, &[], 1),
            Err(TunnelDataError::EmptyMessage)
        );
        // 64 fragments: a first of 1003 - 43 bytes and 63 follow-ons of 996.
        let largest = (MAX_CONTENT_LEN - 43) + 63 * MAX_FOLLOW_ON_LEN;
        assert_eq!(largest, 63_708);
        assert_eq!(
            packer.push(TUNNEL, &message(largest + 1), 1),
            Err(TunnelDataError::MessageTooLarge(largest + 1))
        );
        // Behind a small message it no longer fits from the space left, so it starts
        // in a fresh tunnel message.
        packer.push(Delivery::Local, &message(10), 1).expect("fits");
        packer.push(TUNNEL, &message(largest), 2).expect("fits");
        let contents = packer.finish();
        assert_eq!(contents.len(), 65);
        assert_eq!(contents[0].len(), 13);
    }

    fn reassemble(contents: &[Vec<u8>], order: &[usize]) -> Vec<Delivered> {
        let mut reassembler = Reassembler::default();
        let now = Instant::from_secs(100);
        let mut out = Vec::new();
        for &i in order {
            for fragment in fragments(&contents[i]) {
                out.extend(reassembler.receive(now, fragment));
            }
        }
        assert_eq!(reassembler.pending_bytes(), 0);
        out
    }

    #[test]
    fn reassembles_in_any_order() {
        let big = message(5000);
        let mut packer = Packer::default();
        packer.push(TUNNEL, &big, 77).expect("fits");
        packer
            .push(Delivery::Local, &message(20), 78)
            .expect("fits");
        let contents = packer.finish();
        assert_eq!(contents.len(), 6);
        let expected = vec![
            Delivered {
                delivery: TUNNEL,
                message: big,
            },
            Delivered {
                delivery: Delivery::Local,
                message: message(20),
            },
        ];
        assert_eq!(reassemble(&contents, &[0, 1, 2, 3, 4, 5]), expected);
        let reversed = reassemble(&contents, &[5, 4, 3, 2, 1, 0]);
        assert_eq!(reversed, vec![expected[1].clone(), expected[0].clone()]);
        assert_eq!(reassemble(&contents, &[3, 0, 5, 1, 4, 2]).len(), 2);
    }

    #[test]
    fn contradictions_discard_the_message() {
        let mut r = Reassembler::default();
        let now = Instant::from_secs(1);
        let follow = |number, last| Fragment {
            instructions: Instructions::FollowOn {
                message_id: 5,
                number,
                last,
            },
            data: &[1, 2, 3],
        };
        assert_eq!(r.receive(now, follow(2, false)), None);
        assert_eq!(r.pending_bytes(), 3);
        // A last fragment below one already seen.
        assert_eq!(r.receive(now, follow(1, true)), None);
        assert_eq!(r.pending_bytes(), 0);
        // The same number twice.
        assert_eq!(r.receive(now, follow(3, true)), None);
        assert_eq!(r.receive(now, follow(3, true)), None);
        assert_eq!(r.pending_bytes(), 0);
        // Beyond the last.
        assert_eq!(r.receive(now, follow(2, true)), None);
        assert_eq!(r.receive(now, follow(4, false)), None);
        assert_eq!(r.pending_bytes(), 0);
    }

    #[test]
    fn incomplete_messages_expire() {
        let mut packer = Packer::default();
        packer
            .push(Delivery::Local, &message(3000), 1)
            .expect("fits");
        let contents = packer.finish();
        let mut r = Reassembler::default();
        let start = Instant::from_secs(50);
        for fragment in fragments(&contents[0]) {
            assert_eq!(r.receive(start, fragment), None);
        }
        assert!(r.pending_bytes() > 900);
        let deadline = start + REASSEMBLY_TIMEOUT;
        assert_eq!(r.next_expiry(), Some(deadline));
        r.expire(deadline - Duration::from_millis(1));
        assert!(r.pending_bytes() > 0);
        r.expire(deadline);
        assert_eq!(r.pending_bytes(), 0);
        assert_eq!(r.next_expiry(), None);
    }

    #[test]
    fn memory_is_bounded() {
        let mut r = Reassembler::default();
        let data = [0u8; 996];
        for id in 0..1000u32 {
            let now = Instant::from_secs(u64::from(id));
            let first = Fragment {
                instructions: Instructions::First {
                    delivery: Delivery::Local,
                    message_id: Some(id),
                },
                data: &data,
            };
            assert_eq!(r.receive(now, first), None);
            assert!(r.pending_bytes() <= MAX_PENDING_BYTES);
        }
        // The oldest went first.
        assert!(!r.pending.contains_key(&0));
        assert!(r.pending.contains_key(&999));
    }
}
