//! Atomic file replacement: readers see the old file or the new one, never half of either.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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
    let dir = path.parent().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path has no parent directory",
        )
    })?;
    let (tmp, mut file) = create_temp(dir, path)?;
    let result = (|| {
        file.write_all(bytes)?;
        if let Some(p) = permissions {
            file.set_permissions(p)?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir);
    Ok(())
}

/// Creates a fresh hidden temporary file next to `target`.
fn create_temp(dir: &Path, target: &Path) -> io::Result<(PathBuf, File)> {
    let stem = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut last_err = None;
    // A few attempts cover the (unlikely) clash with a leftover temporary file.
    for _ in 0..8 {
        let tmp = dir.join(format!(".{stem}.goshi-tmp-{:016x}", fastrand::u64(..)));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("could not create a temporary file")))
}

/// Makes the rename durable on Unix; best effort, since the data itself is already synced.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

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
