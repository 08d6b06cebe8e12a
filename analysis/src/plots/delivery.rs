//! End-to-end delivery between client destinations: the latency CDF of delivered messages
//! and the fraction delivered over time, requests and replies apart.

use std::path::Path;

use super::cdf_chart::{self, CdfCurve, CdfText};
use super::style::{self, Dash};
use super::success_chart::{self, SuccessLine, SuccessText};
use super::{load, recorded, ChartOutcome, LabelledRun, RunRows};
use crate::records::DeliveryRecord;

pub(crate) const LATENCY_NAME: &str = "delivery_latency_cdf";
pub(crate) const SUCCESS_NAME: &str = "delivery_success";

const LATENCY_TEXT: CdfText = CdfText {
    title: "End-to-end latency (delivered messages)",
    x_desc: "send to delivery, through both destinations' tunnels (ms)",
    y_desc: "fraction of delivered messages ≤ x",
    empty_note: "no message delivered",
};

const SUCCESS_TEXT: SuccessText = SuccessText {
    what: "End-to-end delivery",
    y_desc: "fraction of messages delivered (by send time)",
    empty_note: "no messages",
};

/// Message kinds as `delivery.csv` names them, and as legends do, in drawing order.
const KINDS: [(&str, &str); 2] = [("request", "requests"), ("reply", "replies")];

/// CDF of `latency_ms` over delivered messages, a curve per run and kind; writes
/// `delivery_latency_cdf.*`.
pub fn delivery_latency_cdf(
    runs: &[LabelledRun<'_>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    draw_latency(&load(runs)?, out_dir)
}

/// Fraction of messages delivered per time bin, by send time, a line per run and kind;
/// writes `delivery_success.*`.
pub fn delivery_success(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw_success(&load(runs)?, out_dir)
}

pub(crate) fn draw_latency(
    data: &[RunRows<'_, DeliveryRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(LATENCY_NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let mut curves = Vec::new();
    for (run, rows) in &present {
        for (i, (kind, plural)) in KINDS.iter().enumerate() {
            let values: Vec<f64> = rows
                .iter()
                .filter(|d| d.kind == *kind)
                .filter_map(|d| d.latency_ms)
                .collect();
            curves.push(CdfCurve {
                label: format!("{}: {plural} (n = {})", run.label, values.len()),
                colour: style::colour(run.index * KINDS.len() + i),
                values,
            });
        }
    }
    let files = cdf_chart::render(&LATENCY_TEXT, curves, out_dir, LATENCY_NAME)?;
    Ok(ChartOutcome::Written(files))
}

pub(crate) fn draw_success(
    data: &[RunRows<'_, DeliveryRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    let present = match recorded(SUCCESS_NAME, data) {
        Ok(p) => p,
        Err(skipped) => return Ok(skipped),
    };
    let mut lines: Vec<SuccessLine<'_, DeliveryRecord>> = Vec::new();
    for (run, rows) in &present {
        for (i, (kind, plural)) in KINDS.iter().enumerate() {
            let attempts: Vec<&DeliveryRecord> = rows.iter().filter(|d| d.kind == *kind).collect();
            lines.push(SuccessLine {
                label: format!("{}: {plural} ({})", run.label, attempts.len()),
                colour: style::colour(run.index * KINDS.len() + i),
                dash: Dash::nth(i),
                run: run.run,
                attempts,
            });
        }
    }
    let files = success_chart::render(&SUCCESS_TEXT, &lines, out_dir, SUCCESS_NAME)?;
    Ok(ChartOutcome::Written(files))
}
