//! Parameter sweeps: a scenario run at every combination of some parameter values, each with
//! several seeds, in parallel, into one sweep folder.
//!
//! Parameters are dotted paths into the scenario TOML (`general.stop_time`,
//! `routers.1.count`: array elements by index). The scenario is edited as a `toml::Value`, so
//! any field can be swept, and every point is checked (parsed and validated like a scenario
//! file) before any run starts. Each run is single-threaded and deterministic; parallelism
//! comes only from running several at once, so a run's trace does not depend on `--jobs`.
//!
//! A sweep folder holds `sweep.json` ([`SweepManifest`]), `sweep.csv` ([`SweepRecord`]: mean,
//! standard deviation and 95% confidence interval over seeds of every `summary.csv` scalar,
//! per point) and the run folders `<point label>-seed<seed>/`. Like a run folder it is
//! assembled under a hidden `.partial` name and renamed when complete.

use crate::net::LinkModel;
use crate::run::{code_version, simulate, write_run, LoadedScenario};
use ramsons_analysis::records::{
    CsvWriter, Metric as _, ParamValue, SummaryRecord, SweepManifest, SweepParameter, SweepPoint,
    SweepRecord, SweepRun, SWEEP_FILE,
};
use ramsons_analysis::stats::mean_ci;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// What can go wrong planning or running a sweep. Planning errors come before any run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("--set {arg}: {reason}")]
    BadSet { arg: String, reason: String },
    #[error("--seeds {arg}: {reason}")]
    BadSeeds { arg: String, reason: String },
    #[error("cannot read scenario {path}: {message}")]
    Scenario { path: PathBuf, message: String },
    /// A combination of values that does not make a valid scenario.
    #[error("the point {point} is not a valid scenario: {message}")]
    InvalidPoint { point: String, message: String },
    #[error("{0} already exists; choose another --out (sweep folders are never overwritten)")]
    OutExists(PathBuf),
    #[error("--jobs must be at least 1")]
    NoJobs,
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    /// A run failed; the runs already finished stay in the `.partial` folder.
    #[error("run {folder} failed: {message} (finished runs are kept in {})", partial.display())]
    Run {
        folder: String,
        message: String,
        partial: PathBuf,
    },
}

/// One `--set PATH=V1,V2,...`: a dotted path into the scenario and the values to try.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub path: String,
    pub values: Vec<toml::Value>,
    /// The argument as given, for error messages.
    pub arg: String,
}

impl Param {
    /// Parses `PATH=V1,V2,...`. Values are TOML scalars (integers, floats, booleans, quoted
    /// strings); anything else is taken as a bare string, so `10 min` needs no quotes.
    /// Commas inside quotes do not split.
    pub fn parse(arg: &str) -> Result<Self, SweepError> {
        let bad = |reason: String| SweepError::BadSet {
            arg: arg.to_owned(),
            reason,
        };
        let (path, values) = arg.split_once('=').ok_or_else(|| {
            bad("expected PATH=VALUE,VALUE,... such as routers.1.count=50,100".into())
        })?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(bad(format!(
                "{path:?} is not a dotted path such as general.stop_time"
            )));
        }
        if path == "general.seed" {
            return Err(bad("sweep seeds with --seeds".into()));
        }
        let values = split_values(values)
            .map_err(bad)?
            .iter()
            .map(|v| parse_value(v).map_err(|r| bad(format!("{v:?}: {r}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let mut seen = BTreeSet::new();
        for v in &values {
            if !seen.insert(v.to_string()) {
                return Err(bad(format!("the value {v} is given twice")));
            }
        }
        Ok(Self {
            path: path.to_owned(),
            values,
            arg: arg.to_owned(),
        })
    }
}

/// Splits on commas outside single or double quotes; trims each value.
fn split_values(text: &str) -> Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (None, ',') => values.push(std::mem::take(&mut current)),
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            _ => current.push(c),
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".into());
    }
    values.push(current);
    let values: Vec<String> = values.into_iter().map(|v| v.trim().to_owned()).collect();
    if values.iter().any(String::is_empty) {
        return Err("empty value (two commas in a row, or nothing after =)".into());
    }
    Ok(values)
}

/// A TOML scalar, or the text itself as a string.
fn parse_value(text: &str) -> Result<toml::Value, String> {
    let Ok(mut table) = format!("v = {text}").parse::<toml::Table>() else {
        return Ok(toml::Value::String(text.to_owned()));
    };
    match table.remove("v") {
        Some(toml::Value::Float(f)) if !f.is_finite() => Err("not a finite number".into()),
        // Scenario files write times as strings.
        Some(toml::Value::Datetime(_)) => Ok(toml::Value::String(text.to_owned())),
        Some(toml::Value::Array(_) | toml::Value::Table(_)) => {
            Err("only single values (numbers, booleans, strings) can be swept".into())
        }
        Some(v) => Ok(v),
        None => Ok(toml::Value::String(text.to_owned())),
    }
}

/// Parses `--seeds`: comma-separated seeds and inclusive ranges, e.g. `1,2,3`, `1..5`
/// (1 to 5) or `1..3,10`. Duplicates are an error.
pub fn parse_seeds(arg: &str) -> Result<Vec<u64>, SweepError> {
    let bad = |reason: String| SweepError::BadSeeds {
        arg: arg.to_owned(),
        reason,
    };
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| bad(format!("{:?} is not a seed (a whole number)", s.trim())))
    };
    let mut seeds = Vec::new();
    for part in arg.split(',') {
        match part.split_once("..") {
            Some((from, to)) => {
                let (from, to) = (number(from)?, number(to.trim_start_matches('='))?);
                if to < from {
                    return Err(bad(format!("the range {from}..{to} is empty")));
                }
                if to - from >= 100_000 {
                    return Err(bad(format!("the range {from}..{to} is too long")));
                }
                seeds.extend(from..=to);
            }
            None => seeds.push(number(part)?),
        }
    }
    let distinct: BTreeSet<u64> = seeds.iter().copied().collect();
    if distinct.len() != seeds.len() {
        return Err(bad("a seed is given twice".into()));
    }
    Ok(seeds)
}

/// Sets `value` at the dotted `path` of `doc`. Missing table keys are created (the scenario
/// check then rejects unknown fields); array elements must exist.
pub fn set_path(doc: &mut toml::Value, path: &str, value: toml::Value) -> Result<(), String> {
    let segments: Vec<&str> = path.split('.').collect();
    let mut current = doc;
    for (depth, segment) in segments.iter().enumerate() {
        let here = segments[..depth].join(".");
        let last = depth + 1 == segments.len();
        current = match current {
            toml::Value::Table(table) => {
                if last {
                    table.insert((*segment).to_owned(), value);
                    return Ok(());
                }
                table
                    .entry(*segment)
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            }
            toml::Value::Array(array) => {
                let len = array.len();
                let index: usize = segment.parse().map_err(|_| {
                    format!("`{here}` is an array: index it with a number, e.g. {here}.0")
                })?;
                let slot = array.get_mut(index).ok_or_else(|| {
                    format!("index {index} is out of range: `{here}` has {len} entries")
                })?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            other => {
                return Err(format!(
                    "`{here}` is of type {}, not a table or an array",
                    other.type_str()
                ))
            }
        };
    }
    Ok(())
}

/// One combination of parameter values, checked and ready to run.
#[derive(Debug, Clone)]
pub struct PlannedPoint {
    pub label: String,
    pub values: Vec<toml::Value>,
    /// The scenario with the values set (seed still the scenario's).
    pub scenario: LoadedScenario,
}

/// A checked sweep: every point parses and validates.
#[derive(Debug, Clone)]
pub struct Plan {
    pub base: LoadedScenario,
    pub params: Vec<Param>,
    pub seeds: Vec<u64>,
    pub points: Vec<PlannedPoint>,
}

impl Plan {
    /// Reads the scenario, builds the cartesian product of the parameters' values (the first
    /// parameter varies slowest) and checks every point. `seeds` empty means the scenario's
    /// own seed.
    pub fn new(scenario: &Path, params: Vec<Param>, seeds: Vec<u64>) -> Result<Self, SweepError> {
        let base = LoadedScenario::load(scenario).map_err(|e| SweepError::Scenario {
            path: scenario.to_owned(),
            message: format!("{e:#}"),
        })?;
        let doc: toml::Value = toml::from_str(&base.text).map_err(|e| SweepError::Scenario {
            path: scenario.to_owned(),
            message: e.to_string(),
        })?;
        let mut paths = BTreeSet::new();
        for p in &params {
            if !paths.insert(p.path.as_str()) {
                return Err(SweepError::BadSet {
                    arg: p.arg.clone(),
                    reason: format!("{} is set twice", p.path),
                });
            }
            let bad = |reason: String| SweepError::BadSet {
                arg: p.arg.clone(),
                reason,
            };
            // Path errors are the parameter's, whatever the value: check with the first.
            let first = p.values.first().ok_or_else(|| bad("no values".into()))?;
            set_path(&mut doc.clone(), &p.path, first.clone()).map_err(bad)?;
        }
        let seeds = if seeds.is_empty() {
            vec![base.scenario.general.seed]
        } else {
            seeds
        };
        let labels = point_labels(&params);
        let mut points = Vec::with_capacity(labels.len());
        for (label, indices) in labels {
            let values: Vec<toml::Value> = params
                .iter()
                .zip(&indices)
                .map(|(p, &i)| p.values[i].clone())
                .collect();
            let mut edited = doc.clone();
            for (p, v) in params.iter().zip(&values) {
                // Checked above for the first value; the path is the same for every value.
                set_path(&mut edited, &p.path, v.clone()).map_err(|reason| SweepError::BadSet {
                    arg: p.arg.clone(),
                    reason,
                })?;
            }
            let invalid = |message: String| SweepError::InvalidPoint {
                point: describe(&params, &values),
                message,
            };
            let text = toml::to_string(&edited).map_err(|e| invalid(e.to_string()))?;
            let loaded =
                LoadedScenario::from_text(scenario, text).map_err(|e| invalid(format!("{e:#}")))?;
            // The one check World::new makes beyond the scenario's own: regions connected.
            LinkModel::new(&loaded.scenario.network, loaded.scenario.topology.as_ref())
                .map_err(invalid)?;
            points.push(PlannedPoint {
                label,
                values,
                scenario: loaded,
            });
        }
        Ok(Self {
            base,
            params,
            seeds,
            points,
        })
    }

    /// Runs in the sweep.
    pub fn runs(&self) -> usize {
        self.points.len() * self.seeds.len()
    }
}

/// `path=value, path=value` of a point, for messages.
fn describe(params: &[Param], values: &[toml::Value]) -> String {
    if params.is_empty() {
        return "(the scenario as it is)".into();
    }
    params
        .iter()
        .zip(values)
        .map(|(p, v)| format!("{}={}", p.path, shown(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as written on the command line: strings without their quotes.
fn shown(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every point's label and value indices, in product order. A label is
/// `path=value,path=value` over the parameters with more than one value (the others are the
/// same everywhere), made safe for a folder name; `base` when nothing varies. A `~n` suffix
/// keeps labels unique should values differ only in characters folder names drop.
fn point_labels(params: &[Param]) -> Vec<(String, Vec<usize>)> {
    let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
    for p in params {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                (0..p.values.len()).map(move |i| {
                    let mut next = c.clone();
                    next.push(i);
                    next
                })
            })
            .collect();
    }
    let mut used = BTreeSet::new();
    combos
        .into_iter()
        .map(|indices| {
            let parts: Vec<String> = params
                .iter()
                .zip(&indices)
                .filter(|(p, _)| p.values.len() > 1)
                .map(|(p, &i)| format!("{}={}", safe(&p.path), safe(&shown(&p.values[i]))))
                .collect();
            let mut label = if parts.is_empty() {
                "base".to_owned()
            } else {
                parts.join(",")
            };
            let stem = label.clone();
            let mut n = 2;
            while !used.insert(label.clone()) {
                label = format!("{stem}~{n}");
                n += 1;
            }
            (label, indices)
        })
        .collect()
}

/// Keeps `[A-Za-z0-9._+-]`, drops whitespace, replaces anything else with `_`.
fn safe(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A run that finished, as [`run`] reports it.
#[derive(Debug, Clone)]
pub struct RunDone {
    /// Position of the point in [`Plan::points`].
    pub point: usize,
    pub seed: u64,
    pub folder: String,
    pub trace_hash: String,
    /// Simulation and writing.
    pub wall_time_s: f64,
    pub summary: Vec<SummaryRecord>,
}

/// How to run a [`Plan`].
#[derive(Debug, Clone)]
pub struct Options {
    /// The sweep folder to write; must not exist.
    pub out: PathBuf,
    /// Runs at once.
    pub jobs: usize,
    /// Draw each run's charts (slow; `ramsons-analysis plot` can draw them later).
    pub run_plots: bool,
}

/// Runs every point of `plan` with every seed on `options.jobs` threads and writes the sweep
/// folder. `on_done` is called on this thread as each run finishes (in completion order), with
/// the runs finished so far. On the first failed run no new run starts; the ones running are
/// finished and the error names the failed one.
pub fn run(
    plan: &Plan,
    options: &Options,
    mut on_done: impl FnMut(&RunDone, usize),
) -> Result<SweepManifest, SweepError> {
    if options.jobs == 0 {
        return Err(SweepError::NoJobs);
    }
    let out = &options.out;
    if out.exists() {
        return Err(SweepError::OutExists(out.clone()));
    }
    let partial = partial_path(out);
    let io = |path: &Path, e: std::io::Error| SweepError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    };
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| io(&partial, e))?;
    }
    std::fs::create_dir_all(&partial).map_err(|e| io(&partial, e))?;

    let started = Instant::now();
    let jobs: Vec<(usize, u64)> = (0..plan.points.len())
        .flat_map(|p| plan.seeds.iter().map(move |&s| (p, s)))
        .collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let workers = options.jobs.min(jobs.len()).max(1);
    let (tx, rx) = mpsc::channel::<Result<RunDone, (String, String)>>();
    let mut done: Vec<RunDone> = Vec::with_capacity(jobs.len());
    let mut failure: Option<(String, String)> = None;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (jobs, next, stop, partial) = (&jobs, &next, &stop, &partial);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Some(&(point, seed)) = jobs.get(next.fetch_add(1, Ordering::Relaxed))
                    else {
                        break;
                    };
                    let result = run_one(plan, point, seed, partial, options.run_plots);
                    if result.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if tx.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for result in rx {
            match result {
                Ok(run) => {
                    on_done(&run, done.len() + 1);
                    done.push(run);
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
    });
    if let Some((folder, message)) = failure {
        return Err(SweepError::Run {
            folder,
            message,
            partial,
        });
    }

    let manifest = manifest(plan, options.jobs, &done, started.elapsed().as_secs_f64());
    let rows = aggregate(&manifest, &done);
    let csv_error = |e: csv::Error| SweepError::Io {
        path: partial.join(SweepRecord::FILE_NAME),
        message: e.to_string(),
    };
    let mut writer = CsvWriter::<SweepRecord>::create(&partial).map_err(csv_error)?;
    for row in &rows {
        writer.write(row).map_err(csv_error)?;
    }
    writer.finish().map_err(csv_error)?;
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| SweepError::Io {
        path: partial.join(SWEEP_FILE),
        message: e.to_string(),
    })?;
    let json_path = partial.join(SWEEP_FILE);
    std::fs::write(&json_path, json).map_err(|e| io(&json_path, e))?;
    std::fs::rename(&partial, out).map_err(|e| io(out, e))?;
    Ok(manifest)
}

/// `<parent>/.<name>.partial`, where the sweep folder is assembled.
fn partial_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".to_owned());
    out.with_file_name(format!(".{name}.partial"))
}

/// Simulates one point with one seed and writes its run folder into `dir`. Errors are
/// `(folder, message)`.
fn run_one(
    plan: &Plan,
    point: usize,
    seed: u64,
    dir: &Path,
    plots: bool,
) -> Result<RunDone, (String, String)> {
    let p = &plan.points[point];
    let folder = format!("{}-seed{seed}", p.label);
    let wall = Instant::now();
    let loaded = p.scenario.clone().with_seed(Some(seed));
    let result = simulate(&loaded, &mut ()).and_then(|mut simulated| {
        write_run(&dir.join(&folder), &mut simulated, plots)?;
        Ok(simulated)
    });
    match result {
        Ok(simulated) => Ok(RunDone {
            point,
            seed,
            trace_hash: simulated.manifest.trace_hash.clone(),
            summary: simulated.outcome.metrics.summary(),
            folder,
            wall_time_s: wall.elapsed().as_secs_f64(),
        }),
        Err(e) => Err((folder, format!("{e:#}"))),
    }
}

fn param_value(v: &toml::Value) -> ParamValue {
    match v {
        toml::Value::Boolean(b) => ParamValue::Bool(*b),
        toml::Value::Integer(i) => ParamValue::Integer(*i),
        toml::Value::Float(f) => ParamValue::Float(*f),
        other => ParamValue::Text(shown(other)),
    }
}

/// `sweep.json`: points in plan order, each point's runs in seed order.
fn manifest(plan: &Plan, jobs: usize, done: &[RunDone], wall_time_s: f64) -> SweepManifest {
    let points = plan
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| SweepPoint {
            label: p.label.clone(),
            values: p.values.iter().map(param_value).collect(),
            runs: plan
                .seeds
                .iter()
                .filter_map(|&seed| done.iter().find(|r| r.point == i && r.seed == seed))
                .map(|r| SweepRun {
                    seed: r.seed,
                    folder: r.folder.clone(),
                    trace_hash: r.trace_hash.clone(),
                    wall_time_s: r.wall_time_s,
                })
                .collect(),
        })
        .collect();
    SweepManifest {
        scenario_name: plan.base.name(),
        scenario_path: plan.base.path.display().to_string(),
        scenario_toml: plan.base.text.clone(),
        code_version: code_version(),
        parameters: plan
            .params
            .iter()
            .map(|p| SweepParameter {
                path: p.path.clone(),
                values: p.values.iter().map(param_value).collect(),
            })
            .collect(),
        seeds: plan.seeds.clone(),
        points,
        jobs: jobs as u64,
        wall_time_s,
    }
}

/// `sweep.csv`: per point, each summary metric (in the order the runs report them) over the
/// point's seeds.
fn aggregate(manifest: &SweepManifest, done: &[RunDone]) -> Vec<SweepRecord> {
    let mut rows = Vec::new();
    for (i, point) in manifest.points.iter().enumerate() {
        let runs: Vec<&RunDone> = point
            .runs
            .iter()
            .filter_map(|r| done.iter().find(|d| d.point == i && d.seed == r.seed))
            .collect();
        let mut metrics: Vec<&str> = Vec::new();
        for r in &runs {
            for s in &r.summary {
                if !metrics.contains(&s.metric.as_str()) {
                    metrics.push(&s.metric);
                }
            }
        }
        for metric in metrics {
            let values = runs
                .iter()
                .filter_map(|r| r.summary.iter().find(|s| s.metric == metric))
                .map(|s| s.value);
            let Some(stats) = mean_ci(values) else {
                continue;
            };
            let interval = stats.interval();
            rows.push(SweepRecord {
                point: point.label.clone(),
                metric: metric.to_owned(),
                n: stats.n,
                mean: stats.mean,
                std_dev: stats.std_dev,
                ci95_low: interval.map(|(lo, _)| lo),
                ci95_high: interval.map(|(_, hi)| hi),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> toml::Value {
        parse_value(text).expect("a value")
    }

    #[test]
    fn set_arguments() {
        let p = Param::parse("routers.1.count=10, 20,30").expect("valid");
        assert_eq!(p.path, "routers.1.count");
        assert_eq!(
            p.values,
            [
                toml::Value::Integer(10),
                toml::Value::Integer(20),
                toml::Value::Integer(30)
            ]
        );
        let p = Param::parse("general.stop_time=10 min,\"20 min\",'1,5 h'").expect("valid");
        let strings: Vec<String> = p.values.iter().map(shown).collect();
        assert_eq!(strings, ["10 min", "20 min", "1,5 h"]);
        assert_eq!(value("0.5"), toml::Value::Float(0.5));
        assert_eq!(value("true"), toml::Value::Boolean(true));
        assert_eq!(value("fast"), toml::Value::String("fast".into()));
        assert_eq!(
            value("2026-01-01T00:00:00Z"),
            toml::Value::String("2026-01-01T00:00:00Z".into())
        );
        for (arg, needle) in [
            ("routers.1.count", "expected PATH=VALUE"),
            ("=1", "not a dotted path"),
            ("a..b=1", "not a dotted path"),
            ("a=1,,2", "empty value"),
            ("a=", "empty value"),
            ("a=\"x", "quote"),
            ("a=1,1", "given twice"),
            ("a=nan", "finite"),
            ("a={ b = 1 }", "single values"),
            ("general.seed=1,2", "--seeds"),
        ] {
            let err = Param::parse(arg).expect_err(arg).to_string();
            assert!(err.starts_with(&format!("--set {arg}: ")), "{err}");
            assert!(err.contains(needle), "{arg}: {err}");
        }
    }

    #[test]
    fn seeds() {
        assert_eq!(parse_seeds("1,2,3").expect("valid"), [1, 2, 3]);
        assert_eq!(parse_seeds("1..5").expect("valid"), [1, 2, 3, 4, 5]);
        assert_eq!(parse_seeds("1..=3, 10").expect("valid"), [1, 2, 3, 10]);
        assert_eq!(parse_seeds("7").expect("valid"), [7]);
        for (arg, needle) in [
            ("5..1", "empty"),
            ("1,1", "twice"),
            ("1..3,2", "twice"),
            ("x", "not a seed"),
            ("", "not a seed"),
            ("-1", "not a seed"),
            ("0..1000000", "too long"),
        ] {
            let err = parse_seeds(arg).expect_err(arg).to_string();
            assert!(err.contains(needle), "{arg}: {err}");
        }
    }

    #[test]
    fn paths_into_tables_and_arrays() {
        let mut doc: toml::Value =
            toml::from_str("[general]\nseed = 1\n[[routers]]\ncount = 1\n[[routers]]\ncount = 2\n")
                .expect("toml");
        set_path(&mut doc, "routers.1.count", toml::Value::Integer(5)).expect("set");
        set_path(&mut doc, "general.stop_time", value("10 min")).expect("set");
        set_path(&mut doc, "tunnels.hops", toml::Value::Integer(3)).expect("creates tables");
        assert_eq!(doc["routers"][1]["count"].as_integer(), Some(5));
        assert_eq!(doc["routers"][0]["count"].as_integer(), Some(1));
        assert_eq!(doc["general"]["stop_time"].as_str(), Some("10 min"));
        assert_eq!(doc["tunnels"]["hops"].as_integer(), Some(3));
        for (path, needle) in [
            (
                "routers.2.count",
                "index 2 is out of range: `routers` has 2 entries",
            ),
            ("routers.x", "`routers` is an array"),
            ("general.seed.x", "`general.seed` is of type integer"),
        ] {
            let err = set_path(&mut doc, path, toml::Value::Integer(1)).expect_err(path);
            assert!(err.contains(needle), "{path}: {err}");
        }
    }

    #[test]
    fn labels_are_folder_safe_and_unique() {
        let params = vec![
            Param::parse("general.stop_time=10 min,10min,1/2 h").expect("valid"),
            Param::parse("tunnels.exploratory=true,false").expect("valid"),
        ];
        let labels: Vec<String> = point_labels(&params).into_iter().map(|(l, _)| l).collect();
        assert_eq!(
            labels,
            [
                "general.stop_time=10min,tunnels.exploratory=true",
                "general.stop_time=10min,tunnels.exploratory=false",
                "general.stop_time=10min,tunnels.exploratory=true~2",
                "general.stop_time=10min,tunnels.exploratory=false~2",
                "general.stop_time=1_2h,tunnels.exploratory=true",
                "general.stop_time=1_2h,tunnels.exploratory=false",
            ]
        );
        assert_eq!(point_labels(&[]), [("base".to_owned(), vec![])]);
        // Parameters with one value are the same everywhere: not in the labels.
        let params = vec![
            Param::parse("routers.0.count=4").expect("valid"),
            Param::parse("routers.1.count=16,24").expect("valid"),
        ];
        let labels: Vec<String> = point_labels(&params).into_iter().map(|(l, _)| l).collect();
        assert_eq!(labels, ["routers.1.count=16", "routers.1.count=24"]);
        let fixed = [Param::parse("routers.0.count=4").expect("valid")];
        assert_eq!(point_labels(&fixed), [("base".to_owned(), vec![0])]);
    }

    #[test]
    fn aggregates_over_seeds() {
        let run = |point, seed, v: f64| RunDone {
            point,
            seed,
            folder: format!("p{point}-seed{seed}"),
            trace_hash: String::new(),
            wall_time_s: 0.0,
            summary: vec![
                SummaryRecord {
                    metric: "a".into(),
                    value: v,
                },
                SummaryRecord {
                    metric: "b".into(),
                    value: f64::NAN,
                },
            ],
        };
        let sweep_run = |seed| SweepRun {
            seed,
            folder: String::new(),
            trace_hash: String::new(),
            wall_time_s: 0.0,
        };
        let manifest = SweepManifest {
            scenario_name: String::new(),
            scenario_path: String::new(),
            scenario_toml: String::new(),
            code_version: String::new(),
            parameters: Vec::new(),
            seeds: vec![1, 2, 3],
            points: vec![SweepPoint {
                label: "base".into(),
                values: Vec::new(),
                runs: vec![sweep_run(1), sweep_run(2), sweep_run(3)],
            }],
            jobs: 1,
            wall_time_s: 0.0,
        };
        let rows = aggregate(&manifest, &[run(0, 2, 4.0), run(0, 1, 2.0), run(0, 3, 6.0)]);
        assert_eq!(rows.len(), 1, "b has no finite value: no row");
        let r = &rows[0];
        assert_eq!(
            (r.metric.as_str(), r.n, r.mean, r.std_dev),
            ("a", 3, 4.0, Some(2.0))
        );
        let half = 4.303 * 2.0 / 3f64.sqrt();
        assert!((r.ci95_low.expect("ci") - (4.0 - half)).abs() < 1e-12);
        assert!((r.ci95_high.expect("ci") - (4.0 + half)).abs() < 1e-12);
    }
}
