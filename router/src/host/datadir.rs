//! The data directory: what a real router keeps between runs.
//!
//! ```text
//! <data_dir>/router.lock         held while a router runs on the folder (see [`super::dirlock`])
//! <data_dir>/router.keys         our identity's secret keys (created on first start)
//! <data_dir>/ntcp2.keys          our NTCP2 static key and published IV
//! <data_dir>/destination.keys    the test destination's secret keys (when it runs one)
//! <data_dir>/router.info         our current signed RouterInfo, for others to bootstrap from
//! <data_dir>/profiles.dat        what we have observed of peers
//! <data_dir>/netDb/routerInfo-<base64 hash>.dat   the RouterInfos we know
//! <data_dir>/addressbook/hosts.txt              names learned from subscriptions
//! <data_dir>/addressbook/subscriptions.json     each subscription's ETag, Last-Modified
//! ```
//!
//! Every write is atomic: the bytes go to a temporary file in the same folder, are
//! flushed to disk, and the file is renamed over the old one, then the folder is synced.
//! A kill at any moment leaves either the old file or the new one, never a torn one, so
//! nothing already written is lost. What a kill can leave is a temporary file; the next
//! [`DataDir::open`], holding the lock and so the only writer, removes them.

use super::dirlock::{DirLock, LockError};
use crate::crypto::{DestinationKeys, RouterKeys};
use crate::data::{Hash, RouterInfo};
use crate::profile::Profiles;
use crate::transport::ntcp2::Ntcp2Keys;
use rand::{CryptoRng, RngCore};
use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracing::info;

/// Key files start with a magic naming their content and format version, so a file put
/// in the wrong place is an error, not a wrong identity.
const ROUTER_KEYS_MAGIC: &[u8; 4] = b"RRK1";
const NTCP2_KEYS_MAGIC: &[u8; 4] = b"RNK1";
const DESTINATION_KEYS_MAGIC: &[u8; 4] = b"RDK1";

const NETDB: &str = "netDb";
const INFO_PREFIX: &str = "routerInfo-";
const INFO_SUFFIX: &str = ".dat";
/// How [`write_atomic`]'s temporary files end (they also start with a dot).
const TMP_SUFFIX: &str = ".tmp";

/// Something in the data directory that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error(transparent)]
    Locked(#[from] LockError),
}

/// An open data directory, locked against other routers until the last clone is
/// dropped.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
    _lock: Arc<DirLock>,
}

/// What loading the saved netDb found.
#[derive(Debug, Default)]
pub struct LoadedInfos {
    pub infos: Vec<Arc<RouterInfo>>,
    /// Files that could not be used, with why; they are left in place for a person to
    /// look at (and overwritten if the router learns that RouterInfo again).
    pub rejected: Vec<(PathBuf, String)>,
}

impl DataDir {
    /// Opens `root`, creating it and its `netDb` folder if needed, and locks it: an
    /// error names the folder (and the other router's pid) if a router holds it.
    /// Temporary files of saves cut short by a crash are removed.
    pub fn open(root: &Path) -> Result<DataDir, DataDirError> {
        let netdb = root.join(NETDB);
        fs::create_dir_all(&netdb).map_err(io_at(&netdb))?;
        let lock = DirLock::acquire(root)?;
        let removed = remove_stale_temporaries(root);
        if removed > 0 {
            info!(
                removed,
                "removed temporary files of saves a crash cut short in {}",
                root.display()
            );
        }
        Ok(DataDir {
            root: root.to_owned(),
            _lock: Arc::new(lock),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Our identity, created (and saved) on first start.
    pub fn router_keys(
        &self,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<RouterKeys, DataDirError> {
        let path = self.root.join("router.keys");
        let secrets = self.load_or_create::<96>(&path, ROUTER_KEYS_MAGIC, || {
            RouterKeys::generate(rng).secret_bytes()
        })?;
        Ok(RouterKeys::from_secret_bytes(&secrets))
    }

    /// Our NTCP2 keys, created (and saved) on first start.
    pub fn ntcp2_keys(
        &self,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Ntcp2Keys, DataDirError> {
        let path = self.root.join("ntcp2.keys");
        let bytes = self.load_or_create::<48>(&path, NTCP2_KEYS_MAGIC, || {
            Ntcp2Keys::generate(rng).to_bytes()
        })?;
        Ok(Ntcp2Keys::from_bytes(&bytes))
    }

    /// The test destination's keys, created (and saved) on first use.
    pub fn destination_keys(
        &self,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<DestinationKeys, DataDirError> {
        let path = self.root.join("destination.keys");
        let secrets = self.load_or_create::<96>(&path, DESTINATION_KEYS_MAGIC, || {
            DestinationKeys::generate(rng).secret_bytes()
        })?;
        Ok(DestinationKeys::from_secret_bytes(&secrets))
    }

    fn load_or_create<const N: usize>(
        &self,
        path: &Path,
        magic: &[u8; 4],
        create: impl FnOnce() -> [u8; N],
    ) -> Result<[u8; N], DataDirError> {
        match fs::read(path) {
            Ok(bytes) => bytes
                .strip_prefix(magic.as_slice())
                .and_then(|rest| <[u8; N]>::try_from(rest).ok())
                .ok_or_else(|| DataDirError::Corrupt {
                    path: path.to_owned(),
                    message: format!(
                        "not a key file of this kind ({} bytes; expected {} starting with {:?})",
                        bytes.len(),
                        N + 4,
                        String::from_utf8_lossy(magic)
                    ),
                }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let secret = create();
                let mut bytes = magic.to_vec();
                bytes.extend_from_slice(&secret);
                write_atomic(path, &bytes, Secret::Yes).map_err(io_at(path))?;
                Ok(secret)
            }
            Err(e) => Err(io_at(path)(e)),
        }
    }

    /// Saves our own RouterInfo as `router.info` (the file testnets hand to other routers).
    pub fn save_own_info(&self, info: &RouterInfo) -> Result<(), DataDirError> {
        let path = self.root.join("router.info");
        write_atomic(&path, info.as_bytes(), Secret::No).map_err(io_at(&path))
    }

    /// The RouterInfos saved by [`DataDir::save_netdb`].
    pub fn load_netdb(&self) -> LoadedInfos {
        read_router_infos(&self.root.join(NETDB))
    }

    /// Makes the netDb folder hold exactly `infos`: new or newer ones are written, ones
    /// no longer known are removed. Returns how many files were written.
    pub fn save_netdb<'a>(
        &self,
        infos: impl IntoIterator<Item = &'a Arc<RouterInfo>>,
    ) -> Result<usize, DataDirError> {
        let folder = self.root.join(NETDB);
        let mut keep = BTreeSet::new();
        let mut written = 0;
        for info in infos {
            let path = folder.join(info_file_name(&info.hash()));
            keep.insert(path.clone());
            // Same bytes on disk: nothing to do (the common case after the first save).
            if fs::metadata(&path).is_ok_and(|m| m.len() == info.as_bytes().len() as u64)
                && fs::read(&path).is_ok_and(|old| old == info.as_bytes())
            {
                continue;
            }
            write_atomic(&path, info.as_bytes(), Secret::No).map_err(io_at(&path))?;
            written += 1;
        }
        let entries = fs::read_dir(&folder).map_err(io_at(&folder))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let ours = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(INFO_PREFIX) && n.ends_with(INFO_SUFFIX));
            if ours && !keep.contains(&path) {
                fs::remove_file(&path).map_err(io_at(&path))?;
            }
        }
        Ok(written)
    }

    /// Saved profiles; none on first start. A damaged file is reported, not fatal:
    /// profiles are a cache of observations.
    pub fn load_profiles(&self) -> Result<Profiles, DataDirError> {
        let path = self.root.join("profiles.dat");
        match fs::read(&path) {
            Ok(bytes) => Profiles::decode(&bytes).map_err(|e| DataDirError::Corrupt {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Profiles::new()),
            Err(e) => Err(io_at(&path)(e)),
        }
    }

    pub fn save_profiles(&self, profiles: &Profiles) -> Result<(), DataDirError> {
        let path = self.root.join("profiles.dat");
        write_atomic(&path, &profiles.encode(), Secret::No).map_err(io_at(&path))
    }
}

/// `routerInfo-<base64 hash>.dat`, the name I2P routers use for netDb files.
pub fn info_file_name(hash: &Hash) -> String {
    format!("{INFO_PREFIX}{}{INFO_SUFFIX}", hash.to_base64())
}

/// Reads RouterInfos from one file, or from every `*.dat` file under a folder (any
/// depth, so an i2pd `netDb` folder with its `r?` subfolders works as it is). Each is
/// parsed and its signature verified; what fails is listed, not fatal.
pub fn read_router_infos(path: &Path) -> LoadedInfos {
    let mut loaded = LoadedInfos::default();
    let mut files = Vec::new();
    collect_files(path, &mut files, &mut loaded.rejected);
    files.sort();
    for file in files {
        match fs::read(&file) {
            Ok(bytes) => match RouterInfo::parse(&bytes) {
                Ok(info) => loaded.infos.push(Arc::new(info)),
                Err(e) => loaded.rejected.push((file, e.to_string())),
            },
            Err(e) => loaded.rejected.push((file, e.to_string())),
        }
    }
    loaded
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>, rejected: &mut Vec<(PathBuf, String)>) {
    if !path.is_dir() {
        files.push(path.to_owned());
        return;
    }
    let entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => return rejected.push((path.to_owned(), e.to_string())),
    };
    for entry in entries.flatten() {
        let child = entry.path();
        // The entry's own type: symbolic links are not followed below the top, so a
        // link cycle cannot recurse forever.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect_files(&child, files, rejected);
        } else if kind.is_file() && child.extension().is_some_and(|e| e == "dat") {
            files.push(child);
        }
    }
}

/// The folders of the data directory that [`write_atomic`] writes in.
const WRITTEN_FOLDERS: [&str; 3] = ["", NETDB, super::addressbook::FOLDER];

/// Removes [`write_atomic`]'s temporary files from the data directory's folders; how
/// many. Only the holder of the lock may: another router's temporaries would be files
/// in the middle of being written. What cannot be removed is left for the next start.
fn remove_stale_temporaries(root: &Path) -> usize {
    let mut removed = 0;
    for folder in WRITTEN_FOLDERS.map(|f| root.join(f)) {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let ours = entry.file_name().to_str().is_some_and(is_temporary_name);
            if ours
                && entry.file_type().is_ok_and(|t| t.is_file())
                && fs::remove_file(entry.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    removed
}

/// Whether `name` has the shape [`write_atomic`] gives its temporary files,
/// `.<name>.<pid>.<n>.tmp`: precise, because a data directory may share its folder
/// with a person's files.
fn is_temporary_name(name: &str) -> bool {
    let Some(inner) = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(TMP_SUFFIX))
    else {
        return false;
    };
    let mut parts = inner.rsplitn(3, '.');
    let number =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    number(parts.next()) && number(parts.next()) && parts.next().is_some_and(|n| !n.is_empty())
}

/// Replaces `path` (not a secret) atomically, as every file of the data directory is.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), DataDirError> {
    write_atomic(path, bytes, Secret::No).map_err(io_at(path))
}

/// Replaces `path` atomically with a file only its owner can read (private keys).
pub fn write_secret_file(path: &Path, bytes: &[u8]) -> Result<(), DataDirError> {
    write_atomic(path, bytes, Secret::Yes).map_err(io_at(path))
}

/// Whether a file holds secrets (readable by its owner only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secret {
    Yes,
    No,
}

/// Replaces `path` with `bytes` atomically: temporary file, fsync, rename, fsync of the
/// folder (without the last step a crash could forget the rename itself). Temporary
/// names are unique, so two writers of one file never share one; a failed write removes
/// its temporary file.
fn write_atomic(path: &Path, bytes: &[u8], secret: Secret) -> io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let folder = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let unique = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = folder.join(format!(
        ".{name}.{}.{unique}{TMP_SUFFIX}",
        std::process::id()
    ));
    let written = write_then_rename(&tmp, path, bytes, secret);
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    #[cfg(unix)]
    fs::File::open(folder)?.sync_all()?;
    Ok(())
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8], secret: Secret) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret == Secret::Yes {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(tmp, path)
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;
    use crate::RouterConfig;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn signed_info(rng: &mut ChaCha20Rng, published_secs: u64) -> Arc<RouterInfo> {
        let keys = RouterKeys::generate(rng);
        let router = crate::Router::new(
            RouterConfig::default(),
            keys,
            ChaCha20Rng::seed_from_u64(1),
            Instant::from_secs(published_secs),
        );
        router.router_info().clone()
    }

    #[test]
    fn keys_are_created_once_and_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let data = DataDir::open(dir.path()).expect("open");
        let first = data.router_keys(&mut rng).expect("create");
        let again = data.router_keys(&mut rng).expect("load");
        assert_eq!(first.hash(), again.hash());
        let ntcp2 = data.ntcp2_keys(&mut rng).expect("create");
        assert_eq!(
            data.ntcp2_keys(&mut rng).expect("load").to_bytes(),
            ntcp2.to_bytes()
        );
        let destination = data.destination_keys(&mut rng).expect("create");
        assert_eq!(
            data.destination_keys(&mut rng).expect("load").hash(),
            destination.hash()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("router.keys"))
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "keys readable by others: {mode:o}");
        }
    }

    #[test]
    fn a_foreign_key_file_is_an_error_not_a_new_identity() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("router.keys"), b"hello").expect("write");
        let data = DataDir::open(dir.path()).expect("open");
        let err = data
            .router_keys(&mut ChaCha20Rng::seed_from_u64(1))
            .expect_err("foreign file");
        assert!(err.to_string().contains("router.keys"), "{err}");
        assert_eq!(
            fs::read(dir.path().join("router.keys")).expect("kept"),
            b"hello"
        );
    }

    #[test]
    fn netdb_folder_mirrors_what_was_saved() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::open(dir.path()).expect("open");
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let infos: Vec<_> = (0..4)
            .map(|i| signed_info(&mut rng, 1_800_000_000 + i))
            .collect();
        assert_eq!(data.save_netdb(&infos).expect("save"), 4);
        assert_eq!(
            data.save_netdb(&infos).expect("save again"),
            0,
            "unchanged files rewritten"
        );
        assert_eq!(data.save_netdb(&infos[1..]).expect("save fewer"), 0);
        fs::write(dir.path().join(NETDB).join("routerInfo-junk.dat.txt"), b"x").expect("write");
        fs::write(
            dir.path().join(NETDB).join("broken.dat"),
            b"not a router info",
        )
        .expect("write");

        let loaded = data.load_netdb();
        let mut want: Vec<_> = infos[1..].iter().map(|i| i.hash()).collect();
        let mut got: Vec<_> = loaded.infos.iter().map(|i| i.hash()).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
        assert_eq!(loaded.rejected.len(), 1, "{:?}", loaded.rejected);
        assert!(loaded.rejected[0].0.ends_with("broken.dat"));
        // No temporary files are left behind.
        let leftovers = fs::read_dir(dir.path().join(NETDB))
            .expect("list")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn a_second_open_of_a_locked_folder_fails_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::open(dir.path()).expect("open");
        let clone = data.clone();
        drop(data);
        // A clone (the background save's) keeps the lock.
        let err = DataDir::open(dir.path()).expect_err("still held by the clone");
        assert!(matches!(err, DataDirError::Locked(_)), "{err}");
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
        drop(clone);
        DataDir::open(dir.path()).expect("free once every clone is dropped");
    }

    #[test]
    fn temporaries_a_crash_left_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temp dir");
        drop(DataDir::open(dir.path()).expect("open"));
        let netdb = dir.path().join(NETDB);
        let stale = [
            dir.path().join(".profiles.dat.123.0.tmp"),
            netdb.join(".routerInfo-x.dat.123.4.tmp"),
        ];
        for path in &stale {
            fs::write(path, b"half a file").expect("write");
        }
        let kept = [
            dir.path().join("notes.tmp"),
            dir.path().join(".notes.tmp"),
            dir.path().join(".notes.1.tmp"),
            netdb.join(".hidden"),
        ];
        for path in &kept {
            fs::write(path, b"not ours").expect("write");
        }
        let _data = DataDir::open(dir.path()).expect("reopen");
        for path in &stale {
            assert!(!path.exists(), "{} left", path.display());
        }
        for path in &kept {
            assert!(path.exists(), "{} removed", path.display());
        }
    }

    #[test]
    fn profiles_survive_a_restart_and_damage_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::open(dir.path()).expect("open");
        assert!(data.load_profiles().expect("none yet").is_empty());
        let mut profiles = Profiles::new();
        profiles.record(
            Instant::from_secs(1_800_000_000),
            Hash::from([9; 32]),
            crate::profile::Observation::BuildAccepted,
        );
        data.save_profiles(&profiles).expect("save");
        assert_eq!(data.load_profiles().expect("load").len(), 1);
        fs::write(dir.path().join("profiles.dat"), b"RPF1\0\0\0\x05").expect("damage");
        assert!(data.load_profiles().is_err());
    }
}
