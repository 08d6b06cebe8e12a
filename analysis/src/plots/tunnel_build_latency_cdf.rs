//! CDF of the latency of tunnel builds that ended built.

use std::path::Path;

use super::cdf_chart::{self, CdfCurve, CdfText};
use super::{load, recorded, style, ChartOutcome, LabelledRun, RunRows};
use crate::records::TunnelBuildRecord;

pub(crate) const NAME: &str = "tunnel_build_latency_cdf";

const TEXT: CdfText = CdfText {
    title: "Tunnel build latency (built tunnels)",
    x_desc: "tunnel build latency, request to reply (ms)",
    y_desc: "fraction of built tunnels ≤ x",
    empty_note: "no built tunnels",
};

/// CDF of `latency_ms` over builds of a router's own tunnels that ended `"built"`, one curve
/// per run; writes `tunnel_build_latency_cdf.*`.
pub fn tunnel_build_latency_cdf(
    runs: &[LabelledRun<'_>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, TunnelBuildRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let curves = present
        .iter()
        .map(|(run, rows)| {
            let values: Vec<f64> = rows
                .iter()
                .filter(|b| b.is_built())
                .map(|b| b.latency_ms)
                .collect();
            CdfCurve {
                label: format!("{} (n = {})", run.label, values.len()),
                colour: style::colour(run.index),
                values,
            }
        })
        .collect();
    let files = cdf_chart::render(&TEXT, curves, out_dir, NAME)?;
    Ok(ChartOutcome::Written(files))
}
