//! Storage details of proposals: the files under `.goshi/`, reading the target, drift, backups.
//!
//! Everything here is opened through the repository root's directory handle, one component
//! at a time and never through a symbolic link (see [`crate::safety::beneath`]).

use std::fs::Permissions;
use std::io::Read;
use std::time::SystemTime;

use cap_std::fs::Dir;

use super::{
    proposal_id, sha256_hex, Proposal, ABSENT, BACKUPS_DIR, MAX_FILE_BYTES, PROPOSALS_DIR,
};
use crate::persist::atomic::{temp_name, AtomicFile};
use crate::safety::beneath;
use crate::safety::error::ToolError;
use crate::safety::path_guard::{PathGuard, Resolved};
use crate::text::sniff_binary;

/// A proposal file is at most this large (its content, JSON-escaped, plus the other fields).
const MAX_PROPOSAL_FILE_BYTES: u64 = 8 * MAX_FILE_BYTES as u64;

/// At most this many candidates are named when a prefix is ambiguous.
const MAX_NAMED_MATCHES: usize = 5;

/// The current time as RFC 3339 (UTC, whole seconds).
pub(super) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The error for content or a file over [`MAX_FILE_BYTES`].
pub(super) fn too_large(path: &str, size: usize) -> ToolError {
    ToolError::refused(
        path,
        format!(
            "it (or the proposed content) is {size} bytes; proposals are limited to {} bytes",
            MAX_FILE_BYTES
        ),
    )
}

/// The proposals directory, created when missing.
pub(super) fn store_dir(guard: &PathGuard) -> Result<Dir, ToolError> {
    real_dirs(guard, PROPOSALS_DIR, PROPOSALS_DIR)
}

/// Opens (creating what is missing) the directory `rel` below the root, refusing symbolic
/// links and non-directories on the way, so a symlinked `.goshi` cannot redirect goshi's
/// writes elsewhere.
pub(super) fn real_dirs(guard: &PathGuard, rel: &str, shown: &str) -> Result<Dir, ToolError> {
    beneath::create_dirs(guard.dir(), rel).map_err(|e| explain_dir_error(guard, rel, shown, e))
}

/// Why opening the directory `rel` failed, in words: a symbolic link or a file on the way is
/// named; anything else is reported as it is.
fn explain_dir_error(guard: &PathGuard, rel: &str, shown: &str, e: std::io::Error) -> ToolError {
    let mut here = String::new();
    for name in rel.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if !here.is_empty() {
            here.push('/');
        }
        here.push_str(name);
        let why = match guard.dir().symlink_metadata(&here) {
            Ok(m) if m.file_type().is_symlink() => "is a symbolic link",
            Ok(m) if !m.is_dir() => "is not a directory",
            _ => continue,
        };
        return ToolError::refused(
            shown,
            format!(
                "{here:?} {why}; goshi keeps its files only in real directories inside the \
                 repository. Move it away and try again"
            ),
        );
    }
    ToolError::io("open the directory", shown, e)
}

/// The proposals directory for reading, or `None` when there is none yet.
fn existing_store(guard: &PathGuard) -> Result<Option<Dir>, ToolError> {
    match guard.dir().symlink_metadata(PROPOSALS_DIR) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => beneath::open_dir(guard.dir(), PROPOSALS_DIR)
            .map(Some)
            .map_err(|e| explain_dir_error(guard, PROPOSALS_DIR, PROPOSALS_DIR, e)),
    }
}

/// The stored proposal ids, sorted, with the directory they are in (none when it is missing).
pub(super) fn stored_files(guard: &PathGuard) -> Result<Option<(Dir, Vec<String>)>, ToolError> {
    let Some(dir) = existing_store(guard)? else {
        return Ok(None);
    };
    let entries = dir
        .entries()
        .map_err(|e| ToolError::io("list", PROPOSALS_DIR, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ToolError::io("list", PROPOSALS_DIR, e))?;
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
            continue;
        };
        if id.len() == 64 && is_lower_hex(id) {
            out.push(id.to_string());
        }
    }
    out.sort();
    Ok(Some((dir, out)))
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Reads and verifies the proposal `id` in the proposals directory `dir`.
pub(super) fn read_proposal(dir: &Dir, id: &str) -> Result<Proposal, ToolError> {
    let name = format!("{id}.json");
    let shown = format!("{PROPOSALS_DIR}/{name}");
    let io_err = |e| ToolError::io("read", shown.clone(), e);
    let file = beneath::open_read(dir, &name).map_err(io_err)?;
    let mut text = String::new();
    file.take(MAX_PROPOSAL_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(io_err)?;
    let corrupt = |detail: String| ToolError::CorruptProposal {
        file: shown.clone(),
        detail,
    };
    let p: Proposal = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
    if p.id != id || p.id != proposal_id(&p.path, &p.base_sha256, &p.content) {
        return Err(corrupt(
            "its contents do not match its id, so it was edited or damaged".into(),
        ));
    }
    Ok(p)
}

/// Writes a proposal file atomically into the proposals directory `dir`.
pub(super) fn save(dir: &Dir, p: &Proposal) -> Result<(), ToolError> {
    let name = format!("{}.json", p.id);
    let shown = format!("{PROPOSALS_DIR}/{name}");
    let json = serde_json::to_vec_pretty(p).map_err(|e| ToolError::CorruptProposal {
        file: shown.clone(),
        detail: e.to_string(),
    })?;
    let io_err = |e| ToolError::io("write", shown.clone(), e);
    let mut file = AtomicFile::create(dir, &name, &temp_name(&name)).map_err(io_err)?;
    file.write(&json, None).map_err(io_err)?;
    file.commit().map_err(io_err)
}

/// Finds the one proposal whose id starts with `id_or_prefix`.
pub(super) fn load_with(guard: &PathGuard, id_or_prefix: &str) -> Result<Proposal, ToolError> {
    let want = id_or_prefix.trim().to_ascii_lowercase();
    if want.is_empty() || want.len() > 64 || !is_lower_hex(&want) {
        return Err(ToolError::InvalidProposalId {
            id: id_or_prefix.to_string(),
        });
    }
    let not_found = || ToolError::ProposalNotFound {
        id: id_or_prefix.to_string(),
    };
    let (dir, ids) = stored_files(guard)?.ok_or_else(not_found)?;
    let matches: Vec<&String> = ids.iter().filter(|id| id.starts_with(&want)).collect();
    match matches.as_slice() {
        [] => Err(ToolError::ProposalNotFound {
            id: id_or_prefix.to_string(),
        }),
        [id] => read_proposal(&dir, id),
        many => {
            let mut named: Vec<String> = many
                .iter()
                .take(MAX_NAMED_MATCHES)
                .map(|id| id.chars().take(16).collect())
                .collect();
            if many.len() > MAX_NAMED_MATCHES {
                named.push("…".to_string());
            }
            Err(ToolError::AmbiguousProposalId {
                prefix: id_or_prefix.to_string(),
                matches: named,
            })
        }
    }
}

/// The target file as it is now: its bytes and permissions.
pub(super) struct Current {
    /// The whole content.
    pub(super) bytes: Vec<u8>,
    /// Its permissions, kept when the file is replaced.
    pub(super) permissions: Option<Permissions>,
}

/// The bytes of the target file, or `None` when it does not exist.
pub(super) fn read_current_bytes(
    guard: &PathGuard,
    target: &Resolved,
    path: &str,
) -> Result<Option<Vec<u8>>, ToolError> {
    if !target.exists {
        return Ok(None);
    }
    let (parent, name) = beneath::split(&target.rel);
    let dir = beneath::open_dir(guard.dir(), parent).map_err(|e| ToolError::io("read", path, e))?;
    Ok(read_in(&dir, name, path)?.map(|c| c.bytes))
}

/// The file `name` of `dir` (opened without following a link), or `None` when it is missing.
pub(super) fn read_in(dir: &Dir, name: &str, path: &str) -> Result<Option<Current>, ToolError> {
    let io_err = |e| ToolError::io("read", path, e);
    let meta = match beneath::lstat(dir, name) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(e)),
    };
    if meta.is_dir() {
        return Err(ToolError::IsADirectory { path: path.into() });
    }
    if !meta.is_file() {
        return Err(ToolError::NotARegularFile { path: path.into() });
    }
    let file = beneath::open_read(dir, name).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(too_large(
            path,
            usize::try_from(meta.len()).unwrap_or(usize::MAX),
        ));
    }
    let Some(bytes) = read_capped(file, MAX_FILE_BYTES).map_err(io_err)? else {
        return Err(ToolError::refused(
            path,
            format!(
                "it grew past {MAX_FILE_BYTES} bytes while goshi read it; proposals are \
                 limited to {MAX_FILE_BYTES} bytes"
            ),
        ));
    };
    Ok(Some(Current {
        bytes,
        permissions: Some(meta.permissions()),
    }))
}

/// `reader` to its end, or `None` when it holds more than `cap` bytes: never more than
/// `cap + 1` are read, so a file that grows while it is read cannot hold goshi.
pub(super) fn read_capped(reader: impl Read, cap: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    reader
        .take(u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() <= cap).then_some(bytes))
}

/// The target file as text (refusing binary files), or `None` when it does not exist.
pub(super) fn read_current(
    guard: &PathGuard,
    target: &Resolved,
    path: &str,
    action: &'static str,
) -> Result<Option<String>, ToolError> {
    let Some(bytes) = read_current_bytes(guard, target, path)? else {
        return Ok(None);
    };
    let binary = |why| ToolError::Binary {
        path: path.into(),
        why,
        action,
    };
    if let Some(why) = sniff_binary(&bytes, false) {
        return Err(binary(why));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| binary("it is not valid UTF-8"))
}

/// The target file as (lossy) text, or `None` when it does not exist.
pub(super) fn read_current_lossy(
    guard: &PathGuard,
    target: &Resolved,
    path: &str,
) -> Result<Option<String>, ToolError> {
    Ok(read_current_bytes(guard, target, path)?.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// Refuses when the file is not as it was when the proposal was made.
pub(super) fn check_drift(p: &Proposal, current: Option<&[u8]>) -> Result<(), ToolError> {
    let detail = match current {
        None if p.base_sha256 == ABSENT => return Ok(()),
        None => "it existed then and has been deleted since",
        Some(_) if p.base_sha256 == ABSENT => "it did not exist then and exists now",
        Some(bytes) if sha256_hex(bytes) == p.base_sha256 => return Ok(()),
        Some(_) => "its content is different now",
    };
    Err(ToolError::Drift {
        id: p.short_id().to_string(),
        path: p.path.clone(),
        detail: detail.to_string(),
    })
}

/// A free backup name for the target: `.goshi/backups/<path>.<timestamp>` (relative to the
/// root), with its directory opened (created when missing).
pub(super) fn backup_slot(guard: &PathGuard, rel: &str) -> Result<(Dir, String), ToolError> {
    let stamp: String = now_rfc3339()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let (parent, name) = beneath::split(rel);
    let dir_rel = if parent == "." {
        BACKUPS_DIR.to_string()
    } else {
        format!("{BACKUPS_DIR}/{parent}")
    };
    let dir = real_dirs(guard, &dir_rel, BACKUPS_DIR)?;
    let base = format!("{name}.{stamp}");
    // Two backups in the same second get distinct names.
    let file = (0..100)
        .map(|n| {
            if n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|f| beneath::lstat(&dir, f).is_err())
        .ok_or_else(|| ToolError::refused(rel, "too many backups in one second"))?;
    Ok((dir, format!("{dir_rel}/{file}")))
}

/// Writes `bytes` (the old content, as read and checked) to the backup `rel` atomically: a
/// full disk leaves no partial backup behind.
pub(super) fn write_backup(dir: &Dir, rel: &str, bytes: &[u8]) -> Result<(), ToolError> {
    let (_, name) = beneath::split(rel);
    let io_err = |e| ToolError::io("back up to", rel, e);
    let mut file = AtomicFile::create(dir, name, &temp_name(name)).map_err(io_err)?;
    file.write(bytes, None).map_err(io_err)?;
    file.commit().map_err(io_err)
}

#[cfg(test)]
#[path = "proposals_store_tests.rs"]
mod tests;
