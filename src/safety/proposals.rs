//! Proposed file changes: `fs.write` stores one, the user reviews and applies it.
//!
//! A proposal is a JSON file `<repo_root>/.goshi/proposals/<id>.json` holding `id`, `path`
//! (relative to the root), `content` (the complete new content), `base_sha256` (SHA-256 hex of
//! the file when the proposal was made, or `"absent"` when it did not exist), `created_at`
//! (RFC 3339) and, once applied, `applied_at`.
//!
//! The id is the hex SHA-256 of the string `goshi proposal v1` followed by `path`,
//! `base_sha256` and `content`, each preceded by its length as 8 little-endian bytes. The same
//! change against the same file therefore gets the same id, and a file whose contents do not
//! match its id is detected as damaged.
//!
//! Applied proposals are kept and marked with `applied_at` rather than deleted: they record
//! what was applied, and applying one again is refused instead of silently rewriting the file.
//!
//! Proposals goshi did not create on this machine (shipped with a repository) are *foreign*
//! (see [`super::origin`]); applying one needs [`ApplyOptions::foreign`]. How applying stays
//! safe with two goshi processes at once, a kill or a full disk is in `proposals_apply.rs`.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use similar::TextDiff;

use super::error::ToolError;
use super::origin;
use super::path_guard::PathGuard;

#[path = "proposals_store.rs"]
mod store;
use store::{
    load_with, now_rfc3339, read_current, read_current_lossy, read_proposal, save, store_dir,
    stored_files, too_large,
};

#[path = "proposals_apply.rs"]
mod applying;
pub use applying::apply;

/// `base_sha256` of a proposal for a file that did not exist.
pub const ABSENT: &str = "absent";
/// Where proposals live, relative to the repository root.
pub const PROPOSALS_DIR: &str = ".goshi/proposals";
/// Where backups live, relative to the repository root.
pub const BACKUPS_DIR: &str = ".goshi/backups";
/// Neither the current file nor the new content may be larger than this.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// Length of the id prefix shown in listings.
const SHORT_ID_LEN: usize = 12;

/// One stored proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The hex SHA-256 id (see the module docs).
    pub id: String,
    /// The target file, relative to the repository root, `/`-separated.
    pub path: String,
    /// The complete new content.
    pub content: String,
    /// SHA-256 hex of the file when proposed, or [`ABSENT`].
    pub base_sha256: String,
    /// When it was proposed (RFC 3339, UTC).
    pub created_at: String,
    /// When it was applied (RFC 3339, UTC), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
}

impl Proposal {
    /// The first 12 hex digits of the id, enough to name it in commands.
    pub fn short_id(&self) -> &str {
        self.id.get(..SHORT_ID_LEN).unwrap_or(&self.id)
    }

    /// `pending` or `applied`.
    pub fn status(&self) -> &'static str {
        if self.applied_at.is_some() {
            "applied"
        } else {
            "pending"
        }
    }
}

/// A freshly stored proposal and its diff against the current file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The stored proposal.
    pub proposal: Proposal,
    /// The unified diff (empty when the content is unchanged).
    pub diff: String,
}

/// How [`apply`] may act. Writing needs both `yes` and `!dry_run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyOptions {
    /// The user confirmed (`--yes`).
    pub yes: bool,
    /// Only show what would happen (`--dry-run`, on unless `--dry-run=false`).
    pub dry_run: bool,
    /// Copy the old file to `.goshi/backups/` first.
    pub backup: bool,
    /// Apply even a proposal not made on this machine (`--foreign`).
    pub foreign: bool,
}

impl ApplyOptions {
    /// Whether these options allow writing.
    pub fn writes(&self) -> bool {
        self.yes && !self.dry_run
    }

    /// The flags still needed to write: `--yes` and/or `--dry-run=false`.
    pub fn missing_flags(&self) -> Vec<&'static str> {
        let mut flags = Vec::new();
        if !self.yes {
            flags.push("--yes");
        }
        if self.dry_run {
            flags.push("--dry-run=false");
        }
        flags
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Nothing was written; this is what applying would change.
    Preview {
        /// The proposal.
        proposal: Proposal,
        /// The diff against the current file.
        diff: String,
    },
    /// The file was written.
    Applied {
        /// The proposal, now with `applied_at`.
        proposal: Proposal,
        /// The diff that was applied.
        diff: String,
        /// The backup of the old file, relative to the root, if one was made.
        backup: Option<String>,
    },
}

/// Stores a proposal to set `path` to `content`, returning it with its diff. The file itself
/// is not touched. Proposing the same change again returns the stored pending proposal.
pub fn create(repo_root: &Path, path: &str, content: &str) -> Result<Created, ToolError> {
    let guard = PathGuard::new(repo_root)?;
    let target = guard.target(path)?;
    if content.len() > MAX_FILE_BYTES {
        return Err(too_large(path, content.len()));
    }
    let current = read_current(&guard, &target, path, "changed")?;
    let base_sha256 = current
        .as_ref()
        .map_or_else(|| ABSENT.to_string(), |c| sha256_hex(c.as_bytes()));
    let id = proposal_id(&target.rel, &base_sha256, content);
    let dir = store_dir(&guard)?;
    // Same id, still pending: keep the original (and its creation time). Proposed here now,
    // it is this user's own change even if the file came with the repository.
    if let Ok(existing) = read_proposal(&dir, &id) {
        if existing.applied_at.is_none() {
            mark_made_here(&guard, &id);
            let diff = unified_diff(&existing.path, current.as_deref(), content);
            return Ok(Created {
                proposal: existing,
                diff,
            });
        }
    }
    let proposal = Proposal {
        id,
        path: target.rel.clone(),
        content: content.to_string(),
        base_sha256,
        created_at: now_rfc3339(),
        applied_at: None,
    };
    save(&dir, &proposal)?;
    mark_made_here(&guard, &proposal.id);
    let diff = unified_diff(&target.rel, current.as_deref(), content);
    Ok(Created { proposal, diff })
}

/// Records that `id` was made on this machine; without a record the proposal only shows as
/// foreign, so a failure is logged, not fatal.
fn mark_made_here(guard: &PathGuard, id: &str) {
    if let Err(e) = origin::record(guard.root(), id) {
        tracing::warn!("could not record proposal {id} as made on this machine: {e}");
    }
}

/// Whether `proposal` was made by goshi on this machine (see [`super::origin`]); a foreign one
/// may have come with the repository.
pub fn made_here(root: &Path, proposal: &Proposal) -> bool {
    match std::fs::canonicalize(root) {
        Ok(root) => origin::made_here(&root, &proposal.id),
        Err(_) => false,
    }
}

/// All stored proposals, oldest first. Damaged files are skipped with a warning in the log.
pub fn list(root: &Path) -> Result<Vec<Proposal>, ToolError> {
    let guard = PathGuard::new(root)?;
    let mut out = Vec::new();
    let Some((dir, ids)) = stored_files(&guard)? else {
        return Ok(out);
    };
    for id in ids {
        match read_proposal(&dir, &id) {
            Ok(p) => out.push(p),
            Err(e) => tracing::warn!("skipping proposal file: {e}"),
        }
    }
    out.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    Ok(out)
}

/// Loads the proposal whose id is `id_or_prefix` or starts with it (case-insensitive).
pub fn load(root: &Path, id_or_prefix: &str) -> Result<Proposal, ToolError> {
    let guard = PathGuard::new(root)?;
    load_with(&guard, id_or_prefix)
}

/// Deletes the proposal whose id is `id_or_prefix` (or starts with it) from the store without
/// applying it; returns what was deleted. The working tree is not touched.
pub fn discard(root: &Path, id_or_prefix: &str) -> Result<Proposal, ToolError> {
    let guard = PathGuard::new(root)?;
    let p = load_with(&guard, id_or_prefix)?;
    let dir = store_dir(&guard)?;
    let name = format!("{}.json", p.id);
    dir.remove_file(&name)
        .map_err(|e| ToolError::io("delete", format!("{PROPOSALS_DIR}/{name}"), e))?;
    Ok(p)
}

/// The unified diff from the file as it is now to the proposal's content, with `--- a/path`
/// and `+++ b/path` headers (`--- /dev/null` when the file does not exist). Empty when equal.
pub fn diff(root: &Path, proposal: &Proposal) -> Result<String, ToolError> {
    let guard = PathGuard::new(root)?;
    let target = guard.target(&proposal.path)?;
    let current = read_current_lossy(&guard, &target, &proposal.path)?;
    Ok(unified_diff(
        &target.rel,
        current.as_deref(),
        &proposal.content,
    ))
}

/// The unified diff between `old` (`None`: the file does not exist) and `new` for `path`.
pub fn unified_diff(path: &str, old: Option<&str>, new: &str) -> String {
    // Lines end at `\n` only: similar's own line splitting also ends a line at a lone `\r`,
    // which would cut `echo x # \r<escape codes>` in two and print both halves on one line.
    let old_lines: Vec<&str> = old.unwrap_or("").split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let diff = TextDiff::configure()
        // Pathological inputs fall back to a coarser (still correct) diff instead of hanging.
        .timeout(Duration::from_secs(2))
        .newline_terminated(true)
        .diff_slices(&old_lines, &new_lines);
    let a = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_string()
    };
    let mut text = diff
        .unified_diff()
        .context_radius(3)
        .header(&a, &format!("b/{path}"))
        .to_string();
    // A new empty file has no hunks; still show that it is created.
    if text.is_empty() && old.is_none() {
        text = format!("--- /dev/null\n+++ b/{path}\n");
    }
    text
}

/// Computes a proposal id (see the module docs).
pub fn proposal_id(path: &str, base_sha256: &str, content: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"goshi proposal v1");
    for field in [path, base_sha256, content] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// SHA-256 hex of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
#[path = "proposals_tests.rs"]
mod tests;
