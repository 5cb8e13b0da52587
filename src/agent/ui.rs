//! [`Ui`]: what the chat loop shows while it runs.

use crate::tools::ProposalNote;

/// What the chat loop is waiting for (see [`Ui::waiting`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting<'a> {
    /// The model's first event.
    Model {
        /// The model asked.
        model: &'a str,
    },
    /// The rest of a tool call the model is streaming.
    ToolCall {
        /// The tool's name, as the model sent it (escape it before showing it).
        name: &'a str,
        /// Argument bytes received so far.
        bytes: usize,
    },
}

/// The chat loop's output. The CLI's is `cli::terminal::TerminalUi`.
pub trait Ui: Send {
    /// Appends answer text (shown at the next [`Ui::flush`]).
    fn text(&mut self, s: &str);
    /// Shows the text appended since the last flush, in one write.
    fn flush(&mut self);
    /// Ends the answer's line if it did not end with a newline.
    fn end_answer(&mut self);
    /// A diagnostic line (token usage, warnings): stderr.
    fn info(&mut self, line: &str);
    /// A tool starts running (`→ fs.read README.md … `).
    fn tool_start(&mut self, name: &str, summary: &str);
    /// The tool finished: `✓`, or `✗ reason`.
    fn tool_end(&mut self, ok: bool, detail: &str);
    /// What the loop waits for now, until the next answer text, line or tool status (a
    /// terminal shows it as a status line). Optional.
    fn waiting(&mut self, _what: Waiting<'_>) {}
    /// Called about ten times a second while the loop waits on the network (a status
    /// line's clock). Optional.
    fn tick(&mut self) {}
    /// A piece of the model's reasoning, as it streams. It is not part of the answer and is
    /// never kept in the conversation. Optional.
    fn thinking(&mut self, _s: &str) {}
    /// A tool call stored a proposal for the user to review (`fs.write`). Optional.
    fn proposal(&mut self, _note: &ProposalNote) {}
}
