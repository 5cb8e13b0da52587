//! Storage details of proposals: the files under `.goshi/`, reading the target, drift, backups.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{
    proposal_id, sha256_hex, Proposal, ABSENT, BACKUPS_DIR, MAX_FILE_BYTES, PROPOSALS_DIR,
};
use crate::persist::atomic::write_atomic;
use crate::safety::error::ToolError;
use crate::safety::path_guard::{PathGuard, Resolved};
use crate::text::sniff_binary;

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
pub(super) fn store_dir(guard: &PathGuard) -> Result<PathBuf, ToolError> {
    make_real_dirs(guard.root(), Path::new(PROPOSALS_DIR), PROPOSALS_DIR)
}

/// Creates `root/rel` one directory at a time, refusing symbolic links and non-directories on
/// the way, so a symlinked `.goshi` cannot redirect goshi's writes elsewhere (checking after
/// `create_dir_all` would be too late: it follows links).
fn make_real_dirs(root: &Path, rel: &Path, shown: &str) -> Result<PathBuf, ToolError> {
    let mut dir = root.to_path_buf();
    for component in rel.components() {
        dir.push(component);
        let refuse = |why: &str| {
            ToolError::refused(
                shown,
                format!(
                    "{:?} {why}; goshi keeps its files only in real directories inside the \
                     repository. Move it away and try again",
                    dir.strip_prefix(root).unwrap_or(&dir).display().to_string()
                ),
            )
        };
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => return Err(refuse("is a symbolic link")),
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(refuse("is not a directory")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match fs::create_dir(&dir) {
                Ok(()) => {}
                // Created concurrently: fine if it is a real directory now.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let m = fs::symlink_metadata(&dir)
                        .map_err(|e| ToolError::io("create the directory", shown, e))?;
                    if !m.is_dir() {
                        return Err(refuse("is not a directory"));
                    }
                }
                Err(e) => return Err(ToolError::io("create the directory", shown, e)),
            },
            Err(e) => return Err(ToolError::io("open the directory", shown, e)),
        }
    }
    Ok(dir)
}

/// Refuses `dir` unless it resolves to itself (no symlink anywhere on the way).
fn ensure_real_dir(dir: &Path, shown: &str) -> Result<(), ToolError> {
    let canonical =
        fs::canonicalize(dir).map_err(|e| ToolError::io("open the directory", shown, e))?;
    if canonical != dir {
        return Err(ToolError::refused(
            shown,
            "it is (or lies below) a symbolic link; goshi keeps its files only in a real \
             directory inside the repository. Remove the link and try again",
        ));
    }
    Ok(())
}

/// The stored proposal files as `(id, file)`, sorted by id; none when the directory is missing.
pub(super) fn stored_files(guard: &PathGuard) -> Result<Vec<(String, PathBuf)>, ToolError> {
    let dir = guard.root().join(PROPOSALS_DIR);
    if !dir.exists() {
        return Ok(Vec::new());
    }
    ensure_real_dir(&dir, PROPOSALS_DIR)?;
    let entries = fs::read_dir(&dir).map_err(|e| ToolError::io("list", PROPOSALS_DIR, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ToolError::io("list", PROPOSALS_DIR, e))?;
        let name = entry.file_name();
        let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
            continue;
        };
        if id.len() == 64 && is_lower_hex(id) {
            out.push((id.to_string(), entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Reads and verifies one proposal file.
pub(super) fn read_proposal(guard: &PathGuard, file: &Path) -> Result<Proposal, ToolError> {
    let shown = file
        .strip_prefix(guard.root())
        .unwrap_or(file)
        .display()
        .to_string();
    let text = fs::read_to_string(file).map_err(|e| ToolError::io("read", shown.clone(), e))?;
    let corrupt = |detail: String| ToolError::CorruptProposal {
        file: shown.clone(),
        detail,
    };
    let p: Proposal = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if p.id != stem || p.id != proposal_id(&p.path, &p.base_sha256, &p.content) {
        return Err(corrupt(
            "its contents do not match its id, so it was edited or damaged".into(),
        ));
    }
    Ok(p)
}

/// Writes a proposal file atomically.
pub(super) fn save(guard: &PathGuard, file: &Path, p: &Proposal) -> Result<(), ToolError> {
    let shown = file
        .strip_prefix(guard.root())
        .unwrap_or(file)
        .display()
        .to_string();
    let json = serde_json::to_vec_pretty(p).map_err(|e| ToolError::CorruptProposal {
        file: shown.clone(),
        detail: e.to_string(),
    })?;
    write_atomic(file, &json, None).map_err(|e| ToolError::io("write", shown, e))
}

/// Finds the one proposal whose id starts with `id_or_prefix`.
pub(super) fn load_with(guard: &PathGuard, id_or_prefix: &str) -> Result<Proposal, ToolError> {
    let want = id_or_prefix.trim().to_ascii_lowercase();
    if want.is_empty() || want.len() > 64 || !is_lower_hex(&want) {
        return Err(ToolError::InvalidProposalId {
            id: id_or_prefix.to_string(),
        });
    }
    let matches: Vec<(String, PathBuf)> = stored_files(guard)?
        .into_iter()
        .filter(|(id, _)| id.starts_with(&want))
        .collect();
    match matches.as_slice() {
        [] => Err(ToolError::ProposalNotFound {
            id: id_or_prefix.to_string(),
        }),
        [(_, file)] => read_proposal(guard, file),
        many => {
            let mut named: Vec<String> = many
                .iter()
                .take(MAX_NAMED_MATCHES)
                .map(|(id, _)| id.chars().take(16).collect())
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

/// The bytes of the target file, or `None` when it does not exist.
pub(super) fn read_current_bytes(
    target: &Resolved,
    path: &str,
) -> Result<Option<Vec<u8>>, ToolError> {
    if !target.exists {
        return Ok(None);
    }
    let meta = fs::metadata(&target.abs).map_err(|e| ToolError::io("read", path, e))?;
    if meta.is_dir() {
        return Err(ToolError::IsADirectory { path: path.into() });
    }
    if !meta.is_file() {
        return Err(ToolError::NotARegularFile { path: path.into() });
    }
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(too_large(
            path,
            usize::try_from(meta.len()).unwrap_or(usize::MAX),
        ));
    }
    fs::read(&target.abs)
        .map(Some)
        .map_err(|e| ToolError::io("read", path, e))
}

/// The target file as text (refusing binary files), or `None` when it does not exist.
pub(super) fn read_current(
    target: &Resolved,
    path: &str,
    action: &'static str,
) -> Result<Option<String>, ToolError> {
    let Some(bytes) = read_current_bytes(target, path)? else {
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
    target: &Resolved,
    path: &str,
) -> Result<Option<String>, ToolError> {
    Ok(read_current_bytes(target, path)?.map(|b| String::from_utf8_lossy(&b).into_owned()))
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

/// Copies the target to `.goshi/backups/<path>.<timestamp>` and returns that path (relative).
pub(super) fn backup(guard: &PathGuard, target: &Resolved) -> Result<String, ToolError> {
    let stamp: String = now_rfc3339()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let rel_path = Path::new(&target.rel);
    let parent = Path::new(BACKUPS_DIR).join(rel_path.parent().unwrap_or(Path::new("")));
    make_real_dirs(guard.root(), &parent, BACKUPS_DIR)?;
    let base = format!("{BACKUPS_DIR}/{}.{stamp}", target.rel);
    // Two backups in the same second get distinct names.
    let rel = (0..100)
        .map(|n| {
            if n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|rel| fs::symlink_metadata(guard.root().join(rel)).is_err())
        .ok_or_else(|| ToolError::refused(&target.rel, "too many backups in one second"))?;
    let dest = guard.root().join(&rel);
    fs::copy(&target.abs, &dest).map_err(|e| ToolError::io("back up", &target.rel, e))?;
    Ok(rel)
}
