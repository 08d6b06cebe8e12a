//! A peer-tier capture attack over time: the adversary's share of the victim's tiers
//! against its share of the network.

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::style::{self, Dash};
use super::{
    in_time_order, load, minutes, recorded, time_range, warmup_shade, ChartOutcome, LabelledRun,
    RunRows, TIME_AXIS,
};
use crate::records::TierCaptureRecord;

pub(crate) const NAME: &str = "tier_capture";

type Share = fn(&TierCaptureRecord) -> Option<f64>;

/// What is drawn per run: the victim's fast tier, its high-capacity tier, and the network
/// (what uniform selection would give a hop).
const SHARES: [(&str, Share); 3] = [
    ("fast tier", |r| share(r.fast_adversary, r.fast_tier)),
    ("high capacity", |r| {
        share(r.high_capacity_adversary, r.high_capacity)
    }),
    ("network", |r| share(r.online_adversaries, r.online_routers)),
];

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
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let folders = || present.iter().map(|(d, _)| d.run);
    let mut chart = LineChart::new(
        "Peer-tier capture: the adversary's share of the victim's tiers",
        TIME_AXIS,
        "share held by the adversary",
    );
    chart.empty_note = "no tier-capture samples".into();
    chart.shade = warmup_shade(folders());
    chart.y_range = Some(0.0..1.0);
    let single = present.len() == 1;
    let mut last_s: f64 = 0.0;
    for (run, rows) in &present {
        let rows = in_time_order(rows, |r| r.time_s);
        last_s = rows.iter().map(|r| r.time_s).fold(last_s, f64::max);
        for (i, (what, field)) in SHARES.iter().enumerate() {
            let points = rows
                .iter()
                .filter_map(|r| field(r).map(|v| (minutes(r.time_s), v)))
                .collect();
            let colour = if single {
                style::colour(i)
            } else {
                style::colour(run.index)
            };
            chart.series.push(
                Series::new(format!("{}: {what}", run.label), colour, points).dash(Dash::nth(i)),
            );
        }
    }
    chart.x_range = Some(time_range(folders(), last_s));
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}
