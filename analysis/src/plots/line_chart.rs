//! The one chart shape every plot uses: lines (optionally with a band and markers) over a
//! numeric x axis, drawn identically to PNG and SVG.

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::{self, Dash};

/// A shaded band: its legend label and `(x, low, high)` points.
pub type Band = (String, Vec<(f64, f64, f64)>);

/// One line on a chart, with its legend entry.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub colour: RGBColor,
    pub dash: Dash,
    pub points: Vec<(f64, f64)>,
    /// Shaded band `(x, low, high)` drawn under the line, with its own legend entry.
    pub band: Option<Band>,
    /// Draw a dot at every point (for sparse, binned data).
    pub markers: bool,
    /// Vertical error bars `(x, low, high)` in the series' colour (e.g. confidence intervals
    /// over seeds); no legend entry of their own.
    pub error_bars: Vec<(f64, f64, f64)>,
}

impl Series {
    pub fn new(label: impl Into<String>, colour: RGBColor, points: Vec<(f64, f64)>) -> Self {
        Self {
            label: label.into(),
            colour,
            dash: Dash::Solid,
            points,
            band: None,
            markers: false,
            error_bars: Vec::new(),
        }
    }

    pub fn dash(mut self, dash: Dash) -> Self {
        self.dash = dash;
        self
    }

    pub fn markers(mut self) -> Self {
        self.markers = true;
        self
    }

    pub fn band(mut self, label: impl Into<String>, band: Vec<(f64, f64, f64)>) -> Self {
        self.band = Some((label.into(), band));
        self
    }

    pub fn error_bars(mut self, bars: Vec<(f64, f64, f64)>) -> Self {
        self.error_bars = bars;
        self
    }
}

/// Where the legend goes inside the plotting area.
pub use plotters::chart::SeriesLabelPosition as LegendPos;

/// A line chart, ready to draw.
#[derive(Debug)]
pub struct LineChart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub series: Vec<Series>,
    /// Fixed axis ranges; otherwise fitted to the data.
    pub x_range: Option<Range<f64>>,
    pub y_range: Option<Range<f64>>,
    /// Shaded x interval with a legend label (the warmup).
    pub shade: Option<(f64, f64, String)>,
    /// Legend position; `None` picks the corner (or edge middle) the data cover least.
    pub legend: Option<LegendPos>,
    /// With an automatic legend that would cover data, raise the top of the y axis to make
    /// room for it above the data.
    pub headroom: bool,
    /// Shown in the middle of the chart when no series has a point.
    pub empty_note: String,
    /// Categorical x axis: the points' x are positions 0, 1, 2, ... and these are their tick
    /// labels (e.g. parameter values that are not numbers).
    pub x_categories: Option<Vec<String>>,
}

impl LineChart {
    pub fn new(
        title: impl Into<String>,
        x_desc: impl Into<String>,
        y_desc: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_desc: x_desc.into(),
            y_desc: y_desc.into(),
            series: Vec::new(),
            x_range: None,
            y_range: None,
            shade: None,
            legend: None,
            headroom: true,
            empty_note: "no data".into(),
            x_categories: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.points.is_empty())
    }

    /// Axis ranges: the fixed ones, else the data's extent (y from 0 when the data are
    /// non-negative), padded so lines do not sit on the frame.
    fn ranges(&self) -> (Range<f64>, Range<f64>) {
        let mut xs = Extent::default();
        let mut ys = Extent::default();
        for s in &self.series {
            for &(x, y) in &s.points {
                xs.add(x);
                ys.add(y);
            }
            let bars = s
                .band
                .iter()
                .flat_map(|(_, band)| band)
                .chain(&s.error_bars);
            for &(x, lo, hi) in bars {
                xs.add(x);
                ys.add(lo);
                ys.add(hi);
            }
        }
        let x = self
            .x_range
            .clone()
            .unwrap_or_else(|| match &self.x_categories {
                // Half a slot of air either side of the first and last category.
                Some(c) => -0.5..(c.len().max(1) as f64 - 0.5),
                None => xs.range(0.0),
            });
        let y = self.y_range.clone().unwrap_or_else(|| {
            let r = ys.range(0.05);
            // Counts and fractions: start the axis at zero.
            if r.start >= 0.0 || !ys.seen() {
                0.0..r.end
            } else {
                r
            }
        });
        (x, y)
    }

    /// The legend position whose box covers the fewest data: line points (sampled along each
    /// segment) and band areas, in axis-normalised coordinates. Corners win ties.
    /// Returns the position, how many sampled data points its box covers, and the box height
    /// as a fraction of the plotting area.
    fn auto_legend(
        &self,
        x: &Range<f64>,
        y: &Range<f64>,
        entries: usize,
    ) -> (LegendPos, usize, f64) {
        // Approximate plotting area and legend box, in pixels (see `draw` and `style`).
        let (plot_w, plot_h) = (890.0, 500.0);
        let longest = self
            .series
            .iter()
            .flat_map(|s| std::iter::once(&s.label).chain(s.band.iter().map(|(l, _)| l)))
            .chain(self.shade.iter().map(|(_, _, l)| l))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        let box_w = ((longest as f64 * 8.5 + 60.0 + 12.0) / plot_w).min(1.0);
        let box_h = ((entries as f64 * 20.0 + 24.0 + 12.0) / plot_h).min(1.0);
        let nx = |v: f64| (v - x.start) / (x.end - x.start);
        let ny = |v: f64| (v - y.start) / (y.end - y.start);
        let candidates = [
            (LegendPos::UpperRight, 1.0 - box_w, 1.0 - box_h),
            (LegendPos::LowerRight, 1.0 - box_w, 0.0),
            (LegendPos::UpperLeft, 0.0, 1.0 - box_h),
            (LegendPos::LowerLeft, 0.0, 0.0),
            (LegendPos::UpperMiddle, (1.0 - box_w) / 2.0, 1.0 - box_h),
            (LegendPos::LowerMiddle, (1.0 - box_w) / 2.0, 0.0),
            (LegendPos::MiddleRight, 1.0 - box_w, (1.0 - box_h) / 2.0),
            (LegendPos::MiddleLeft, 0.0, (1.0 - box_h) / 2.0),
        ];
        let mut scores = [0usize; 8];
        let mut hit = |px: f64, lo: f64, hi: f64| {
            for (score, &(_, bx, by)) in scores.iter_mut().zip(&candidates) {
                if px >= bx && px <= bx + box_w && hi >= by && lo <= by + box_h {
                    *score += 1;
                }
            }
        };
        for s in &self.series {
            for w in s.points.windows(2) {
                let (a, b) = ((nx(w[0].0), ny(w[0].1)), (nx(w[1].0), ny(w[1].1)));
                let steps = ((b.0 - a.0).hypot(b.1 - a.1) * 60.0)
                    .ceil()
                    .clamp(1.0, 60.0);
                for k in 0..steps as usize {
                    let t = k as f64 / steps;
                    let py = a.1 + (b.1 - a.1) * t;
                    hit(a.0 + (b.0 - a.0) * t, py, py);
                }
            }
            if let [(px, py)] = s.points[..] {
                hit(nx(px), ny(py), ny(py));
            }
            for &(px, lo, hi) in &s.error_bars {
                hit(nx(px), ny(lo), ny(hi));
            }
            if let Some((_, band)) = &s.band {
                for w in band.windows(2) {
                    for k in 0..8 {
                        let t = f64::from(k) / 8.0;
                        let lerp = |a: f64, b: f64| a + (b - a) * t;
                        hit(
                            nx(lerp(w[0].0, w[1].0)),
                            ny(lerp(w[0].1, w[1].1)),
                            ny(lerp(w[0].2, w[1].2)),
                        );
                    }
                }
            }
        }
        let (best, score) = scores
            .iter()
            .enumerate()
            .min_by_key(|&(i, score)| (*score, i))
            .map_or((0, 0), |(i, score)| (i, *score));
        (candidates[best].0.clone(), score, box_h)
    }

    /// Legend entries `draw` will make.
    fn legend_entries(&self, x: &Range<f64>) -> usize {
        let shade = self
            .shade
            .as_ref()
            .is_some_and(|(from, to, _)| to.clamp(x.start, x.end) > from.clamp(x.start, x.end));
        let bands = self
            .series
            .iter()
            .filter(|s| s.band.as_ref().is_some_and(|(_, b)| !b.is_empty()))
            .count();
        usize::from(shade) + bands + self.series.len()
    }

    /// Axis ranges and legend position: an automatic legend that would cover data gets room
    /// above the data when `headroom` allows.
    fn layout(&self) -> (Range<f64>, Range<f64>, LegendPos) {
        let (x, mut y) = self.ranges();
        if let Some(pos) = &self.legend {
            return (x, y, pos.clone());
        }
        let entries = self.legend_entries(&x);
        let (pos, covered, box_h) = self.auto_legend(&x, &y, entries);
        if covered == 0 || !self.headroom || self.is_empty() {
            return (x, y, pos);
        }
        y.end = y.start + (y.end - y.start) / (1.0 - box_h).max(0.5);
        let (pos, _, _) = self.auto_legend(&x, &y, entries);
        (x, y, pos)
    }

    /// Draws the chart onto a drawing area (already sized; it is cleared first).
    pub fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (x_range, y_range, legend_pos) = self.layout();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, style::title())
            .margin(18)
            .x_label_area_size(64)
            .y_label_area_size(96)
            .build_cartesian_2d(x_range.clone(), y_range.clone())?;
        let categories = self.x_categories.as_deref();
        let x_label = |v: &f64| match categories {
            // Label only the tick positions that fall on a category.
            Some(c) => {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                    c[i as usize].clone()
                } else {
                    String::new()
                }
            }
            None => tick(*v),
        };
        // One tick per category; otherwise about ten.
        let x_ticks = categories.map_or(10, |c| c.len() + 1);
        chart
            .configure_mesh()
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .axis_desc_style(style::axis_desc())
            .label_style(style::tick_label())
            .light_line_style(style::GRID_LIGHT)
            .bold_line_style(style::GRID_BOLD)
            .x_labels(x_ticks)
            .y_labels(8)
            .x_label_formatter(&x_label)
            .y_label_formatter(&|v| tick(*v))
            .draw()?;

        let mut legend_entries = 0;
        if let Some((from, to, label)) = &self.shade {
            let from = from.clamp(x_range.start, x_range.end);
            let to = to.clamp(x_range.start, x_range.end);
            if to > from {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(from, y_range.start), (to, y_range.end)],
                        style::warmup_fill(),
                    )))?
                    .label(label.as_str())
                    .legend(|(x, y)| {
                        Rectangle::new([(x, y - 7), (x + 24, y + 7)], style::warmup_fill())
                    });
                legend_entries += 1;
            }
        }

        for s in &self.series {
            if let Some((label, band)) = &s.band {
                if !band.is_empty() {
                    let fill = s.colour.mix(0.18).filled();
                    let outline: Vec<(f64, f64)> = band
                        .iter()
                        .map(|&(x, lo, _)| (x, lo))
                        .chain(band.iter().rev().map(|&(x, _, hi)| (x, hi)))
                        .collect();
                    chart
                        .draw_series(std::iter::once(Polygon::new(outline, fill)))?
                        .label(label.as_str())
                        .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 24, y + 7)], fill));
                    legend_entries += 1;
                }
            }
        }

        for s in &self.series {
            let line = s.colour.stroke_width(style::LINE_WIDTH);
            let anno = match s.dash.pattern() {
                None => chart.draw_series(LineSeries::new(s.points.iter().copied(), line))?,
                Some((dash, gap)) => chart.draw_series(DashedLineSeries::new(
                    s.points.iter().copied(),
                    dash,
                    gap,
                    line,
                ))?,
            };
            let dash = s.dash;
            anno.label(s.label.as_str()).legend(move |(x, y)| {
                let path = vec![(x, y), (x + 24, y)];
                match dash.legend_pattern() {
                    None => PathElement::new(path, line).into_dyn(),
                    Some((d, g)) => DashedPathElement::new(path, d, g, line).into_dyn(),
                }
            });
            legend_entries += 1;
            if s.markers {
                let dot = s.colour.filled();
                chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, dot)))?;
            }
            if !s.error_bars.is_empty() {
                // Caps about 12 px wide.
                let cap = (x_range.end - x_range.start) * 12.0 / f64::from(style::SIZE.0);
                let thin = s
                    .colour
                    .stroke_width(style::LINE_WIDTH.saturating_sub(1).max(1));
                chart.draw_series(s.error_bars.iter().flat_map(|&(x, lo, hi)| {
                    [
                        PathElement::new(vec![(x, lo), (x, hi)], thin),
                        PathElement::new(vec![(x - cap / 2.0, lo), (x + cap / 2.0, lo)], thin),
                        PathElement::new(vec![(x - cap / 2.0, hi), (x + cap / 2.0, hi)], thin),
                    ]
                }))?;
            }
        }

        if self.is_empty() {
            let (px, py) = chart.plotting_area().get_pixel_range();
            let centre = ((px.start + px.end) / 2, (py.start + py.end) / 2);
            root.draw(&Text::new(
                self.empty_note.as_str(),
                centre,
                style::note().pos(Pos::new(HPos::Center, VPos::Center)),
            ))?;
        }

        if legend_entries > 0 {
            chart
                .configure_series_labels()
                .position(legend_pos)
                .margin(12)
                .legend_area_size(32)
                .background_style(WHITE.mix(0.88))
                .border_style(style::GRID_BOLD)
                .label_font(style::legend())
                .draw()?;
        }
        Ok(())
    }

    /// Draws the chart to `<out_dir>/<name>.png` and `<out_dir>/<name>.svg`; returns both paths.
    pub fn render(&self, out_dir: &Path, name: &str) -> anyhow::Result<Vec<PathBuf>> {
        style::ensure_font()?;
        std::fs::create_dir_all(out_dir)
            .with_context(|| format!("creating {}", out_dir.display()))?;
        let png = out_dir.join(format!("{name}.png"));
        {
            let root = BitMapBackend::new(&png, style::SIZE).into_drawing_area();
            self.draw(&root)
                .and_then(|()| Ok(root.present()?))
                .with_context(|| format!("drawing {}", png.display()))?;
        }
        let svg = out_dir.join(format!("{name}.svg"));
        {
            let root = SVGBackend::new(&svg, style::SIZE).into_drawing_area();
            self.draw(&root)
                .and_then(|()| Ok(root.present()?))
                .with_context(|| format!("drawing {}", svg.display()))?;
        }
        Ok(vec![png, svg])
    }
}

/// Min/max of finite values.
#[derive(Debug, Default)]
struct Extent {
    min: Option<f64>,
    max: Option<f64>,
}

impl Extent {
    fn add(&mut self, v: f64) {
        if v.is_finite() {
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
        }
    }

    fn seen(&self) -> bool {
        self.min.is_some()
    }

    /// The extent padded by `pad` of its width at the top; `0..1` when empty, a unit-wide range
    /// around a single value.
    fn range(&self, pad: f64) -> Range<f64> {
        match (self.min, self.max) {
            (Some(lo), Some(hi)) if hi > lo => lo..hi + (hi - lo) * pad,
            (Some(v), Some(_)) => {
                let half = if v == 0.0 { 0.5 } else { v.abs() * 0.5 };
                if v >= 0.0 && v - half < 0.0 {
                    0.0..v + half
                } else {
                    v - half..v + half
                }
            }
            _ => 0.0..1.0,
        }
    }
}

/// Tick label: no trailing zeros, thousands as "k"/"M" beyond 10 000.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000_000.0 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 10_000.0 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(-0.0001), "0");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(1500.0), "1500");
        assert_eq!(tick(25_000.0), "25k");
        assert_eq!(tick(12_500_000.0), "12.5M");
    }

    #[test]
    fn extent_ranges() {
        let mut e = Extent::default();
        assert_eq!(e.range(0.0), 0.0..1.0);
        e.add(5.0);
        assert_eq!(e.range(0.0), 2.5..7.5);
        e.add(f64::NAN);
        e.add(15.0);
        assert_eq!(e.range(0.1), 5.0..16.0);
    }
}
