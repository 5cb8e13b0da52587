//! [`TerminalPrompter`]: asks the user at the terminal whether a capability may be used.

use std::io::{BufRead, IsTerminal};

use super::Screen;
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
            sanitize(tool),
            sanitize(args_summary)
        );
        let question = format!(
            "Allow goshi to {} ({})? [y]es once / [a]lways this session / [n]o ",
            cap.verb(),
            cap
        );
        self.screen.before_input();
        if self.screen.stdout_is_terminal() {
            // Line editing in raw mode: Ctrl-C arrives as a key (a "no") instead of a signal,
            // which the chat loop's Ctrl-C handler would otherwise swallow mid-prompt.
            if let Ok(mut editor) = rustyline::DefaultEditor::new() {
                self.screen.line(&what);
                return match editor.readline(&question) {
                    Ok(line) => parse_answer(&line),
                    Err(_) => Answer::No,
                };
            }
        }
        // A failed prompt write means the user cannot see the question: treat it as a no.
        if self.screen.err(&format!("{what}\n{question}")).is_err() {
            return Answer::No;
        }
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => {
                // EOF (Ctrl-D): end the prompt line so the next output starts cleanly.
                self.screen.line("");
                Answer::No
            }
            Ok(_) => parse_answer(&line),
        }
    }
}

/// Maps a typed answer to an [`Answer`]; anything unrecognized is a no.
fn parse_answer(line: &str) -> Answer {
    let s = line.trim().to_ascii_lowercase();
    match s.as_str() {
        "y" | "yes" => Answer::Once,
        "a" | "always" => Answer::Always,
        _ => Answer::No,
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
    fn answers_parse_leniently_and_default_to_no() {
        assert_eq!(parse_answer("y\n"), Answer::Once);
        assert_eq!(parse_answer(" YES "), Answer::Once);
        assert_eq!(parse_answer("a"), Answer::Always);
        assert_eq!(parse_answer("Always\r\n"), Answer::Always);
        assert_eq!(parse_answer("n"), Answer::No);
        assert_eq!(parse_answer(""), Answer::No);
        assert_eq!(parse_answer("sure"), Answer::No);
    }

    #[test]
    fn sanitize_escapes_control_characters() {
        assert_eq!(sanitize("a\x1b[2Jb\n"), "a\\x1b[2Jb\\n");
        assert_eq!(sanitize(&"x".repeat(300)).chars().count(), 201);
    }
}
