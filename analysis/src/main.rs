//! `ramsons-analysis`: charts and comparisons over simulator run folders.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use ramsons_analysis::{default_labels, plot_all, RunFolder};

/// Charts and comparisons over ramsons run folders.
///
/// A run folder is what `ramsons-sim run <scenario.toml>` writes: manifest.json, one CSV per
/// metric (lookup.csv, store.csv, floodfill_load.csv, netdb_coverage.csv and, with tunnels,
/// tunnel_build.csv and tunnels.csv) and plots/.
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
    /// tunnel_build_latency_cdf, tunnel_build_success, tunnel_tiers, transit_load; a chart is
    /// skipped when no folder has its CSV.
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
    }
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
