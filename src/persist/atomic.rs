//! Atomic file replacement: readers see the old file or the new one, never half of either.
//!
//! The work happens inside a directory *handle* ([`cap_std::fs::Dir`]): the temporary file,
//! the rename and the directory sync all name entries of that one open directory, so a
//! directory swapped for a symbolic link halfway through cannot redirect the write.

use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::path::Path;

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions};

/// The marker in temporary file names: `.NAME.goshi-tmp-<16 hex digits>`.
const TMP_MARK: &str = ".goshi-tmp-";

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (so the rename
/// stays on one filesystem), fsync, then rename over the target. `permissions`, when given, is
/// applied to the new file first so e.g. an executable script stays executable.
///
/// The parent directory must exist. On failure the temporary file is removed and the target is
/// untouched.
pub(crate) fn write_atomic(
    path: &Path,
    bytes: &[u8],
    permissions: Option<Permissions>,
) -> io::Result<()> {
    let (dir, name) = match (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        (Some(dir), Some(name)) => (dir, name),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path has no parent directory or no UTF-8 file name",
            ))
        }
    };
    let dir = Dir::open_ambient_dir(dir, cap_std::ambient_authority())?;
    let mut file = AtomicFile::create(&dir, name, &temp_name(name))?;
    file.write(bytes, permissions)?;
    file.commit()
}

/// A fresh temporary name for `target`: `.TARGET.goshi-tmp-<16 hex digits>`.
pub(crate) fn temp_name(target: &str) -> String {
    format!(".{target}{TMP_MARK}{:016x}", fastrand::u64(..))
}

/// Whether `name` is a temporary file [`temp_name`] made for `target`.
pub(crate) fn is_temp_for(name: &str, target: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.strip_prefix(target))
        .and_then(|n| n.strip_prefix(TMP_MARK))
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Removes leftover temporary files for `target` in `dir` (a run killed between writing and
/// renaming leaves one). Only call this while no other writer can be working on `target`.
pub(crate) fn remove_stale_temps(dir: &Dir, target: &str) -> io::Result<usize> {
    let mut removed = 0;
    for entry in dir.entries()? {
        let name = entry?.file_name();
        if let Some(name) = name.to_str().filter(|n| is_temp_for(n, target)) {
            dir.remove_file(name)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// A new file being written under a temporary name in one directory; [`AtomicFile::commit`]
/// renames it over the target. Dropped without a commit, the temporary file is removed.
pub(crate) struct AtomicFile<'d> {
    dir: &'d Dir,
    target: String,
    tmp: String,
    file: Option<File>,
    committed: bool,
}

impl<'d> AtomicFile<'d> {
    /// Creates the temporary file `tmp` (which must not exist) in `dir` for `target`.
    pub(crate) fn create(dir: &'d Dir, target: &str, tmp: &str) -> io::Result<Self> {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true).follow(FollowSymlinks::No);
        let file = dir.open_with(tmp, &opts)?.into_std();
        Ok(AtomicFile {
            dir,
            target: target.to_string(),
            tmp: tmp.to_string(),
            file: Some(file),
            committed: false,
        })
    }

    /// Writes all of `bytes`, applies `permissions` and syncs the data to disk.
    pub(crate) fn write(
        &mut self,
        bytes: &[u8],
        permissions: Option<Permissions>,
    ) -> io::Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("the temporary file is already closed"))?;
        file.write_all(bytes)?;
        if let Some(p) = permissions {
            file.set_permissions(p)?;
        }
        file.sync_all()
    }

    /// Renames the temporary file over the target and syncs the directory.
    pub(crate) fn commit(mut self) -> io::Result<()> {
        drop(self.file.take());
        self.dir.rename(&self.tmp, self.dir, &self.target)?;
        self.committed = true;
        sync_dir(self.dir);
        Ok(())
    }
}

impl Drop for AtomicFile<'_> {
    fn drop(&mut self) {
        if !self.committed {
            drop(self.file.take());
            // Best effort: the next run cleans what is left (see `remove_stale_temps`).
            let _ = self.dir.remove_file(&self.tmp);
        }
    }
}

/// Makes a rename durable on Unix; best effort, since the data itself is already synced.
pub(crate) fn sync_dir(dir: &Dir) {
    #[cfg(unix)]
    if let Ok(d) = dir.try_clone() {
        let _ = d.into_std_file().sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn replaces_content_and_leaves_no_temp_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.txt");
        fs::write(&p, "old").unwrap();
        write_atomic(&p, b"new", None).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        let names: Vec<_> = fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn missing_parent_fails_cleanly() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("no/such/f.txt");
        assert!(write_atomic(&p, b"x", None).is_err());
        assert!(!p.exists());
    }

    #[test]
    fn an_uncommitted_file_is_removed_and_stale_ones_are_cleaned() {
        let d = tempfile::tempdir().unwrap();
        let dir = Dir::open_ambient_dir(d.path(), cap_std::ambient_authority()).unwrap();
        {
            let mut f = AtomicFile::create(&dir, "a.txt", &temp_name("a.txt")).unwrap();
            f.write(b"x", None).unwrap();
        }
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 0);
        let stale = temp_name("a.txt");
        assert!(is_temp_for(&stale, "a.txt") && !is_temp_for(&stale, "b.txt"));
        fs::write(d.path().join(&stale), "left over").unwrap();
        fs::write(d.path().join(".a.txt.goshi-tmp-nothex"), "keep").unwrap();
        assert_eq!(remove_stale_temps(&dir, "a.txt").unwrap(), 1);
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_given_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("run.sh");
        fs::write(&p, "#!/bin/sh").unwrap();
        fs::set_permissions(&p, Permissions::from_mode(0o755)).unwrap();
        let perms = fs::metadata(&p).unwrap().permissions();
        write_atomic(&p, b"#!/bin/sh\necho hi\n", Some(perms)).unwrap();
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
    }
}
