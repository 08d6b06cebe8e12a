//! Stream fetches (`[streams]`): the CDF of the time to fetch a whole response, a curve
//! per response size, and the CDF of the time to its first byte.

use std::collections::BTreeSet;
use std::path::Path;

use super::cdf_chart::{self, CdfCurve, CdfText};
use super::{load, recorded, style, ChartOutcome, LabelledRun, RunRows};
use crate::records::StreamRecord;

pub(crate) const COMPLETION_NAME: &str = "stream_completion_cdf";
pub(crate) const TTFB_NAME: &str = "stream_ttfb_cdf";

const COMPLETION_TEXT: CdfText = CdfText {
    title: "Stream fetch time (completed fetches)",
    x_desc: "connect call to the last byte of the response read (ms)",
    y_desc: "fraction of completed fetches ≤ x",
    empty_note: "no fetch completed",
};

const TTFB_TEXT: CdfText = CdfText {
    title: "Stream time to first byte",
    x_desc: "connect call to the first byte of the response read (ms)",
    y_desc: "fraction of fetches that got a byte ≤ x",
    empty_note: "no fetch got a byte",
};

/// CDF of `completion_ms` over completed fetches, a curve per run and response size;
/// writes `stream_completion_cdf.*`.
pub fn stream_completion_cdf(
    runs: &[LabelledRun<'_>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    draw_completion(&load(runs)?, out_dir)
}

/// CDF of `ttfb_ms` over fetches that got a byte, a curve per run; writes
/// `stream_ttfb_cdf.*`.
pub fn stream_ttfb_cdf(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw_ttfb(&load(runs)?, out_dir)
}

pub(crate) fn draw_completion(
    data: &[RunRows<'_, StreamRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(COMPLETION_NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    // The same sizes in every run's colours, so that runs line up.
    let sizes: BTreeSet<u64> = present
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.response_bytes))
        .collect();
    let mut curves = Vec::new();
    for (run, rows) in &present {
        for (i, size) in sizes.iter().enumerate() {
            let fetches: Vec<&StreamRecord> =
                rows.iter().filter(|r| r.response_bytes == *size).collect();
            let values: Vec<f64> = fetches.iter().filter_map(|r| r.completion_ms).collect();
            let label = if sizes.len() == 1 {
                run.label.to_owned()
            } else {
                format!("{}: {}", run.label, fmt_bytes(*size))
            };
            curves.push(CdfCurve {
                label: format!("{label} ({} of {} completed)", values.len(), fetches.len()),
                colour: style::colour(run.index * sizes.len() + i),
                values,
            });
        }
    }
    let files = cdf_chart::render(&COMPLETION_TEXT, curves, out_dir, COMPLETION_NAME)?;
    Ok(ChartOutcome::Written(files))
}

pub(crate) fn draw_ttfb(
    data: &[RunRows<'_, StreamRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(TTFB_NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let curves = present
        .iter()
        .map(|(run, rows)| {
            let values: Vec<f64> = rows.iter().filter_map(|r| r.ttfb_ms).collect();
            CdfCurve {
                label: format!("{} (n = {})", run.label, values.len()),
                colour: style::colour(run.index),
                values,
            }
        })
        .collect();
    let files = cdf_chart::render(&TTFB_TEXT, curves, out_dir, TTFB_NAME)?;
    Ok(ChartOutcome::Written(files))
}

/// "512 B", "10 KiB", "1 MiB"; sizes that are not whole KiB or MiB in bytes.
fn fmt_bytes(bytes: u64) -> String {
    for (unit, size) in [("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_scenarios_write_them() {
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(10 * 1024), "10 KiB");
        assert_eq!(fmt_bytes(1 << 20), "1 MiB");
        assert_eq!(fmt_bytes(1500), "1500 B");
    }
}
