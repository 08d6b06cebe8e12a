//! Islands of "who knows whom" over time: how many connected components the online routers
//! form, and how many are cut off.

use std::path::Path;

use super::fields_chart::FieldsChart;
use super::{load, ChartOutcome, LabelledRun, RunRows};
use crate::records::IslandsRecord;

pub(crate) const NAME: &str = "islands";

/// Every count is 1, 0 and 0 in a network that holds together.
const CHART: FieldsChart<IslandsRecord> = FieldsChart {
    name: NAME,
    title: "Islands: who knows whom among the online routers",
    y_desc: "components, or routers",
    empty_note: "no islands samples",
    y_range: None,
    time_s: |r| r.time_s,
    fields: &[
        ("components", |r| Some(r.components as f64)),
        ("isolated routers", |r| Some(r.isolated as f64)),
        ("routers knowing no floodfill", |r| {
            Some(r.without_floodfill as f64)
        }),
    ],
};

/// The connected components of the online routers (two joined when either holds the
/// other's RouterInfo), the routers nobody knows and who know nobody, and the routers that
/// know no online floodfill, over time. With one run, colour = count; with several, colour
/// = run and dashes = count. Writes `islands.*`.
pub fn islands(runs: &[LabelledRun<'_>], out_dir: &Path) -> anyhow::Result<ChartOutcome> {
    draw(&load(runs)?, out_dir)
}

pub(crate) fn draw(
    data: &[RunRows<'_, IslandsRecord>],
    out_dir: &Path,
) -> anyhow::Result<ChartOutcome> {
    CHART.draw(data, out_dir)
}
