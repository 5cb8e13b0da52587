//! Keeps every path inside the repository root.
//!
//! A path (relative to the root, or absolute) is resolved the way the operating system would
//! resolve it, symlinks included, and must land inside the canonical root. `..` escapes,
//! absolute paths elsewhere and symlinks pointing outside are refused, as are `.git/` and
//! `.goshi/` at the root (the repository's history and goshi's own proposals and backups).
//!
//! Resolution happens right before use, so a path is checked against the filesystem as it is
//! then; callers operate on the resolved path, never on the text they were given.

use std::ffi::OsStr;
use std::fs;
use std::path::{Component, Path, PathBuf};

use super::error::ToolError;

/// Root-level names the tools never touch.
const OFF_LIMITS: [&str; 2] = [".git", ".goshi"];

/// A path that passed the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The absolute path to operate on, with symlinks resolved.
    pub abs: PathBuf,
    /// The path relative to the root, `/`-separated; `.` for the root itself.
    pub rel: String,
    /// Whether something exists at `abs` (always true for [`PathGuard::existing`]).
    pub exists: bool,
}

/// Resolves user and model paths against one repository root.
#[derive(Debug, Clone)]
pub struct PathGuard {
    root: PathBuf,
}

impl PathGuard {
    /// A guard for `repo_root`, which must exist. The root is canonicalized, since temporary
    /// and home directories are themselves symlinks on some systems.
    pub fn new(repo_root: &Path) -> Result<Self, ToolError> {
        let root = fs::canonicalize(repo_root).map_err(|e| ToolError::Io {
            action: "open the repository root",
            path: repo_root.display().to_string(),
            source: e,
        })?;
        Ok(PathGuard { root })
    }

    /// The canonical repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves a path that must exist.
    pub fn existing(&self, path: &str) -> Result<Resolved, ToolError> {
        let joined = self.join(path)?;
        match fs::canonicalize(&joined) {
            Ok(abs) => {
                let rel = self.check_inside(path, &abs)?;
                Ok(Resolved {
                    abs,
                    rel,
                    exists: true,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Refuse escapes even when their target is missing, so "outside" is reported
                // as outside rather than as "not found".
                self.target(path)?;
                Err(ToolError::NotFound {
                    path: path.to_string(),
                })
            }
            Err(e) => Err(ToolError::io("resolve", path, e)),
        }
    }

    /// Resolves a path that may not exist yet (a write target): its nearest existing ancestor
    /// is resolved, and the missing rest may only name plain components below it.
    pub fn target(&self, path: &str) -> Result<Resolved, ToolError> {
        let joined = self.join(path)?;
        let components: Vec<Component<'_>> = joined.components().collect();
        // The longest prefix that exists (as anything, dangling symlinks included).
        let split = (0..=components.len())
            .rev()
            .find(|&i| {
                let prefix: PathBuf = components[..i].iter().collect();
                i > 0 && fs::symlink_metadata(&prefix).is_ok()
            })
            .ok_or_else(|| ToolError::refused(path, "none of its directories exist"))?;
        let prefix: PathBuf = components[..split].iter().collect();
        let base = fs::canonicalize(&prefix).map_err(|_| {
            ToolError::refused(
                path,
                format!(
                    "{:?} is a symbolic link whose target does not exist or cannot be resolved",
                    prefix.strip_prefix(&self.root).unwrap_or(&prefix)
                ),
            )
        })?;
        let mut abs = base.clone();
        for c in &components[split..] {
            match c {
                Component::Normal(name) => abs.push(name),
                Component::CurDir => {}
                _ => {
                    return Err(ToolError::refused(
                        path,
                        "it uses \"..\" below a directory that does not exist",
                    ))
                }
            }
        }
        let rel = self.check_inside(path, &abs)?;
        let exists = split == components.len();
        if !exists && !base.is_dir() {
            return Err(ToolError::refused(
                path,
                format!(
                    "{:?} is a file, so nothing can be created below it",
                    self.rel_of(&base).unwrap_or_default()
                ),
            ));
        }
        Ok(Resolved { abs, rel, exists })
    }

    /// Joins a user path onto the root after basic validation.
    fn join(&self, path: &str) -> Result<PathBuf, ToolError> {
        if path.trim().is_empty() {
            return Err(ToolError::refused(
                path,
                "the path is empty; use \".\" for the repository root",
            ));
        }
        if path.contains('\0') {
            return Err(ToolError::refused(path, "it contains a NUL character"));
        }
        let p = Path::new(path);
        Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        })
    }

    /// Checks a resolved absolute path against the root and the off-limits names, returning
    /// its root-relative form.
    fn check_inside(&self, path: &str, abs: &Path) -> Result<String, ToolError> {
        if !abs.starts_with(&self.root) {
            return Err(ToolError::refused(
                path,
                format!(
                    "it resolves to {:?}, outside the repository root {:?}; \
                     the fs tools only work inside the repository",
                    abs.display().to_string(),
                    self.root.display().to_string()
                ),
            ));
        }
        let Some(rel) = self.rel_of(abs) else {
            return Err(ToolError::refused(
                path,
                "its resolved name is not valid UTF-8, which the fs tools cannot handle",
            ));
        };
        let first = rel.split('/').next().unwrap_or_default();
        if let Some(name) = OFF_LIMITS.iter().find(|n| first.eq_ignore_ascii_case(n)) {
            let why = if *name == ".git" {
                "it is inside .git/, the repository's history, which goshi never touches"
            } else {
                "it is inside .goshi/, goshi's own proposals and backups; \
                 use `goshi fs proposals` instead"
            };
            return Err(ToolError::refused(path, why));
        }
        Ok(rel)
    }

    /// The `/`-separated form of `abs` relative to the root, or `None` when it is outside
    /// (or not UTF-8, which the tools cannot name).
    fn rel_of(&self, abs: &Path) -> Option<String> {
        let rest = abs.strip_prefix(&self.root).ok()?;
        let parts: Option<Vec<&str>> = rest.components().map(normal_str).collect();
        let parts = parts?;
        Some(if parts.is_empty() {
            ".".to_string()
        } else {
            parts.join("/")
        })
    }
}

/// A normal component as UTF-8; anything else (or non-UTF-8) is `None`.
fn normal_str(c: Component<'_>) -> Option<&str> {
    match c {
        Component::Normal(s) => OsStr::to_str(s),
        _ => None,
    }
}

#[cfg(test)]
#[path = "path_guard_tests.rs"]
mod tests;
