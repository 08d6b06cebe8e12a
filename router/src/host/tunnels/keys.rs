//! A tunnel's `keys` file: the destination's private key file of the common
//! structures (what i2pd writes, binary), created on first use.
//!
//! Relative names are in the data directory, as i2pd keeps them in its own. Only keys
//! of the form our destinations have can be read back (see [`crate::host::sam::keys`]):
//! an i2pd key file with random padding is refused with that reason.

use crate::crypto::DestinationKeys;
use crate::data::{base64_decode, base64_encode};
use crate::host::datadir::write_secret_file;
use crate::host::sam::keys::{parse_private, private_base64};
use rand::{CryptoRng, RngCore};
use std::path::{Path, PathBuf};

/// A key file that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("{path}: {message}")]
    Unusable { path: PathBuf, message: String },
}

/// Where `name` lives.
pub fn path_of(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join(name)
}

/// The keys in `path`, or new ones written there.
pub fn load_or_create(
    path: &Path,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<DestinationKeys, KeysError> {
    let unusable = |message: String| KeysError::Unusable {
        path: path.to_owned(),
        message,
    };
    match std::fs::read(path) {
        Ok(bytes) => parse_private(&base64_encode(&bytes)).map_err(|e| unusable(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let keys = DestinationKeys::generate(rng);
            let blob = base64_decode(&private_base64(&keys))
                .map_err(|_| unusable("cannot encode the new keys".into()))?;
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| unusable(e.to_string()))?;
            }
            write_secret_file(path, &blob).map_err(|e| unusable(e.to_string()))?;
            Ok(keys)
        }
        Err(e) => Err(unusable(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn keys_are_created_once_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = path_of(dir.path(), "site.dat");
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let first = load_or_create(&path, &mut rng).expect("created");
        let again = load_or_create(&path, &mut rng).expect("read back");
        assert_eq!(first.hash(), again.hash());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            assert_eq!(mode & 0o077, 0, "keys readable by others: {mode:o}");
        }
        std::fs::write(&path, b"junk").expect("write");
        let e = load_or_create(&path, &mut rng).expect_err("junk");
        assert!(e.to_string().contains("site.dat"), "{e}");
    }
}
