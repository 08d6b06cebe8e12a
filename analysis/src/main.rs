//! `ramsons-analysis`: charts and comparisons over simulator run folders.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use ramsons_analysis::meta;
use ramsons_analysis::multihoming;
use ramsons_analysis::records::{EdgeRecord, MetaLeaseSetRecord, MultihomingRecord};
use ramsons_analysis::report::default_report_path;
use ramsons_analysis::{
    default_labels, plot_all, plot_sweep, write_report, RunFolder, SweepCharts, SweepFolder,
};

/// Charts, comparisons and reports over ramsons run folders and sweep folders.
///
/// A run folder is what `ramsons-sim run <scenario.toml>` writes: manifest.json, one CSV per
/// metric (lookup.csv, store.csv, floodfill_load.csv, netdb_coverage.csv and, with tunnels,
/// tunnel_build.csv and tunnels.csv; with destinations delivery.csv, with [streams]
/// streams.csv), summary.csv (the run's scalars) and plots/. A sweep
/// folder is what `ramsons-sim sweep` writes: sweep.json, sweep.csv and one run folder per
/// point and seed.
#[derive(Debug, Parser)]
#[command(name = "ramsons-analysis", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Draw every chart whose data the run folders hold, as PNG and SVG.
    ///
    /// With one folder, the charts are redrawn into <RUN_FOLDER>/plots/. With several, the runs
    /// are overlaid on each chart (one colour per run, e.g. several seeds or variants of a
    /// scenario) and written to ./compare-plots/. Charts: lookup_latency_cdf, lookup_success,
    /// floodfill_load, netdb_coverage, netdb_coverage_fraction, store_flood,
    /// tunnel_build_latency_cdf, tunnel_build_success, tunnel_tiers, transit_load,
    /// delivery_latency_cdf, delivery_success, stream_completion_cdf, stream_ttfb_cdf,
    /// victim_router_infos, tier_capture, islands; a chart is skipped when no folder has its
    /// CSV.
    #[command(after_help = "Examples:\n  \
        ramsons-analysis plot runs/floodfill-baseline-s1\n  \
        ramsons-analysis plot runs/ff-s1 runs/ff-s2 --out cmp -l 'seed 1' -l 'seed 2'")]
    Plot {
        /// Run folders (each holding a manifest.json).
        #[arg(required = true, value_name = "RUN_FOLDER")]
        runs: Vec<PathBuf>,
        /// Output folder (created if needed). Default: <RUN_FOLDER>/plots for one folder,
        /// ./compare-plots for several.
        #[arg(short, long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Legend label of a run; repeat once per folder, in the same order. Default:
        /// "<scenario_name> seed <seed>", or the folder name when those collide.
        #[arg(short, long = "label", value_name = "NAME")]
        labels: Vec<String>,
    },
    /// Chart a sweep: per summary metric, the mean over seeds with 95% confidence intervals
    /// against a swept parameter, into <SWEEP_DIR>/plots/ as PNG and SVG.
    ///
    /// With two or more parameters, each combination of the others' values gets its own line.
    /// Parameters whose values are all numbers (or quantities in one unit, like "10 min") get
    /// a numeric axis; others are spaced evenly in the order given.
    #[command(after_help = "Examples:\n  \
        ramsons-analysis sweep sweeps/ff-share\n  \
        ramsons-analysis sweep sweeps/ff-share --metric lookup_success --metric lookups\n  \
        ramsons-analysis sweep sweeps/grid --x general.stop_time")]
    Sweep {
        /// A sweep folder (holding sweep.json and sweep.csv).
        sweep: PathBuf,
        /// A summary metric to chart; repeat for several. Default: every metric of sweep.csv.
        #[arg(short, long = "metric", value_name = "NAME")]
        metrics: Vec<String>,
        /// The parameter on the x axis: its dotted path or its last segment when unique.
        /// Default: the first parameter with more than one value.
        #[arg(short, long, value_name = "PARAM")]
        x: Option<String>,
        /// Space the x parameter's values evenly, in the order given, even when they are
        /// numbers (e.g. 2000, 30, 20, 16, 12 would otherwise crowd at one end).
        #[arg(long)]
        categories: bool,
        /// One chart of all the --metric given instead of one each (e.g. a measured value
        /// and a model's prediction of it), written as <METRIC>-and-<METRIC>...png.
        #[arg(long)]
        together: bool,
    },
    /// Say, from a run's multihoming.csv alone, which destinations look multihomed and on
    /// how many routers (`ramsons_analysis::multihoming`), next to the truth.
    ///
    /// One line per destination the observer saw: distinct LeaseSets, chains of LeaseSets
    /// sharing a lease, the estimated routers (most chains alive at once), the verdict,
    /// distinct LeaseSets per hour, LeaseSets seen after a later-published one, distinct
    /// gateways. By default the observer is every floodfill; `--colluding` keeps the
    /// colluding floodfills' stores, `--floodfill` the given floodfills' (router indices).
    ///
    /// A run with a `mode = "meta"` destination gets a second table
    /// (`ramsons_analysis::meta`): the edges its newest MetaLeaseSet lists, the edges the
    /// view saw a LeaseSet2 of, and how well it tells which are online, sampled every 10 s
    /// after warmup: the share of samples right, outages and comebacks noticed and their
    /// mean delays.
    #[command(after_help = "Examples:\n  \
        ramsons-analysis multihoming runs/multihoming-naive-seed1\n  \
        ramsons-analysis multihoming runs/multihoming-naive-seed1 --colluding\n  \
        ramsons-analysis multihoming runs/multihoming-naive-seed1 --floodfill 0 --floodfill 3")]
    Multihoming {
        /// A run folder holding multihoming.csv (a scenario with `[clients] multihomed`).
        run: PathBuf,
        /// Only the stores colluding floodfills received.
        #[arg(long)]
        colluding: bool,
        /// Only the stores this floodfill received; repeat for several.
        #[arg(long = "floodfill", value_name = "ROUTER")]
        floodfills: Vec<u64>,
    },
    /// Write a Markdown report on run folders and sweep folders.
    ///
    /// Per run: the manifest facts (scenario, seed, trace hash, routers, simulated and wall
    /// time, peak memory), its summary.csv table and its charts. Per sweep: its parameters and
    /// seeds, a table per summary metric (mean and 95% CI per point) with its chart, and its
    /// runs. Charts missing from a folder's plots/ are drawn first; images are linked with
    /// paths relative to the report. An existing report file is replaced.
    #[command(after_help = "Examples:\n  \
        ramsons-analysis report runs/quickstart-seed1            # writes runs/quickstart-seed1/report.md\n  \
        ramsons-analysis report sweeps/ff-share                  # writes sweeps/ff-share/report.md\n  \
        ramsons-analysis report runs/a runs/b sweeps/c --out study.md")]
    Report {
        /// Run folders and sweep folders, reported in this order.
        #[arg(required = true, value_name = "FOLDER")]
        folders: Vec<PathBuf>,
        /// The report file. Default: <FOLDER>/report.md for one folder, ./report.md for
        /// several.
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Plot { runs, out, labels } => plot(runs, out, labels),
        Command::Sweep {
            sweep,
            metrics,
            x,
            categories,
            together,
        } => sweep_charts(
            &sweep,
            &SweepCharts {
                metrics: &metrics,
                x: x.as_deref(),
                categories,
                together,
            },
        ),
        Command::Multihoming {
            run,
            colluding,
            floodfills,
        } => multihoming(&run, colluding, &floodfills),
        Command::Report { folders, out } => {
            let out = out.unwrap_or_else(|| default_report_path(&folders));
            let outcome = write_report(&folders, &out)?;
            for file in &outcome.drawn {
                eprintln!("drew {}", file.display());
            }
            println!("{}", outcome.path.display());
            Ok(())
        }
    }
}

fn multihoming(dir: &Path, colluding: bool, floodfills: &[u64]) -> anyhow::Result<()> {
    let folder = RunFolder::open(dir)?;
    let Some(records) = folder.read::<MultihomingRecord>()? else {
        bail!(
            "{} has no multihoming.csv: run a scenario with [clients] multihomed",
            dir.display()
        );
    };
    let truth: BTreeMap<u64, u64> = records.iter().map(|r| (r.destination, r.routers)).collect();
    let verdicts = multihoming::estimate_all(&records, |r| {
        (!colluding || r.colluding) && (floodfills.is_empty() || floodfills.contains(&r.floodfill))
    });
    println!(
        "destination,routers,lease_sets,chains,estimated_routers,multihomed,publishes_per_hour,backwards,gateways"
    );
    for (d, v) in &verdicts {
        println!(
            "{d},{},{},{},{},{},{:.1},{},{}",
            truth.get(d).copied().unwrap_or(0),
            v.lease_sets,
            v.chains,
            v.estimated_routers,
            v.multihomed,
            v.publishes_per_hour,
            v.backwards,
            v.gateways
        );
    }
    let (Some(metas), Some(edges)) = (
        folder.read::<MetaLeaseSetRecord>()?,
        folder.read::<EdgeRecord>()?,
    ) else {
        return Ok(());
    };
    // A run with a meta destination: what its MetaLeaseSet and its edges' LeaseSet2s
    // tell the same view, sampled every 10 s after warmup.
    let manifest = &folder.manifest;
    let window = (manifest.warmup_s, manifest.sim_duration_s, 10.0);
    let keep = |floodfill: u64, is_colluding: bool| {
        (!colluding || is_colluding) && (floodfills.is_empty() || floodfills.contains(&floodfill))
    };
    println!();
    println!("meta_destination,listed,edges,edges_seen,online_accuracy,downs,downs_noticed,down_lag_s,ups,ups_noticed,up_lag_s");
    let show = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
    for (d, v) in meta::judge_all(&records, &metas, &edges, keep, window) {
        let accuracy = v.online.as_ref().map(|s| s.accuracy);
        let s = v.online.unwrap_or_default();
        println!(
            "{d},{},{},{},{},{},{},{},{},{},{}",
            v.listed.map_or(String::new(), |l| l.to_string()),
            v.edges,
            v.edges_seen,
            show(accuracy),
            s.downs,
            s.downs_noticed,
            show(s.down_lag_s),
            s.ups,
            s.ups_noticed,
            show(s.up_lag_s)
        );
    }
    Ok(())
}

fn sweep_charts(dir: &Path, charts: &SweepCharts<'_>) -> anyhow::Result<()> {
    let sweep = SweepFolder::open(dir)?;
    let out = sweep.plots_dir();
    let report = plot_sweep(&sweep, charts, &out)
        .with_context(|| format!("plotting into {}", out.display()))?;
    for (_, reason) in &report.skipped {
        eprintln!("skipped {reason}");
    }
    for file in &report.written {
        println!("{}", file.display());
    }
    Ok(())
}

fn plot(paths: Vec<PathBuf>, out: Option<PathBuf>, labels: Vec<String>) -> anyhow::Result<()> {
    if !labels.is_empty() && labels.len() != paths.len() {
        bail!(
            "{} labels for {} run folders: give one --label per folder, or none",
            labels.len(),
            paths.len()
        );
    }
    let folders = paths
        .iter()
        .map(RunFolder::open)
        .collect::<Result<Vec<_>, _>>()?;
    let labels = if labels.is_empty() {
        default_labels(&folders)
    } else {
        let distinct: BTreeSet<&String> = labels.iter().collect();
        if distinct.len() != labels.len() {
            bail!("labels must be distinct: {labels:?}");
        }
        labels
    };
    let out = match (out, folders.as_slice()) {
        (Some(out), _) => out,
        (None, [one]) => one.plots_dir(),
        _ => PathBuf::from("compare-plots"),
    };
    let runs: Vec<(String, RunFolder)> = labels.into_iter().zip(folders).collect();
    let report =
        plot_all(&runs, &out).with_context(|| format!("plotting into {}", out.display()))?;
    for (chart, reason) in &report.skipped {
        eprintln!("skipped {chart}: {reason}");
    }
    if report.written.is_empty() {
        eprintln!("no charts drawn: the run folders hold none of the plotted metrics");
    }
    for file in &report.written {
        println!("{}", file.display());
    }
    Ok(())
}
