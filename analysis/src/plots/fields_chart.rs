//! The shape several time-series charts share: a few fields of one record drawn over time,
//! one line per field and run. With one run, colour = field; with several, colour = run;
//! dashes = field throughout, so lines that coincide stay visible.

use std::ops::Range;
use std::path::Path;

use super::line_chart::{LineChart, Series};
use super::style::{self, Dash};
use super::{
    in_time_order, minutes, recorded, time_range, warmup_shade, ChartOutcome, RunRows, TIME_AXIS,
};
use crate::records::Metric;

/// A field drawn: its legend name and its value in a row (`None`: no point there).
pub(crate) type Field<T> = (&'static str, fn(&T) -> Option<f64>);

/// What a fields chart shows.
pub(crate) struct FieldsChart<T: 'static> {
    /// File name (without extension) and the name a skipped chart is reported under.
    pub name: &'static str,
    pub title: &'static str,
    pub y_desc: &'static str,
    pub empty_note: &'static str,
    pub y_range: Option<Range<f64>>,
    pub time_s: fn(&T) -> f64,
    pub fields: &'static [Field<T>],
}

impl<T: Metric> FieldsChart<T> {
    pub(crate) fn draw(
        &self,
        data: &[RunRows<'_, T>],
        out_dir: &Path,
    ) -> anyhow::Result<ChartOutcome> {
        let present = match recorded(self.name, data) {
            Ok(p) => p,
            Err(skipped) => return Ok(skipped),
        };
        let folders = || present.iter().map(|(d, _)| d.run);
        let mut chart = LineChart::new(self.title, TIME_AXIS, self.y_desc);
        chart.empty_note = self.empty_note.into();
        chart.shade = warmup_shade(folders());
        chart.y_range = self.y_range.clone();
        let single = present.len() == 1;
        let mut last_s: f64 = 0.0;
        for (run, rows) in &present {
            let rows = in_time_order(rows, self.time_s);
            last_s = rows.iter().map(|r| (self.time_s)(r)).fold(last_s, f64::max);
            for (i, (what, field)) in self.fields.iter().enumerate() {
                let points = rows
                    .iter()
                    .filter_map(|r| field(r).map(|v| (minutes((self.time_s)(r)), v)))
                    .collect();
                let colour = style::colour(if single { i } else { run.index });
                chart.series.push(
                    Series::new(format!("{}: {what}", run.label), colour, points)
                        .dash(Dash::nth(i)),
                );
            }
        }
        chart.x_range = Some(time_range(folders(), last_s));
        Ok(ChartOutcome::Written(chart.render(out_dir, self.name)?))
    }
}
