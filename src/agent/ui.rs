//! Where a turn's output goes: answer text to stdout, everything else to stderr.

use std::io::{IsTerminal, Write};

use crate::text::sanitize::{self, Mode, StreamEscaper};

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

/// The terminal: stdout for answers, stderr for the rest. Everything it shows came from the
/// model or a server, so anything that could drive the terminal (escape sequences, C0/C1
/// controls) is shown escaped ([`sanitize`]), also when split across streamed pieces.
pub struct TerminalUi {
    buf: String,
    escaper: StreamEscaper,
    last_char: Option<char>,
    wrote_any: bool,
    stdout: std::io::Stdout,
    failed: bool,
}

impl TerminalUi {
    /// A UI on this process's stdout and stderr.
    pub fn new() -> Self {
        TerminalUi {
            buf: String::with_capacity(8192),
            escaper: StreamEscaper::new(Mode::Text),
            last_char: None,
            wrote_any: false,
            stdout: std::io::stdout(),
            failed: false,
        }
    }

    /// Whether stdout is a terminal.
    pub fn stdout_is_terminal() -> bool {
        std::io::stdout().is_terminal()
    }
}

impl Default for TerminalUi {
    fn default() -> Self {
        Self::new()
    }
}

impl Ui for TerminalUi {
    fn text(&mut self, s: &str) {
        let safe = self.escaper.push(s);
        self.buf.push_str(&safe);
    }

    fn flush(&mut self) {
        if self.buf.is_empty() || self.failed {
            self.buf.clear();
            return;
        }
        self.last_char = self.buf.chars().last();
        self.wrote_any = true;
        let mut out = self.stdout.lock();
        // A closed pipe (`goshi chat | head`) is not worth a panic: stop writing.
        if out
            .write_all(self.buf.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            self.failed = true;
        }
        self.buf.clear();
    }

    fn end_answer(&mut self) {
        let rest = self.escaper.finish();
        self.buf.push_str(&rest);
        self.flush();
        if self.wrote_any && self.last_char != Some('\n') && !self.failed {
            let mut out = self.stdout.lock();
            let _ = out.write_all(b"\n").and_then(|_| out.flush());
        }
        self.wrote_any = false;
        self.last_char = None;
    }

    fn info(&mut self, line: &str) {
        self.flush();
        eprintln!("{}", sanitize::text(line));
    }

    fn tool_start(&mut self, name: &str, summary: &str) {
        self.end_answer();
        let name = sanitize::line(name);
        let summary = sanitize::line(summary.trim());
        if summary.is_empty() {
            eprint!("→ {name} … ");
        } else {
            eprint!("→ {name} {summary} … ");
        }
        let _ = std::io::stderr().flush();
    }

    fn tool_end(&mut self, ok: bool, detail: &str) {
        if ok {
            eprintln!("✓");
        } else {
            eprintln!("✗ {}", sanitize::line(detail));
        }
    }
}
