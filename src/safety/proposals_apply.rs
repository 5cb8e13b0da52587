//! Applying a proposal: the one place goshi writes the user's files.
//!
//! - **One at a time.** Two `goshi fs apply` at once take turns on an advisory lock
//!   (`.goshi/apply.lock`, `flock` through [`std::fs::File::lock`]); the proposal is loaded,
//!   checked, written and marked applied while holding it, so the same proposal cannot be
//!   applied twice and two proposals against one base cannot both win.
//! - **Last-moment check.** The target is read and hashed again right before the rename, so a
//!   change made meanwhile (by an editor, say) is reported as drift instead of overwritten.
//! - **Nothing left behind.** The write is recorded first in `.goshi/apply-journal.json`
//!   (target, temporary file, backup). A run killed halfway leaves the journal; the next apply
//!   finishes the job: it removes the temporary file, marks the proposal applied when the
//!   write did happen, and removes the backup when it did not. Backups are written atomically,
//!   so a full disk leaves no partial backup either; a write that fails removes its backup.

use std::fs::File;
use std::io::Read;

use cap_std::fs::Dir;
use serde::{Deserialize, Serialize};

use super::store::{
    backup_slot, check_drift, load_with, now_rfc3339, read_in, read_proposal, real_dirs, save,
    store_dir, write_backup,
};
use super::{unified_diff, ApplyOptions, ApplyOutcome, Proposal};
use crate::persist::atomic::{remove_stale_temps, temp_name, AtomicFile};
use crate::safety::beneath;
use crate::safety::error::ToolError;
use crate::safety::path_guard::PathGuard;
use std::path::Path;

/// goshi's own directory, holding the lock and the journal.
const GOSHI_DIR: &str = ".goshi";
/// The lock file, in [`GOSHI_DIR`].
const LOCK: &str = "apply.lock";
/// The journal of the apply in progress, in [`GOSHI_DIR`].
const JOURNAL: &str = "apply-journal.json";

/// What an apply in progress has (or may have) left behind.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    /// The proposal's id.
    id: String,
    /// The target, relative to the root (guard-resolved).
    path: String,
    /// The backup, relative to the root, if one is being made.
    backup: Option<String>,
}

/// Applies proposal `id` (or a unique prefix), or previews it unless `opts` allow writing.
///
/// Refused when the proposal was applied before, when the file changed since it was proposed
/// (drift), or when it was not made on this machine and `opts.foreign` is not set. Writing is
/// atomic and creates missing parent directories; with `opts.backup` the old file is first
/// saved to `.goshi/backups/<path>.<timestamp>`.
pub fn apply(root: &Path, id: &str, opts: ApplyOptions) -> Result<ApplyOutcome, ToolError> {
    let guard = PathGuard::new(root)?;
    if !opts.writes() {
        let (proposal, _, current) = check(&guard, id)?;
        let diff = diff_of(&proposal, current.as_deref());
        return Ok(ApplyOutcome::Preview { proposal, diff });
    }
    let goshi = real_dirs(&guard, GOSHI_DIR, GOSHI_DIR)?;
    let _lock = lock(&goshi)?;
    recover(&guard, &goshi);
    let (mut proposal, target_rel, current) = check(&guard, id)?;
    if !opts.foreign && !super::made_here(guard.root(), &proposal) {
        return Err(ToolError::ForeignProposal {
            id: proposal.id.clone(),
            path: proposal.path.clone(),
        });
    }
    let diff = diff_of(&proposal, current.as_deref());
    let backup = match (&current, opts.backup) {
        (Some(_), true) => Some(backup_slot(&guard, &target_rel)?),
        _ => None,
    };
    let journal = Journal {
        id: proposal.id.clone(),
        path: target_rel.clone(),
        backup: backup.as_ref().map(|(_, rel)| rel.clone()),
    };
    write_journal(&goshi, &journal)?;
    if let Err(e) = write(&guard, &proposal, &target_rel, current.as_deref(), &backup) {
        if let Some((dir, rel)) = &backup {
            let _ = dir.remove_file(beneath::split(rel).1);
        }
        let _ = goshi.remove_file(JOURNAL);
        return Err(e);
    }
    proposal.applied_at = Some(now_rfc3339());
    // The file is written; failing to record that must not report the write as failed. The
    // journal stays, and the next apply marks the proposal (a second apply is refused as drift
    // meanwhile).
    match store_dir(&guard).and_then(|dir| save(&dir, &proposal)) {
        Ok(()) => {
            let _ = goshi.remove_file(JOURNAL);
        }
        Err(e) => tracing::warn!(
            "applied proposal {} but could not mark it applied: {e}",
            proposal.id
        ),
    }
    Ok(ApplyOutcome::Applied {
        proposal,
        diff,
        backup: backup.map(|(_, rel)| rel),
    })
}

/// Loads the proposal and checks it may be applied now: not applied yet, its path still
/// allowed, the file unchanged. Returns it with the resolved target and the current bytes.
fn check(guard: &PathGuard, id: &str) -> Result<(Proposal, String, Option<Vec<u8>>), ToolError> {
    let proposal = load_with(guard, id)?;
    if let Some(applied_at) = &proposal.applied_at {
        return Err(ToolError::AlreadyApplied {
            id: proposal.id.clone(),
            path: proposal.path.clone(),
            // Not covered by the id: whatever the file says, escaped for display.
            applied_at: crate::text::one_line(applied_at, 40),
        });
    }
    // The proposal file could have been edited: guard its path again.
    let target = guard.target(&proposal.path)?;
    let current = super::store::read_current_bytes(guard, &target, &proposal.path)?;
    check_drift(&proposal, current.as_deref())?;
    Ok((proposal, target.rel, current))
}

/// The diff a proposal makes to `current`.
fn diff_of(proposal: &Proposal, current: Option<&[u8]>) -> String {
    let text = current.map(String::from_utf8_lossy);
    unified_diff(&proposal.path, text.as_deref(), &proposal.content)
}

/// Backs up (when asked), writes the new content under a temporary name, checks the target
/// once more, and renames it into place. Everything goes through directory handles.
fn write(
    guard: &PathGuard,
    proposal: &Proposal,
    rel: &str,
    current: Option<&[u8]>,
    backup: &Option<(Dir, String)>,
) -> Result<(), ToolError> {
    let path = proposal.path.as_str();
    if let (Some((dir, backup_rel)), Some(old)) = (backup, current) {
        write_backup(dir, backup_rel, old)?;
    }
    let (parent, name) = beneath::split(rel);
    let dir = beneath::create_dirs(guard.dir(), parent)
        .map_err(|e| ToolError::io("create the directory for", path, e))?;
    let io_err = |e| ToolError::io("write", path, e);
    // Leftovers of a run killed before it could journal them (older goshi versions too).
    let _ = remove_stale_temps(&dir, name);
    let permissions = read_in(&dir, name, path)?.and_then(|c| c.permissions);
    let mut file = AtomicFile::create(&dir, name, &temp_name(name)).map_err(io_err)?;
    file.write(proposal.content.as_bytes(), permissions)
        .map_err(io_err)?;
    // Re-hash right before the rename: what is replaced must be what was reviewed.
    let now = read_in(&dir, name, path)?.map(|c| c.bytes);
    check_drift(proposal, now.as_deref())?;
    file.commit().map_err(io_err)
}

/// Takes the apply lock, waiting for another goshi that holds it.
fn lock(goshi: &Dir) -> Result<File, ToolError> {
    let shown = format!("{GOSHI_DIR}/{LOCK}");
    let file = beneath::open_lock_file(goshi, LOCK)
        .map_err(|e| ToolError::io("open", shown.clone(), e))?;
    file.lock().map_err(|e| ToolError::io("lock", shown, e))?;
    Ok(file)
}

/// Records what an apply is about to do, durably, before it does it.
fn write_journal(goshi: &Dir, journal: &Journal) -> Result<(), ToolError> {
    let shown = format!("{GOSHI_DIR}/{JOURNAL}");
    let json =
        serde_json::to_vec(journal).map_err(|e| ToolError::io("write", shown.clone(), e.into()))?;
    let io_err = |e| ToolError::io("write", shown.clone(), e);
    let mut file = AtomicFile::create(goshi, JOURNAL, &temp_name(JOURNAL)).map_err(io_err)?;
    file.write(&json, None).map_err(io_err)?;
    file.commit().map_err(io_err)
}

/// Finishes an apply that was killed halfway (see the module docs). Best effort: whatever
/// cannot be cleaned is logged and left for the next run.
fn recover(guard: &PathGuard, goshi: &Dir) {
    // A journal killed while being written.
    let _ = remove_stale_temps(goshi, JOURNAL);
    let Some(journal) = read_journal(goshi) else {
        return;
    };
    // A proposal killed while being marked applied.
    if let Ok(store) = store_dir(guard) {
        let _ = remove_stale_temps(&store, &format!("{}.json", journal.id));
    }
    let (parent, name) = beneath::split(&journal.path);
    let mut written = false;
    if let Ok(dir) = beneath::open_dir(guard.dir(), parent) {
        let _ = remove_stale_temps(&dir, name);
        let proposal = store_dir(guard)
            .ok()
            .and_then(|store| read_proposal(&store, &journal.id).ok().map(|p| (store, p)));
        if let Some((store, mut proposal)) = proposal {
            let now = read_in(&dir, name, &journal.path).ok().flatten();
            written = now.is_some_and(|c| c.bytes == proposal.content.as_bytes());
            if written && proposal.applied_at.is_none() {
                proposal.applied_at = Some(now_rfc3339());
                if let Err(e) = save(&store, &proposal) {
                    tracing::warn!("could not mark proposal {} applied: {e}", proposal.id);
                    return;
                }
            }
        }
    }
    // The journal lies in the repository, so it may come from anyone: it may only name a
    // backup (nothing else is ever removed here but goshi's own temporary files).
    let backup = journal
        .backup
        .as_ref()
        .filter(|b| b.starts_with(&format!("{}/", super::BACKUPS_DIR)));
    if let Some(backup) = backup {
        let (bparent, bname) = beneath::split(backup);
        if let Ok(bdir) = beneath::open_dir(guard.dir(), bparent) {
            let _ = remove_stale_temps(&bdir, bname);
            if !written {
                let _ = bdir.remove_file(bname);
            }
        }
    }
    let _ = goshi.remove_file(JOURNAL);
}

/// The journal of an unfinished apply, if there is one (a damaged one is removed).
fn read_journal(goshi: &Dir) -> Option<Journal> {
    let mut text = String::new();
    let file = beneath::open_read(goshi, JOURNAL).ok()?;
    file.take(64 * 1024).read_to_string(&mut text).ok()?;
    match serde_json::from_str(&text) {
        Ok(j) => Some(j),
        Err(e) => {
            tracing::warn!("removing a damaged {GOSHI_DIR}/{JOURNAL}: {e}");
            let _ = goshi.remove_file(JOURNAL);
            None
        }
    }
}
