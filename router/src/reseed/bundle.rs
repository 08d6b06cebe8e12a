//! The zip inside a reseed su3: `routerInfo-<hash>.dat` files, read with bounds.
//!
//! A reseed bundle holds some tens of RouterInfos of a few kilobytes each. Anything far
//! beyond that is refused whole rather than inflated: too many entries, an entry whose
//! declared or actual size is over the limit (the inflated bytes are read through a
//! `take`, so a lying header cannot make us inflate more), or too much in all.

use super::ReseedError;
use std::io::{Cursor, Read};

/// Bounds on a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The su3 file, at most.
    pub max_su3_bytes: usize,
    /// Entries in the zip (of any kind), at most.
    pub max_files: usize,
    /// One inflated entry, at most.
    pub max_file_bytes: u64,
    /// All inflated entries together, at most.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_su3_bytes: 4 << 20,
            max_files: 1000,
            max_file_bytes: 64 << 10,
            max_total_bytes: 16 << 20,
        }
    }
}

/// A RouterInfo file of the bundle: its name in the zip and its bytes (not yet parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

fn zip_error(e: impl std::fmt::Display) -> ReseedError {
    ReseedError::Zip(e.to_string())
}

/// The `routerInfo-*.dat` files of a zip; other entries are skipped.
pub fn router_info_files(zip: &[u8], limits: &Limits) -> Result<Vec<BundleFile>, ReseedError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(zip_error)?;
    if archive.len() > limits.max_files {
        return Err(ReseedError::TooManyFiles {
            count: archive.len(),
            max: limits.max_files,
        });
    }
    let mut files = Vec::new();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(zip_error)?;
        let name = entry.name().to_owned();
        let base = name.rsplit('/').next().unwrap_or_default();
        if entry.is_dir() || !(base.starts_with("routerInfo-") && base.ends_with(".dat")) {
            continue;
        }
        let too_large = || ReseedError::EntryTooLarge {
            name: name.clone(),
            max: limits.max_file_bytes,
        };
        if entry.size() > limits.max_file_bytes {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        (&mut entry)
            .take(limits.max_file_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| ReseedError::Zip(format!("{name}: {e}")))?;
        if bytes.len() as u64 > limits.max_file_bytes {
            return Err(too_large());
        }
        total += bytes.len() as u64;
        if total > limits.max_total_bytes {
            return Err(ReseedError::TooLarge {
                what: "the inflated bundle",
                max: limits.max_total_bytes,
            });
        }
        files.push(BundleFile {
            name: base.to_owned(),
            bytes,
        });
    }
    Ok(files)
}
