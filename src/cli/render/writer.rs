//! [`Writer`]: styled lines with container prefixes (list bullets, quote bars), for the block
//! renderer. Styles are SGR parameter stacks: every line ends with a reset and the next one
//! re-applies them after its prefixes, so a style never bleeds into a quote bar or the prompt.

use super::escape_text;
use crate::cli::palette::Role;

/// A container's prefix: `first` on its first line (a bullet), `rest` on the others.
struct Indent {
    first: String,
    rest: String,
    first_used: bool,
}

/// Builds styled terminal text line by line.
pub(super) struct Writer {
    out: String,
    indents: Vec<Indent>,
    styles: Vec<&'static str>,
    at_line_start: bool,
    /// A blank line is due before the next block.
    pub need_blank: bool,
    /// Inside a table cell: no prefixes, no line breaks.
    in_cell: bool,
    /// The output and line state before the table cell being written.
    before_cell: Option<(String, bool)>,
    /// The plain text of the link being written, to compare it with its URL.
    pub link_text: Option<String>,
}

impl Writer {
    /// A writer at the start of a line; `need_blank` when a block was written before.
    pub fn new(need_blank: bool) -> Writer {
        Writer {
            out: String::new(),
            indents: Vec::new(),
            styles: Vec::new(),
            at_line_start: true,
            need_blank,
            in_cell: false,
            before_cell: None,
            link_text: None,
        }
    }

    /// The text written so far, leaving the writer empty.
    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    /// Starts a table cell: its text goes to a buffer of its own, on one line, until
    /// [`Writer::end_cell`]; what was written before it and the line's state are kept.
    pub fn start_cell(&mut self) {
        let before = std::mem::take(&mut self.out);
        self.before_cell = Some((before, self.at_line_start));
        self.in_cell = true;
    }

    /// Ends a table cell and returns its text; writing goes on where it was before the cell.
    pub fn end_cell(&mut self) -> String {
        let (before, at_line_start) = self.before_cell.take().unwrap_or((String::new(), true));
        self.in_cell = false;
        self.at_line_start = at_line_start;
        std::mem::replace(&mut self.out, before)
    }

    fn line_start(&mut self) {
        if self.at_line_start && !self.in_cell {
            for ind in &mut self.indents {
                if ind.first_used {
                    self.out.push_str(&ind.rest);
                } else {
                    self.out.push_str(&ind.first);
                    ind.first_used = true;
                }
            }
            self.apply_styles();
        }
        self.at_line_start = false;
    }

    fn apply_styles(&mut self) {
        if !self.styles.is_empty() {
            self.out.push_str("\x1b[");
            self.out.push_str(&self.styles.join(";"));
            self.out.push('m');
        }
    }

    /// Untrusted text, made terminal-safe; `\n` starts a new line.
    pub fn text(&mut self, s: &str) {
        if let Some(t) = &mut self.link_text {
            t.push_str(s);
        }
        for (i, seg) in s.split('\n').enumerate() {
            if i > 0 {
                self.newline();
            }
            if !seg.is_empty() {
                self.line_start();
                self.out.push_str(&escape_text(seg));
            }
        }
    }

    /// goshi's own text or sequences (already safe), on the current line.
    pub fn raw(&mut self, s: &str) {
        self.line_start();
        self.out.push_str(s);
    }

    /// Text in a role's style.
    pub fn styled(&mut self, role: Role, s: &str) {
        self.push_style(role);
        self.text(s);
        self.pop_style();
    }

    /// Ends the current line (a cell stays on its one line).
    pub fn newline(&mut self) {
        if self.in_cell {
            self.out.push(' ');
            return;
        }
        if self.at_line_start {
            // An empty line inside a quote keeps its bar, without trailing spaces.
            let mut prefix = String::new();
            for ind in &mut self.indents {
                prefix.push_str(if ind.first_used {
                    &ind.rest
                } else {
                    &ind.first
                });
                ind.first_used = true;
            }
            self.out.push_str(prefix.trim_end_matches(' '));
        } else if !self.styles.is_empty() {
            self.out.push_str("\x1b[0m");
        }
        self.out.push('\n');
        self.at_line_start = true;
    }

    /// Ends the current line if something is on it.
    pub fn end_line(&mut self) {
        if !self.at_line_start {
            self.newline();
        }
    }

    /// Starts a block: ends the line and puts the blank line that separates blocks.
    pub fn start_block(&mut self) {
        self.end_line();
        if self.need_blank {
            self.newline();
        }
        self.need_blank = false;
    }

    /// Ends a block: the next one is separated by a blank line.
    pub fn end_block(&mut self) {
        self.end_line();
        self.need_blank = true;
    }

    /// Pushes a container prefix.
    pub fn push_indent(&mut self, first: String, rest: String) {
        self.indents.push(Indent {
            first,
            rest,
            first_used: false,
        });
    }

    /// Pops the innermost container prefix.
    pub fn pop_indent(&mut self) {
        self.end_line();
        self.indents.pop();
    }

    /// Starts a style.
    pub fn push_style(&mut self, role: Role) {
        self.styles.push(role.sgr());
        if !self.at_line_start || self.in_cell {
            self.out.push_str("\x1b[");
            self.out.push_str(role.sgr());
            self.out.push('m');
        }
    }

    /// Ends the innermost style.
    pub fn pop_style(&mut self) {
        self.styles.pop();
        if !self.at_line_start || self.in_cell {
            self.out.push_str("\x1b[0m");
            self.apply_styles();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_are_reset_at_line_ends_and_reapplied_after_prefixes() {
        let mut w = Writer::new(false);
        w.push_indent("> ".into(), "> ".into());
        w.push_style(Role::Strong);
        w.text("a\nb");
        w.pop_style();
        w.end_line();
        assert_eq!(w.take(), "> \x1b[1ma\x1b[0m\n> \x1b[1mb\x1b[0m\n");
    }

    #[test]
    fn bullets_only_on_the_first_line() {
        let mut w = Writer::new(false);
        w.push_indent("- ".into(), "  ".into());
        w.text("one\ntwo\n");
        w.pop_indent();
        assert_eq!(w.take(), "- one\n  two\n");
    }
}
