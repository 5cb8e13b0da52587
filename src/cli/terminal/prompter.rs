//! [`TerminalPrompter`]: asks the user at the terminal whether a capability may be used.

use std::io::{BufRead, IsTerminal};

use super::Screen;
use crate::cli::palette::Role;
use crate::safety::permissions::{Answer, Capability, Prompter};

/// Prompts on the terminal: the question goes to stderr, the answer is read from stdin.
///
/// When stdin is not a terminal nothing is read and the answer is [`Answer::No`], so piped
/// input can never be mistaken for consent.
#[derive(Debug, Clone)]
pub struct TerminalPrompter {
    screen: Screen,
}

impl TerminalPrompter {
    /// A prompter that shows its questions on `screen`.
    pub fn new(screen: Screen) -> Self {
        TerminalPrompter { screen }
    }
}

impl Prompter for TerminalPrompter {
    fn ask(&mut self, cap: Capability, tool: &str, args_summary: &str) -> Answer {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Answer::No;
        }
        let what = format!(
            "goshi wants to run {} {}",
            self.screen.err_palette().paint(Role::Tool, &sanitize(tool)),
            sanitize(args_summary)
        );
        // The question is written by the line editor (stdout) or to stderr.
        let palette = if self.screen.stdout_is_terminal() {
            self.screen.out_palette()
        } else {
            self.screen.err_palette()
        };
        let question = format!(
            "Allow goshi to {} ({})? [y]es once / [a]lways this session / [n]o ",
            cap.verb(),
            palette.paint(Role::Warn, &cap.to_string())
        );
        self.screen.before_input();
        self.screen.line(&what);
        // Anything but y/n/a is asked again. Ctrl-C cancels the whole turn; Ctrl-D or a
        // failed read is a no.
        loop {
            let line = match read_answer(&self.screen, &question) {
                Reply::Line(l) => l,
                Reply::Interrupted => return Answer::Cancel,
                Reply::Closed => return Answer::No,
            };
            if let Some(answer) = parse_answer(&line) {
                return answer;
            }
            self.screen
                .line("Please answer y (yes, once), a (always this session) or n (no); Ctrl-C stops the turn.");
        }
    }
}

/// What the user did at a prompt.
enum Reply {
    /// Typed a line (Enter).
    Line(String),
    /// Pressed Ctrl-C.
    Interrupted,
    /// Pressed Ctrl-D, or the terminal could not be read.
    Closed,
}

/// Reads one answer to `question` from the terminal.
///
/// On a terminal the line is edited in raw mode, so Ctrl-C arrives as a key instead of a
/// signal (which the chat loop's Ctrl-C handler would otherwise swallow mid-prompt).
fn read_answer(screen: &Screen, question: &str) -> Reply {
    if screen.stdout_is_terminal() {
        if let Ok(mut editor) = rustyline::DefaultEditor::new() {
            return match editor.readline(question) {
                Ok(line) => Reply::Line(line),
                Err(rustyline::error::ReadlineError::Interrupted) => Reply::Interrupted,
                Err(_) => Reply::Closed,
            };
        }
    }
    // A failed prompt write means the user cannot see the question: treat it as a no.
    if screen.err(question).is_err() {
        return Reply::Closed;
    }
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => {
            // EOF (Ctrl-D): end the prompt line so the next output starts cleanly.
            screen.line("");
            Reply::Closed
        }
        Ok(_) => Reply::Line(line),
    }
}

/// Asks a y/N question on the terminal; `true` only for an explicit y or yes (Enter, Ctrl-C,
/// Ctrl-D and anything else are a no). Never reads from a pipe.
pub fn confirm(screen: &Screen, question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    screen.before_input();
    match read_answer(screen, question) {
        Reply::Line(l) => matches!(l.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
        Reply::Interrupted | Reply::Closed => false,
    }
}

/// Maps a typed answer to an [`Answer`]; `None` when it is not one.
fn parse_answer(line: &str) -> Option<Answer> {
    let s = line.trim().to_ascii_lowercase();
    match s.as_str() {
        "y" | "yes" => Some(Answer::Once),
        "a" | "always" => Some(Answer::Always),
        "n" | "no" => Some(Answer::No),
        _ => None,
    }
}

/// Escapes control characters so a model-chosen string cannot rewrite the terminal, and keeps
/// it to one short line.
fn sanitize(s: &str) -> String {
    crate::text::one_line(s, 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_leniently_and_others_are_asked_again() {
        assert_eq!(parse_answer("y\n"), Some(Answer::Once));
        assert_eq!(parse_answer(" YES "), Some(Answer::Once));
        assert_eq!(parse_answer("a"), Some(Answer::Always));
        assert_eq!(parse_answer("Always\r\n"), Some(Answer::Always));
        assert_eq!(parse_answer("n"), Some(Answer::No));
        assert_eq!(parse_answer("No\n"), Some(Answer::No));
        assert_eq!(parse_answer(""), None);
        assert_eq!(parse_answer("sure"), None);
    }

    #[test]
    fn sanitize_escapes_control_characters() {
        assert_eq!(sanitize("a\x1b[2Jb\n"), "a\\x1b[2Jb\\n");
        assert_eq!(sanitize(&"x".repeat(300)).chars().count(), 201);
    }
}
