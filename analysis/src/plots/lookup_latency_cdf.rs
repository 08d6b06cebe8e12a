//! CDF of the latency of lookups that found their entry.

use std::path::Path;

use super::cdf_chart::{self, CdfCurve, CdfText};
use super::{load, recorded, style, ChartOutcome, LabelledRun, RunRows};
use crate::records::LookupRecord;

pub(crate) const NAME: &str = "lookup_latency_cdf";

const TEXT: CdfText = CdfText {
    title: "Lookup latency (found lookups)",
    x_desc: "lookup latency (ms)",
    y_desc: "fraction of found lookups ≤ x",
    empty_note: "no found lookups",
};

/// CDF of `latency_ms` over found lookups, one curve per run; writes `lookup_latency_cdf.*`.
pub fn lookup_latency_cdf(
    runs: &[LabelledRun<'_>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, LookupRecord>],
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
                .filter(|l| l.is_found())
                .map(|l| l.latency_ms)
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
