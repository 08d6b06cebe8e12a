//! The data directory's lock: one router per data directory.
//!
//! Two routers on one directory would announce one identity from two places (each
//! cutting the other's sessions as duplicates) and overwrite each other's netDb,
//! profiles and address book. So [`super::DataDir::open`] takes an exclusive advisory
//! lock on `<data_dir>/router.lock` (`flock` on Unix, `LockFileEx` on Windows, both
//! through std's [`File::try_lock`]) and the router holds it for its whole life.
//!
//! The lock belongs to the open file, not to the file's existence: the kernel drops it
//! when the process ends, however it ends, so a router killed with SIGKILL or lost to a
//! power cut never leaves a stale lock for a person to clear. The file also holds the
//! holder's pid, read only to name it in the error; the lock, not the pid, decides.
//!
//! The file is never removed: a router that unlinked it on exit could race a newcomer
//! that had just opened (and then locked) the old file while a third created a new one,
//! and two routers would each hold a lock on a different file of the same name.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = "router.lock";

/// The lock, held until this is dropped (or the process ends).
#[derive(Debug)]
pub struct DirLock {
    /// Kept open: closing it is what releases the lock.
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "the data directory {} is in use by another router ({}); stop that router first, \
         or give this one another data_dir",
        dir.display(),
        holder(*.pid)
    )]
    Held { dir: PathBuf, pid: Option<u32> },
    #[error("cannot lock {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

fn holder(pid: Option<u32>) -> String {
    match pid {
        Some(pid) => format!("pid {pid}"),
        None => "pid unknown".to_owned(),
    }
}

impl DirLock {
    /// Takes the lock of folder `dir` (which must exist), without waiting: a router
    /// that is running is an error for a person to resolve, not something to queue
    /// behind.
    pub fn acquire(dir: &Path) -> Result<DirLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_error = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        // Not truncated on open: until the lock is ours, the pid in the file is the
        // holder's, which the error should name.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: dir.to_owned(),
                    pid: read_pid(&mut file),
                })
            }
            Err(TryLockError::Error(e)) => return Err(io_error(e)),
        }
        write_pid(&mut file).map_err(io_error)?;
        Ok(DirLock { _file: file })
    }
}

/// The holder's pid, if its file says (it may not have written it yet; on Windows the
/// lock also keeps others from reading).
fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

fn write_pid(file: &mut File) -> io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "{}", std::process::id())?;
    // Not synced: the pid only serves an error message while we run, and the kernel
    // shows the written bytes to every reader without a sync.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_folder_and_the_holder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = DirLock::acquire(dir.path()).expect("first lock");
        // A second open file description: flock conflicts even within one process.
        let err = DirLock::acquire(dir.path()).expect_err("second lock");
        let LockError::Held { pid, .. } = &err else {
            panic!("not refused as held: {err}");
        };
        assert_eq!(*pid, Some(std::process::id()));
        let text = err.to_string();
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        drop(first);
        let again = DirLock::acquire(dir.path()).expect("free after the first is dropped");
        drop(again);
    }

    #[test]
    fn a_stale_pid_in_an_unlocked_file_does_not_matter() {
        let dir = tempfile::tempdir().expect("temp dir");
        // What a router killed with SIGKILL leaves: the file with its pid, no lock.
        std::fs::write(dir.path().join(LOCK_FILE), "4194303\n").expect("write");
        let _lock = DirLock::acquire(dir.path()).expect("the stale file is no lock");
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).expect("read");
        assert_eq!(text, format!("{}\n", std::process::id()));
    }

    #[test]
    fn a_missing_folder_is_an_io_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("nowhere");
        let err = DirLock::acquire(&missing).expect_err("no folder");
        assert!(matches!(err, LockError::Io { .. }), "{err}");
        assert!(err.to_string().contains(LOCK_FILE), "{err}");
    }
}
