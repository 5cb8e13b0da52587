//! [`Writer`]: styled lines with container prefixes (list bullets, quote bars), for the block
//! renderer. Styles are SGR parameter stacks: every line ends with a reset and the next one
//! re-applies them after its prefixes, so a style never bleeds into a quote bar or the prompt.
//!
//! Text is wrapped at word boundaries to the terminal's width, so a word is never cut in two
//! at the edge of the screen and a long list item or quote line goes on under its own indent
//! or bar instead of at the left margin. A word longer than the room left is never cut (the
//! terminal wraps it); code is never wrapped, and tables are fitted by `table`. Pipes get the
//! model's text as it came, so nothing is lost for copying.

use unicode_width::UnicodeWidthChar;

use super::escape_text;
use crate::cli::palette::Role;

/// A container's prefix: `first` on its first line (a bullet), `rest` on the others.
struct Indent {
    first: String,
    rest: String,
    first_used: bool,
}

/// Wrapping is left to the terminal when a container leaves less room than this.
const MIN_WRAP_ROOM: usize = 16;

/// Builds styled terminal text line by line.
pub(super) struct Writer {
    out: String,
    indents: Vec<Indent>,
    styles: Vec<&'static str>,
    at_line_start: bool,
    /// The terminal's columns (0: unknown, no wrapping).
    width: usize,
    /// Columns taken on the current line, prefixes included.
    col: usize,
    /// Where the current line's text starts, after its prefixes.
    text_col: usize,
    /// The last text written on this line ended with a space: a wrap may come next.
    after_space: bool,
    /// The end in `out` of the last word written on this line (or of its prefixes).
    text_end: usize,
    /// Spaces after the last word, not written yet: dropped if the line breaks there (or
    /// ends), so no space is ever written past the last column (the terminal would wrap it
    /// onto a row of its own).
    spaces: usize,
    /// A blank line is due before the next block.
    pub need_blank: bool,
    /// Inside a table cell: no prefixes, no line breaks.
    in_cell: bool,
    /// The output and line state before the table cell being written.
    before_cell: Option<(String, bool)>,
    /// The plain text of the link being written, to compare it with its URL.
    pub link_text: Option<String>,
    /// The OSC 8 hyperlink open on this line (closed before a wrap, reopened after it, so
    /// the prefixes of the next row are not part of the link).
    hyperlink: Option<String>,
}

impl Writer {
    /// A writer at the start of a line for a terminal `width` columns wide (0: unknown);
    /// `need_blank` when a block was written before.
    pub fn new(need_blank: bool, width: usize) -> Writer {
        Writer {
            out: String::new(),
            indents: Vec::new(),
            styles: Vec::new(),
            at_line_start: true,
            width,
            col: 0,
            text_col: 0,
            after_space: false,
            text_end: 0,
            spaces: 0,
            need_blank,
            in_cell: false,
            before_cell: None,
            link_text: None,
            hyperlink: None,
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
                let prefix = if ind.first_used {
                    &ind.rest
                } else {
                    &ind.first
                };
                ind.first_used = true;
                self.out.push_str(prefix);
                self.col += visible_width(prefix, self.col);
            }
            self.text_col = self.col;
            self.text_end = self.out.len();
            self.after_space = false;
            self.apply_styles();
        }
        self.at_line_start = false;
    }

    /// Whether text on this line is wrapped by the writer (see the module docs).
    fn wraps(&self) -> bool {
        !self.in_cell && self.width >= self.text_col.saturating_add(MIN_WRAP_ROOM)
    }

    /// One line's worth of untrusted text (no `\n`), escaped, wrapped when [`Self::wraps`].
    fn segment(&mut self, seg: &str) {
        self.line_start();
        let safe = escape_text(seg);
        if !self.wraps() {
            // Not wrapped: the column does not matter for the rest of this line.
            self.write_spaces();
            self.out.push_str(&safe);
            return;
        }
        for word in safe.split_inclusive(' ') {
            let bare = word.trim_end_matches(' ');
            if !bare.is_empty() {
                let w = visible_width(bare, self.col + self.spaces);
                // Only where a space was written (a text event may start mid-word).
                let past = self.col + self.spaces + w > self.width;
                if self.after_space && self.col > self.text_col && past {
                    self.spaces = 0;
                    self.break_line();
                } else {
                    self.write_spaces();
                }
                self.out.push_str(bare);
                self.col += visible_width(bare, self.col);
                self.text_end = self.out.len();
                self.after_space = false;
            }
            if bare.len() < word.len() {
                self.spaces += word.len() - bare.len();
                self.after_space = true;
            }
        }
    }

    /// Writes the pending spaces (see [`Writer::spaces`]).
    fn write_spaces(&mut self) {
        for _ in 0..self.spaces {
            self.out.push(' ');
        }
        self.col += self.spaces;
        self.spaces = 0;
    }

    /// Before goshi's own sequences: the pending spaces go first when they fit, so a style
    /// or link that starts with the next word does not start with them; when they do not
    /// fit, the next word breaks the line and they are dropped.
    fn spaces_before_sequence(&mut self) {
        if self.col + self.spaces <= self.width {
            self.write_spaces();
        }
    }

    /// Ends the line at a wrap: the spaces written since the last word are dropped (what
    /// else came after it is goshi's own sequences, kept), the hyperlink is closed and
    /// reopened after the next line's prefixes.
    fn break_line(&mut self) {
        if let Some(tail) = self.out.get(self.text_end..) {
            let tail: String = tail.chars().filter(|c| *c != ' ').collect();
            self.out.truncate(self.text_end);
            self.out.push_str(&tail);
        }
        if self.hyperlink.is_some() {
            self.out.push_str(OSC8_CLOSE);
        }
        self.newline();
        self.line_start();
        if let Some(url) = &self.hyperlink {
            self.out.push_str(&osc8_open(url));
        }
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
                self.segment(seg);
            }
        }
    }

    /// The columns a line has after its containers' prefixes (0: the width is unknown).
    pub fn room(&self) -> usize {
        let prefixes: usize = self.indents.iter().map(|i| visible_width(&i.rest, 0)).sum();
        self.width.saturating_sub(prefixes)
    }

    /// Starts an OSC 8 hyperlink to `url` (checked safe by the caller).
    pub fn open_hyperlink(&mut self, url: &str) {
        self.raw(&osc8_open(url));
        self.hyperlink = Some(url.to_owned());
    }

    /// Ends the OSC 8 hyperlink.
    pub fn close_hyperlink(&mut self) {
        self.raw(OSC8_CLOSE);
        self.hyperlink = None;
    }

    /// goshi's own text or sequences (already safe), on the current line.
    pub fn raw(&mut self, s: &str) {
        self.line_start();
        self.spaces_before_sequence();
        self.out.push_str(s);
        if self.wraps() {
            self.col += visible_width(s, self.col);
        }
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
        self.col = 0;
        self.text_col = 0;
        self.spaces = 0;
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
            self.spaces_before_sequence();
            self.out.push_str("\x1b[");
            self.out.push_str(role.sgr());
            self.out.push('m');
        }
    }

    /// Ends the innermost style.
    pub fn pop_style(&mut self) {
        self.styles.pop();
        if !self.at_line_start || self.in_cell {
            self.spaces_before_sequence();
            self.out.push_str("\x1b[0m");
            self.apply_styles();
        }
    }
}

const OSC8_CLOSE: &str = "\x1b]8;;\x1b\\";

fn osc8_open(url: &str) -> String {
    format!("\x1b]8;;{url}\x1b\\")
}

/// The columns `s` takes on a terminal from column `col`: escape sequences (goshi's own
/// SGR and OSC 8; untrusted text is escaped before it gets here) take none, a tab goes to the
/// next multiple of 8.
pub(super) fn visible_width(s: &str, col: usize) -> usize {
    let mut end = col;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let seq = sequence_len(rest);
        if seq > 0 {
            rest = &rest[seq..];
            continue;
        }
        match c {
            '\t' => end = (end / 8 + 1) * 8,
            _ => end += c.width().unwrap_or(0),
        }
        rest = &rest[c.len_utf8()..];
    }
    end - col
}

/// The length of goshi's own escape sequence at the start of `s` (SGR `ESC[...m`, OSC 8
/// `ESC]8;...ESC\`), or 0. Untrusted text is escaped before it gets here: an `ESC` here is
/// always goshi's. The one recognizer of goshi's sequences for widths and table cells.
pub(super) fn sequence_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first() != Some(&0x1b) {
        return 0;
    }
    match b.get(1) {
        Some(b'[') => b[2..]
            .iter()
            .position(|c| (0x40..=0x7e).contains(c))
            .map_or(s.len(), |p| p + 3),
        Some(b']') => s[2..].find("\x1b\\").map_or(s.len(), |p| p + 4),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_are_reset_at_line_ends_and_reapplied_after_prefixes() {
        let mut w = Writer::new(false, 0);
        w.push_indent("> ".into(), "> ".into());
        w.push_style(Role::Strong);
        w.text("a\nb");
        w.pop_style();
        w.end_line();
        assert_eq!(w.take(), "> \x1b[1ma\x1b[0m\n> \x1b[1mb\x1b[0m\n");
    }

    #[test]
    fn bullets_only_on_the_first_line() {
        let mut w = Writer::new(false, 0);
        w.push_indent("- ".into(), "  ".into());
        w.text("one\ntwo\n");
        w.pop_indent();
        assert_eq!(w.take(), "- one\n  two\n");
    }

    #[test]
    fn container_text_wraps_under_its_indent_and_bar() {
        let mut w = Writer::new(false, 20);
        w.push_indent("- ".into(), "  ".into());
        w.push_style(Role::Strong);
        w.text("alpha beta gamma delta epsilon");
        w.pop_style();
        w.pop_indent();
        assert_eq!(
            w.take(),
            "- \x1b[1malpha beta gamma\x1b[0m\n  \x1b[1mdelta epsilon\x1b[0m\n"
        );
        let mut q = Writer::new(false, 20);
        q.push_indent("\x1b[2m│\x1b[0m ".into(), "\x1b[2m│\x1b[0m ".into());
        q.text("one two three four five six seven");
        q.pop_indent();
        let out = q.take();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        for l in &lines {
            assert!(l.starts_with("\x1b[2m│\x1b[0m "), "{l:?}");
            assert!(visible_width(l, 0) <= 20, "{l:?}");
        }
    }

    #[test]
    fn a_word_longer_than_the_room_is_never_cut_and_a_narrow_terminal_is_left_alone() {
        let mut w = Writer::new(false, 20);
        w.push_indent("- ".into(), "  ".into());
        let url = "https://example.com/a/very/long/path";
        w.text(&format!("see {url} now"));
        w.pop_indent();
        assert_eq!(w.take(), format!("- see\n  {url}\n  now\n"));
        let mut top = Writer::new(false, 20);
        top.text("alpha beta gamma delta epsilon");
        top.end_line();
        assert_eq!(top.take(), "alpha beta gamma\ndelta epsilon\n");
        let mut narrow = Writer::new(false, 12);
        narrow.push_indent("- ".into(), "  ".into());
        narrow.text("alpha beta gamma");
        narrow.pop_indent();
        assert_eq!(
            narrow.take(),
            "- alpha beta gamma\n",
            "less than 16 columns of room"
        );
    }

    #[test]
    fn a_hyperlink_is_closed_before_a_wrap_and_reopened_after_the_prefix() {
        let mut w = Writer::new(false, 20);
        w.push_indent("- ".into(), "  ".into());
        w.open_hyperlink("https://x.y");
        w.text("one two three four five");
        w.close_hyperlink();
        w.pop_indent();
        let open = "\x1b]8;;https://x.y\x1b\\";
        let close = "\x1b]8;;\x1b\\";
        assert_eq!(
            w.take(),
            format!("- {open}one two three four{close}\n  {open}five{close}\n")
        );
    }

    #[test]
    fn a_line_breaks_only_where_a_space_was_written() {
        // pulldown-cmark may cut one word into several text events (at `]`, `*`, ...).
        let mut w = Writer::new(false, 20);
        w.text("alpha beta gamma");
        w.text("delta epsilon");
        w.end_line();
        assert_eq!(w.take(), "alpha beta gammadelta\nepsilon\n");
        // A style that ends before the break stays ended on the line it was on.
        let mut s = Writer::new(false, 20);
        s.styled(Role::Strong, "alpha beta");
        s.text(" gamma delta");
        s.end_line();
        assert_eq!(s.take(), "\x1b[1malpha beta\x1b[0m gamma\ndelta\n");
    }

    #[test]
    fn widths_skip_goshis_sequences_and_count_wide_characters() {
        assert_eq!(visible_width("\x1b[1;38;5;3mab\x1b[0m", 0), 2);
        assert_eq!(
            visible_width("\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\", 0),
            4
        );
        assert_eq!(visible_width("日本", 0), 4);
        assert_eq!(visible_width("\t", 3), 5);
    }

    /// `s` without goshi's sequences (SGR, OSC 8).
    fn plain(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c != '\x1b' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('[') => while chars.next().is_some_and(|c| !c.is_ascii_alphabetic()) {},
                Some(']') => while chars.next().is_some_and(|c| c != '\\') {},
                _ => {}
            }
        }
        out
    }

    proptest::proptest! {
        /// Whatever the words, styles, links and width: no line is wider than the terminal
        /// unless it holds one word that is, every line keeps its container's prefix, and no
        /// word is lost, cut or changed.
        #[test]
        fn wrapped_lines_fit_keep_their_prefix_and_lose_nothing(
            words in proptest::collection::vec(("[a-zé日]{1,14}", 0u8..4), 1..40),
            width in 18usize..60, // room for MIN_WRAP_ROOM after the prefix
            quote in proptest::bool::ANY,
        ) {
            let mut w = Writer::new(false, width);
            let (first, rest) = if quote { ("│ ", "│ ") } else { ("• ", "  ") };
            w.push_indent(format!("\x1b[2m{first}\x1b[0m"), rest.to_owned());
            for (word, kind) in &words {
                match kind {
                    0 => w.text(word),
                    1 => w.styled(Role::Strong, word),
                    2 => {
                        w.open_hyperlink("https://example.com/x");
                        w.text(word);
                        w.close_hyperlink();
                    }
                    _ => w.styled(Role::Code, word),
                }
                w.text(" ");
            }
            w.pop_indent();
            let out = w.take();
            let mut seen = Vec::new();
            for (i, line) in out.lines().enumerate() {
                let text = plain(line);
                let prefix = if i == 0 { first } else { rest };
                proptest::prop_assert!(text.starts_with(prefix), "{text:?}");
                let body = &text[prefix.len()..];
                let cols = visible_width(&text, 0);
                proptest::prop_assert!(
                    cols <= width || !body.trim_end().contains(' '),
                    "{cols} > {width}: {text:?}"
                );
                seen.extend(body.split_whitespace().map(str::to_owned));
            }
            let want: Vec<String> = words.iter().map(|(w, _)| w.clone()).collect();
            proptest::prop_assert_eq!(seen, want);
        }
    }
}
