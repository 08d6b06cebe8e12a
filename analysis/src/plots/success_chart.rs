//! The chart shape shared by the success charts (`lookup_success`, `tunnel_build_success`):
//! the fraction of attempts that succeeded per time bin (the run's sample interval), by start
//! time, over simulated time.

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use super::line_chart::{LineChart, Series};
use super::style::Dash;
use super::{
    common_interval, fmt_duration, minutes, time_range, warmup_shade, DEFAULT_INTERVAL_S, TIME_AXIS,
};
use crate::run::RunFolder;
use crate::stats::{success_bins, Attempt};

/// The words of a success chart.
#[derive(Debug)]
pub(crate) struct SuccessText {
    /// Start of the title, completed with " per <interval> interval", e.g. "Lookup success".
    pub what: &'static str,
    pub y_desc: &'static str,
    /// Shown when no line has a point.
    pub empty_note: &'static str,
}

/// One line of a success chart: a run's attempts, or some of them (e.g. one direction's).
#[derive(Debug)]
pub(crate) struct SuccessLine<'r, A> {
    pub label: String,
    pub colour: RGBColor,
    pub dash: Dash,
    /// The run the attempts come from: its sample interval is the bin width.
    pub run: &'r RunFolder,
    pub attempts: Vec<&'r A>,
}

/// Draws the lines (each a dot per bin holding attempts) to `<out_dir>/<name>.{png,svg}`.
///
/// The title names the runs' common sample interval; the y axis zooms in on the lowest
/// fraction drawn, in steps of 0.1, since success rates usually sit near 1.
pub(crate) fn render<A: Attempt>(
    text: &SuccessText,
    lines: &[SuccessLine<'_, A>],
    out_dir: &Path,
    name: &str,
) -> anyhow::Result<Vec<PathBuf>> {
    let folders = || lines.iter().map(|l| l.run);
    let title = match common_interval(folders()) {
        Some(i) => format!("{} per {} interval", text.what, fmt_duration(i)),
        None => format!("{} per sample interval", text.what),
    };
    let mut chart = LineChart::new(title, TIME_AXIS, text.y_desc);
    chart.empty_note = text.empty_note.into();
    chart.shade = warmup_shade(folders());
    let mut lowest: Option<f64> = None;
    let mut last_s: f64 = 0.0;
    for line in lines {
        let interval = line.run.manifest.sample_interval_s;
        let bin_s = if interval.is_finite() && interval > 0.0 {
            interval
        } else {
            DEFAULT_INTERVAL_S
        };
        let points: Vec<(f64, f64)> = success_bins(line.attempts.iter().copied(), bin_s)
            .iter()
            .filter_map(|b| {
                last_s = last_s.max(b.end_s);
                let f = b.fraction()?;
                lowest = Some(lowest.map_or(f, |l| l.min(f)));
                Some((minutes((b.start_s + b.end_s) / 2.0), f))
            })
            .collect();
        chart.series.push(
            Series::new(line.label.as_str(), line.colour, points)
                .dash(line.dash)
                .markers(),
        );
    }
    chart.x_range = Some(time_range(folders(), last_s));
    // Zoom in, in steps of 0.1, keeping some air below the lowest point.
    let floor = lowest.map_or(0.0, |l| {
        (((l - 0.05) * 10.0).floor() / 10.0).clamp(0.0, 0.9)
    });
    chart.y_range = Some(floor..1.02);
    chart.headroom = false;
    chart.render(out_dir, name)
}
