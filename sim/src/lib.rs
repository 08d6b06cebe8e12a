//! ramsons-sim: a deterministic discrete-event simulator of thousands of ramsons routers.
//!
//! The routers are the real `ramsons-router` core; the simulator supplies time, links
//! and faults. Same scenario file + same seed = the same event trace, byte for byte.
//!
//! - [`scenario`]: the TOML scenario format (its quantities are `ramsons_router::units`).
//! - [`world`]: routers, links, faults and the event loop; [`queue`], [`net`], [`trace`];
//!   [`rng`]: the named random streams.
//! - [`metrics`]: records for `ramsons-analysis`; [`run`]: simulate and write a run folder.
//! - [`plugin`]: what the world runs besides its routers, links and faults, behind one
//!   trait: [`adversary`] (Sybils, flooders, tier capture, predecessor, and the observers:
//!   colluders, the netDb observer), [`destinations`], [`workload`] (lookups, messages,
//!   streams) and [`signer`] (the balancer and the meta service).
//! - [`sweep`]: a scenario over a grid of parameter values and seeds, in parallel.
//! - [`islands`]: connected components of who knows whom.
//! - [`balancer`]: proposal 140's balancer, one destination over several routers.
//! - [`streams`]: the stream workload, page fetches between destinations.
//! - [`bench`]: the scaling benchmark.

pub mod adversary;
pub mod app;
pub mod balancer;
pub mod bench;
pub mod destinations;
pub mod islands;
pub mod memory;
pub mod meta;
pub mod metrics;
pub mod net;
pub mod plugin;
pub mod progress;
pub mod queue;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod signer;
pub mod streams;
pub mod sweep;
pub mod trace;
pub mod workload;
pub mod world;

/// The README's Rust examples, compiled and run as doc tests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
