//! ramsons-analysis: reads the run folders the simulator writes and draws charts over them.
//!
//! - [`records`]: the schemas of a run folder (`manifest.json` and one CSV per metric), shared
//!   with the simulator, which writes them.
//! - [`RunFolder`]: opens a run folder and loads its metrics.
//! - [`plots`]: charts over one or several runs; [`plot_runs`] draws all of them.
//! - [`xor_order`]: what XOR-distance order statistics predict for floodfill Sybils.
//! - [`stats`]: the small statistics the charts use (CDFs, percentiles, time bins, means
//!   with confidence intervals).
//! - [`anonymity`]: entropy, effective anonymity-set size, degree of anonymity and rank of the
//!   true suspect, for attack studies.
//! - [`multihoming`]: from the LeaseSets a netDb observer saw, whether a destination is
//!   multihomed and on how many routers.
//! - [`SweepFolder`]: opens what `ramsons-sim sweep` writes; [`plot_sweep`] charts it.
//! - [`report`]: Markdown reports over run and sweep folders.

pub mod anonymity;
pub mod meta;
pub mod multihoming;
pub mod plots;
pub mod records;
pub mod report;
pub mod run;
pub mod stats;
pub mod sweep;
pub mod xor_order;

pub use plots::{
    default_labels, plot_all, plot_runs, plot_sweep, ChartOutcome, PlotReport, SweepCharts,
};
pub use records::{
    CollusionRecord, CoverageRecord, CsvWriter, DeliveryRecord, EdgeRecord, FloodfillLoadRecord,
    IslandsRecord, LookupRecord, Manifest, MetaLeaseSetRecord, Metric, MultihomingRecord,
    ParamValue, PredecessorRecord, StoreRecord, StreamRecord, SummaryRecord, SweepManifest,
    SweepParameter, SweepPoint, SweepRecord, SweepRun, SybilRecord, TierCaptureRecord,
    TunnelBuildRecord, TunnelSampleRecord, VictimLoadRecord,
};
pub use report::write_report;
pub use run::{LoadError, RunFolder};
pub use sweep::SweepFolder;
