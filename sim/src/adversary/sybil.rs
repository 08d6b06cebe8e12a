//! Floodfill Sybils on one target: identities ground next to its routing key for a chosen
//! UTC day, and what they see and hold.
//!
//! The adversary picks the day and the target, then searches identity padding (the 320
//! bytes between the two public keys of a RouterIdentity, which any router may fill as it
//! likes) until the identity hash shares `prefix_bits` leading bits with the target's
//! routing key for that day. One SHA-256 per candidate: a few milliseconds per identity at
//! 12 bits. At the day's UTC midnight the Sybils become the floodfills closest to the
//! target, and stores and lookups for it start reaching them.

use crate::destinations::destination_keys;
use crate::metrics::write_all;
use crate::plugin::{Cx, Plugin};
use crate::scenario::{Behaviour, Scenario};
use ramsons_analysis::records::SybilRecord;
use ramsons_router::crypto::RouterKeys;
use ramsons_router::data::Hash;
use ramsons_router::i2np::MessageBody;
use ramsons_router::netdb::{routing, LookupAnswer, NetDbEvent};
use ramsons_router::time::Instant;
use ramsons_router::{Event, Output};
use rand::RngCore;
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Where the padding sits in a RouterIdentity: after the 32-byte X25519 key, 320 bytes.
const PADDING: std::ops::Range<usize> = 32..352;

/// Number of leading bits `a` and `b` share.
pub fn common_prefix_bits(a: &Hash, b: &Hash) -> u32 {
    let mut bits = 0;
    for (x, y) in a.as_bytes().iter().zip(b.as_bytes()) {
        let z = (x ^ y).leading_zeros();
        bits += z;
        if z < 8 {
            break;
        }
    }
    bits
}

/// Router keys whose identity hash shares `prefix_bits` leading bits with `routing_key`.
///
/// Draws the signing and encryption secrets once, then padding seeds (proposal 161 padding:
/// one 32-byte seed repeated) until the hash fits, hashing the identity bytes directly.
pub fn grind(rng: &mut impl RngCore, routing_key: &Hash, prefix_bits: u32) -> RouterKeys {
    let mut secrets = [0u8; 96];
    rng.fill_bytes(&mut secrets);
    let mut identity = RouterKeys::from_secret_bytes(&secrets)
        .identity()
        .as_bytes()
        .to_vec();
    loop {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        for (byte, s) in identity[PADDING].iter_mut().zip(seed.iter().cycle()) {
            *byte = *s;
        }
        let hash = Hash(Sha256::digest(&identity).into());
        if common_prefix_bits(&hash, routing_key) >= prefix_bits {
            secrets[64..].copy_from_slice(&seed);
            let keys = RouterKeys::from_secret_bytes(&secrets);
            debug_assert_eq!(keys.hash(), hash, "padding layout of RouterIdentity");
            return keys;
        }
    }
}

/// What the Sybils' attack on one target looks like, sample by sample.
#[derive(Debug)]
pub struct SybilWatch {
    pub target: Hash,
    /// The routing key the Sybils were ground for, and the UTC midnight it takes effect.
    pub attacked_key: Hash,
    pub attack_starts: Instant,
    /// Sybils drop their answers to lookups for the target and never flood it.
    pub refuse: bool,
    /// The storage set: this many floodfills closest to the routing key.
    pub storage_set_size: usize,
    /// Leading bits each Sybil shares with the attacked routing key, at least.
    pub prefix_bits: u32,
    interval: SybilRecord,
    pub rows: Vec<SybilRecord>,
}

/// One online floodfill at a sample.
#[derive(Debug, Clone, Copy)]
pub struct FloodfillView {
    pub hash: Hash,
    pub sybil: bool,
    pub holds_target: bool,
}

impl SybilWatch {
    pub fn new(
        target: Hash,
        attack_starts: Instant,
        refuse: bool,
        storage_set_size: usize,
        prefix_bits: u32,
    ) -> SybilWatch {
        SybilWatch {
            target,
            attacked_key: routing::routing_key(&target, attack_starts),
            attack_starts,
            refuse,
            storage_set_size,
            prefix_bits,
            interval: SybilRecord::default(),
            rows: Vec::new(),
        }
    }

    /// Counts lookups for the target: as received by floodfills and as finished by clients.
    pub fn on_netdb_event(&mut self, sybil: bool, event: &NetDbEvent) {
        match event {
            NetDbEvent::LookupReceived { key, answer, .. }
                if *key == self.target && *answer != LookupAnswer::Ignored =>
            {
                self.interval.lookups_received += 1;
                self.interval.lookups_at_adversary += u64::from(sybil);
            }
            NetDbEvent::LookupFinished { key, found, .. } if *key == self.target => {
                self.interval.client_lookups += 1;
                self.interval.client_lookups_found += u64::from(*found);
            }
            _ => {}
        }
    }

    /// Closes the interval ending at `now` with the state of the online floodfills.
    pub fn sample(&mut self, now: Instant, time_s: f64, floodfills: &[FloodfillView]) {
        let key = routing::routing_key(&self.target, now);
        let hashes: Vec<Hash> = floodfills.iter().map(|f| f.hash).collect();
        let closest = routing::closest(&key, &hashes, self.storage_set_size);
        let is_sybil = |h: &Hash| floodfills.iter().any(|f| f.hash == *h && f.sybil);
        let count = |sybil: bool, holds: bool| {
            floodfills
                .iter()
                .filter(|f| f.sybil == sybil && (!holds || f.holds_target))
                .count() as u64
        };
        let mut row = std::mem::take(&mut self.interval);
        row.time_s = time_s;
        row.attacked_day = key == self.attacked_key;
        row.storage_set_adversary = closest.iter().filter(|h| is_sybil(h)).count() as u64;
        row.closest_adversary = closest.first().is_some_and(is_sybil);
        row.storage_set_size = self.storage_set_size as u64;
        row.holders_honest = count(false, true);
        row.holders_adversary = count(true, true);
        row.honest_floodfills = count(false, false);
        row.sybils = count(true, false);
        self.rows.push(row);
    }
}

impl SybilWatch {
    /// The attack's scalars over the attacked day's samples, beside what the XOR order
    /// statistics predict for the floodfills online at its first sample.
    ///
    /// - `sybil_lookup_share`: lookups for the target that reached a Sybil.
    /// - `sybil_target_lookup_success`: clients' lookups for the target that found it.
    /// - `sybil_storage_share`, `sybil_hold_all`, `sybil_closest`: mean share of the storage
    ///   set the Sybils hold, how often they hold all of it, and how often the closest place
    ///   (where a lookup goes first, and where a publisher stores).
    /// - `sybil_eclipse_after_s`: from the attacked day's midnight to the end of the first
    ///   interval in which Sybils received most of the target's lookups.
    /// - `model_storage_share`, `model_hold_all`, `model_closest`: the predictions.
    pub fn summary(&self, attack_starts_s: f64) -> Vec<(String, f64)> {
        let day: Vec<&SybilRecord> = self.rows.iter().filter(|r| r.attacked_day).collect();
        let Some(first) = day.first() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut ratio = |name: &str, part: u64, whole: u64| {
            if whole > 0 {
                out.push((name.to_owned(), part as f64 / whole as f64));
            }
        };
        let sum = |f: fn(&SybilRecord) -> u64| day.iter().map(|r| f(r)).sum::<u64>();
        ratio(
            "sybil_lookup_share",
            sum(|r| r.lookups_at_adversary),
            sum(|r| r.lookups_received),
        );
        ratio(
            "sybil_target_lookup_success",
            sum(|r| r.client_lookups_found),
            sum(|r| r.client_lookups),
        );
        ratio(
            "sybil_storage_share",
            sum(|r| r.storage_set_adversary),
            sum(|r| r.storage_set_size),
        );
        let held = day
            .iter()
            .filter(|r| r.storage_set_adversary == r.storage_set_size)
            .count();
        ratio("sybil_hold_all", held as u64, day.len() as u64);
        let nearest = day.iter().filter(|r| r.closest_adversary).count();
        ratio("sybil_closest", nearest as u64, day.len() as u64);
        if let Some(r) = day
            .iter()
            .find(|r| r.lookups_received > 0 && 2 * r.lookups_at_adversary > r.lookups_received)
        {
            out.push((
                "sybil_eclipse_after_s".to_owned(),
                r.time_s - attack_starts_s,
            ));
        }
        let model = ramsons_analysis::xor_order::predict(
            first.honest_floodfills,
            first.sybils,
            self.prefix_bits,
            self.storage_set_size as u64,
        );
        out.push(("model_storage_share".to_owned(), model.storage_share));
        out.push(("model_hold_all".to_owned(), model.hold_all));
        out.push(("model_closest".to_owned(), model.closest));
        out
    }
}

/// The Sybil floodfills as a plug-in: it grinds their identities, drops a refusing
/// Sybil's answers about the target, and keeps the [`SybilWatch`].
#[derive(Debug)]
pub struct SybilFloodfills {
    /// The Sybils' router group.
    group: usize,
    /// The target destination's hash and the routing key the identities are ground for.
    target: Hash,
    key: Hash,
    prefix_bits: u32,
    refuse: bool,
    pub watch: SybilWatch,
}

/// The plug-in of the scenario's `sybil-floodfill` entry, if it has one.
pub fn plugin(scenario: &Scenario) -> Option<Box<dyn Plugin>> {
    let (group, (target, day, prefix_bits, refuse)) = super::find(scenario, |b| match *b {
        Behaviour::SybilFloodfill {
            target,
            day,
            prefix_bits,
            refuse,
        } => Some((target, day, prefix_bits, refuse)),
        _ => None,
    })?;
    let start = Instant::from_secs(scenario.general.start.0);
    let target = destination_keys(scenario.general.seed, target).hash();
    let attack_starts = super::attack_day(start, day);
    // The floodfill a publisher stores to, and those it floods to.
    let storage_set = 1 + scenario.netdb_config().flood_redundancy;
    let watch = SybilWatch::new(target, attack_starts, refuse, storage_set, prefix_bits);
    Some(Box::new(SybilFloodfills {
        group,
        target,
        key: watch.attacked_key,
        prefix_bits,
        refuse,
        watch,
    }))
}

impl Plugin for SybilFloodfills {
    fn router_keys(&mut self, group: usize, rng: &mut ChaCha20Rng) -> Option<RouterKeys> {
        (group == self.group).then(|| grind(rng, &self.key, self.prefix_bits))
    }

    fn wraps(&self, group: usize) -> bool {
        self.refuse && group == self.group
    }

    /// A refusing Sybil runs the real floodfill code, then leaves lookups for the target
    /// unanswered and never floods it on (stores are still acknowledged, so the publisher
    /// believes it stored).
    fn filter_outputs(&mut self, _router: u32, outputs: &mut Vec<Output>) {
        let key = self.target;
        let asked = outputs.iter().any(|o| {
            matches!(o, Output::Event(Event::NetDb(NetDbEvent::LookupReceived { key: k, .. })) if *k == key)
        });
        outputs.retain(|output| match output {
            Output::Send { msg, .. } => {
                !(asked
                    || matches!(&msg.body, MessageBody::DatabaseStore(store) if store.key == key))
            }
            _ => true,
        });
    }

    fn on_event(&mut self, cx: &mut Cx<'_>, router: u32, event: &Event) {
        if let Event::NetDb(event) = event {
            self.watch
                .on_netdb_event(cx.group(router) == self.group, event);
        }
    }

    /// The online floodfills as the watch sees them.
    fn on_sample(&mut self, cx: &mut Cx<'_>) {
        let now = cx.now();
        let mut online = cx.online().to_vec();
        online.sort_unstable();
        let floodfills: Vec<FloodfillView> = online
            .into_iter()
            .filter(|i| cx.is_floodfill(*i))
            .map(|i| {
                let router = cx.router(i);
                FloodfillView {
                    hash: router.hash(),
                    sybil: cx.group(i) == self.group,
                    holds_target: router.netdb().lease_sets().get(&self.target, now).is_some(),
                }
            })
            .collect();
        self.watch.sample(now, cx.seconds(now), &floodfills);
    }

    fn summary(&mut self, cx: &mut Cx<'_>) -> Vec<(String, f64)> {
        self.watch.summary(cx.seconds(self.watch.attack_starts))
    }

    fn write(&self, dir: &Path) -> Result<Vec<String>, csv::Error> {
        Ok(vec![write_all(dir, &self.watch.rows)?.to_owned()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn ground_identities_share_the_prefix() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let target = Hash([0xA5; 32]);
        for bits in [0, 4, 10] {
            let keys = grind(&mut rng, &target, bits);
            assert!(common_prefix_bits(&keys.hash(), &target) >= bits);
            // The keys are whole: the identity they publish has the ground hash.
            assert_eq!(keys.identity().hash(), keys.hash());
        }
    }

    #[test]
    fn prefix_bits_counts_across_bytes() {
        let a = Hash([0; 32]);
        let mut b = Hash([0; 32]);
        assert_eq!(common_prefix_bits(&a, &b), 256);
        b.0[1] = 0x10;
        assert_eq!(common_prefix_bits(&a, &b), 11);
        b.0[0] = 0x80;
        assert_eq!(common_prefix_bits(&a, &b), 0);
    }
}
