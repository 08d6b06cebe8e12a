//! Private I2P testnets of real `ramsons-router` processes, on loopback or in docker.
//!
//! A testnet lives in one folder:
//!
//! ```text
//! <dir>/testnet.json          the manifest: mode, net id, and per router its name, role,
//!                             hash, addresses and pid (loopback) or container (docker)
//! <dir>/netDb/                every router's signed RouterInfo, written before any starts:
//!                             the reseed all routers bootstrap from (`bootstrap = "../netDb"`)
//! <dir>/<name>/router.toml    one router's configuration (ff0, ff1, ... floodfills; r0, ...)
//! <dir>/<name>/data/          its keys, netDb and profiles: kept by `down`, so a later `up`
//!                             brings back the same identities
//! <dir>/<name>/router.log     its log (loopback: written as it runs; docker: saved by `down`)
//! <dir>/<name>/router.pid     its process id while it runs (loopback)
//! <dir>/compose.yml           the docker-compose file (docker)
//! ```
//!
//! [`up`], [`status`] and [`down`] are what the `ramsons-testnet` binary runs.

pub mod docker;
pub mod health;
pub mod http;
pub mod layout;
pub mod manifest;
pub mod process;
mod testnet;

pub use health::Report;
pub use layout::{Mode, Role, Spec};
pub use manifest::Manifest;
pub use testnet::{down, status, up, DownSummary, UpOptions, UpSummary};

use std::path::PathBuf;

/// Why a testnet command could not do its job. Messages name the router, file or
/// command at fault and, where there is one, what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum TestnetError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the testnet in {dir} is running ({running}); run `ramsons-testnet down --dir {dir}` first"
    )]
    Running { dir: PathBuf, running: String },
    #[error("{dir} holds no testnet (no {file}); start one with `ramsons-testnet up --dir {dir}`")]
    NoTestnet { dir: PathBuf, file: PathBuf },
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("{0}")]
    Spec(String),
    #[error("router {name}: {message}")]
    Router { name: String, message: String },
    #[error("`{command}` failed: {message}")]
    Command { command: String, message: String },
    #[error("{0}")]
    Timeout(String),
}

impl TestnetError {
    /// An I/O error on `path`, for `map_err`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TestnetError {
        let path = path.into();
        move |source| TestnetError::Io { path, source }
    }
}
