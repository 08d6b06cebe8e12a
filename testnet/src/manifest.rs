//! `testnet.json`: what `up` started, for `status` and `down` (and for people and scripts).

use crate::layout::{Mode, Role};
use crate::TestnetError;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const MANIFEST_FILE: &str = "testnet.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub mode: Mode,
    pub net_id: u8,
    /// The docker-compose project (docker mode).
    pub project: Option<String>,
    /// The docker bridge network the routers are attached to (docker mode).
    pub network: Option<String>,
    pub routers: Vec<RouterEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouterEntry {
    /// Also its folder inside the testnet folder.
    pub name: String,
    pub role: Role,
    /// Base64 router hash.
    pub hash: String,
    /// The NTCP2 address in its RouterInfo.
    pub ntcp2: SocketAddr,
    /// Where its status page answers from this machine.
    pub status: SocketAddr,
    /// Its SAM bridge (TCP and UDP), on a loopback testnet.
    #[serde(default)]
    pub sam: Option<SocketAddr>,
    /// Its process while it runs (loopback).
    pub pid: Option<u32>,
    /// Its container (docker).
    pub container: Option<String>,
}

impl Manifest {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(MANIFEST_FILE)
    }

    /// The manifest of the testnet in `dir`, if there is one.
    pub fn load(dir: &Path) -> Result<Option<Manifest>, TestnetError> {
        let path = Self::path(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(TestnetError::io(path)(e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| TestnetError::Manifest {
                path,
                message: format!("{e} (remove it if the folder holds no running testnet)"),
            })
    }

    /// The manifest of the testnet in `dir`; an error saying how to start one otherwise.
    pub fn require(dir: &Path) -> Result<Manifest, TestnetError> {
        Self::load(dir)?.ok_or_else(|| TestnetError::NoTestnet {
            dir: dir.to_owned(),
            file: Self::path(dir),
        })
    }

    /// Writes the manifest atomically: a reader sees the old file or the new one.
    pub fn save(&self, dir: &Path) -> Result<(), TestnetError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| TestnetError::Manifest {
            path: Self::path(dir),
            message: e.to_string(),
        })?;
        write_atomic(&Self::path(dir), text.as_bytes())
    }

    /// The folder of router `name` inside the testnet folder `dir`.
    pub fn router_dir(dir: &Path, name: &str) -> PathBuf {
        dir.join(name)
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TestnetError> {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(TestnetError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(TestnetError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_atomically_and_reads_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(Manifest::load(dir.path()).expect("no manifest"), None);
        let missing = Manifest::require(dir.path()).expect_err("none yet");
        assert!(
            missing.to_string().contains("ramsons-testnet up"),
            "{missing}"
        );
        let manifest = Manifest {
            mode: Mode::Loopback,
            net_id: 99,
            project: None,
            network: None,
            routers: vec![RouterEntry {
                name: "ff0".into(),
                role: Role::Floodfill,
                hash: "abc".into(),
                ntcp2: "127.0.0.1:20000".parse().expect("address"),
                status: "127.0.0.1:20001".parse().expect("address"),
                sam: Some("127.0.0.1:20002".parse().expect("address")),
                pid: Some(42),
                container: None,
            }],
        };
        manifest.save(dir.path()).expect("save");
        assert_eq!(Manifest::require(dir.path()).expect("load"), manifest);
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(files, [MANIFEST_FILE], "no temporary file left behind");

        std::fs::write(Manifest::path(dir.path()), "{").expect("write");
        let bad = Manifest::load(dir.path()).expect_err("corrupt");
        assert!(bad.to_string().contains(MANIFEST_FILE), "{bad}");
    }
}
