//! Distribution over floodfills of the messages each received after warmup.

use std::path::Path;

use super::cdf_chart::{self, CdfCurve, CdfText};
use super::{load, recorded, style, ChartOutcome, LabelledRun, RunRows};
use crate::records::FloodfillLoadRecord;

pub(crate) const NAME: &str = "floodfill_load";

const TEXT: CdfText = CdfText {
    title: "Floodfill load after warmup",
    x_desc: "messages received per floodfill (stores + floods + lookups)",
    y_desc: "fraction of floodfills ≤ x",
    empty_note: "no floodfills",
};

/// CDF over floodfills of stores + floods + lookups received, one curve per run; writes
/// `floodfill_load.*`.
pub fn floodfill_load(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, FloodfillLoadRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let curves = present
        .iter()
        .map(|(run, rows)| {
            let max = rows
                .iter()
                .map(FloodfillLoadRecord::messages_received)
                .max()
                .unwrap_or(0);
            CdfCurve {
                label: format!("{} ({} floodfills, max {max})", run.label, rows.len()),
                colour: style::colour(run.index),
                values: rows.iter().map(|f| f.messages_received() as f64).collect(),
            }
        })
        .collect();
    let files = cdf_chart::render(&TEXT, curves, out_dir, NAME)?;
    Ok(ChartOutcome::Written(files))
}
