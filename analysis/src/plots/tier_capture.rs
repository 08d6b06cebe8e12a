//! A peer-tier capture attack over time: the adversary's share of the victim's tiers
//! against its share of the network.

use std::path::Path;

use super::fields_chart::FieldsChart;
use super::{load, ChartOutcome, LabelledRun, RunRows};
use crate::records::TierCaptureRecord;

pub(crate) const NAME: &str = "tier_capture";

/// The victim's fast tier, its high-capacity tier, and the network (what uniform
/// selection would give a hop).
const CHART: FieldsChart<TierCaptureRecord> = FieldsChart {
    name: NAME,
    title: "Peer-tier capture: the adversary's share of the victim's tiers",
    y_desc: "share held by the adversary",
    empty_note: "no tier-capture samples",
    y_range: Some(0.0..1.0),
    time_s: |r| r.time_s,
    fields: &[
        ("fast tier", |r| share(r.fast_adversary, r.fast_tier)),
        ("high capacity", |r| {
            share(r.high_capacity_adversary, r.high_capacity)
        }),
        ("network", |r| share(r.online_adversaries, r.online_routers)),
    ],
};

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The adversary's share of the victim's fast and high-capacity tiers over time, with its
/// share of the online routers for reference. With one run, colour = what is shared; with
/// several, colour = run and dashes = what is shared. Writes `tier_capture.*`.
pub fn tier_capture(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, TierCaptureRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    CHART.draw(data, out_dir)
}
