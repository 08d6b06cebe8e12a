//! `[metrics]`: what a run records.

use serde::Deserialize;

/// Metrics to record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    #[serde(default = "Metric::all")]
    pub record: Vec<Metric>,
    /// Routers per role whose netDb is compared with the online set at each sample
    /// (comparing all of them costs O(routers x netDb size) per sample).
    #[serde(default = "default_coverage_sample")]
    pub coverage_sample: usize,
}

fn default_coverage_sample() -> usize {
    256
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            record: Metric::all(),
            coverage_sample: default_coverage_sample(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Lookup,
    Store,
    FloodfillLoad,
    NetdbCoverage,
    /// Builds of routers' own tunnels (with `[tunnels]` on).
    TunnelBuild,
    /// Tunnel counts, transit load, tests and tier sizes over time (with `[tunnels]` on).
    Tunnels,
    /// Connected components of who knows whom (not in the default set: it walks every
    /// router's netDb at each sample).
    Islands,
}

impl Metric {
    pub fn all() -> Vec<Metric> {
        vec![
            Metric::Lookup,
            Metric::Store,
            Metric::FloodfillLoad,
            Metric::NetdbCoverage,
            Metric::TunnelBuild,
            Metric::Tunnels,
        ]
    }

    pub fn needs_tunnels(self) -> bool {
        matches!(self, Metric::TunnelBuild | Metric::Tunnels)
    }
}
