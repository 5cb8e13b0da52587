//! Keeps every path inside the repository root.
//!
//! A path (relative to the root, or absolute) is resolved the way the operating system would
//! resolve it, symlinks included, and must stay inside the root. `..` escapes, absolute paths
//! elsewhere and symlinks pointing outside are refused, as are `.git/` and `.goshi/` at the
//! root (the repository's history and goshi's own proposals and backups).
//!
//! Resolution never touches anything outside the repository: the path is first checked as
//! text (an absolute path elsewhere or a `..` above the root is refused right away), then
//! walked one component at a time through a directory handle on the root, reading symbolic
//! links as text and refusing one that leads outside instead of following it. A refusal
//! therefore says nothing about the world outside, and names the path as it was given.
//!
//! The result is the canonical path relative to the root; the operations then open it through
//! [`super::beneath`], which follows no symbolic link, so a later swap cannot redirect them.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_std::fs::Dir;

use super::error::ToolError;

/// Root-level names the tools never touch.
const OFF_LIMITS: [&str; 2] = [".git", ".goshi"];
/// At most this many symbolic links are followed in one path (Linux's own limit).
const MAX_LINKS: usize = 40;

/// A path that passed the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The absolute path, with symlinks resolved (for display; operations use `rel`).
    pub abs: PathBuf,
    /// The path relative to the root, `/`-separated, without symlinks; `.` for the root.
    pub rel: String,
    /// Whether something exists at the path (always true for [`PathGuard::existing`]).
    pub exists: bool,
}

/// Resolves user and model paths against one repository root.
#[derive(Debug, Clone)]
pub struct PathGuard {
    root: PathBuf,
    /// The root as the caller named it (made absolute): absolute paths may use either form.
    given_root: PathBuf,
    dir: Arc<Dir>,
}

/// One component still to resolve; `from_link` marks those that came from a link's target.
struct Step {
    name: Part,
    from_link: Option<String>,
}

/// The outcome of a walk: the existing canonical part and the missing rest.
struct Walk {
    parts: Vec<String>,
    missing: Vec<String>,
}

impl PathGuard {
    /// A guard for `repo_root`, which must exist. The root is canonicalized, since temporary
    /// and home directories are themselves symlinks on some systems.
    pub fn new(repo_root: &Path) -> Result<Self, ToolError> {
        let io_err = |e| ToolError::Io {
            action: "open the repository root",
            path: repo_root.display().to_string(),
            source: e,
        };
        let root = std::fs::canonicalize(repo_root).map_err(io_err)?;
        let given_root = std::path::absolute(repo_root).map_err(io_err)?;
        let dir = Dir::open_ambient_dir(&root, cap_std::ambient_authority()).map_err(io_err)?;
        Ok(PathGuard {
            root,
            given_root,
            dir: Arc::new(dir),
        })
    }

    /// The canonical repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A handle on the root directory; everything goshi opens in the repository is opened
    /// below it.
    pub(crate) fn dir(&self) -> &Dir {
        &self.dir
    }

    /// Resolves a path that must exist.
    pub fn existing(&self, path: &str) -> Result<Resolved, ToolError> {
        let walk = self.walk(path)?;
        if !walk.missing.is_empty() {
            // Off-limits names are refused as such even when missing (`.GIT` on Linux).
            let mut parts = walk.parts;
            parts.extend(walk.missing);
            self.finish(path, parts, false)?;
            return Err(ToolError::NotFound {
                path: path.to_string(),
            });
        }
        self.finish(path, walk.parts, true)
    }

    /// Resolves a path that may not exist yet (a write target): its existing part is resolved,
    /// and the missing rest may only name plain components below a directory.
    pub fn target(&self, path: &str) -> Result<Resolved, ToolError> {
        let walk = self.walk(path)?;
        let exists = walk.missing.is_empty();
        let mut parts = walk.parts;
        parts.extend(walk.missing);
        self.finish(path, parts, exists)
    }

    /// Checks the off-limits names and builds the result.
    fn finish(&self, path: &str, parts: Vec<String>, exists: bool) -> Result<Resolved, ToolError> {
        if let Some(first) = parts.first() {
            if let Some(name) = OFF_LIMITS.iter().find(|n| first.eq_ignore_ascii_case(n)) {
                let why = if *name == ".git" {
                    "it is inside .git/, the repository's history, which goshi never touches"
                } else {
                    "it is inside .goshi/, goshi's own proposals and backups; \
                     use `goshi fs proposals` instead"
                };
                return Err(ToolError::refused(path, why));
            }
        }
        let rel = if parts.is_empty() {
            ".".to_string()
        } else {
            parts.join("/")
        };
        let abs = parts.iter().fold(self.root.clone(), |p, c| p.join(c));
        Ok(Resolved { abs, rel, exists })
    }

    /// Resolves `path` one component at a time below the root handle (see the module docs).
    fn walk(&self, path: &str) -> Result<Walk, ToolError> {
        let mut queue: VecDeque<Step> = self
            .relative_part(path)?
            .components()
            .map(|c| Step {
                name: Part::of(c),
                from_link: None,
            })
            .collect();
        let mut parts: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(step) = queue.pop_front() {
            let name = match step.name {
                Part::Cur => continue,
                Part::Parent => {
                    if parts.pop().is_none() {
                        return Err(outside(path, step.from_link.as_deref()));
                    }
                    continue;
                }
                Part::Name(n) => n.to_str().map(str::to_string).ok_or_else(|| {
                    ToolError::refused(
                        path,
                        "it is not valid UTF-8, which the fs tools cannot handle",
                    )
                })?,
            };
            let here = join(&parts, &name);
            let meta = match self.dir.symlink_metadata(&here) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if let Some(link) = step.from_link {
                        return Err(ToolError::refused(
                            path,
                            format!("{link:?} is a symbolic link whose target does not exist"),
                        ));
                    }
                    let missing = missing_rest(path, name, queue)?;
                    return Ok(Walk { parts, missing });
                }
                Err(e) => return Err(ToolError::io("resolve", path, e)),
            };
            if meta.file_type().is_symlink() {
                links += 1;
                if links > MAX_LINKS {
                    return Err(ToolError::refused(
                        path,
                        "it goes through too many symbolic links",
                    ));
                }
                let target = self
                    .dir
                    .read_link_contents(&here)
                    .map_err(|e| ToolError::io("resolve", path, e))?;
                let target = self.link_target(path, &here, &target, &mut parts)?;
                for c in target.components().rev() {
                    queue.push_front(Step {
                        name: Part::of(c),
                        from_link: Some(here.clone()),
                    });
                }
                continue;
            }
            let is_dir = meta.is_dir();
            parts.push(name);
            if !is_dir && queue.iter().any(|s| !matches!(s.name, Part::Cur)) {
                return Err(ToolError::refused(
                    path,
                    format!("{here:?} is a file, so nothing can be below it"),
                ));
            }
        }
        Ok(Walk {
            parts,
            missing: Vec::new(),
        })
    }

    /// A link's target to continue with: relative targets go on from the link's directory
    /// (`parts` as is); absolute ones must name a place inside the root, and restart there.
    fn link_target(
        &self,
        path: &str,
        link: &str,
        target: &Path,
        parts: &mut Vec<String>,
    ) -> Result<PathBuf, ToolError> {
        if !target.is_absolute() {
            return Ok(target.to_path_buf());
        }
        match self.strip_root(target) {
            Some(rest) => {
                parts.clear();
                Ok(rest.to_path_buf())
            }
            None => Err(outside(path, Some(link))),
        }
    }

    /// The part of `path` below the root, checked as text only: the path must not be empty,
    /// hold a NUL, or be absolute and elsewhere.
    fn relative_part<'p>(&self, path: &'p str) -> Result<&'p Path, ToolError> {
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
        if !p.is_absolute() {
            return Ok(p);
        }
        self.strip_root(p).ok_or_else(|| outside(path, None))
    }

    /// `p` relative to the root, under either spelling of the root.
    fn strip_root<'p>(&self, p: &'p Path) -> Option<&'p Path> {
        p.strip_prefix(&self.root)
            .or_else(|_| p.strip_prefix(&self.given_root))
            .ok()
    }
}

/// The refusal for a path that leads outside the root (through `link`, when one did).
fn outside(path: &str, link: Option<&str>) -> ToolError {
    let how = match link {
        Some(link) => format!(" through the symbolic link {link:?}"),
        None => String::new(),
    };
    ToolError::refused(
        path,
        format!(
            "it leads outside the repository root{how}; \
             the fs tools only work inside the repository"
        ),
    )
}

/// The missing components from `first` on; they must be plain names.
fn missing_rest(path: &str, first: String, rest: VecDeque<Step>) -> Result<Vec<String>, ToolError> {
    let mut missing = vec![first];
    for step in rest {
        match step.name {
            Part::Cur => {}
            Part::Name(n) => missing.push(n.into_string().map_err(|_| {
                ToolError::refused(
                    path,
                    "it is not valid UTF-8, which the fs tools cannot handle",
                )
            })?),
            _ => {
                return Err(ToolError::refused(
                    path,
                    "it uses \"..\" below a directory that does not exist",
                ))
            }
        }
    }
    Ok(missing)
}

/// `parts` and `name` joined with `/`.
fn join(parts: &[String], name: &str) -> String {
    let mut s = parts.join("/");
    if !s.is_empty() {
        s.push('/');
    }
    s.push_str(name);
    s
}

/// An owned path component: what a [`Component`] says, without borrowing the path.
enum Part {
    Cur,
    Parent,
    Name(OsString),
}

impl Part {
    /// The owned form of `c`; a root or prefix (only in absolute link targets, already
    /// stripped) counts as nothing.
    fn of(c: Component<'_>) -> Part {
        match c {
            Component::Normal(n) => Part::Name(n.to_os_string()),
            Component::ParentDir => Part::Parent,
            Component::CurDir | Component::RootDir | Component::Prefix(_) => Part::Cur,
        }
    }
}

#[cfg(test)]
#[path = "path_guard_tests.rs"]
mod tests;
