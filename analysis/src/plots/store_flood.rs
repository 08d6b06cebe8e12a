//! DatabaseStores and floods handled by floodfills, per sample interval, over time.

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::style::{self, Dash};
use super::{
    common_interval, fmt_duration, load, minutes, recorded, time_range, warmup_shade, ChartOutcome,
    LabelledRun, RunRows, DEFAULT_INTERVAL_S, TIME_AXIS,
};
use crate::records::StoreRecord;

pub(crate) const NAME: &str = "store_flood";

type Field = fn(&StoreRecord) -> u64;

/// What one line shows.
const STORES: (&str, Field) = ("stores received", |r| r.stores_received);
const FLOODS: (&str, Field) = ("floods received", |r| r.floods_received);
const FLOODS_SENT: (&str, Field) = ("floods sent", |r| r.floods_sent);

/// Stores and floods received by floodfills per sample interval (floods sent too, with one
/// run); colour = run and dashes = metric with several runs. When the runs' sample intervals
/// differ, counts are scaled to per minute. Writes `store_flood.*`.
pub fn store_flood(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, StoreRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let folders = || present.iter().map(|(d, _)| d.run);
    let common = common_interval(folders());
    let y_desc = match common {
        Some(i) => format!("DatabaseStores per {} interval", fmt_duration(i)),
        None => "DatabaseStores per minute".to_string(),
    };
    let mut chart = LineChart::new("Floodfill stores and floods", TIME_AXIS, y_desc);
    chart.empty_note = "no store samples".into();
    chart.shade = warmup_shade(folders());
    let single = present.len() == 1;
    let kinds: &[(&str, Field)] = if single {
        &[STORES, FLOODS, FLOODS_SENT]
    } else {
        &[STORES, FLOODS]
    };
    let mut last_s: f64 = 0.0;
    for (run, rows) in &present {
        let interval = run.run.manifest.sample_interval_s;
        let interval = if interval.is_finite() && interval > 0.0 {
            interval
        } else {
            DEFAULT_INTERVAL_S
        };
        let scale = if common.is_some() {
            1.0
        } else {
            60.0 / interval
        };
        let mut rows: Vec<&StoreRecord> = rows.iter().filter(|r| r.time_s.is_finite()).collect();
        rows.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        last_s = rows.iter().map(|r| r.time_s).fold(last_s, f64::max);
        for (i, (what, field)) in kinds.iter().enumerate() {
            // A row covers the interval ending at time_s: plot it at the interval's middle.
            let points = rows
                .iter()
                .map(|r| {
                    (
                        minutes((r.time_s - interval / 2.0).max(0.0)),
                        field(r) as f64 * scale,
                    )
                })
                .collect();
            let (colour, dash) = if single {
                let dash = if i == 2 { Dash::Dashed } else { Dash::Solid };
                (style::colour(i), dash)
            } else {
                (style::colour(run.index), Dash::nth(i))
            };
            chart
                .series
                .push(Series::new(format!("{}: {what}", run.label), colour, points).dash(dash));
        }
    }
    chart.x_range = Some(time_range(folders(), last_s));
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}
