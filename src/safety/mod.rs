//! The safety core: what may happen to the user's files and who allowed it.
//!
//! - [`permissions`]: capabilities, grants and the [`permissions::Prompter`] that asks the user.
//! - [`path_guard`]: keeps every path inside the repository root.
//! - `beneath`: opens what the guard allowed through directory handles that cannot leave the
//!   repository, so a path swapped after the check cannot redirect a read or a write.
//! - [`proposals`]: `fs.write` never writes; it stores a proposal the user reviews and applies.
//! - [`error`]: the errors of the tools and of the safety checks, worded for people.
//!
//! Tools use this module; it never uses them.

pub(crate) mod beneath;
pub mod error;
pub(crate) mod origin;
pub mod path_guard;
pub mod permissions;
pub mod proposals;

pub use error::ToolError;
pub use path_guard::{PathGuard, Resolved};
pub use proposals::{ApplyOptions, ApplyOutcome, Created, Proposal};
