//! Creating directories inside a repository without following symbolic links, so a link
//! shipped in the repository (a `.goshi` pointing elsewhere) cannot redirect goshi's files
//! outside it. Checking after `create_dir_all` would be too late: it follows links.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Creates `root/rel` one directory at a time (with `mode` on Unix for the ones it creates),
/// refusing a symbolic link or a non-directory on the way. `rel` must be relative and
/// without `..`. Returns the directory.
pub fn create_real_dirs(root: &Path, rel: &Path, mode: u32) -> io::Result<PathBuf> {
    let mut dir = root.to_path_buf();
    for component in rel.components() {
        let Component::Normal(name) = component else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{:?} is not a plain path inside the repository",
                    rel.display()
                ),
            ));
        };
        dir.push(name);
        let refuse = |why: &str| {
            io::Error::other(format!(
                "{:?} {why}; goshi keeps its files only in real directories inside the \
                 repository: move it away and try again",
                dir.strip_prefix(root).unwrap_or(&dir).display().to_string()
            ))
        };
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => return Err(refuse("is a symbolic link")),
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(refuse("is not a directory")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match make_dir(&dir, mode) {
                Ok(()) => {}
                // Created concurrently: fine if it is a real directory now.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !std::fs::symlink_metadata(&dir)?.is_dir() {
                        return Err(refuse("is not a directory"));
                    }
                }
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
    Ok(dir)
}

fn make_dir(dir: &Path, mode: u32) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    b.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_nested_real_directories() {
        let d = tempfile::tempdir().unwrap();
        let dir = create_real_dirs(d.path(), Path::new(".goshi/audit"), 0o700).unwrap();
        assert!(dir.is_dir());
        // Existing ones are fine.
        create_real_dirs(d.path(), Path::new(".goshi/audit"), 0o700).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symlink_on_the_way_and_creates_nothing_behind_it() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join(".goshi")).unwrap();
        let e = create_real_dirs(d.path(), Path::new(".goshi/audit"), 0o700).unwrap_err();
        assert!(
            e.to_string().contains("\".goshi\" is a symbolic link"),
            "{e}"
        );
        assert!(!outside.path().join("audit").exists());
        let e = create_real_dirs(d.path(), Path::new("../x"), 0o700).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
