//! Pruning old session files, run when a session opens.
//!
//! Only files whose names [`super::session_file_name`] could have made are considered, so a
//! stray `notes.jsonl` or anything else in the directory is never deleted.
//!
//! - `retention_days`: a file last written more than this many days ago (by its modification
//!   time, so a long session counts from its last event) is deleted.
//! - `max_sessions`: of the remaining files, the newest by name (the start time) are kept, at
//!   most this many counting the current session's file.
//!
//! The current session's file is never deleted.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::is_session_file_name;

/// What a retention pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    /// Files deleted.
    pub deleted: Vec<PathBuf>,
    /// Files that should have been deleted but could not be, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

/// Applies the limits to `dir`, sparing `current` (see the module docs). Problems are
/// reported, never fatal: an unreadable directory yields an empty report.
pub fn apply_retention(
    dir: &Path,
    retention_days: Option<u64>,
    max_sessions: Option<usize>,
    current: &Path,
    now: SystemTime,
) -> RetentionReport {
    let mut report = RetentionReport::default();
    if retention_days.is_none() && max_sessions.is_none() {
        return report;
    }
    let mut files = session_files(dir, current);
    if let Some(days) = retention_days {
        // A limit too large to subtract means nothing is old enough.
        let cutoff = days
            .checked_mul(86_400)
            .and_then(|s| now.checked_sub(Duration::from_secs(s)));
        if let Some(cutoff) = cutoff {
            files.retain(|f| {
                if f.modified < cutoff {
                    remove(&f.path, &mut report);
                    false
                } else {
                    true
                }
            });
        }
    }
    if let Some(max) = max_sessions {
        // The current file is one of the `max`.
        let keep = max.saturating_sub(1);
        files.sort_by(|a, b| b.name.cmp(&a.name));
        for f in files.iter().skip(keep) {
            remove(&f.path, &mut report);
        }
    }
    report
}

struct SessionFile {
    path: PathBuf,
    name: String,
    modified: SystemTime,
}

/// The session files in `dir` other than `current`; unreadable entries are skipped.
fn session_files(dir: &Path, current: &Path) -> Vec<SessionFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let current_name = current.file_name();
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !is_session_file_name(&name) || Some(e.file_name().as_os_str()) == current_name {
                return None;
            }
            // Not following links: only plain files we could have written.
            let meta = std::fs::symlink_metadata(e.path()).ok()?;
            if !meta.is_file() {
                return None;
            }
            Some(SessionFile {
                path: e.path(),
                name,
                modified: meta.modified().ok()?,
            })
        })
        .collect()
}

fn remove(path: &Path, report: &mut RetentionReport) {
    match std::fs::remove_file(path) {
        Ok(()) => report.deleted.push(path.to_path_buf()),
        Err(e) => report.failed.push((path.to_path_buf(), e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    const DAY: Duration = Duration::from_secs(86_400);

    fn touch(dir: &Path, name: &str, age: Duration) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, "{}\n").unwrap();
        let f = File::options().write(true).open(&p).unwrap();
        f.set_modified(SystemTime::now() - age).unwrap();
        p
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn deletes_files_older_than_the_retention_days() {
        let d = tempfile::tempdir().unwrap();
        let old = touch(d.path(), "2026-01-01T00-00-00Z-old.jsonl", 10 * DAY);
        touch(d.path(), "2026-01-05T00-00-00Z-recent.jsonl", DAY);
        touch(d.path(), "notes.jsonl", 100 * DAY);
        let cur = touch(d.path(), "2026-01-06T00-00-00Z-cur.jsonl", Duration::ZERO);
        let r = apply_retention(d.path(), Some(7), None, &cur, SystemTime::now());
        assert_eq!(r.deleted, vec![old]);
        assert!(r.failed.is_empty());
        assert_eq!(
            names(d.path()),
            [
                "2026-01-05T00-00-00Z-recent.jsonl",
                "2026-01-06T00-00-00Z-cur.jsonl",
                "notes.jsonl"
            ]
        );
    }

    #[test]
    fn keeps_only_the_newest_sessions_including_the_current_one() {
        let d = tempfile::tempdir().unwrap();
        for n in 1..=5 {
            touch(d.path(), &format!("2026-01-0{n}T00-00-00Z-s{n}.jsonl"), DAY);
        }
        let cur = touch(d.path(), "2026-01-09T00-00-00Z-cur.jsonl", Duration::ZERO);
        let r = apply_retention(d.path(), None, Some(3), &cur, SystemTime::now());
        assert_eq!(r.deleted.len(), 3);
        assert_eq!(
            names(d.path()),
            [
                "2026-01-04T00-00-00Z-s4.jsonl",
                "2026-01-05T00-00-00Z-s5.jsonl",
                "2026-01-09T00-00-00Z-cur.jsonl"
            ]
        );
    }

    #[test]
    fn never_deletes_the_current_file() {
        let d = tempfile::tempdir().unwrap();
        let cur = touch(d.path(), "2020-01-01T00-00-00Z-cur.jsonl", 900 * DAY);
        touch(d.path(), "2026-01-01T00-00-00Z-newer.jsonl", DAY);
        let r = apply_retention(d.path(), Some(1), Some(0), &cur, SystemTime::now());
        assert_eq!(r.deleted.len(), 1);
        assert_eq!(names(d.path()), ["2020-01-01T00-00-00Z-cur.jsonl"]);
    }

    #[test]
    fn no_limits_or_huge_limits_or_missing_dir_do_nothing() {
        let d = tempfile::tempdir().unwrap();
        let cur = touch(d.path(), "2026-01-01T00-00-00Z-cur.jsonl", Duration::ZERO);
        touch(d.path(), "2026-01-02T00-00-00Z-x.jsonl", 5 * DAY);
        let none = apply_retention(d.path(), None, None, &cur, SystemTime::now());
        let huge = apply_retention(
            d.path(),
            Some(u64::MAX),
            Some(usize::MAX),
            &cur,
            SystemTime::now(),
        );
        assert_eq!(none, RetentionReport::default());
        assert_eq!(huge, RetentionReport::default());
        let gone = d.path().join("missing");
        let r = apply_retention(&gone, Some(1), Some(1), &cur, SystemTime::now());
        assert_eq!(r, RetentionReport::default());
    }
}
