//! Where a turn's output goes. The CLI implements [`Ui`] on the terminal
//! (`cli::terminal::TerminalUi`); embedders and tests bring their own.

/// The chat loop's view of the user's screen.
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
}
