//! Reading the REPL's lines: line editing and history, and what Ctrl-C and Ctrl-D mean at
//! the prompt (as in bash and Python): Ctrl-C on a half-typed line clears it; Ctrl-C on an
//! empty line twice in a row, or Ctrl-D, quits.

use rustyline::error::ReadlineError;
use rustyline::{
    Cmd, ConditionalEventHandler, DefaultEditor, Event, EventContext, EventHandler, KeyEvent,
    Movement, RepeatCount,
};

use super::terminal::Screen;

/// What the user typed at the prompt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// A line (trimmed, not empty).
    Line(String),
    /// Ctrl-D, or Ctrl-C twice on an empty line: leave the REPL.
    Quit,
}

/// Ctrl-C with text on the line clears the line; on an empty line it interrupts (the default).
struct ClearOrInterrupt;

impl ConditionalEventHandler for ClearOrInterrupt {
    fn handle(&self, _: &Event, _: RepeatCount, _: bool, ctx: &EventContext) -> Option<Cmd> {
        (!ctx.line().is_empty()).then_some(Cmd::Kill(Movement::WholeBuffer))
    }
}

/// The REPL's line editor.
pub(crate) struct LineReader {
    editor: DefaultEditor,
    /// Where typed lines are kept across runs (None: this run only).
    history: Option<std::path::PathBuf>,
}

impl LineReader {
    /// A line editor with goshi's Ctrl-C behaviour, keeping its history in `history`.
    pub(crate) fn new(history: Option<std::path::PathBuf>) -> Result<Self, ReadlineError> {
        let mut editor = DefaultEditor::new()?;
        editor.bind_sequence(
            KeyEvent::ctrl('C'),
            EventHandler::Conditional(Box::new(ClearOrInterrupt)),
        );
        if let Some(h) = &history {
            // A first run has no history yet; anything else unreadable starts an empty one.
            let _ = editor.load_history(h);
        }
        Ok(LineReader { editor, history })
    }

    /// Reads the next non-empty line; an error is described for the user.
    pub(crate) fn read(&mut self, screen: &Screen, prompt: &str) -> Result<Input, String> {
        let mut interrupted = false;
        loop {
            screen.before_input();
            match self.editor.readline(prompt) {
                Ok(line) => {
                    let input = line.trim();
                    if input.is_empty() {
                        interrupted = false;
                        continue;
                    }
                    let _ = self.editor.add_history_entry(input);
                    if let Some(h) = &self.history {
                        // Appended line by line, so the history survives a crash; losing it
                        // is no reason to stop the conversation.
                        let _ = self.editor.append_history(h);
                    }
                    return Ok(Input::Line(input.to_string()));
                }
                Err(ReadlineError::Interrupted) if !interrupted => {
                    interrupted = true;
                    screen.line("(press Ctrl-C again, or Ctrl-D, to quit)");
                }
                Err(ReadlineError::Interrupted | ReadlineError::Eof) => return Ok(Input::Quit),
                Err(e) => return Err(format!("reading input failed: {e}")),
            }
        }
    }
}
