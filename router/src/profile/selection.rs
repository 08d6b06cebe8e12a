//! Choosing and ordering the hops of a tunnel.
//!
//! Each tunnel pool has its own [`Selector`] with a random 32-byte key `k`, drawn when the
//! pool is created. The strategies the studies compare:
//!
//! - the tier hops come from: the fast tier (client tunnels) or not failing (exploratory);
//! - [`HopOrder::Random`]: hops in the order drawn;
//! - [`HopOrder::Xor`]: hops sorted by `XOR(SHA-256(peer ‖ k), k)`, so a pool always puts
//!   the same peer in the same position relative to the others, which defeats the
//!   predecessor attack's "who comes before me" statistics;
//! - inbound gateways from a part of the fast tier fixed per pool (1 hop: all of it,
//!   2 hops: half, 3 or more: a quarter), the part chosen by the same key;
//! - [`HopOrder::FixedEdge`]: the inbound gateway (inbound pools) or outbound endpoint
//!   (outbound pools) stays the same for the pool's life while it remains usable;
//! - [`HopOrder::Fixed`]: every hop stays the same while all remain usable;
//! - optionally, no two hops in the same IPv4 /16.
//!
//! A path may also be named hop by hop by whoever asks for the tunnel (proposal 140's
//! "Create Tunnel": a balancer choosing the peers of an edge's tunnels); such a path
//! follows none of the rules above, and [`check_path`] only checks that it can be built.

use super::tiers::{Tier, Tiers};
use crate::data::Hash;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// How hops are ordered, and what is kept from one build to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopOrder {
    Random,
    Xor,
    FixedEdge,
    Fixed,
}

/// A pool's selection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionRules {
    /// Where hops come from: `Tier::Fast` for client pools, `Tier::NotFailing` for
    /// exploratory ones.
    pub tier: Tier,
    pub order: HopOrder,
    /// Draw inbound gateways from the pool's part of the fast tier.
    pub partitioned_gateways: bool,
    /// Never two hops in the same /16.
    pub distinct_slash16: bool,
    /// Inbound gateways only from these peers, whatever their tier, while one of them is
    /// usable; empty: no such restriction. The mitigation of multihoming's leak that
    /// proposal 140 discusses: routers hosting one destination draw their gateways from
    /// one small shared set, so that their leases name the same gateways.
    pub gateways: Vec<Hash>,
}

impl SelectionRules {
    /// Client tunnels: fast tier, XOR order, partitioned inbound gateways.
    pub fn client() -> Self {
        Self {
            tier: Tier::Fast,
            order: HopOrder::Xor,
            partitioned_gateways: true,
            distinct_slash16: true,
            gateways: Vec::new(),
        }
    }

    /// Exploratory tunnels: not failing, random order.
    pub fn exploratory() -> Self {
        Self {
            tier: Tier::NotFailing,
            order: HopOrder::Random,
            partitioned_gateways: false,
            distinct_slash16: true,
            gateways: Vec::new(),
        }
    }
}

/// The selection state of one pool.
#[derive(Debug, Clone)]
pub struct Selector {
    rules: SelectionRules,
    key: [u8; 32],
    /// Hops kept between builds (`FixedEdge`: the edge hop; `Fixed`: all of them).
    pinned: Vec<Hash>,
}

/// What a pool is building: inbound tunnels end at us, outbound ones start at us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Selector {
    pub fn new(rules: SelectionRules, rng: &mut impl RngCore) -> Self {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        Self {
            rules,
            key,
            pinned: Vec::new(),
        }
    }

    pub fn rules(&self) -> &SelectionRules {
        &self.rules
    }

    /// The pool's ordering value of `peer`: `XOR(SHA-256(peer ‖ k), k)`.
    fn rank(&self, peer: &Hash) -> [u8; 32] {
        let digest: [u8; 32] = Sha256::new()
            .chain_update(peer.as_bytes())
            .chain_update(self.key)
            .finalize()
            .into();
        std::array::from_fn(|i| digest[i] ^ self.key[i])
    }

    /// The peers hops are drawn from, sorted: the pool's tier, widened to the tiers below
    /// it (high capacity, not failing, then failing) while it has fewer than `hops`
    /// usable peers. Without the widening, a router whose peers all count as failing
    /// after an outage of its own could never build the tunnels that would show they
    /// are fine; the fallback is taken only when the tier cannot serve.
    fn candidates(&self, tiers: &Tiers, hops: usize, exclude: &[Hash]) -> Vec<Hash> {
        const LADDER: [Tier; 4] = [
            Tier::Fast,
            Tier::HighCapacity,
            Tier::NotFailing,
            Tier::Failing,
        ];
        let start = LADDER
            .iter()
            .position(|t| *t == self.rules.tier)
            .unwrap_or(0);
        let mut set: Vec<Hash> = Vec::new();
        for tier in &LADDER[start..] {
            set.extend_from_slice(tiers.members(*tier));
            set.sort();
            set.dedup();
            if set.iter().filter(|p| !exclude.contains(p)).count() >= hops {
                break;
            }
        }
        set
    }

    /// The part of the fast tier this pool takes inbound gateways from.
    fn gateway_part(&self, tiers: &Tiers, hops: usize) -> Vec<Hash> {
        let fast = tiers.fast();
        let share = match hops {
            0 | 1 => fast.len(),
            2 => fast.len().div_ceil(2),
            _ => fast.len().div_ceil(4),
        };
        let mut ranked: Vec<Hash> = fast.to_vec();
        ranked.sort_by_key(|p| self.rank(p));
        ranked.truncate(share.max(1));
        ranked
    }

    /// Chooses `hops` peers for one tunnel, in tunnel order: for an inbound tunnel the
    /// gateway first (the last hop delivers to us), for an outbound one the first hop
    /// after us first (the last is the endpoint). `exclude` holds peers that must not be
    /// used (ourselves, peers in the tunnel's pair); `subnet` gives a peer's IPv4 /16
    /// when known. `None` when even the widened tier (see [`Selector::candidates`]) has
    /// too few usable peers.
    pub fn select(
        &mut self,
        tiers: &Tiers,
        hops: usize,
        direction: Direction,
        exclude: &[Hash],
        subnet: impl Fn(&Hash) -> Option<[u8; 2]>,
        rng: &mut impl RngCore,
    ) -> Option<Vec<Hash>> {
        if hops == 0 {
            return Some(Vec::new());
        }
        let candidates = self.candidates(tiers, hops, exclude);
        let usable = |p: &Hash| !exclude.contains(p) && candidates.binary_search(p).is_ok();
        // Keep what is pinned while it is still usable.
        match self.rules.order {
            HopOrder::Fixed if self.pinned.len() == hops && self.pinned.iter().all(usable) => {
                return Some(self.pinned.clone());
            }
            HopOrder::FixedEdge if self.pinned.first().is_some_and(usable) => {}
            _ => self.pinned.clear(),
        }

        let mut chosen: Vec<Hash> = self.pinned.clone();
        let mut taken_subnets: Vec<[u8; 2]> = chosen.iter().filter_map(&subnet).collect();
        // The inbound gateway from the fixed set, when the pool has one and a member is
        // not excluded (only then is the generator drawn from).
        let fixed_gateway = direction == Direction::Inbound
            && chosen.is_empty()
            && self.rules.gateways.iter().any(|p| !exclude.contains(p));
        if fixed_gateway {
            let set: Vec<&Hash> = self
                .rules
                .gateways
                .iter()
                .filter(|p| !exclude.contains(p))
                .collect();
            let gateway = *set[rng.gen_range(0..set.len())];
            taken_subnets.extend(subnet(&gateway));
            chosen.push(gateway);
        }
        let mut admit = |p: &Hash, chosen: &mut Vec<Hash>| {
            if chosen.contains(p) || !usable(p) {
                return false;
            }
            if self.rules.distinct_slash16 {
                if let Some(net) = subnet(p) {
                    if taken_subnets.contains(&net) {
                        return false;
                    }
                    taken_subnets.push(net);
                }
            }
            chosen.push(*p);
            true
        };

        // The inbound gateway first, from this pool's part of the fast tier.
        let gateway_from_part =
            direction == Direction::Inbound && self.rules.partitioned_gateways && chosen.is_empty();
        if gateway_from_part {
            let mut part = self.gateway_part(tiers, hops);
            part.shuffle(rng);
            // No usable gateway in our part (the fast tier is empty or excluded): the
            // gateway comes from the candidates below, like the other hops.
            let _ = part.iter().any(|p| admit(p, &mut chosen));
        }
        let mut pool: Vec<Hash> = candidates.clone();
        pool.shuffle(rng);
        for p in &pool {
            if chosen.len() == hops {
                break;
            }
            admit(p, &mut chosen);
        }
        if chosen.len() < hops {
            return None;
        }

        // The hop that is the pool's edge: the inbound gateway or the outbound endpoint.
        let edge_first = |v: &mut Vec<Hash>| {
            if direction == Direction::Outbound {
                v.reverse();
            }
        };
        match self.rules.order {
            HopOrder::Random => {}
            HopOrder::Xor | HopOrder::Fixed => {
                let keep_gateway = (gateway_from_part || fixed_gateway) as usize;
                chosen[keep_gateway..].sort_by_key(|p| self.rank(p));
            }
            HopOrder::FixedEdge => {
                // chosen[0] is the edge (pinned or just drawn); order the rest by rank.
                chosen[1..].sort_by_key(|p| self.rank(p));
                self.pinned = vec![chosen[0]];
                edge_first(&mut chosen);
            }
        }
        if self.rules.order == HopOrder::Fixed {
            self.pinned = chosen.clone();
        }
        Some(chosen)
    }
}

/// Why a path named hop by hop cannot be built. `hop` is an index into the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("a tunnel needs at least one hop")]
    Empty,
    #[error("{hops} hops, more than the {max} a tunnel may have")]
    TooLong { hops: usize, max: usize },
    #[error("hop {hop} is this router itself")]
    Ourselves { hop: usize },
    #[error("hop {hop} ({peer}) is already in the path")]
    Duplicate { hop: usize, peer: Hash },
    #[error("hop {hop} ({peer}) is a router whose RouterInfo we do not hold")]
    UnknownPeer { hop: usize, peer: Hash },
}

/// Checks a path named hop by hop, in tunnel order: between 1 and `max_hops` peers, none
/// of them `me`, none twice, and each one whose RouterInfo we hold (`known`), since its
/// encryption key is in it. The first error by position is reported. Nothing else is
/// asked of the peers: tiers, profiles and /16s are the namer's business.
pub fn check_path(
    path: &[Hash],
    me: &Hash,
    max_hops: usize,
    known: impl Fn(&Hash) -> bool,
) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if path.len() > max_hops {
        return Err(PathError::TooLong {
            hops: path.len(),
            max: max_hops,
        });
    }
    for (hop, peer) in path.iter().enumerate() {
        if peer == me {
            return Err(PathError::Ourselves { hop });
        }
        if path[..hop].contains(peer) {
            return Err(PathError::Duplicate { hop, peer: *peer });
        }
        if !known(peer) {
            return Err(PathError::UnknownPeer { hop, peer: *peer });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Observation, Profiles, TierConfig};
    use super::*;
    use crate::time::Instant;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use std::time::Duration;

    const T0: Instant = Instant::from_secs(1_800_000_000);

    fn peer(i: u8) -> Hash {
        Hash([i; 32])
    }

    /// 40 peers that all did well: all of them not failing; fast and high capacity are
    /// the ones above the median.
    fn tiers() -> Tiers {
        let mut profiles = Profiles::new();
        for i in 0..40u8 {
            for _ in 0..=(i % 4) {
                profiles.record(T0, peer(i), Observation::BuildAccepted);
            }
            let ms = 100 + 20 * u64::from(i);
            profiles.record(
                T0,
                peer(i),
                Observation::TunnelTestPassed(Duration::from_millis(ms)),
            );
        }
        Tiers::sort(&profiles, (0..40).map(peer), T0, &TierConfig::default())
    }

    fn no_subnet(_: &Hash) -> Option<[u8; 2]> {
        None
    }

    #[test]
    fn hops_come_from_the_tier_distinct_and_not_excluded() {
        let tiers = tiers();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut selector = Selector::new(SelectionRules::exploratory(), &mut rng);
        for _ in 0..50 {
            let hops = selector
                .select(
                    &tiers,
                    3,
                    Direction::Outbound,
                    &[peer(0)],
                    no_subnet,
                    &mut rng,
                )
                .expect("enough peers");
            assert_eq!(hops.len(), 3);
            assert!(!hops.contains(&peer(0)));
            let mut unique = hops.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), 3);
            assert!(hops.iter().all(|h| tiers.not_failing().contains(h)));
        }
        let mut client = Selector::new(SelectionRules::client(), &mut rng);
        let hops = client
            .select(&tiers, 3, Direction::Inbound, &[], no_subnet, &mut rng)
            .expect("enough fast peers");
        assert!(hops.iter().all(|h| tiers.fast().contains(h)));
    }

    #[test]
    fn xor_order_puts_the_same_peers_in_the_same_relative_order() {
        let tiers = tiers();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let rules = SelectionRules {
            partitioned_gateways: false,
            ..SelectionRules::client()
        };
        let mut selector = Selector::new(rules, &mut rng);
        for _ in 0..20 {
            let hops = selector
                .select(&tiers, 3, Direction::Outbound, &[], no_subnet, &mut rng)
                .expect("enough peers");
            let ranks: Vec<_> = hops.iter().map(|h| selector.rank(h)).collect();
            assert!(ranks.windows(2).all(|w| w[0] < w[1]), "sorted by rank");
        }
    }

    #[test]
    fn inbound_gateways_come_from_a_fixed_part_of_the_fast_tier() {
        let tiers = tiers();
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut selector = Selector::new(SelectionRules::client(), &mut rng);
        let part = selector.gateway_part(&tiers, 3);
        assert_eq!(part.len(), tiers.fast().len().div_ceil(4));
        for _ in 0..30 {
            let hops = selector
                .select(&tiers, 3, Direction::Inbound, &[], no_subnet, &mut rng)
                .expect("enough peers");
            assert!(part.contains(&hops[0]), "gateway from the pool's part");
        }
    }

    #[test]
    fn inbound_gateways_come_from_the_fixed_set_whatever_their_tier() {
        let tiers = tiers();
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        // Peers outside the fast tier, even outside every tier.
        let set = vec![peer(200), peer(201)];
        let rules = SelectionRules {
            gateways: set.clone(),
            ..SelectionRules::client()
        };
        let mut selector = Selector::new(rules, &mut rng);
        for _ in 0..20 {
            let hops = selector
                .select(&tiers, 3, Direction::Inbound, &[], no_subnet, &mut rng)
                .expect("enough peers");
            assert!(set.contains(&hops[0]), "gateway from the set");
            assert!(hops[1..].iter().all(|h| !set.contains(h)));
            let outbound = selector
                .select(&tiers, 3, Direction::Outbound, &[], no_subnet, &mut rng)
                .expect("enough peers");
            assert!(outbound.iter().all(|h| !set.contains(h)), "inbound only");
        }
        // Every member excluded: the usual gateway.
        let hops = selector
            .select(&tiers, 3, Direction::Inbound, &set, no_subnet, &mut rng)
            .expect("enough peers");
        assert!(!set.contains(&hops[0]));
    }

    #[test]
    fn fixed_strategies_keep_their_hops() {
        let tiers = tiers();
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let rules = SelectionRules {
            order: HopOrder::Fixed,
            ..SelectionRules::exploratory()
        };
        let mut fixed = Selector::new(rules, &mut rng);
        let first = fixed.select(&tiers, 3, Direction::Outbound, &[], no_subnet, &mut rng);
        for _ in 0..10 {
            assert_eq!(
                fixed.select(&tiers, 3, Direction::Outbound, &[], no_subnet, &mut rng),
                first
            );
        }
        // A pinned hop that becomes unusable is replaced.
        let gone = first.as_ref().expect("built")[1];
        let next = fixed
            .select(&tiers, 3, Direction::Outbound, &[gone], no_subnet, &mut rng)
            .expect("rebuilt");
        assert!(!next.contains(&gone));

        let rules = SelectionRules {
            order: HopOrder::FixedEdge,
            ..SelectionRules::exploratory()
        };
        let mut edge = Selector::new(rules, &mut rng);
        let first = edge
            .select(&tiers, 3, Direction::Outbound, &[], no_subnet, &mut rng)
            .expect("built");
        for _ in 0..10 {
            let hops = edge
                .select(&tiers, 3, Direction::Outbound, &[], no_subnet, &mut rng)
                .expect("built");
            assert_eq!(hops[2], first[2], "the outbound endpoint stays");
        }
    }

    #[test]
    fn no_two_hops_share_a_slash16() {
        let tiers = tiers();
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut selector = Selector::new(SelectionRules::exploratory(), &mut rng);
        // Two subnets only: a 3-hop tunnel cannot be built, a 2-hop one can.
        let subnet = |p: &Hash| Some([p.as_bytes()[0] % 2, 0]);
        assert!(selector
            .select(&tiers, 3, Direction::Outbound, &[], subnet, &mut rng)
            .is_none());
        let hops = selector
            .select(&tiers, 2, Direction::Outbound, &[], subnet, &mut rng)
            .expect("two subnets, two hops");
        assert_ne!(subnet(&hops[0]), subnet(&hops[1]));
    }

    /// Every peer failed lately (an outage on our side): exploratory tunnels still find
    /// hops, from the failing tier, so that the peers can show they are back.
    #[test]
    fn an_empty_tier_falls_back_to_the_tiers_below() {
        let mut profiles = Profiles::new();
        for i in 0..6u8 {
            for _ in 0..4 {
                profiles.record(T0, peer(i), Observation::BuildTimedOut);
            }
        }
        let tiers = Tiers::sort(&profiles, (0..6).map(peer), T0, &TierConfig::default());
        assert!(tiers.not_failing().is_empty());
        assert_eq!(tiers.failing().len(), 6);
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for rules in [SelectionRules::exploratory(), SelectionRules::client()] {
            let mut selector = Selector::new(rules, &mut rng);
            let hops = selector
                .select(&tiers, 2, Direction::Inbound, &[], no_subnet, &mut rng)
                .expect("hops from the failing tier");
            assert!(hops.iter().all(|h| tiers.failing().contains(h)));
        }
        // But a healthy tier is never widened.
        let healthy = self::tiers();
        let mut selector = Selector::new(SelectionRules::client(), &mut rng);
        let hops = selector
            .select(&healthy, 3, Direction::Outbound, &[], no_subnet, &mut rng)
            .expect("hops");
        assert!(hops.iter().all(|h| healthy.fast().contains(h)));
    }

    #[test]
    fn a_named_path_is_checked_hop_by_hop() {
        let me = peer(0);
        let known = |p: &Hash| p.as_bytes()[0] < 100;
        let check = |path: &[Hash]| check_path(path, &me, 7, known);
        assert_eq!(check(&[peer(1), peer(2)]), Ok(()));
        // Any peer we hold will do, in any order, whatever its tier.
        assert_eq!(check(&[peer(9), peer(3), peer(5)]), Ok(()));
        assert_eq!(check(&[]), Err(PathError::Empty));
        let eight: Vec<Hash> = (1..=8).map(peer).collect();
        assert_eq!(check(&eight), Err(PathError::TooLong { hops: 8, max: 7 }));
        assert_eq!(check(&eight[..7]), Ok(()));
        assert_eq!(check(&[peer(1), me]), Err(PathError::Ourselves { hop: 1 }));
        assert_eq!(
            check(&[peer(1), peer(2), peer(1)]),
            Err(PathError::Duplicate {
                hop: 2,
                peer: peer(1)
            })
        );
        assert_eq!(
            check(&[peer(1), peer(150)]),
            Err(PathError::UnknownPeer {
                hop: 1,
                peer: peer(150)
            })
        );
        // The first problem along the path is the one reported.
        assert_eq!(
            check(&[peer(150), me]),
            Err(PathError::UnknownPeer {
                hop: 0,
                peer: peer(150)
            })
        );
    }
}
