//! Sizes of the peer profile tiers tunnel peers are picked from, over time.

use std::path::Path;

use super::fields_chart::FieldsChart;
use super::{load, ChartOutcome, LabelledRun, RunRows};
use crate::records::TunnelSampleRecord;

pub(crate) const NAME: &str = "tunnel_tiers";

/// The tiers, largest selection first: name and median size.
const CHART: FieldsChart<TunnelSampleRecord> = FieldsChart {
    name: NAME,
    title: "Peer profile tiers: median size per router",
    y_desc: "peers in tier (median over routers)",
    empty_note: "no tunnel samples",
    y_range: None,
    time_s: |r| r.time_s,
    fields: &[
        ("fast", |r| Some(r.fast_tier_median as f64)),
        ("high capacity", |r| Some(r.high_capacity_median as f64)),
        ("not failing", |r| Some(r.not_failing_median as f64)),
        ("failing", |r| Some(r.failing_median as f64)),
    ],
};

/// Median over routers of each profile tier's size (fast, high capacity, not failing,
/// failing) over time. With one run, one line per tier (colour and dashes = tier, so lines
/// that coincide stay visible); with several, colour = run and dashes = tier. Writes
/// `tunnel_tiers.*`.
pub fn tunnel_tiers(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, TunnelSampleRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    CHART.draw(data, out_dir)
}
