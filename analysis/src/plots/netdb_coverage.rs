//! RouterInfos known per router over time, and the fraction of online routers that is.

use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::style::{self, Dash};
use super::{
    load, minutes, recorded, time_range, warmup_shade, ChartOutcome, LabelledRun, RunRows,
    TIME_AXIS,
};
use crate::records::CoverageRecord;

pub(crate) const NAME: &str = "netdb_coverage";
pub(crate) const FRACTION_NAME: &str = "netdb_coverage_fraction";

/// Median RouterInfos known per router over time, per role. With one run, each role also gets
/// its p10–p90 band and the network's online routers are drawn for reference; with several, one
/// line per run and role (colour = run, dashes = role). Writes `netdb_coverage.*`.
pub fn netdb_coverage(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

/// Mean fraction of online routers known (in %) over time, one line per run and role; writes
/// `netdb_coverage_fraction.*`.
pub fn netdb_coverage_fraction(
    runs: &[LabelledRun<'_>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    draw_fraction(&load(runs)?, out_dir)
}

/// Roles found in the data: "router" first, then "floodfill", then any others by name.
fn roles<'r>(present: &[(&RunRows<'_, CoverageRecord>, &'r [CoverageRecord])]) -> Vec<&'r str> {
    let mut roles: Vec<&str> = present
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.role.as_str()))
        .collect();
    let rank = |r: &str| match r {
        CoverageRecord::ROUTER => 0,
        CoverageRecord::FLOODFILL => 1,
        _ => 2,
    };
    roles.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    roles.dedup();
    roles
}

/// Rows of one role, in time order.
fn of_role<'r>(rows: &'r [CoverageRecord], role: &str) -> Vec<&'r CoverageRecord> {
    let mut out: Vec<&CoverageRecord> = rows.iter().filter(|r| r.role == role).collect();
    out.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
    out
}

fn last_sample_s(rows: &[CoverageRecord]) -> f64 {
    rows.iter()
        .map(|r| r.time_s)
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max)
}

pub(crate) fn draw(
    data: &[RunRows<'_, CoverageRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let roles = roles(&present);
    let mut chart = LineChart::new(
        "netDb size: RouterInfos known per router",
        TIME_AXIS,
        "RouterInfos in netDb (median over routers)",
    );
    chart.empty_note = "no netDb samples".into();
    chart.shade = warmup_shade(present.iter().map(|(d, _)| d.run));
    let mut last_s: f64 = 0.0;
    let single = present.len() == 1;
    for (run, rows) in &present {
        last_s = last_s.max(last_sample_s(rows));
        for (i, role) in roles.iter().enumerate() {
            let rows = of_role(rows, role);
            if rows.is_empty() {
                continue;
            }
            let median = rows
                .iter()
                .map(|r| (minutes(r.time_s), r.median_known as f64))
                .collect();
            let series = if single {
                let band = rows
                    .iter()
                    .map(|r| (minutes(r.time_s), r.p10_known as f64, r.p90_known as f64))
                    .collect();
                Series::new(
                    format!("{}: {role}s, median", run.label),
                    style::colour(i),
                    median,
                )
                .band(format!("{}: {role}s, p10–p90", run.label), band)
            } else {
                Series::new(
                    format!("{}: {role}s", run.label),
                    style::colour(run.index),
                    median,
                )
                .dash(Dash::nth(i))
            };
            chart.series.push(series);
        }
        if single {
            // Online routers in the network, for reference (the same on every role's rows).
            let mut online: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| (minutes(r.time_s), r.online_routers as f64))
                .collect();
            online.sort_by(|a, b| a.0.total_cmp(&b.0));
            online.dedup_by(|a, b| a.0 == b.0);
            chart.series.push(
                Series::new(
                    format!("{}: online routers", run.label),
                    style::REFERENCE,
                    online,
                )
                .dash(Dash::Dashed),
            );
        }
    }
    chart.x_range = Some(time_range(present.iter().map(|(d, _)| d.run), last_s));
    Ok(ChartOutcome::Written(chart.render(out_dir, NAME)?))
}

pub(crate) fn draw_fraction(
    data: &[RunRows<'_, CoverageRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(FRACTION_NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let roles = roles(&present);
    let mut chart = LineChart::new(
        "netDb coverage: online routers known",
        TIME_AXIS,
        "online routers known, mean over routers (%)",
    );
    chart.empty_note = "no netDb samples".into();
    chart.shade = warmup_shade(present.iter().map(|(d, _)| d.run));
    chart.y_range = Some(0.0..102.0);
    chart.headroom = false;
    let single = present.len() == 1;
    let mut last_s: f64 = 0.0;
    for (run, rows) in &present {
        last_s = last_s.max(last_sample_s(rows));
        for (i, role) in roles.iter().enumerate() {
            let rows = of_role(rows, role);
            if rows.is_empty() {
                continue;
            }
            let points = rows
                .iter()
                .map(|r| (minutes(r.time_s), r.mean_coverage * 100.0))
                .collect();
            let (colour, dash) = if single {
                (style::colour(i), Dash::Solid)
            } else {
                (style::colour(run.index), Dash::nth(i))
            };
            chart
                .series
                .push(Series::new(format!("{}: {role}s", run.label), colour, points).dash(dash));
        }
    }
    chart.x_range = Some(time_range(present.iter().map(|(d, _)| d.run), last_s));
    Ok(ChartOutcome::Written(chart.render(out_dir, FRACTION_NAME)?))
}
