//! Fraction of lookups found, per sample interval, over simulated time.

use std::path::Path;

use super::style::{self, Dash};
use super::success_chart::{self, SuccessLine, SuccessText};
use super::{load, recorded, ChartOutcome, LabelledRun, RunRows};
use crate::records::LookupRecord;

pub(crate) const NAME: &str = "lookup_success";

const TEXT: SuccessText = SuccessText {
    what: "Lookup success",
    y_desc: "fraction of lookups found (by start time)",
    empty_note: "no lookups",
};

/// Fraction of lookups found per time bin (the run's sample interval), by lookup start time,
/// one line per run; writes `lookup_success.*`.
pub fn lookup_success(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
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
    let lines: Vec<SuccessLine<'_, LookupRecord>> = present
        .iter()
        .map(|(run, rows)| SuccessLine {
            label: format!("{} ({} lookups)", run.label, rows.len()),
            colour: style::colour(run.index),
            dash: Dash::Solid,
            run: run.run,
            attempts: rows.iter().collect(),
        })
        .collect();
    let files = success_chart::render(&TEXT, &lines, out_dir, NAME)?;
    Ok(ChartOutcome::Written(files))
}
