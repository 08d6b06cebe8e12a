//! Fraction of tunnel builds that ended built, per sample interval, over simulated time.

use std::path::Path;

use super::style::{self, Dash};
use super::success_chart::{self, SuccessLine, SuccessText};
use super::{load, recorded, ChartOutcome, LabelledRun, RunRows};
use crate::records::TunnelBuildRecord;

pub(crate) const NAME: &str = "tunnel_build_success";

const TEXT: SuccessText = SuccessText {
    what: "Tunnel build success",
    y_desc: "fraction of tunnel builds built (by start time)",
    empty_note: "no tunnel builds",
};

/// Fraction of a router's own tunnel builds that ended `"built"` (rather than rejected or
/// timed out) per time bin (the run's sample interval), by build start time, one line per run.
/// With one run holding both directions, inbound and outbound builds also get a line each.
/// Writes `tunnel_build_success.*`.
pub fn tunnel_build_success(
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
    let single = present.len() == 1;
    let mut lines: Vec<SuccessLine<'_, TunnelBuildRecord>> = Vec::new();
    for (run, rows) in &present {
        let directions = if single { directions(rows) } else { Vec::new() };
        let split = directions.len() > 1;
        lines.push(SuccessLine {
            label: if split {
                format!("{}: all ({} builds)", run.label, rows.len())
            } else {
                format!("{} ({} builds)", run.label, rows.len())
            },
            colour: style::colour(run.index),
            dash: Dash::Solid,
            run: run.run,
            attempts: rows.iter().collect(),
        });
        if !split {
            continue;
        }
        for (i, direction) in directions.iter().enumerate() {
            let attempts: Vec<&TunnelBuildRecord> =
                rows.iter().filter(|b| b.direction == *direction).collect();
            lines.push(SuccessLine {
                label: format!("{}: {direction} ({} builds)", run.label, attempts.len()),
                colour: style::colour(run.index + 1 + i),
                dash: Dash::nth(1 + i),
                run: run.run,
                attempts,
            });
        }
    }
    let files = success_chart::render(&TEXT, &lines, out_dir, NAME)?;
    Ok(ChartOutcome::Written(files))
}

/// Directions found in the builds, sorted ("inbound" before "outbound").
fn directions(rows: &[TunnelBuildRecord]) -> Vec<&str> {
    let mut directions: Vec<&str> = rows.iter().map(|b| b.direction.as_str()).collect();
    directions.sort_unstable();
    directions.dedup();
    directions
}
