//! Sweep charts: per summary metric, its mean over seeds with 95% confidence intervals
//! against one swept parameter, one line per combination of the other parameters' values.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::line_chart::{LineChart, Series};
use super::style::{self, Dash};
use super::PlotReport;
use crate::records::{ParamValue, SweepManifest};
use crate::sweep::SweepFolder;

/// What [`plot_sweep`] draws.
#[derive(Debug, Clone, Copy, Default)]
pub struct SweepCharts<'a> {
    /// Metrics of `sweep.csv`; empty: every one.
    pub metrics: &'a [String],
    /// The parameter on the x axis: its full dotted path or a unique last segment. Default:
    /// the first parameter with more than one value.
    pub x: Option<&'a str>,
    /// Space the parameter's values evenly in the order given even when they are numbers
    /// (for values such as 2000, 30, 20, 16, 12).
    pub categories: bool,
    /// One chart with every metric, instead of one chart each: e.g. a measured share and
    /// a model's prediction of it.
    pub together: bool,
}

/// Draws the sweep's summary metrics against one swept parameter into `out_dir`: one chart
/// per metric (`<metric>.png` and `.svg`), or with `together` one chart of them all
/// (`<metric>-and-<metric>...`), one line per metric and combination of the other
/// parameters' values. Confidence intervals of fractions (see [`is_fraction`]) are drawn
/// clipped to [0, 1]; `sweep.csv` keeps them as computed.
///
/// Unknown metric or parameter names are errors that list the valid ones. A sweep that varies
/// only the seed has nothing to draw against: every chart is skipped.
pub fn plot_sweep(
    sweep: &SweepFolder,
    charts: &SweepCharts<'_>,
    out_dir: &Path,
) -> anyhow::Result<PlotReport> {
    let available = sweep.metrics();
    for m in charts.metrics {
        if !available.contains(&m.as_str()) {
            bail!(
                "{}: no metric {m:?} in sweep.csv; it has: {}",
                sweep.path.display(),
                available.join(", ")
            );
        }
    }
    let chosen: Vec<&str> = if charts.metrics.is_empty() {
        available
    } else {
        charts.metrics.iter().map(String::as_str).collect()
    };
    let params = &sweep.manifest.parameters;
    let x_index = match charts.x {
        Some(name) => match sweep.manifest.parameter_index(name) {
            Some(i) => Some(i),
            None => bail!(
                "--x {name:?} is not a parameter of this sweep; its parameters: {}",
                if params.is_empty() {
                    "none (only seeds vary)".to_owned()
                } else {
                    params
                        .iter()
                        .map(|p| p.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        },
        None => params
            .iter()
            .position(|p| p.values.len() > 1)
            .or((!params.is_empty()).then_some(0)),
    };
    let groups: Vec<Vec<&str>> = if charts.together {
        vec![chosen]
    } else {
        chosen.into_iter().map(|m| vec![m]).collect()
    };
    let mut report = PlotReport::default();
    for metrics in groups {
        match x_index {
            Some(xi) => {
                report
                    .written
                    .extend(draw(sweep, &metrics, xi, charts.categories, out_dir)?)
            }
            None => report.skipped.push((
                "sweep",
                format!(
                    "{}: the sweep varies only the seed, no parameter to plot against",
                    metrics.join(", ")
                ),
            )),
        }
    }
    Ok(report)
}

/// How the swept parameter maps to the x axis.
#[derive(Debug, PartialEq)]
enum XAxis {
    /// Every value is a number with the same unit (`""` for bare numbers).
    Numeric { unit: String },
    /// Anything else: values in the order given, evenly spaced.
    Categories(Vec<String>),
}

impl XAxis {
    fn of(values: &[ParamValue], categories: bool) -> Self {
        let unit = values.first().and_then(ParamValue::unit);
        let numeric = values
            .iter()
            .all(|v| v.number().is_some() && v.unit() == unit);
        match unit {
            Some(unit) if numeric && !categories => Self::Numeric {
                unit: unit.to_owned(),
            },
            _ => Self::Categories(values.iter().map(ToString::to_string).collect()),
        }
    }

    fn position(&self, value: &ParamValue) -> Option<f64> {
        match self {
            Self::Numeric { .. } => value.number(),
            Self::Categories(c) => {
                let shown = value.to_string();
                c.iter().position(|v| *v == shown).map(|i| i as f64)
            }
        }
    }
}

/// Chart file name of a metric: its name with anything but `[A-Za-z0-9_-]` replaced.
pub fn chart_name(metric: &str) -> String {
    metric
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether a summary metric is a fraction, by its name: a success rate (`*success*`), a
/// share, fraction or degree (`*_share`, `*_fraction`, `*_degree`), or `sybil_hold_all`
/// (the share of samples in which Sybils held the whole storage set).
pub fn is_fraction(metric: &str) -> bool {
    metric.contains("success")
        || ["_share", "_fraction", "_degree", "_hold_all"]
            .iter()
            .any(|suffix| metric.ends_with(suffix))
}

/// One line of a sweep chart: the points sharing the other parameters' values.
#[derive(Debug)]
struct Line {
    /// `path=value, ...` of the other varying parameters (after the metric's name when the
    /// chart has several); its legend label.
    key: String,
    /// Which of the chart's metrics it draws.
    metric: usize,
    /// `(x, mean)`.
    points: Vec<(f64, f64)>,
    /// `(x, ci low, ci high)`.
    bars: Vec<(f64, f64, f64)>,
}

/// One chart of `metrics` against parameter `xi`.
fn draw(
    sweep: &SweepFolder,
    metrics: &[&str],
    xi: usize,
    categories: bool,
    out_dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let m: &SweepManifest = &sweep.manifest;
    let x_param = &m.parameters[xi];
    let axis = XAxis::of(&x_param.values, categories);
    // Lines: one per metric and combination of the other varying parameters, in the order
    // points come. Parameters with a single value are the same on every line and stay out
    // of the labels; so does the metric when it is the only one.
    let mut lines: Vec<Line> = Vec::new();
    let mut seeds_max = 0;
    for (metric_index, metric, point) in metrics
        .iter()
        .enumerate()
        .flat_map(|(i, metric)| m.points.iter().map(move |point| (i, *metric, point)))
    {
        // A fraction's interval past 0 or 1 says only that few seeds were run.
        let clip = |v: f64| {
            if is_fraction(metric) {
                v.clamp(0.0, 1.0)
            } else {
                v
            }
        };
        let Some(row) = sweep.row(point, metric) else {
            continue;
        };
        let Some(x) = point.values.get(xi).and_then(|v| axis.position(v)) else {
            continue;
        };
        seeds_max = seeds_max.max(row.n);
        let key = m
            .parameters
            .iter()
            .zip(&point.values)
            .enumerate()
            .filter(|&(i, (p, _))| i != xi && p.values.len() > 1)
            .map(|(_, (p, v))| format!("{}={v}", p.path));
        let key = (metrics.len() > 1)
            .then(|| metric.to_owned())
            .into_iter()
            .chain(key)
            .collect::<Vec<_>>()
            .join(", ");
        let at = match lines.iter().position(|l| l.key == key) {
            Some(at) => at,
            None => {
                lines.push(Line {
                    key,
                    metric: metric_index,
                    points: Vec::new(),
                    bars: Vec::new(),
                });
                lines.len() - 1
            }
        };
        let line = &mut lines[at];
        line.points.push((x, row.mean));
        if let (Some(lo), Some(hi)) = (row.ci95_low, row.ci95_high) {
            line.bars.push((x, clip(lo), clip(hi)));
        }
    }
    let x_desc = match &axis {
        XAxis::Numeric { unit } if !unit.is_empty() => format!("{} ({unit})", x_param.path),
        _ => x_param.path.clone(),
    };
    // Several metrics are named by the legend; the title and axis would not hold them.
    let (title, y_desc) = match metrics {
        [metric] => (
            format!("{metric} vs {}", x_param.path),
            format!("{metric}: mean over seeds, 95% CI"),
        ),
        _ => (
            format!("{} metrics vs {}", metrics.len(), x_param.path),
            "mean over seeds, 95% CI".to_owned(),
        ),
    };
    let mut chart = LineChart::new(title, x_desc, y_desc);
    chart.empty_note = format!("no run reported {}", metrics.join(", "));
    if let XAxis::Categories(c) = &axis {
        chart.x_categories = Some(c.clone());
    }
    // Air either side of the outermost points, so their error bars are not on the frame.
    if let XAxis::Numeric { .. } = axis {
        let xs = || lines.iter().flat_map(|l| l.points.iter().map(|&(x, _)| x));
        let (lo, hi) = (
            xs().fold(f64::INFINITY, f64::min),
            xs().fold(f64::NEG_INFINITY, f64::max),
        );
        if lo.is_finite() && hi.is_finite() {
            let pad = if hi > lo {
                (hi - lo) * 0.05
            } else {
                lo.abs().max(1.0) * 0.5
            };
            chart.x_range = Some(lo - pad..hi + pad);
        }
    }
    // Lines sharing an x value would hide each other's bars: shift each line's bars a little.
    let span = chart
        .x_range
        .as_ref()
        .map_or(x_param.values.len() as f64, |r| r.end - r.start);
    let count = lines.len();
    let single = count == 1;
    for (i, line) in lines.into_iter().enumerate() {
        let Line {
            key,
            metric,
            mut points,
            bars,
        } = line;
        // Each metric its dash pattern, so that lines that coincide (a measurement and
        // its prediction) stay visible.
        let dash = if metrics.len() > 1 {
            Dash::nth(metric)
        } else {
            Dash::nth(i / 10)
        };
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let shift = (i as f64 - (count - 1) as f64 / 2.0) * span * 0.008;
        let bars = bars
            .into_iter()
            .map(|(x, lo, hi)| (x + shift, lo, hi))
            .collect();
        let label = if single && key.is_empty() {
            format!("{} (up to {seeds_max} seeds)", m.scenario_name)
        } else {
            key
        };
        chart.series.push(
            Series::new(label, style::colour(i), points)
                .dash(dash)
                .markers()
                .error_bars(bars),
        );
    }
    chart.render(out_dir, &chart_name(&metrics.join("-and-")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::tests::write_sweep;

    #[test]
    fn axes() {
        let ints = [ParamValue::Integer(3), ParamValue::Float(4.5)];
        assert_eq!(XAxis::of(&ints, false), XAxis::Numeric { unit: "".into() });
        // Asked for, numbers are categories too, in the order given.
        let axis = XAxis::of(&ints, true);
        assert_eq!(axis, XAxis::Categories(vec!["3".into(), "4.5".into()]));
        assert_eq!(axis.position(&ParamValue::Float(4.5)), Some(1.0));
        assert!(is_fraction("lookup_success_flood") && is_fraction("tier_capture_hop_share"));
        assert!(!is_fraction("lookup_recovery_s"));
        let times = [
            ParamValue::Text("10 min".into()),
            ParamValue::Text("1 h".into()),
        ];
        // Mixed units cannot share a numeric axis.
        assert!(matches!(XAxis::of(&times, false), XAxis::Categories(_)));
        let bools = [ParamValue::Bool(false), ParamValue::Bool(true)];
        let axis = XAxis::of(&bools, false);
        assert_eq!(axis.position(&ParamValue::Bool(true)), Some(1.0));
        assert_eq!(chart_name("a/b c"), "a_b_c");
    }

    #[test]
    fn draws_every_metric_against_a_parameter() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_sweep(dir.path());
        let sweep = SweepFolder::open(dir.path()).expect("opens");
        let out = dir.path().join("plots");
        let report = plot_sweep(&sweep, &SweepCharts::default(), &out).expect("draws");
        assert_eq!(report.written.len(), 4, "{report:?}");
        for name in ["lookup_success", "lookups"] {
            for ext in ["png", "svg"] {
                assert!(out.join(format!("{name}.{ext}")).is_file(), "{name}.{ext}");
            }
        }
        let svg = std::fs::read_to_string(out.join("lookup_success.svg")).expect("svg");
        assert!(
            svg.contains("general.stop_time=10 min"),
            "one line per stop time"
        );
        assert!(svg.contains("routers.1.count"), "x axis named");

        let by_time = plot_sweep(
            &sweep,
            &SweepCharts {
                metrics: &["lookups".into()],
                x: Some("stop_time"),
                ..Default::default()
            },
            &out,
        )
        .expect("draws");
        assert_eq!(by_time.written.len(), 2);
        let svg = std::fs::read_to_string(out.join("lookups.svg")).expect("svg");
        assert!(
            svg.contains("general.stop_time (min)"),
            "numeric axis with unit"
        );

        let both = ["lookup_success".to_owned(), "lookups".to_owned()];
        let together = SweepCharts {
            metrics: &both,
            together: true,
            ..Default::default()
        };
        let one = plot_sweep(&sweep, &together, &out).expect("draws");
        assert_eq!(one.written.len(), 2, "one chart: {one:?}");
        let svg = std::fs::read_to_string(out.join("lookup_success-and-lookups.svg")).expect("svg");
        assert!(
            svg.contains("lookup_success, general.stop_time=10 min") && svg.contains("lookups, "),
            "one line per metric and stop time"
        );

        let err = plot_sweep(
            &sweep,
            &SweepCharts {
                metrics: &["nope".into()],
                ..Default::default()
            },
            &out,
        )
        .expect_err("bad metric");
        assert!(err.to_string().contains("lookup_success, lookups"), "{err}");
        let err = plot_sweep(
            &sweep,
            &SweepCharts {
                x: Some("seed"),
                ..Default::default()
            },
            &out,
        )
        .expect_err("bad x");
        assert!(
            err.to_string()
                .contains("routers.1.count, general.stop_time"),
            "{err}"
        );
    }
}
