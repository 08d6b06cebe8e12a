//! `ramsons-sim`: run, replay and benchmark simulated I2P networks.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use ramsons_analysis::records::{Manifest, MANIFEST_FILE};
use ramsons_sim::progress::Bar;
use ramsons_sim::run::{fresh_run_dir, simulate, write_run, LoadedScenario, Simulated};
use ramsons_sim::sweep::{self, parse_seeds, Param, Plan};
use ramsons_sim::{bench, memory};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Deterministic discrete-event simulator of thousands of I2P routers.
///
/// Every router is the real ramsons router core; the simulator supplies simulated time,
/// links (latency, jitter, loss, bandwidth) and faults (churn, crashes, partitions, mass
/// withdrawal). The same scenario file and seed always produce the same event trace.
#[derive(Debug, Parser)]
#[command(name = "ramsons-sim", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and write a run folder: manifest.json, one CSV per metric, plots/.
    Run {
        /// The scenario file (TOML), e.g. scenarios/quickstart.toml.
        scenario: PathBuf,
        /// Use this seed instead of the scenario's `general.seed`.
        #[arg(long)]
        seed: Option<u64>,
        /// Write the run folder here (it must not exist). Default: <runs-dir>/<scenario>-seed<seed>.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Parent folder of run folders when --out is not given.
        #[arg(long, default_value = "runs")]
        runs_dir: PathBuf,
        /// Skip drawing plots at the end (they can be drawn later with ramsons-analysis plot).
        #[arg(long)]
        no_plots: bool,
        /// No progress bar and no summary; print only the run folder.
        #[arg(long)]
        quiet: bool,
    },
    /// Re-run the scenario recorded in a run folder and check that the trace hash matches.
    ///
    /// Exits with status 1 when it does not.
    Replay {
        /// A run folder written by `ramsons-sim run`.
        run: PathBuf,
        /// Also write the replayed run as a new run folder here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Run a scenario over a grid of parameter values and seeds, several runs at once.
    ///
    /// Each --set names a field of the scenario by its dotted TOML path (array elements by
    /// index: routers.1.count is the count of the second [[routers]] group; missing tables
    /// are created) and the values to try, comma separated. Values are TOML numbers,
    /// booleans or strings; quotes are optional for strings ("10 min" or 10 min), and commas
    /// inside quotes do not split. Every combination of the values (the first --set varies
    /// slowest) runs once per seed; a --set with a single value changes the scenario for
    /// every point (e.g. a shorter stop_time). Every combination is checked before the first
    /// run starts.
    ///
    /// Writes <OUT>/ (refused if it exists; assembled as .<OUT>.partial and renamed when
    /// complete): one run folder per point and seed, <point>-seed<seed>/, without charts
    /// unless --plots; sweep.json (scenario, parameters, seeds, points, their run folders
    /// and trace hashes); sweep.csv (per point and summary.csv metric: n, mean, std dev and
    /// 95% confidence interval over the seeds). Chart it with
    /// `ramsons-analysis sweep <OUT>`, report it with `ramsons-analysis report <OUT>`.
    ///
    /// Runs are single-threaded and deterministic: a run's trace hash does not depend on
    /// --jobs. Peak memory in each run's manifest is that of the whole sweep process so far.
    #[command(after_help = "Examples:\n  \
        ramsons-sim sweep scenarios/quickstart.toml --set routers.1.count=100,200,400 --seeds 1..5 --out sweeps/size\n  \
        ramsons-sim sweep scenarios/quickstart.toml --set network.loss=0,0.01,0.05 \\\n      \
        --set 'general.stop_time=20 min,40 min' --seeds 1,2,3 --jobs 2 --out sweeps/loss")]
    Sweep {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// PATH=VALUE,VALUE,...: a parameter and its values; repeat for a grid.
        #[arg(long = "set", value_name = "PATH=V1,V2,...")]
        sets: Vec<String>,
        /// Seeds of every point: a list and inclusive ranges, e.g. 1,2,3 or 1..5 or 1..3,10.
        /// Default: the scenario's general.seed.
        #[arg(long, value_name = "SEEDS")]
        seeds: Option<String>,
        /// Runs at once. Default: the number of cores available.
        #[arg(short, long, value_name = "N")]
        jobs: Option<usize>,
        /// The sweep folder to write (must not exist).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Also draw every run's charts into its plots/ (slow for big sweeps).
        #[arg(long)]
        plots: bool,
        /// Print only the sweep folder, no line per run.
        #[arg(long)]
        quiet: bool,
    },
    /// Measure the simulator at several network sizes and write a Markdown table.
    ///
    /// Each size runs in its own process, so peak memory is per size.
    Bench {
        /// Network sizes (routers), comma separated.
        #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000,20000")]
        sizes: Vec<u64>,
        /// Simulated time per size.
        #[arg(long, default_value = "1 h")]
        duration: String,
        /// Share of floodfills.
        #[arg(long, default_value_t = 0.06)]
        floodfill_share: f64,
        /// Scenario whose settings are scaled to each size.
        #[arg(long, default_value = "scenarios/netdb-baseline.toml")]
        base: PathBuf,
        /// Where to write the table.
        #[arg(long, default_value = "sim/BENCHMARKS.md")]
        output: PathBuf,
        /// Scratch folder for the generated scenarios and runs.
        #[arg(long, default_value = "target/bench-runs")]
        work_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<ExitCode> {
    match Cli::parse().command {
        Command::Run {
            scenario,
            seed,
            out,
            runs_dir,
            no_plots,
            quiet,
        } => {
            let loaded = LoadedScenario::load(&scenario)?.with_seed(seed);
            let dir = match out {
                Some(dir) if dir.exists() => bail!(
                    "{} already exists; choose another --out (run folders are never overwritten)",
                    dir.display()
                ),
                Some(dir) => dir,
                None => fresh_run_dir(&runs_dir, &loaded.name(), loaded.scenario.general.seed),
            };
            let mut simulated = simulate_with_bar(&loaded, quiet)?;
            let plots = write_run(&dir, &mut simulated, !no_plots)?;
            if quiet {
                println!("{}", dir.display());
            } else {
                // A closed pipe (`| head`) is not an error of the run.
                if let Err(e) = print_summary(&dir, &simulated, plots.len()) {
                    if e.kind() != std::io::ErrorKind::BrokenPipe {
                        return Err(e.into());
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay { run, out, quiet } => replay(&run, out, quiet),
        Command::Sweep {
            scenario,
            sets,
            seeds,
            jobs,
            out,
            plots,
            quiet,
        } => {
            let params = sets
                .iter()
                .map(|s| Param::parse(s))
                .collect::<Result<Vec<_>, _>>()?;
            let seeds = seeds.as_deref().map(parse_seeds).transpose()?;
            let plan = Plan::new(&scenario, params, seeds.unwrap_or_default())?;
            let jobs = match jobs {
                Some(n) => n,
                None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            };
            let total = plan.runs();
            if !quiet {
                let plural =
                    |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
                eprintln!(
                    "sweep: {} x {} = {}, {} at once, into {}",
                    plural(plan.points.len(), "point"),
                    plural(plan.seeds.len(), "seed"),
                    plural(total, "run"),
                    jobs.min(total),
                    out.display()
                );
            }
            let options = sweep::Options {
                out: out.clone(),
                jobs,
                run_plots: plots,
            };
            let manifest = sweep::run(&plan, &options, |run, done| {
                if !quiet {
                    eprintln!(
                        "[{done}/{total}] {} in {:.1} s",
                        run.folder, run.wall_time_s
                    );
                }
            })?;
            if !quiet {
                eprintln!(
                    "done in {:.1} s; chart it: ramsons-analysis sweep {}",
                    manifest.wall_time_s,
                    out.display()
                );
            }
            println!("{}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            sizes,
            duration,
            floodfill_share,
            base,
            output,
            work_dir,
        } => {
            if sizes.is_empty() {
                bail!("--sizes needs at least one size");
            }
            duration
                .parse::<ramsons_router::units::Span>()
                .map_err(|e| anyhow::anyhow!("--duration: {e}"))?;
            let exe = std::env::current_exe().context("cannot find this executable")?;
            eprintln!("benchmarking sizes {sizes:?}, {duration} each (one process per size)");
            let rows = bench::run_sizes(
                &exe,
                &base,
                &sizes,
                floodfill_share,
                &duration,
                &work_dir,
                |row| {
                    eprintln!(
                        "  {:>6} routers: {:.1} s wall, {} events, {:.0} MiB peak",
                        row.routers,
                        row.manifest.wall_time_s,
                        row.manifest.events,
                        row.manifest.peak_memory_bytes as f64 / 1048576.0
                    )
                },
            )?;
            let table = bench::markdown(
                &rows,
                &base,
                floodfill_share,
                &duration,
                &bench::machine_description(),
            );
            std::fs::write(&output, &table)
                .with_context(|| format!("cannot write {}", output.display()))?;
            print!("{table}");
            eprintln!("wrote {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn simulate_with_bar(loaded: &LoadedScenario, quiet: bool) -> Result<Simulated> {
    check_memory(loaded, quiet)?;
    let mut bar = Bar::new(loaded.scenario.general.stop_time.0, !quiet);
    let simulated = simulate(loaded, &mut bar);
    bar.finish();
    simulated
}

/// Refuses, before the first event, a run whose estimated peak memory exceeds what the
/// machine has available: better said now than killed by the kernel an hour in.
/// `RAMSONS_SIM_IGNORE_MEMORY=1` runs it anyway (the estimate is pessimistic).
fn check_memory(loaded: &LoadedScenario, quiet: bool) -> Result<()> {
    match memory::check(&loaded.scenario, memory::available_bytes()) {
        memory::Fit::TooBig {
            estimate,
            available,
        } if std::env::var_os("RAMSONS_SIM_IGNORE_MEMORY").is_none() => bail!(
            "{} needs about {} at its peak and this machine has {} available; \
             run a smaller scenario, free memory, or set RAMSONS_SIM_IGNORE_MEMORY=1 to try anyway",
            loaded.path.display(),
            memory::gib(estimate),
            memory::gib(available)
        ),
        memory::Fit::TooBig {
            estimate,
            available,
        } => eprintln!(
            "warning: about {} needed, {} available; running anyway",
            memory::gib(estimate),
            memory::gib(available)
        ),
        memory::Fit::Fits {
            estimate,
            available: Some(available),
        } if !quiet && estimate > 1 << 30 => eprintln!(
            "memory: about {} needed at the peak, {} available",
            memory::gib(estimate),
            memory::gib(available)
        ),
        memory::Fit::Fits { .. } => {}
    }
    Ok(())
}

fn replay(run: &Path, out: Option<PathBuf>, quiet: bool) -> Result<ExitCode> {
    let manifest_path = run.join(MANIFEST_FILE);
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?,
    )
    .with_context(|| format!("{} is not a ramsons manifest", manifest_path.display()))?;
    if let Some(dir) = &out {
        if dir.exists() {
            bail!("{} already exists; choose another --out", dir.display());
        }
    }
    let loaded = LoadedScenario::from_text(
        Path::new(&manifest.scenario_path),
        manifest.scenario_toml.clone(),
    )?
    .with_seed(Some(manifest.seed));
    let mut simulated = simulate_with_bar(&loaded, quiet)?;
    let replayed = simulated.manifest.trace_hash.clone();
    if let Some(dir) = &out {
        write_run(dir, &mut simulated, true)?;
        println!("replayed run written to {}", dir.display());
    }
    if replayed == manifest.trace_hash {
        println!("trace hash matches: {replayed}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "trace hash DIFFERS\n  recorded: {} (code {})\n  replayed: {replayed} (code {})",
        manifest.trace_hash,
        manifest.code_version,
        ramsons_sim::run::code_version()
    );
    Ok(ExitCode::from(1))
}

fn print_summary(dir: &Path, simulated: &Simulated, plots: usize) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let m = &simulated.manifest;
    writeln!(out, "run folder: {}", dir.display())?;
    writeln!(
        out,
        "  {} routers, {:.0} s simulated, {} events in {:.1} s ({:.0} events/s), peak memory {:.0} MiB",
        m.routers,
        m.sim_duration_s,
        m.events,
        m.wall_time_s,
        m.events as f64 / m.wall_time_s.max(1e-9),
        m.peak_memory_bytes as f64 / 1048576.0
    )?;
    let lookups = simulated.outcome.metrics.lookups();
    if !lookups.is_empty() {
        let mut found: Vec<f64> = lookups
            .iter()
            .filter(|l| l.outcome == "found")
            .map(|l| l.latency_ms)
            .collect();
        found.sort_by(f64::total_cmp);
        let median = found.get(found.len() / 2).copied().unwrap_or(f64::NAN);
        writeln!(
            out,
            "  lookups after warmup: {}, found {:.1}%, median latency {:.0} ms",
            lookups.len(),
            100.0 * found.len() as f64 / lookups.len() as f64,
            median
        )?;
    }
    let coverage = simulated.outcome.metrics.coverage();
    if let Some(last) = coverage.iter().rev().find(|c| c.role == "router") {
        writeln!(
            out,
            "  netDb at the end: routers know a median of {} RouterInfos ({:.0}% of online routers)",
            last.median_known,
            100.0 * last.mean_coverage
        )?;
    }
    let deliveries = simulated.outcome.metrics.deliveries();
    if !deliveries.is_empty() {
        let mut latency: Vec<f64> = deliveries.iter().filter_map(|d| d.latency_ms).collect();
        latency.sort_by(f64::total_cmp);
        writeln!(
            out,
            "  client messages after warmup: {}, delivered {:.1}%, median latency {:.0} ms",
            deliveries.len(),
            100.0 * latency.len() as f64 / deliveries.len() as f64,
            latency.get(latency.len() / 2).copied().unwrap_or(f64::NAN)
        )?;
    }
    if let Some(c) = simulated.outcome.metrics.collusion() {
        writeln!(
            out,
            "  colluders ({} of {} routers) held both ends of {} of {} tunnels ({:.2}%; uniform selection: {:.2}%), joined {}",
            c.colluders,
            c.routers,
            c.both_ends_colluding,
            c.tunnels_built,
            100.0 * c.fraction,
            100.0 * c.expected_uniform,
            c.observations
        )?;
    }
    let d = simulated.drops;
    writeln!(
        out,
        "  messages dropped: {} lost, {} across a partition, {} to offline routers, {} to \
         undialable routers without a session",
        d.lost, d.partitioned, d.offline, d.undialable
    )?;
    writeln!(
        out,
        "  metrics: {}; {plots} chart files in plots/",
        m.metrics.join(", ")
    )?;
    writeln!(out, "  trace hash: {}", m.trace_hash)
}
