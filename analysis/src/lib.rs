//! ramsons-analysis: reads the run folders the simulator writes and draws charts over them.
//!
//! - [`records`]: the schemas of a run folder (`manifest.json` and one CSV per metric), shared
//!   with the simulator, which writes them.
//! - [`RunFolder`]: opens a run folder and loads its metrics.
//! - [`plots`]: charts over one or several runs; [`plot_runs`] draws all of them.
//! - [`stats`]: the small statistics the charts use (CDFs, percentiles, time bins).
//! - [`xor_order`]: what XOR-distance order statistics predict for floodfill Sybils.

pub mod plots;
pub mod records;
pub mod run;
pub mod stats;
pub mod xor_order;

pub use plots::{default_labels, plot_all, plot_runs, ChartOutcome, PlotReport};
pub use records::{
    CollusionRecord, CoverageRecord, CsvWriter, DeliveryRecord, FloodfillLoadRecord, LookupRecord,
    Manifest, Metric, PredecessorRecord, StoreRecord, SybilRecord, TunnelBuildRecord,
    TunnelSampleRecord,
};
pub use run::{LoadError, RunFolder};
