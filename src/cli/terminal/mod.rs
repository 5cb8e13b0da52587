//! The terminal: everything goshi shows the user, and everything it asks them.
//!
//! - [`Screen`]: the one writer that owns the screen. All of the CLI's output goes through it:
//!   answers and command output on stdout, notices, warnings, errors and tool status on
//!   stderr. A status line or a live markdown renderer builds on it.
//! - [`TerminalUi`]: the chat loop's [`crate::agent::Ui`] on a `Screen`.
//! - [`TerminalPrompter`]: the permission prompt ([`crate::safety::permissions::Prompter`]).
//! - [`status`]: the status line on stderr while goshi waits (model, tool call, retry,
//!   thinking); `Screen` draws it and takes it down before any other output.
//! - [`ctrl_c_interrupt`]: the chat loop's [`crate::agent::Interrupt`] on Ctrl-C.
//!
//! The layers below (`agent`, `safety`) define the traits; only this module implements them
//! on a real terminal.

mod prompter;
mod screen;
pub mod status;
mod ui;

pub use prompter::{confirm, TerminalPrompter};
pub use screen::{Captured, Screen, ScreenWriter};
pub use ui::{ReviewHint, TerminalUi};

use crate::agent::Interrupt;

/// An interrupt that fires on Ctrl-C.
pub fn ctrl_c_interrupt() -> Interrupt {
    Box::new(|| {
        Box::pin(async {
            if tokio::signal::ctrl_c().await.is_err() {
                // No signal handling on this platform: never interrupt.
                futures_util::future::pending::<()>().await;
            }
        })
    })
}
