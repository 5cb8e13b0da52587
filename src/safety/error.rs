//! Errors of the tools and proposals: each message says what happened, why, and what to do.
//!
//! The text is read by the model (as the tool result) and by the user (in the CLI), so it
//! names the path or field involved and never relies on context the reader lacks. Paths are
//! quoted with Rust's debug escaping so a model-chosen name cannot inject terminal controls.

use thiserror::Error;

/// Why a tool call or proposal operation did not succeed.
#[derive(Debug, Error)]
pub enum ToolError {
    /// No tool has this name.
    #[error("unknown tool {name:?}; the known tools are: {}", known.join(", "))]
    UnknownTool {
        /// The name that was asked for.
        name: String,
        /// The names of all registered tools.
        known: Vec<String>,
    },

    /// The arguments did not match the tool's schema; nothing ran.
    #[error("invalid arguments for {tool}: {detail}")]
    InvalidArguments {
        /// The tool that was called.
        tool: String,
        /// What is wrong, naming the field.
        detail: String,
    },

    /// The path resolves somewhere the tools may not go.
    #[error("refused path {path:?}: {reason}")]
    PathRefused {
        /// The path as given.
        path: String,
        /// Why it was refused and what is allowed instead.
        reason: String,
    },

    /// The path does not exist.
    #[error(
        "{path:?} does not exist (paths are relative to the repository root); \
         use fs.list to see what is there"
    )]
    NotFound {
        /// The path as given.
        path: String,
    },

    /// A file was given where a directory is needed.
    #[error("{path:?} is a file, not a directory; use fs.read to read it")]
    NotADirectory {
        /// The path as given.
        path: String,
    },

    /// A directory was given where a file is needed.
    #[error("{path:?} is a directory, not a file; use fs.list to list it")]
    IsADirectory {
        /// The path as given.
        path: String,
    },

    /// Something other than a regular file or directory (a FIFO, a device, a socket).
    #[error("{path:?} is not a regular file; goshi only reads and writes regular files")]
    NotARegularFile {
        /// The path as given.
        path: String,
    },

    /// The file is not UTF-8 text.
    #[error(
        "{path:?} looks like a binary file ({why}); the fs tools only handle UTF-8 text, \
         so it was not {action}"
    )]
    Binary {
        /// The path as given.
        path: String,
        /// What gave it away: "it contains NUL bytes", "it is not valid UTF-8".
        why: &'static str,
        /// What was not done: "read", "changed".
        action: &'static str,
    },

    /// An operating system error.
    #[error("could not {action} {path:?}: {source}")]
    Io {
        /// What goshi was doing: "read", "list", "write", ...
        action: &'static str,
        /// The path involved (as given, or goshi's own file).
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The proposal id contains characters other than hex digits.
    #[error(
        "{id:?} is not a proposal id; ids are hex digits (a unique prefix is enough). \
         Run `goshi fs proposals` to see them"
    )]
    InvalidProposalId {
        /// The id as given.
        id: String,
    },

    /// No proposal has this id (or prefix).
    #[error("no proposal with id {id:?}; run `goshi fs proposals` to see the stored proposals")]
    ProposalNotFound {
        /// The id or prefix as given.
        id: String,
    },

    /// The prefix matches several proposals.
    #[error(
        "the id prefix {prefix:?} matches {} proposals ({}); give more digits",
        matches.len(),
        matches.join(", ")
    )]
    AmbiguousProposalId {
        /// The prefix as given.
        prefix: String,
        /// Short forms of the matching ids.
        matches: Vec<String>,
    },

    /// A stored proposal file cannot be understood.
    #[error(
        "the proposal file {file:?} is damaged ({detail}); delete it and propose the change again"
    )]
    CorruptProposal {
        /// The proposal file, relative to the repository root.
        file: String,
        /// What is wrong with it.
        detail: String,
    },

    /// The file changed since the proposal was made, so the diff no longer describes the change.
    #[error(
        "{path:?} changed since proposal {id} was made ({detail}); nothing was written. \
         Propose the change again against the current file"
    )]
    Drift {
        /// The proposal id.
        id: String,
        /// The target file, relative to the repository root.
        path: String,
        /// What changed.
        detail: String,
    },

    /// The proposal was applied before; applying again could undo later edits.
    #[error(
        "proposal {id} was already applied at {applied_at}; nothing was written. \
         To change {path:?} again, make a new proposal"
    )]
    AlreadyApplied {
        /// The proposal id.
        id: String,
        /// The target file, relative to the repository root.
        path: String,
        /// When it was applied (RFC 3339).
        applied_at: String,
    },

    /// The proposal was not made by goshi on this machine (it may have come with the
    /// repository); applying it needs an explicit confirmation.
    #[error(
        "proposal {id} for {path:?} was not made by goshi on this machine (it may have come \
         with the repository); nothing was written"
    )]
    ForeignProposal {
        /// The proposal id.
        id: String,
        /// The target file, relative to the repository root.
        path: String,
    },
}

impl ToolError {
    /// An [`ToolError::Io`] for `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<String>,
        source: std::io::Error,
    ) -> Self {
        ToolError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A [`ToolError::PathRefused`] for `path`.
    pub(crate) fn refused(path: &str, reason: impl Into<String>) -> Self {
        ToolError::PathRefused {
            path: path.to_string(),
            reason: reason.into(),
        }
    }
}
