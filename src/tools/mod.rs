//! What the model may do: the tool registry and the file tools. They rely on the safety core
//! ([`crate::safety`]) for the path guard and proposals; the safety core never uses them.
//!
//! - [`registry`]: one definition per tool (name, description, argument schema derived from the
//!   argument struct, capability, handler) and argument validation.
//! - [`schema`]: the argument schemas in OpenAI's strict form (all properties required,
//!   optional ones nullable, no additional properties), and `null` read as "not given".
//! - [`fs`]: `fs.list`, `fs.read` and `fs.write` (which only stores a proposal).

use std::path::PathBuf;

pub mod fs;
pub mod registry;
pub mod schema;

pub use registry::Registry;

/// Where the tools run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolContext {
    /// The repository root; every path must stay inside it. Proposals live in
    /// `repo_root/.goshi/proposals`.
    pub repo_root: PathBuf,
}

impl ToolContext {
    /// A context for `repo_root`.
    pub fn new(repo_root: impl Into<PathBuf>) -> Self {
        ToolContext {
            repo_root: repo_root.into(),
        }
    }
}

/// What a successful tool call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// The result for the model.
    pub content: String,
    /// A short line for a status display, e.g. `README.md (1.2 KiB)`.
    pub summary: String,
    /// The proposal the call stored, if any (`fs.write`).
    pub proposal: Option<ProposalNote>,
}

/// A proposal a tool call stored, as a status line names it:
/// `proposal 8c16e2… notes.txt (+12 -0)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalNote {
    /// The full id.
    pub id: String,
    /// The short id commands accept.
    pub short_id: String,
    /// The target file, relative to the repository root.
    pub path: String,
    /// Lines the proposal adds.
    pub added: usize,
    /// Lines the proposal removes.
    pub removed: usize,
}

impl ProposalNote {
    /// Counts the added and removed lines of a unified `diff` (its `---`/`+++` header, before
    /// the first `@@`, is not counted).
    pub fn count_lines(diff: &str) -> (usize, usize) {
        let mut in_hunks = false;
        let (mut added, mut removed) = (0, 0);
        for line in diff.lines() {
            if line.starts_with("@@") {
                in_hunks = true;
            } else if in_hunks && line.starts_with('+') {
                added += 1;
            } else if in_hunks && line.starts_with('-') {
                removed += 1;
            }
        }
        (added, removed)
    }
}
