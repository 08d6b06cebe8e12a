//! Opening a sweep folder: `sweep.json`, `sweep.csv` and the run folders of its points.

use std::io;
use std::path::{Path, PathBuf};

use crate::records::{
    Metric, SweepManifest, SweepPoint, SweepRecord, SweepRun, PLOTS_DIR, SWEEP_FILE,
};
use crate::run::{read_csv, read_json, LoadError};

/// A sweep folder written by `ramsons-sim sweep`.
#[derive(Debug, Clone)]
pub struct SweepFolder {
    /// The folder, as given to [`SweepFolder::open`].
    pub path: PathBuf,
    pub manifest: SweepManifest,
    /// `sweep.csv`: mean and confidence interval per point and summary metric.
    pub rows: Vec<SweepRecord>,
}

impl SweepFolder {
    /// Whether `path` looks like a sweep folder (holds a `sweep.json`).
    pub fn is_sweep(path: &Path) -> bool {
        path.join(SWEEP_FILE).is_file()
    }

    /// Opens a sweep folder: parses `sweep.json` and `sweep.csv`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let path = path.as_ref().to_path_buf();
        let manifest = read_json(&path, SWEEP_FILE, LoadError::MissingSweep)?;
        let csv_path = path.join(SweepRecord::FILE_NAME);
        let file = std::fs::File::open(&csv_path).map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => LoadError::MissingMetric(csv_path.clone()),
            _ => LoadError::Io {
                path: csv_path.clone(),
                error,
            },
        })?;
        let rows = read_csv(&csv_path, io::BufReader::new(file))?;
        Ok(Self {
            path,
            manifest,
            rows,
        })
    }

    /// The summary metrics of `sweep.csv`, sorted by name.
    pub fn metrics(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.rows.iter().map(|r| r.metric.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The row of `point` and `metric`, if any run of the point reported the metric.
    pub fn row(&self, point: &SweepPoint, metric: &str) -> Option<&SweepRecord> {
        self.rows
            .iter()
            .find(|r| r.point == point.label && r.metric == metric)
    }

    /// Path of one run's folder.
    pub fn run_path(&self, run: &SweepRun) -> PathBuf {
        self.path.join(&run.folder)
    }

    /// `<sweep>/plots`, where `ramsons-analysis sweep` draws.
    pub fn plots_dir(&self) -> PathBuf {
        self.path.join(PLOTS_DIR)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::records::{CsvWriter, ParamValue, SweepParameter};

    /// A sweep folder of two parameters (2 x 2 points, 2 seeds) with made-up rows, and no
    /// run folders.
    pub(crate) fn write_sweep(dir: &Path) -> SweepManifest {
        let counts = [ParamValue::Integer(20), ParamValue::Integer(40)];
        let stops = [
            ParamValue::Text("10 min".into()),
            ParamValue::Text("20 min".into()),
        ];
        let mut points = Vec::new();
        let mut rows = Vec::new();
        for (i, count) in counts.iter().enumerate() {
            for (j, stop) in stops.iter().enumerate() {
                let label = format!("count={count},stop={j}");
                let runs = [1, 2]
                    .iter()
                    .map(|&seed| SweepRun {
                        seed,
                        folder: format!("{label}-seed{seed}"),
                        trace_hash: "ab".repeat(32),
                        wall_time_s: 0.5,
                    })
                    .collect();
                let mean = 0.5 + 0.1 * i as f64 + 0.05 * j as f64;
                rows.push(SweepRecord {
                    point: label.clone(),
                    metric: "lookup_success".into(),
                    n: 2,
                    mean,
                    std_dev: Some(0.02),
                    ci95_low: Some(mean - 0.1),
                    ci95_high: Some(mean + 0.1),
                });
                rows.push(SweepRecord {
                    point: label.clone(),
                    metric: "lookups".into(),
                    n: 1,
                    mean: 100.0 * (i + 1) as f64,
                    std_dev: None,
                    ci95_low: None,
                    ci95_high: None,
                });
                points.push(SweepPoint {
                    label,
                    values: vec![count.clone(), stop.clone()],
                    runs,
                });
            }
        }
        let manifest = SweepManifest {
            scenario_name: "unit".into(),
            scenario_path: "scenarios/unit.toml".into(),
            scenario_toml: "[general]\nseed = 1\n".into(),
            code_version: "0.1.0".into(),
            parameters: vec![
                SweepParameter {
                    path: "routers.1.count".into(),
                    values: counts.to_vec(),
                },
                SweepParameter {
                    path: "general.stop_time".into(),
                    values: stops.to_vec(),
                },
            ],
            seeds: vec![1, 2],
            points,
            jobs: 2,
            wall_time_s: 3.0,
        };
        std::fs::write(
            dir.join(SWEEP_FILE),
            serde_json::to_string_pretty(&manifest).expect("serializes"),
        )
        .expect("write sweep.json");
        let mut w = CsvWriter::<SweepRecord>::create(dir).expect("create");
        rows.iter().try_for_each(|r| w.write(r)).expect("write");
        w.finish().expect("finish");
        manifest
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let manifest = write_sweep(dir.path());
        assert!(SweepFolder::is_sweep(dir.path()));
        let sweep = SweepFolder::open(dir.path()).expect("opens");
        assert_eq!(sweep.manifest, manifest);
        assert_eq!(sweep.metrics(), ["lookup_success", "lookups"]);
        let row = sweep
            .row(&sweep.manifest.points[3], "lookup_success")
            .expect("row");
        assert!((row.mean - 0.65).abs() < 1e-12);
        assert_eq!(row.n, 2);
        let single = sweep
            .row(&sweep.manifest.points[0], "lookups")
            .expect("row");
        assert_eq!((single.std_dev, single.ci95_low), (None, None));
        assert_eq!(sweep.manifest.parameter_index("count"), Some(0));
        assert_eq!(sweep.manifest.parameter_index("general.stop_time"), Some(1));
        assert_eq!(sweep.manifest.parameter_index("seed"), None);
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = SweepFolder::open(dir.path()).expect_err("empty folder");
        assert!(matches!(err, LoadError::MissingSweep(_)), "{err}");
        assert!(err.to_string().contains("sweep folder"), "{err}");
        write_sweep(dir.path());
        std::fs::write(dir.path().join("sweep.csv"), "point,metric\nx\n").expect("write");
        let err = SweepFolder::open(dir.path()).expect_err("bad csv");
        assert!(err.to_string().contains("sweep.csv line"), "{err}");
        std::fs::remove_file(dir.path().join("sweep.csv")).expect("remove");
        let err = SweepFolder::open(dir.path()).expect_err("no csv");
        assert!(err.to_string().contains("sweep.csv"), "{err}");
        std::fs::write(dir.path().join("sweep.json"), "[]").expect("write");
        assert!(matches!(
            SweepFolder::open(dir.path()),
            Err(LoadError::Manifest { .. })
        ));
    }

    #[test]
    fn quantities_are_numbers_with_units() {
        let v = |t: &str| ParamValue::Text(t.into());
        assert_eq!(v("10 min").number(), Some(10.0));
        assert_eq!(v("10 min").unit(), Some("min"));
        assert_eq!(v("1.5e3 ms").number(), Some(1500.0));
        assert_eq!(v("5e").unit(), Some("e"));
        assert_eq!(v("fast").number(), None);
        assert_eq!(ParamValue::Float(0.5).unit(), Some(""));
        assert_eq!(ParamValue::Bool(true).number(), None);
        assert_eq!(ParamValue::Integer(3).to_string(), "3");
        // Integers stay integers through JSON, floats stay floats.
        let json = serde_json::to_string(&[
            ParamValue::Integer(3),
            ParamValue::Float(3.5),
            ParamValue::Bool(false),
            v("3 s"),
        ])
        .expect("serializes");
        let back: Vec<ParamValue> = serde_json::from_str(&json).expect("parses");
        assert_eq!(back[0], ParamValue::Integer(3));
        assert_eq!(back[1], ParamValue::Float(3.5));
        assert_eq!(back[3], v("3 s"));
    }
}
