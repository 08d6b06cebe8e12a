//! The chart shape shared by the distribution charts (`lookup_latency_cdf`,
//! `tunnel_build_latency_cdf`, `floodfill_load`): empirical CDFs drawn as staircases.

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use super::line_chart::{LineChart, Series};
use crate::stats::{ecdf, staircase};

/// Points kept per CDF curve; plenty at 1024 px wide.
const CDF_POINTS: usize = 2000;

/// The words of a CDF chart.
#[derive(Debug)]
pub(crate) struct CdfText {
    pub title: &'static str,
    /// What the values are, with their unit.
    pub x_desc: &'static str,
    /// "fraction of <things> ≤ x".
    pub y_desc: &'static str,
    /// Shown when no curve has a value.
    pub empty_note: &'static str,
}

/// One curve: the values whose distribution it shows.
#[derive(Debug)]
pub(crate) struct CdfCurve {
    pub label: String,
    pub colour: RGBColor,
    pub values: Vec<f64>,
}

/// Draws the curves (y from 0 to 1) to `<out_dir>/<name>.{png,svg}`.
pub(crate) fn render(
    text: &CdfText,
    curves: Vec<CdfCurve>,
    out_dir: &Path,
    name: &str,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut chart = LineChart::new(text.title, text.x_desc, text.y_desc);
    chart.y_range = Some(0.0..1.02);
    chart.headroom = false;
    chart.empty_note = text.empty_note.into();
    for curve in curves {
        let points = staircase(&ecdf(curve.values, CDF_POINTS));
        chart
            .series
            .push(Series::new(curve.label, curve.colour, points));
    }
    chart.render(out_dir, name)
}
