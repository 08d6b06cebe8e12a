//! The simulator's random streams, each named once here.
//!
//! Every random draw of a run comes from a generator derived from the scenario seed, a
//! stream's label and an index within the stream. Each consumer has its own stream, so a
//! change in one never shifts the draws of another, and a new stream (a new variant with
//! a new label) shifts none of the old ones. The labels are part of every recorded trace:
//! changing one moves the traces of the runs that draw from it.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// A named random stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Link delays and losses.
    Network,
    /// The world's shared stream: reseed bundles, start spreads, churn, scenario faults
    /// and the lookup and message workloads, drawn in event order.
    World,
    /// Which routers metric samples look at.
    Sample,
    /// A router's own generator, by router index.
    Router,
    /// Which routers collude (`[observers] colluding_fraction`).
    Colluders,
    /// Which routers host the client destinations.
    DestinationHosts,
    /// A client destination's keys, by destination index.
    DestinationKeys,
    /// The further routers and shared gateways of multihomed destinations.
    Multihoming,
    /// The edge destinations of a MetaLeaseSet, by destination index << 8 | edge.
    MetaEdge,
    /// Which routers a flood is aimed at.
    FloodVictims,
    /// A flooder router's generator, by router index.
    Flood,
    /// The stream workload's fetches.
    Streams,
}

impl Stream {
    /// The label the stream's generators are derived from.
    pub const fn label(self) -> &'static str {
        match self {
            Stream::Network => "network",
            Stream::World => "world",
            Stream::Sample => "sample",
            Stream::Router => "router",
            Stream::Colluders => "colluders",
            Stream::DestinationHosts => "destinations",
            Stream::DestinationKeys => "destination",
            Stream::Multihoming => "multihoming",
            Stream::MetaEdge => "meta-edge",
            Stream::FloodVictims => "flood-victims",
            Stream::Flood => "flood",
            Stream::Streams => "streams",
        }
    }
}

/// Derives the generator of `stream` (and an index within it) from the seed.
pub fn derive_rng(seed: u64, stream: Stream, index: u64) -> ChaCha20Rng {
    let mut hasher = Sha256::new();
    hasher.update(b"ramsons-sim/");
    hasher.update(stream.label().as_bytes());
    hasher.update(seed.to_le_bytes());
    hasher.update(index.to_le_bytes());
    ChaCha20Rng::from_seed(hasher.finalize().into())
}

/// An exponentially distributed time of mean `mean` (the gaps of a Poisson process).
pub fn exponential(rng: &mut impl Rng, mean: Duration) -> Duration {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    mean.mul_f64(-u.ln())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn labels_are_distinct() {
        let all = [
            Stream::Network,
            Stream::World,
            Stream::Sample,
            Stream::Router,
            Stream::Colluders,
            Stream::DestinationHosts,
            Stream::DestinationKeys,
            Stream::Multihoming,
            Stream::MetaEdge,
            Stream::FloodVictims,
            Stream::Flood,
            Stream::Streams,
        ];
        let mut labels: Vec<&str> = all.iter().map(|s| s.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), all.len());
    }

    #[test]
    fn streams_and_indices_draw_apart() {
        let a = derive_rng(1, Stream::Router, 0).next_u64();
        assert_ne!(a, derive_rng(1, Stream::Router, 1).next_u64());
        assert_ne!(a, derive_rng(1, Stream::Flood, 0).next_u64());
        assert_eq!(a, derive_rng(1, Stream::Router, 0).next_u64());
    }
}
