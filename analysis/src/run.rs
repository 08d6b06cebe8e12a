//! Opening a run folder and loading its metric CSVs.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::records::{
    CoverageRecord, FloodfillLoadRecord, LookupRecord, Manifest, Metric, StoreRecord,
    SummaryRecord, TunnelBuildRecord, TunnelSampleRecord, MANIFEST_FILE, PLOTS_DIR,
};

/// Errors opening a run folder or reading one of its files. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: no such directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("{}: missing; is this a run folder written by ramsons-sim?", .0.display())]
    MissingManifest(PathBuf),
    #[error("{}: missing; is this a sweep folder written by ramsons-sim sweep?", .0.display())]
    MissingSweep(PathBuf),
    #[error("{}: the manifest lists this metric but the file is missing", .0.display())]
    MissingMetric(PathBuf),
    #[error("{}: {error}", .path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{}: invalid manifest: {error}", .path.display())]
    Manifest {
        path: PathBuf,
        error: serde_json::Error,
    },
    #[error("{}{}{}: {}", .path.display(), Line(*.line), Column(.column.as_ref()), CsvMessage(.error))]
    Csv {
        path: PathBuf,
        /// 1-based line of the offending row, when the csv crate knows it.
        line: Option<u64>,
        /// 1-based column and its header name, when known.
        column: Option<(u64, String)>,
        error: csv::Error,
    },
}

impl LoadError {
    /// The file (or folder) the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::NotADirectory(p)
            | Self::MissingManifest(p)
            | Self::MissingSweep(p)
            | Self::MissingMetric(p) => p,
            Self::Io { path, .. } | Self::Manifest { path, .. } | Self::Csv { path, .. } => path,
        }
    }
}

// The underlying errors are part of the message rather than `source()`, so printing the chain
// (anyhow's `{:#}`) does not repeat them.

struct Line(Option<u64>);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, " line {line}"),
            None => Ok(()),
        }
    }
}

struct Column<'a>(Option<&'a (u64, String)>);

impl fmt::Display for Column<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((n, name)) if name.is_empty() => write!(f, ", column {n}"),
            Some((n, name)) => write!(f, ", column {n} ({name})"),
            None => Ok(()),
        }
    }
}

/// The csv error without the position, which [`LoadError::Csv`] already shows.
struct CsvMessage<'a>(&'a csv::Error);

impl fmt::Display for CsvMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.kind() {
            csv::ErrorKind::Deserialize { err, .. } => write!(f, "{}", err.kind()),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => write!(f, "found {len} fields, expected {expected_len}"),
            csv::ErrorKind::Utf8 { err, .. } => write!(f, "invalid UTF-8: {err}"),
            _ => write!(f, "{}", self.0),
        }
    }
}

/// A run folder written by `ramsons-sim run`: its path and parsed manifest.
#[derive(Debug, Clone)]
pub struct RunFolder {
    /// The folder, as given to [`RunFolder::open`].
    pub path: PathBuf,
    pub manifest: Manifest,
}

impl RunFolder {
    /// Opens a run folder: checks it is a directory and parses its `manifest.json`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let path = path.as_ref().to_path_buf();
        let manifest = read_json(&path, MANIFEST_FILE, LoadError::MissingManifest)?;
        Ok(Self { path, manifest })
    }

    /// Name of the folder itself (last path component), for labels.
    pub fn folder_name(&self) -> String {
        self.path
            .canonicalize()
            .ok()
            .as_deref()
            .unwrap_or(&self.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }

    /// `<run>/plots`, where the simulator draws its charts.
    pub fn plots_dir(&self) -> PathBuf {
        self.path.join(PLOTS_DIR)
    }

    /// Path of a metric's CSV in this folder.
    pub fn metric_path<T: Metric>(&self) -> PathBuf {
        self.path.join(T::FILE_NAME)
    }

    /// Reads all rows of a metric CSV.
    ///
    /// `Ok(None)` if the file does not exist and the manifest does not list it (the metric was
    /// not recorded); `Ok(Some(rows))` if it exists, possibly with no rows; an error if it is
    /// listed but missing, unreadable, or a row does not parse (the error names file and line).
    pub fn read<T: Metric>(&self) -> Result<Option<Vec<T>>, LoadError> {
        let path = self.metric_path::<T>();
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return if self.manifest.metrics.iter().any(|m| m == T::FILE_NAME) {
                    Err(LoadError::MissingMetric(path))
                } else {
                    Ok(None)
                };
            }
            Err(error) => return Err(LoadError::Io { path, error }),
        };
        read_csv(&path, io::BufReader::new(file)).map(Some)
    }

    /// `lookup.csv`; see [`read`](Self::read) for `None` versus errors.
    pub fn read_lookups(&self) -> Result<Option<Vec<LookupRecord>>, LoadError> {
        self.read()
    }

    /// `store.csv`; see [`read`](Self::read).
    pub fn read_stores(&self) -> Result<Option<Vec<StoreRecord>>, LoadError> {
        self.read()
    }

    /// `floodfill_load.csv`; see [`read`](Self::read).
    pub fn read_floodfill_load(&self) -> Result<Option<Vec<FloodfillLoadRecord>>, LoadError> {
        self.read()
    }

    /// `netdb_coverage.csv`; see [`read`](Self::read).
    pub fn read_coverage(&self) -> Result<Option<Vec<CoverageRecord>>, LoadError> {
        self.read()
    }

    /// `tunnel_build.csv`; see [`read`](Self::read). Runs without tunnels have none.
    pub fn read_tunnel_builds(&self) -> Result<Option<Vec<TunnelBuildRecord>>, LoadError> {
        self.read()
    }

    /// `tunnels.csv`; see [`read`](Self::read). Runs without tunnels have none.
    pub fn read_tunnel_samples(&self) -> Result<Option<Vec<TunnelSampleRecord>>, LoadError> {
        self.read()
    }

    /// `summary.csv`; see [`read`](Self::read). Runs written before summaries have none.
    pub fn read_summary(&self) -> Result<Option<Vec<SummaryRecord>>, LoadError> {
        self.read()
    }
}

/// Reads and parses `<dir>/<file>` as JSON, after checking `dir` is a directory; `missing`
/// makes the error for a folder without the file.
pub(crate) fn read_json<T: DeserializeOwned>(
    dir: &Path,
    file: &str,
    missing: fn(PathBuf) -> LoadError,
) -> Result<T, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::NotADirectory(dir.to_path_buf()));
    }
    let path = dir.join(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing(path)),
        Err(error) => return Err(LoadError::Io { path, error }),
    };
    serde_json::from_str(&text).map_err(|error| LoadError::Manifest { path, error })
}

/// Parses CSV rows (with a header row) from `reader`; `path` is only used in errors.
pub fn read_csv<T: Metric>(path: &Path, reader: impl io::Read) -> Result<Vec<T>, LoadError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = rdr.headers().cloned().ok();
    let error = |error: csv::Error| {
        let column = match error.kind() {
            csv::ErrorKind::Deserialize { err, .. } => err.field().map(|i| {
                let name = headers
                    .as_ref()
                    .and_then(|h| h.get(i as usize))
                    .unwrap_or_default();
                (i + 1, name.to_string())
            }),
            _ => None,
        };
        LoadError::Csv {
            path: path.to_path_buf(),
            line: error.position().map(csv::Position::line),
            column,
            error,
        }
    };
    let mut rows = Vec::new();
    for row in rdr.deserialize() {
        rows.push(row.map_err(error)?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::CsvWriter;

    fn manifest(metrics: &[&str]) -> Manifest {
        Manifest {
            scenario_name: "unit".into(),
            scenario_path: "scenarios/unit.toml".into(),
            scenario_toml: "[general]\nseed = 7\n".into(),
            seed: 7,
            code_version: "0.1.0".into(),
            trace_hash: "00".repeat(32),
            events: 10,
            routers: 3,
            sim_start_unix_s: 1_700_000_000,
            sim_duration_s: 600.0,
            warmup_s: 60.0,
            sample_interval_s: 60.0,
            wall_time_s: 0.1,
            peak_memory_bytes: 1 << 20,
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
        }
    }

    fn write_manifest(dir: &Path, m: &Manifest) {
        let json = serde_json::to_string_pretty(m).expect("manifest serializes");
        std::fs::write(dir.join(MANIFEST_FILE), json).expect("write manifest");
    }

    fn lookups() -> Vec<LookupRecord> {
        vec![
            LookupRecord {
                time_s: 61.5,
                router: 3,
                target: "AbCd+/12".into(),
                outcome: "found".into(),
                latency_ms: 812.25,
                peers_queried: 2,
                timeouts: 0,
            },
            LookupRecord {
                time_s: 62.0,
                router: 4,
                target: "zz,\"q".into(), // needs quoting
                outcome: "not_found".into(),
                latency_ms: 15_000.0,
                peers_queried: 5,
                timeouts: 5,
            },
        ]
    }

    #[test]
    fn round_trip_every_metric() {
        let dir = tempfile::tempdir().expect("tempdir");
        let m = manifest(&[
            "lookup.csv",
            "store.csv",
            "floodfill_load.csv",
            "netdb_coverage.csv",
            "tunnel_build.csv",
            "tunnels.csv",
        ]);
        write_manifest(dir.path(), &m);

        let mut w = CsvWriter::<LookupRecord>::create(dir.path()).expect("create");
        for l in lookups() {
            w.write(&l).expect("write");
        }
        assert_eq!(w.finish().expect("finish"), "lookup.csv");

        let stores = vec![StoreRecord {
            time_s: 120.0,
            stores_received: 10,
            floods_received: 30,
            floods_sent: 31,
            publishes: 9,
            publishes_verified: 8,
            publishes_failed: 1,
        }];
        let load = vec![FloodfillLoadRecord {
            router: 1,
            stores_received: 5,
            floods_received: 6,
            lookups_received: 7,
            replies_found: 3,
            replies_search: 4,
            floods_sent: 18,
            bytes_received: 12_345,
        }];
        let coverage = vec![CoverageRecord {
            time_s: 60.0,
            role: "router".into(),
            online_routers: 100,
            routers: 94,
            min_known: 1,
            p10_known: 5,
            median_known: 20,
            mean_known: 21.5,
            p90_known: 40,
            max_known: 90,
            mean_coverage: 0.215,
        }];
        let mut w = CsvWriter::create(dir.path()).expect("create");
        stores.iter().try_for_each(|r| w.write(r)).expect("write");
        w.finish().expect("finish");
        let mut w = CsvWriter::create(dir.path()).expect("create");
        load.iter().try_for_each(|r| w.write(r)).expect("write");
        w.finish().expect("finish");
        let builds = vec![
            TunnelBuildRecord {
                time_s: 600.5,
                router: 7,
                direction: "inbound".into(),
                hops: 2,
                outcome: TunnelBuildRecord::BUILT.into(),
                latency_ms: 431.5,
            },
            TunnelBuildRecord {
                time_s: 601.0,
                router: 8,
                direction: "outbound".into(),
                hops: 3,
                outcome: TunnelBuildRecord::TIMED_OUT.into(),
                latency_ms: 10_000.0,
            },
        ];
        let samples = vec![TunnelSampleRecord {
            time_s: 660.0,
            routers: 95,
            inbound_tunnels: 190,
            outbound_tunnels: 188,
            participating_mean: 7.75,
            participating_max: 31,
            transit_messages: 4_321,
            tests_passed: 180,
            tests_failed: 6,
            fast_tier_median: 8,
            high_capacity_median: 20,
            not_failing_median: 60,
            failing_median: 2,
        }];
        let mut w = CsvWriter::create(dir.path()).expect("create");
        coverage.iter().try_for_each(|r| w.write(r)).expect("write");
        w.finish().expect("finish");
        let mut w = CsvWriter::create(dir.path()).expect("create");
        builds.iter().try_for_each(|r| w.write(r)).expect("write");
        w.finish().expect("finish");
        let mut w = CsvWriter::create(dir.path()).expect("create");
        samples.iter().try_for_each(|r| w.write(r)).expect("write");
        w.finish().expect("finish");

        let run = RunFolder::open(dir.path()).expect("open");
        assert_eq!(run.manifest, m);
        assert_eq!(run.read_lookups().expect("read"), Some(lookups()));
        assert_eq!(run.read_stores().expect("read"), Some(stores));
        assert_eq!(run.read_floodfill_load().expect("read"), Some(load));
        assert_eq!(run.read_coverage().expect("read"), Some(coverage));
        assert_eq!(run.read_tunnel_builds().expect("read"), Some(builds));
        assert_eq!(run.read_tunnel_samples().expect("read"), Some(samples));
    }

    #[test]
    fn empty_metric_has_header_and_reads_as_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_manifest(dir.path(), &manifest(&["lookup.csv"]));
        CsvWriter::<LookupRecord>::create(dir.path())
            .expect("create")
            .finish()
            .expect("finish");
        let text = std::fs::read_to_string(dir.path().join("lookup.csv")).expect("read");
        assert_eq!(
            text,
            "time_s,router,target,outcome,latency_ms,peers_queried,timeouts\n"
        );
        let run = RunFolder::open(dir.path()).expect("open");
        assert_eq!(run.read_lookups().expect("read"), Some(vec![]));
    }

    #[test]
    fn missing_metric_is_none_unless_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_manifest(dir.path(), &manifest(&["store.csv"]));
        let run = RunFolder::open(dir.path()).expect("open");
        assert_eq!(
            run.read_lookups().expect("not recorded is not an error"),
            None
        );
        // Older runs and scenarios without tunnels have no tunnel CSVs.
        assert_eq!(run.read_tunnel_builds().expect("not recorded"), None);
        assert_eq!(run.read_tunnel_samples().expect("not recorded"), None);
        let err = run.read_stores().expect_err("listed but missing");
        assert!(matches!(err, LoadError::MissingMetric(_)), "{err}");
        assert!(err.to_string().contains("store.csv"), "{err}");
    }

    #[test]
    fn corrupt_row_names_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_manifest(dir.path(), &manifest(&["lookup.csv"]));
        std::fs::write(
            dir.path().join("lookup.csv"),
            "time_s,router,target,outcome,latency_ms,peers_queried,timeouts\n\
             1.0,0,AAAA,found,10.0,1,0\n\
             2.0,0,AAAA,found,ten,1,0\n",
        )
        .expect("write");
        let run = RunFolder::open(dir.path()).expect("open");
        let err = run.read_lookups().expect_err("corrupt row");
        let LoadError::Csv { path, line, .. } = &err else {
            panic!("expected a CSV error, got {err:?}");
        };
        assert!(path.ends_with("lookup.csv"));
        assert_eq!(*line, Some(3));
        let msg = err.to_string();
        assert!(
            msg.ends_with("lookup.csv line 3, column 5 (latency_ms): invalid float literal"),
            "{msg}"
        );
    }

    #[test]
    fn short_row_names_file_and_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_manifest(dir.path(), &manifest(&[]));
        std::fs::write(
            dir.path().join("store.csv"),
            "time_s,stores_received,floods_received,floods_sent,publishes,publishes_verified,publishes_failed\n\
             60,1,2,3,4,5,6\n\
             120,1,2\n",
        )
        .expect("write");
        let run = RunFolder::open(dir.path()).expect("open");
        let msg = run.read_stores().expect_err("short row").to_string();
        assert!(msg.contains("store.csv line 3"), "{msg}");
    }

    #[test]
    fn folder_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = RunFolder::open(dir.path()).expect_err("no manifest");
        assert!(matches!(err, LoadError::MissingManifest(_)), "{err}");
        assert!(err.to_string().contains("manifest.json"), "{err}");

        let err = RunFolder::open(dir.path().join("nope")).expect_err("no folder");
        assert!(matches!(err, LoadError::NotADirectory(_)), "{err}");

        std::fs::write(dir.path().join(MANIFEST_FILE), "{\"seed\": 1}").expect("write");
        let err = RunFolder::open(dir.path()).expect_err("incomplete manifest");
        assert!(matches!(err, LoadError::Manifest { .. }), "{err}");
        assert!(err.to_string().contains("missing field"), "{err}");
    }
}
