//! Markdown reports over run folders and sweep folders.
//!
//! A report is one Markdown file: per run, what was run (manifest facts), its summary scalars
//! and its charts; per sweep, its parameters, a table per summary metric (mean and 95%
//! confidence interval per point) with its chart, and its runs. Charts are linked with paths
//! relative to the report, so the report and the folders can be moved together; charts not
//! drawn yet are drawn first.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context as _};

use crate::plots::{chart_name, fmt_duration, plot_all, plot_sweep, SweepCharts, CHARTS};
use crate::records::{MANIFEST_FILE, SWEEP_FILE};
use crate::run::RunFolder;
use crate::sweep::SweepFolder;

/// File name of a report written next to a single folder.
pub const REPORT_FILE: &str = "report.md";

/// What [`write_report`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportOutcome {
    /// The report written.
    pub path: PathBuf,
    /// Chart files drawn because a folder had none yet.
    pub drawn: Vec<PathBuf>,
}

/// Where the report on `folders` goes by default: `<folder>/report.md` for one folder,
/// `./report.md` for several.
pub fn default_report_path(folders: &[PathBuf]) -> PathBuf {
    match folders {
        [one] => one.join(REPORT_FILE),
        _ => PathBuf::from(REPORT_FILE),
    }
}

/// Writes a Markdown report on `folders` (run folders and sweep folders, in the order given)
/// to `out`, creating its parent folder if needed and replacing an older report.
pub fn write_report(folders: &[PathBuf], out: &Path) -> anyhow::Result<ReportOutcome> {
    if folders.is_empty() {
        bail!("no folders to report on");
    }
    let inputs = folders
        .iter()
        .map(|path| Input::open(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let out_dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let base = out_dir
        .canonicalize()
        .with_context(|| format!("resolving {}", out_dir.display()))?;
    let mut outcome = ReportOutcome {
        path: out.to_path_buf(),
        drawn: Vec::new(),
    };
    let mut md = String::from("# ramsons report\n");
    for input in &inputs {
        md.push('\n');
        match input {
            Input::Run(run) => run_section(&mut md, run, &base, &mut outcome.drawn)?,
            Input::Sweep(sweep) => sweep_section(&mut md, sweep, &base, &mut outcome.drawn)?,
        }
    }
    std::fs::write(out, md).with_context(|| format!("writing {}", out.display()))?;
    Ok(outcome)
}

#[derive(Debug)]
enum Input {
    Run(RunFolder),
    Sweep(SweepFolder),
}

impl Input {
    fn open(path: &Path) -> anyhow::Result<Self> {
        if SweepFolder::is_sweep(path) {
            return Ok(Self::Sweep(SweepFolder::open(path)?));
        }
        if path.is_dir() && !path.join(MANIFEST_FILE).exists() {
            bail!(
                "{}: neither a run folder ({MANIFEST_FILE}) nor a sweep folder ({SWEEP_FILE})",
                path.display()
            );
        }
        Ok(Self::Run(RunFolder::open(path)?))
    }
}

fn run_section(
    md: &mut String,
    run: &RunFolder,
    base: &Path,
    drawn: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let m = &run.manifest;
    let label = format!("{} seed {}", m.scenario_name, m.seed);
    writeln!(md, "## Run: {}\n", escape(&label))?;
    writeln!(md, "Folder: {}\n", link(&run.path, base)?)?;
    writeln!(md, "| | |\n|---|---|")?;
    let facts = [
        (
            "scenario",
            format!(
                "{} (`{}`)",
                escape(&m.scenario_name),
                escape(&m.scenario_path)
            ),
        ),
        ("seed", m.seed.to_string()),
        ("trace hash", format!("`{}`", m.trace_hash)),
        ("code version", escape(&m.code_version)),
        ("routers", m.routers.to_string()),
        (
            "simulated",
            format!(
                "{} (metrics after a {} warmup), {} events",
                fmt_duration(m.sim_duration_s),
                fmt_duration(m.warmup_s),
                m.events
            ),
        ),
        ("wall time", format!("{:.1} s", m.wall_time_s)),
        (
            "peak memory",
            format!("{:.0} MiB", m.peak_memory_bytes as f64 / 1_048_576.0),
        ),
    ];
    for (name, value) in facts {
        writeln!(md, "| {name} | {value} |")?;
    }
    writeln!(md, "\n### Summary\n")?;
    match run.read_summary()? {
        Some(rows) if !rows.is_empty() => {
            writeln!(md, "| metric | value |\n|---|---:|")?;
            for r in rows {
                writeln!(md, "| {} | {} |", escape(&r.metric), number(r.value))?;
            }
        }
        Some(_) => writeln!(md, "The run recorded no summary scalars.")?,
        None => writeln!(
            md,
            "No summary.csv: the run was written before run summaries existed."
        )?,
    }
    let plots = run.plots_dir();
    if pngs(&plots).is_empty() {
        let report = plot_all(&[(label, run.clone())], &plots)
            .with_context(|| format!("drawing the charts of {}", run.path.display()))?;
        drawn.extend(report.written);
    }
    writeln!(md, "\n### Charts\n")?;
    let mut charts = pngs(&plots);
    // The order plot_all draws in; charts of unknown names last, by name.
    charts.sort_by_key(|p| {
        let stem = stem(p);
        (
            CHARTS
                .iter()
                .position(|c| *c == stem)
                .unwrap_or(CHARTS.len()),
            stem,
        )
    });
    if charts.is_empty() {
        writeln!(md, "No charts: the run holds none of the charted metrics.")?;
    }
    for chart in charts {
        writeln!(md, "{}\n", image(&chart, base)?)?;
    }
    Ok(())
}

fn sweep_section(
    md: &mut String,
    sweep: &SweepFolder,
    base: &Path,
    drawn: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let m = &sweep.manifest;
    writeln!(md, "## Sweep: {}\n", escape(&m.scenario_name))?;
    writeln!(md, "Folder: {}\n", link(&sweep.path, base)?)?;
    let parameters = if m.parameters.is_empty() {
        "none (only the seed varies)".to_owned()
    } else {
        m.parameters
            .iter()
            .map(|p| {
                let values: Vec<String> = p.values.iter().map(|v| escape(&v.to_string())).collect();
                format!("`{}` = {}", p.path, values.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let seeds: Vec<String> = m.seeds.iter().map(u64::to_string).collect();
    let runs: usize = m.points.iter().map(|p| p.runs.len()).sum();
    writeln!(md, "| | |\n|---|---|")?;
    let facts = [
        (
            "scenario",
            format!(
                "{} (`{}`)",
                escape(&m.scenario_name),
                escape(&m.scenario_path)
            ),
        ),
        ("parameters", parameters),
        ("seeds", seeds.join(", ")),
        (
            "runs",
            format!(
                "{runs} ({} points x {} seeds), {} at once, {:.1} s wall time",
                m.points.len(),
                m.seeds.len(),
                m.jobs,
                m.wall_time_s
            ),
        ),
        ("code version", escape(&m.code_version)),
    ];
    for (name, value) in facts {
        writeln!(md, "| {name} | {value} |")?;
    }
    let plots = sweep.plots_dir();
    if pngs(&plots).is_empty() {
        let report = plot_sweep(sweep, &SweepCharts::default(), &plots)
            .with_context(|| format!("drawing the charts of {}", sweep.path.display()))?;
        drawn.extend(report.written);
    }
    writeln!(
        md,
        "\nEach metric: its mean over the seeds of a point, and the 95% confidence interval of \
         that mean (Student t; none with a single seed)."
    )?;
    // Columns for the parameters that vary; the fixed ones are in the facts above. With
    // nothing varying, the point's label stands in.
    let columns: Vec<usize> = (0..m.parameters.len())
        .filter(|&i| m.parameters[i].values.len() > 1)
        .collect();
    for metric in sweep.metrics() {
        writeln!(md, "\n### {}\n", escape(metric))?;
        let mut header = String::from("|");
        let mut rule = String::from("|");
        for &i in &columns {
            write!(header, " {} |", escape(&m.parameters[i].path))?;
            rule.push_str("---|");
        }
        if columns.is_empty() {
            header.push_str(" point |");
            rule.push_str("---|");
        }
        writeln!(md, "{header} n | mean | 95% CI |\n{rule}---:|---:|---|")?;
        for point in &m.points {
            let Some(row) = sweep.row(point, metric) else {
                continue;
            };
            let mut line = String::from("|");
            for &i in &columns {
                let value = point.values.get(i).map(ToString::to_string);
                write!(line, " {} |", escape(&value.unwrap_or_default()))?;
            }
            if columns.is_empty() {
                write!(line, " {} |", escape(&point.label))?;
            }
            let ci = match (row.ci95_low, row.ci95_high) {
                (Some(lo), Some(hi)) => format!("{} to {}", number(lo), number(hi)),
                _ => "-".to_owned(),
            };
            writeln!(md, "{line} {} | {} | {ci} |", row.n, number(row.mean))?;
        }
        let chart = plots.join(format!("{}.png", chart_name(metric)));
        if chart.is_file() {
            writeln!(md, "\n{}", image(&chart, base)?)?;
        }
    }
    writeln!(md, "\n### Runs\n")?;
    writeln!(
        md,
        "| point | seed | folder | trace hash | wall time |\n|---|---:|---|---|---:|"
    )?;
    for point in &m.points {
        for run in &point.runs {
            let path = sweep.run_path(run);
            // A sweep folder whose runs were pruned still gets its report.
            let folder = if path.is_dir() {
                format!("[{}]({})", escape(&run.folder), target(&path, base)?)
            } else {
                format!("{} (missing)", escape(&run.folder))
            };
            writeln!(
                md,
                "| {} | {} | {} | `{}` | {:.1} s |",
                escape(&point.label),
                run.seed,
                folder,
                run.trace_hash.get(..16).unwrap_or(&run.trace_hash),
                run.wall_time_s
            )?;
        }
    }
    Ok(())
}

/// The PNG files directly in `dir`, none if it does not exist.
fn pngs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png") && p.is_file())
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `![stem](relative path)`.
fn image(path: &Path, base: &Path) -> anyhow::Result<String> {
    Ok(format!(
        "![{}]({})",
        escape(&stem(path)),
        target(path, base)?
    ))
}

/// `[path as given](relative path)`.
fn link(path: &Path, base: &Path) -> anyhow::Result<String> {
    Ok(format!(
        "[{}]({})",
        escape(&path.display().to_string()),
        target(path, base)?
    ))
}

/// A link target: the path relative to `base`, in angle brackets when it holds characters
/// a bare Markdown link target cannot.
fn target(path: &Path, base: &Path) -> anyhow::Result<String> {
    let full = path
        .canonicalize()
        .with_context(|| format!("resolving {}", path.display()))?;
    let rel = relative(&full, base).display().to_string();
    Ok(if rel.contains([' ', '(', ')', '<', '>']) {
        format!("<{rel}>")
    } else {
        rel
    })
}

/// `path` relative to the directory `base`; both absolute and canonical.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let p: Vec<Component<'_>> = path.components().collect();
    let b: Vec<Component<'_>> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut rel = PathBuf::new();
    for _ in common..b.len() {
        rel.push("..");
    }
    for c in &p[common..] {
        rel.push(c);
    }
    if rel.as_os_str().is_empty() {
        rel.push(".");
    }
    rel
}

/// Text safe inside a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A number for a table: integers as they are, others to 4 significant digits.
fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - magnitude).clamp(0, 7) as usize;
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{CsvWriter, LookupRecord, Manifest, SummaryRecord};
    use crate::sweep::tests::write_sweep;

    fn tiny_run(dir: &Path) {
        std::fs::create_dir_all(dir).expect("mkdir");
        let manifest = Manifest {
            scenario_name: "tiny".into(),
            scenario_path: "scenarios/tiny.toml".into(),
            scenario_toml: "[general]\nseed = 4\n".into(),
            seed: 4,
            code_version: "0.1.0".into(),
            trace_hash: "cd".repeat(32),
            events: 1234,
            routers: 24,
            sim_start_unix_s: 1_700_000_000,
            sim_duration_s: 600.0,
            warmup_s: 120.0,
            sample_interval_s: 60.0,
            wall_time_s: 0.25,
            peak_memory_bytes: 50 << 20,
            metrics: vec!["lookup.csv".into(), "summary.csv".into()],
        };
        std::fs::write(
            dir.join(MANIFEST_FILE),
            serde_json::to_string(&manifest).expect("json"),
        )
        .expect("write");
        let mut w = CsvWriter::<LookupRecord>::create(dir).expect("create");
        for i in 0..20 {
            w.write(&LookupRecord {
                time_s: 130.0 + 20.0 * f64::from(i),
                router: i,
                target: "AAAAAAAA".into(),
                outcome: if i % 4 == 0 { "not_found" } else { "found" }.into(),
                latency_ms: 100.0 + f64::from(i),
                peers_queried: 1,
                timeouts: 0,
            })
            .expect("write");
        }
        w.finish().expect("finish");
        let mut w = CsvWriter::<SummaryRecord>::create(dir).expect("create");
        for (metric, value) in [("lookups", 20.0), ("lookup_success", 0.75)] {
            w.write(&SummaryRecord {
                metric: metric.into(),
                value,
            })
            .expect("write");
        }
        w.finish().expect("finish");
    }

    #[test]
    fn report_on_one_run_draws_its_charts_and_links_them() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let run = tmp.path().join("runs").join("tiny seed4");
        tiny_run(&run);
        let out = default_report_path(std::slice::from_ref(&run));
        assert_eq!(out, run.join("report.md"));
        let outcome = write_report(std::slice::from_ref(&run), &out).expect("report");
        assert!(!outcome.drawn.is_empty(), "charts drawn: there were none");
        let md = std::fs::read_to_string(&out).expect("report");
        assert!(md.contains("## Run: tiny seed 4"), "{md}");
        assert!(
            md.contains(&format!("| trace hash | `{}` |", "cd".repeat(32))),
            "{md}"
        );
        assert!(md.contains("| routers | 24 |"), "{md}");
        assert!(md.contains("| peak memory | 50 MiB |"), "{md}");
        assert!(md.contains("| lookup_success | 0.7500 |"), "{md}");
        assert!(md.contains("| lookups | 20 |"), "{md}");
        // Relative to the report, which sits in the run folder.
        assert!(
            md.contains("![lookup_latency_cdf](plots/lookup_latency_cdf.png)"),
            "{md}"
        );
        assert!(
            md.contains("![lookup_success](plots/lookup_success.png)"),
            "{md}"
        );
        assert!(run.join("plots/lookup_success.png").is_file());

        // Written elsewhere, links climb out; existing charts are not redrawn.
        let elsewhere = tmp.path().join("reports").join("all.md");
        let outcome = write_report(std::slice::from_ref(&run), &elsewhere).expect("report");
        assert!(outcome.drawn.is_empty());
        let md = std::fs::read_to_string(&elsewhere).expect("report");
        assert!(
            md.contains("(<../runs/tiny seed4/plots/lookup_success.png>)"),
            "{md}"
        );
    }

    #[test]
    fn report_on_a_sweep_and_a_run() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let sweep = tmp.path().join("sweep");
        std::fs::create_dir(&sweep).expect("mkdir");
        write_sweep(&sweep);
        // The sweep's run folders, so their links resolve.
        let manifest = SweepFolder::open(&sweep).expect("opens").manifest;
        for point in &manifest.points {
            for run in &point.runs {
                tiny_run(&sweep.join(&run.folder));
            }
        }
        let run = tmp.path().join("run");
        tiny_run(&run);
        let out = tmp.path().join("report.md");
        write_report(&[sweep.clone(), run], &out).expect("report");
        let md = std::fs::read_to_string(&out).expect("report");
        assert!(md.contains("## Sweep: unit"), "{md}");
        assert!(md.contains("`routers.1.count` = 20, 40"), "{md}");
        assert!(md.contains("### lookup_success"), "{md}");
        assert!(
            md.contains("| routers.1.count | general.stop_time | n | mean | 95% CI |"),
            "{md}"
        );
        assert!(
            md.contains("| 40 | 20 min | 2 | 0.6500 | 0.5500 to 0.7500 |"),
            "{md}"
        );
        assert!(md.contains("| 20 | 10 min | 1 | 100 | - |"), "{md}");
        assert!(
            md.contains("![lookup_success](sweep/plots/lookup_success.png)"),
            "{md}"
        );
        assert!(md.contains("## Run: tiny seed 4"), "{md}");
        assert!(md.contains("(run/plots/lookup_success.png)"), "{md}");
    }

    #[test]
    fn bad_folders_are_named() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let err = write_report(&[tmp.path().to_path_buf()], &tmp.path().join("r.md"))
            .expect_err("empty folder");
        assert!(err.to_string().contains("neither a run folder"), "{err}");
        let err = write_report(&[tmp.path().join("nope")], &tmp.path().join("r.md"))
            .expect_err("no folder");
        assert!(err.to_string().contains("nope"), "{err}");
        assert!(!tmp.path().join("r.md").exists());
    }

    #[test]
    fn paths_and_numbers() {
        let rel = |p: &str, b: &str| relative(Path::new(p), Path::new(b));
        assert_eq!(rel("/a/b/c.png", "/a/b"), PathBuf::from("c.png"));
        assert_eq!(rel("/a/x/c.png", "/a/b"), PathBuf::from("../x/c.png"));
        assert_eq!(rel("/a", "/a"), PathBuf::from("."));
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.987_654), "0.9877");
        assert_eq!(number(12.345_67), "12.35");
        assert_eq!(number(12_345.678), "12346");
        assert_eq!(number(0.000_012), "1.200e-5");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(escape("a|b"), "a\\|b");
    }
}
