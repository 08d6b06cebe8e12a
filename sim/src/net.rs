//! The link model: latency (from a region graph or one default), jitter, loss and uplink
//! bandwidth, in the spirit of str0m's sans-IO `netem`. Transport crypto is not run:
//! everything above the transport is the real router code.

use crate::scenario::{Network, Topology};
use petgraph::algo::dijkstra;
use petgraph::graph::{NodeIndex, UnGraph};
use rand::Rng;
use std::time::Duration;

#[derive(Debug)]
pub struct LinkModel {
    jitter: Duration,
    loss: f64,
    /// One-way base latency between regions, `[from][to]`; one region without a topology.
    latency: Vec<Vec<Duration>>,
}

impl LinkModel {
    /// Builds the model; regions that no path connects are an error naming them.
    pub fn new(network: &Network, topology: Option<&Topology>) -> Result<Self, String> {
        let local = network.latency.0;
        let latency = match topology {
            None => vec![vec![local]],
            Some(topology) => region_latencies(topology, local)?,
        };
        Ok(Self {
            jitter: network.jitter.0,
            loss: network.loss,
            latency,
        })
    }

    pub fn regions(&self) -> usize {
        self.latency.len()
    }

    /// One message's propagation delay from a router in `from` to one in `to`.
    pub fn delay(&self, from: usize, to: usize, rng: &mut impl Rng) -> Duration {
        let base = self.latency[from][to];
        if self.jitter.is_zero() {
            return base;
        }
        let jitter = self.jitter.as_micros() as i64;
        let offset = rng.gen_range(-jitter..=jitter);
        let micros = (base.as_micros() as i64 + offset).max(0);
        Duration::from_micros(micros as u64)
    }

    /// Whether this message is lost.
    pub fn lost(&self, rng: &mut impl Rng) -> bool {
        self.loss > 0.0 && rng.gen_bool(self.loss)
    }
}

/// Shortest-path latency between every pair of regions; within a region, `local`.
fn region_latencies(topology: &Topology, local: Duration) -> Result<Vec<Vec<Duration>>, String> {
    let mut graph: UnGraph<(), u64> = UnGraph::new_undirected();
    let nodes: Vec<NodeIndex> = topology
        .regions
        .iter()
        .map(|_| graph.add_node(()))
        .collect();
    let index = |name: &str| {
        topology
            .regions
            .iter()
            .position(|r| r == name)
            .ok_or_else(|| format!("topology: unknown region {name:?}"))
    };
    for link in &topology.links {
        let micros = u64::try_from(link.latency.0.as_micros()).unwrap_or(u64::MAX);
        graph.add_edge(nodes[index(&link.from)?], nodes[index(&link.to)?], micros);
    }
    let mut matrix = vec![vec![local; nodes.len()]; nodes.len()];
    for (i, from) in nodes.iter().enumerate() {
        let distances = dijkstra(&graph, *from, None, |e| *e.weight());
        for (j, to) in nodes.iter().enumerate() {
            if i == j {
                continue;
            }
            let micros = distances.get(to).ok_or_else(|| {
                format!(
                    "topology: no link path between regions {:?} and {:?}",
                    topology.regions[i], topology.regions[j]
                )
            })?;
            matrix[i][j] = Duration::from_micros(*micros);
        }
    }
    Ok(matrix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::RegionLink;
    use ramsons_router::units::Span;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn link(from: &str, to: &str, ms: u64) -> RegionLink {
        RegionLink {
            from: from.into(),
            to: to.into(),
            latency: Span(Duration::from_millis(ms)),
        }
    }

    #[test]
    fn latency_follows_the_shortest_region_path() {
        let topology = Topology {
            regions: vec!["eu".into(), "na".into(), "as".into()],
            links: vec![
                link("eu", "na", 40),
                link("na", "as", 70),
                link("eu", "as", 200),
            ],
        };
        let model = LinkModel::new(&Network::default(), Some(&topology)).expect("connected");
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        assert_eq!(model.delay(0, 2, &mut rng), Duration::from_millis(110));
        assert_eq!(model.delay(2, 0, &mut rng), Duration::from_millis(110));
        assert_eq!(model.delay(1, 1, &mut rng), Network::default().latency.0);
    }

    #[test]
    fn disconnected_regions_are_an_error() {
        let topology = Topology {
            regions: vec!["eu".into(), "na".into(), "mars".into()],
            links: vec![link("eu", "na", 40)],
        };
        let err =
            LinkModel::new(&Network::default(), Some(&topology)).expect_err("mars is cut off");
        assert!(err.contains("mars"), "{err}");
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let network = Network {
            jitter: Span(Duration::from_millis(20)),
            ..Network::default()
        };
        let model = LinkModel::new(&network, None).expect("no topology");
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        for _ in 0..1000 {
            let d = model.delay(0, 0, &mut rng);
            assert!(
                d >= Duration::from_millis(30) && d <= Duration::from_millis(70),
                "{d:?}"
            );
        }
    }
}
