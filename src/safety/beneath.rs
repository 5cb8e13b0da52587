//! Opening files and directories through handles that cannot leave the repository.
//!
//! The [`super::PathGuard`] decides *whether* a path may be used, and resolves it to its
//! canonical form relative to the root (no symbolic links left in it). This module *uses* such
//! a path: starting from a handle on the root, it opens one directory component at a time
//! with `O_NOFOLLOW` (cap-std's `open_dir_nofollow`, itself sandboxed to the handle), and opens
//! the final name without following a link either. A directory swapped for a symbolic link
//! between the check and the use therefore makes the operation fail instead of reaching
//! outside: no check-then-use race can move a read or a write out of the repository.

use std::io;
use std::path::Path;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, File, Metadata, OpenOptions};

/// The parent directory part and the final name of a `/`-separated relative path.
pub(crate) fn split(rel: &str) -> (&str, &str) {
    match rel.rsplit_once('/') {
        Some((parent, name)) => (parent, name),
        None => (".", rel),
    }
}

/// Opens the directory `rel` (`.` for the root itself) below `root`, following no symbolic
/// link on the way.
pub(crate) fn open_dir(root: &Dir, rel: &str) -> io::Result<Dir> {
    let mut dir = root.try_clone()?;
    for name in components(rel)? {
        dir = dir.open_dir_nofollow(name)?;
    }
    Ok(dir)
}

/// Opens the directory `rel` below `root`, creating missing directories one at a time and
/// following no symbolic link on the way.
pub(crate) fn create_dirs(root: &Dir, rel: &str) -> io::Result<Dir> {
    let mut dir = root.try_clone()?;
    for name in components(rel)? {
        dir = match dir.open_dir_nofollow(name) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match dir.create_dir(name) {
                    Ok(()) => {}
                    // Created concurrently: the open below checks what it is.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
                dir.open_dir_nofollow(name)?
            }
            Err(e) => return Err(e),
        };
    }
    Ok(dir)
}

/// What the entry `name` of `dir` is, without following a symbolic link.
pub(crate) fn lstat(dir: &Dir, name: &str) -> io::Result<Metadata> {
    dir.symlink_metadata(single(name)?)
}

/// Opens the regular file `name` of `dir` for reading, refusing a symbolic link.
pub(crate) fn open_read(dir: &Dir, name: &str) -> io::Result<std::fs::File> {
    let mut opts = OpenOptions::new();
    opts.read(true).follow(FollowSymlinks::No);
    let file = dir.open_with(single(name)?, &opts)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file",
        ));
    }
    Ok(File::into_std(file))
}

/// Opens (creating it when missing) the file `name` of `dir` for writing without truncating,
/// refusing a symbolic link: for lock files.
pub(crate) fn open_lock_file(dir: &Dir, name: &str) -> io::Result<std::fs::File> {
    let mut opts = OpenOptions::new();
    opts.read(true)
        .write(true)
        .create(true)
        .follow(FollowSymlinks::No);
    Ok(dir.open_with(single(name)?, &opts)?.into_std())
}

/// The normal components of a `/`-separated relative path; `.` and empty parts are skipped.
/// Anything else (`..`, an absolute path) is an error: callers pass guard-resolved paths.
fn components(rel: &str) -> io::Result<Vec<&str>> {
    rel.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(single)
        .collect()
}

/// `name` when it is one plain path component.
fn single(name: &str) -> io::Result<&str> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !Path::new(name).is_absolute();
    if ok {
        Ok(name)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a single file name"),
        ))
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn root(p: &Path) -> Dir {
        Dir::open_ambient_dir(p, cap_std::ambient_authority()).unwrap()
    }

    #[test]
    fn symlinked_directories_are_never_followed() {
        let repo = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        symlink(outside.path(), repo.path().join("out")).unwrap();
        symlink(outside.path().join("secret"), repo.path().join("leak")).unwrap();
        let r = root(repo.path());
        assert!(open_dir(&r, "out").is_err());
        assert!(create_dirs(&r, "out/new").is_err());
        assert!(open_read(&r, "leak").is_err());
        assert!(open_dir(&r, "..").is_err());
        assert!(!outside.path().join("new").exists());
    }

    #[test]
    fn creates_and_opens_nested_directories() {
        let repo = tempfile::tempdir().unwrap();
        let r = root(repo.path());
        let d = create_dirs(&r, "a/b/c").unwrap();
        fs::write(repo.path().join("a/b/c/f"), "x").unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut open_read(&d, "f").unwrap(), &mut s).unwrap();
        assert_eq!(s, "x");
        assert!(open_dir(&r, "a/b").is_ok());
        assert_eq!(split("a/b/c"), ("a/b", "c"));
        assert_eq!(split("f"), (".", "f"));
    }
}
