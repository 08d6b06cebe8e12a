//! What `bootstrap` in `router.toml` (and `init --bootstrap`) names: a folder or file
//! of RouterInfos (private networks), or an su3 reseed bundle (the main network).
//!
//! An su3 bundle is checked whole ([`crate::reseed::open_bundle`]: signer certificate
//! shipped with the router, RSA-SHA512-4096 signature, zip within bounds) before any
//! RouterInfo in it is looked at; then each RouterInfo is parsed and its own signature
//! verified, like those of a folder. HTTPS URLs are not fetched yet: download the
//! bundle and name the file.

use super::datadir::{read_router_infos, LoadedInfos};
use crate::data::RouterInfo;
use crate::reseed::{open_bundle, Limits, ReseedError, Signers};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a bootstrap source gave nothing. The messages carry their cause (no `source`
/// field, so that error chains do not repeat it).
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{path}: cannot read the reseed bundle: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: reseed bundle refused: {error}")]
    Reseed { path: PathBuf, error: ReseedError },
    #[error(
        "{0}: fetching reseed bundles over HTTPS is not supported yet; download the .su3 \
         file and set bootstrap to its path"
    )]
    Url(String),
}

/// Whether `path` names an su3 bundle (by its extension, as reseed servers name them).
pub fn is_su3(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("su3"))
}

/// Reads a bootstrap source. A folder or RouterInfo file never fails as a whole (bad
/// files are listed in `rejected`); an su3 bundle is taken whole or refused.
pub fn load(path: &Path) -> Result<LoadedInfos, BootstrapError> {
    let text = path.to_string_lossy();
    if text.starts_with("https://") || text.starts_with("http://") {
        return Err(BootstrapError::Url(text.into_owned()));
    }
    if !is_su3(path) {
        return Ok(read_router_infos(path));
    }
    let bytes = std::fs::read(path).map_err(|error| BootstrapError::Read {
        path: path.to_owned(),
        error,
    })?;
    read_su3(path, &bytes, &Signers::shipped())
}

/// The RouterInfos of su3 `bytes` (read from `path`), checked against `signers`.
pub fn read_su3(
    path: &Path,
    bytes: &[u8],
    signers: &Signers,
) -> Result<LoadedInfos, BootstrapError> {
    let bundle = open_bundle(bytes, signers, &Limits::default()).map_err(|error| {
        BootstrapError::Reseed {
            path: path.to_owned(),
            error,
        }
    })?;
    tracing::info!(
        path = %path.display(),
        signer = %bundle.signer,
        version = %bundle.version,
        files = bundle.files.len(),
        "reseed bundle verified"
    );
    let mut loaded = LoadedInfos::default();
    for file in bundle.files {
        match RouterInfo::parse(&file.bytes) {
            Ok(info) => loaded.infos.push(Arc::new(info)),
            Err(e) => loaded.rejected.push((path.join(&file.name), e.to_string())),
        }
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RouterKeys;
    use crate::host::datadir::info_file_name;
    use crate::reseed::tests::{bundle, signers, zip_of};
    use crate::time::Instant;
    use crate::RouterConfig;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn signed_info(seed: u64) -> Arc<RouterInfo> {
        let keys = RouterKeys::generate(&mut ChaCha20Rng::seed_from_u64(seed));
        let router = crate::Router::new(
            RouterConfig::default(),
            keys,
            ChaCha20Rng::seed_from_u64(1),
            Instant::from_secs(1_800_000_000),
        );
        router.router_info().clone()
    }

    #[test]
    fn an_su3_bundle_gives_verified_router_infos() {
        let infos: Vec<_> = (1..=3).map(signed_info).collect();
        let mut entries: Vec<(String, Vec<u8>)> = infos
            .iter()
            .map(|i| (info_file_name(&i.hash()), i.as_bytes().to_vec()))
            .collect();
        entries.push(("routerInfo-broken.dat".into(), b"garbage".to_vec()));
        let entries: Vec<(&str, Vec<u8>)> = entries
            .iter()
            .map(|(n, b)| (n.as_str(), b.clone()))
            .collect();
        let su3 = bundle(&zip_of(&entries));
        let path = Path::new("i2pseeds.su3");
        let loaded = read_su3(path, &su3, &signers()).expect("a good bundle");
        let got: Vec<_> = loaded.infos.iter().map(|i| i.hash()).collect();
        let want: Vec<_> = infos.iter().map(|i| i.hash()).collect();
        assert_eq!(got, want);
        assert_eq!(loaded.rejected.len(), 1);

        // The shipped signers do not know the test key: refused, saying who signed.
        let err = read_su3(path, &su3, &Signers::shipped()).expect_err("unknown signer");
        let text = err.to_string();
        assert!(
            text.contains("i2pseeds.su3") && text.contains("test@reseed.invalid"),
            "{text}"
        );
    }

    #[test]
    fn sources_are_told_apart() {
        assert!(is_su3(Path::new("a/i2pseeds.SU3")));
        assert!(!is_su3(Path::new("netDb")));
        let url = load(Path::new("https://reseed.example/i2pseeds.su3")).expect_err("no https");
        assert!(url.to_string().contains("download"), "{url}");
        let missing = load(Path::new("/nonexistent/seeds.su3")).expect_err("missing");
        assert!(matches!(missing, BootstrapError::Read { .. }));
    }
}
