//! Which proposals were made on this machine.
//!
//! A repository can arrive with files in `.goshi/proposals/` (cloned, unpacked, shared). Such
//! a proposal is valid by its id, but nobody here asked for it. goshi therefore records each
//! proposal it creates in the user's data directory (outside every repository, so a repository
//! cannot forge the record): one small file per proposal under
//! `<data dir>/goshi/proposals-made-here/`, named by the SHA-256 of the canonical repository
//! root and the proposal id. The data directory is `$XDG_DATA_HOME` or `~/.local/share` on
//! Linux, `~/Library/Application Support` on macOS (the `dirs` crate, checked 2026-11-30).
//!
//! A proposal without a record is *foreign*: listings and reviews say so, and applying one
//! needs an explicit `--foreign`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The directory of the records, below the user's data directory.
const RECORDS: &str = "goshi/proposals-made-here";

/// Records that proposal `id` for the repository at `root` (canonical) was made here.
pub(crate) fn record(root: &Path, id: &str) -> io::Result<()> {
    let file = record_file(root, id).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "no data directory (HOME is not set)",
        )
    })?;
    if file.exists() {
        return Ok(());
    }
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    let text = format!("{}\n{id}\n", root.display());
    crate::persist::atomic::write_atomic(&file, text.as_bytes(), None)
}

/// Whether proposal `id` for the repository at `root` (canonical) was made here.
pub(crate) fn made_here(root: &Path, id: &str) -> bool {
    record_file(root, id).is_some_and(|f| f.is_file())
}

/// The record file for `id` in `root`, when there is a data directory.
fn record_file(root: &Path, id: &str) -> Option<PathBuf> {
    let mut h = Sha256::new();
    h.update(root.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(id.as_bytes());
    Some(data_dir()?.join(RECORDS).join(hex::encode(h.finalize())))
}

#[cfg(not(test))]
fn data_dir() -> Option<PathBuf> {
    dirs::data_dir()
}

/// Unit tests keep their records out of the developer's own data directory.
#[cfg(test)]
fn data_dir() -> Option<PathBuf> {
    Some(std::env::temp_dir().join(format!("goshi-unit-test-data-{}", std::process::id())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_per_repository_and_id() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let id = "ab".repeat(32);
        assert!(!made_here(a.path(), &id));
        record(a.path(), &id).unwrap();
        record(a.path(), &id).unwrap();
        assert!(made_here(a.path(), &id));
        assert!(!made_here(b.path(), &id));
        assert!(!made_here(a.path(), &"cd".repeat(32)));
    }
}
