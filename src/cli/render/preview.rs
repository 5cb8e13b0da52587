//! The live preview: the not-yet-complete part of an answer, shown as plain text below the
//! written output and erased (only its own rows) when its block is written.
//!
//! Text is wrapped at spaces, as the written blocks are, so a paragraph does not reflow when
//! it is written: a word is shown once it is complete (a space or a newline after it), on the
//! next row if it does not fit, and the spaces before it are dropped there. A word wider than
//! a row is shown as it comes, wrapped by the terminal.
//!
//! To erase exactly its own rows the preview counts them as the terminal wraps: a character
//! that does not fit on the row goes to the next one (wide characters included), a newline
//! in the last column moves down one row. It stops growing before it would fill the screen:
//! rows that scrolled off the top could no longer be erased.

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar;

use super::escape_text;

/// The preview's state (see the module docs).
pub(super) struct Preview {
    enabled: bool,
    width: usize,
    max_rows: usize,
    /// Where the cursor is and what is held back.
    at: Cursor,
    /// Something is shown.
    shown: bool,
    /// It stopped growing (too tall); nothing more is shown until it is cleared.
    frozen: bool,
    /// Start with a blank row, where the blank line before the block will be, so the block
    /// replaces its preview on the very rows the preview took.
    gap: bool,
}

/// The cursor, and the text after it that is not written yet.
#[derive(Default)]
struct Cursor {
    /// Rows below the preview's first row.
    row: usize,
    /// The column (`width` in the pending-wrap state after a full row).
    col: usize,
    /// Spaces and tabs after the last word, written only before a word on the same row.
    spaces: String,
    /// The word being received, written once it is complete (or wider than a row).
    word: String,
    /// Columns of `word`.
    word_cols: usize,
    /// The word being received is wider than a row: its characters are written as they come.
    long_word: bool,
}

impl Preview {
    /// A preview for a terminal of `width` x `height` (off when `enabled` is false).
    pub fn new(enabled: bool, width: usize, height: usize) -> Preview {
        Preview {
            enabled: enabled && width > 0 && height > 2,
            width,
            max_rows: height.saturating_sub(2),
            at: Cursor::default(),
            shown: false,
            frozen: false,
            gap: false,
        }
    }

    /// Whether a preview shown from now on starts with a blank row (the blank line that will
    /// separate its block from the one written before it).
    pub fn set_gap(&mut self, gap: bool) {
        self.gap = gap;
    }

    /// Shows `text` (untrusted) after what is shown, unless the preview is full.
    pub fn add(&mut self, text: &str, out: &mut String) {
        if !self.enabled || self.frozen || text.is_empty() {
            return;
        }
        // A carriage return would move the cursor where the row count does not expect it.
        let mut safe = escape_text(text);
        if safe.contains('\r') {
            safe = Cow::Owned(safe.replace('\r', ""));
        }
        let lead = self.gap && !self.shown;
        // Where the cursor was: what is written is kept until the text is known to fit on the
        // screen, and the cursor goes back there if it does not (the rest of the state need
        // not: a frozen preview holds nothing until it is cleared). No copy of the state per
        // text, which would cost as much as the text held back.
        let (row, col) = (self.at.row, self.at.col);
        let at = &mut self.at;
        let mut written = String::new();
        if lead {
            written.push('\n');
            at.row += 1;
            at.col = 0;
        }
        let start = written.len();
        for c in safe.chars() {
            match c {
                '\n' => {
                    at.place_word(self.width, &mut written);
                    at.spaces.clear();
                    written.push('\n');
                    at.row += 1;
                    at.col = 0;
                }
                ' ' | '\t' => {
                    at.place_word(self.width, &mut written);
                    at.long_word = false;
                    // More than a row of spaces shows as a row of spaces: no more is held.
                    if at.spaces.len() < self.width {
                        at.spaces.push(c);
                    }
                }
                _ if at.long_word => at.put(c, self.width, &mut written),
                _ => {
                    at.word.push(c);
                    at.word_cols += c.width().unwrap_or(0);
                    // Wider than a row, or long in bytes (zero-width characters): shown as it
                    // comes, so that nothing held back grows without bound.
                    if at.word_cols > self.width || at.word.len() > 4 * self.width {
                        at.place_word(self.width, &mut written);
                        at.long_word = true;
                    }
                }
            }
            if at.row >= self.max_rows {
                (at.row, at.col) = (row, col);
                self.frozen = true;
                return;
            }
        }
        if written.len() > start {
            self.shown = true;
            out.push_str(&written);
        } else {
            // Only held back: the cursor has not moved (not even for the lead row).
            (at.row, at.col) = (row, col);
        }
    }

    /// Erases what is shown: back to the preview's first row, erase below.
    pub fn clear(&mut self, out: &mut String) {
        if self.shown {
            out.push('\r');
            if self.at.row > 0 {
                out.push_str(&format!("\x1b[{}A", self.at.row));
            }
            out.push_str("\x1b[J");
        }
        self.at = Cursor::default();
        self.shown = false;
        self.frozen = false;
    }
}

/// The column after a tab from `col`: the next stop, at most the last column. A tab never
/// wraps, and on the last column it leaves the cursor *on* that column (the next character is
/// written there), not past it as a character would.
fn tab(col: usize, width: usize) -> usize {
    ((col / 8 + 1) * 8).min(width.saturating_sub(1))
}

impl Cursor {
    /// Writes the word received so far: after the spaces before it, or on the next row if it
    /// does not fit on this one.
    fn place_word(&mut self, width: usize, out: &mut String) {
        if self.word.is_empty() {
            return;
        }
        let mut col = self.col;
        for c in self.spaces.chars() {
            col = if c == '\t' { tab(col, width) } else { col + 1 };
        }
        if self.col > 0 && col.min(width) + self.word_cols > width {
            out.push('\n');
            self.row += 1;
            self.col = 0;
        } else {
            // Counted one by one: spaces may still run past the row (before a word of zero
            // width, or at the start of a row), and the terminal wraps them.
            let spaces = std::mem::take(&mut self.spaces);
            for c in spaces.chars() {
                if c == '\t' {
                    out.push('\t');
                    self.col = tab(self.col, width);
                } else {
                    self.put(c, width, out);
                }
            }
            self.spaces = spaces;
        }
        self.spaces.clear();
        let word = std::mem::take(&mut self.word);
        for c in word.chars() {
            self.put(c, width, out);
        }
        self.word = word;
        self.word.clear();
        self.word_cols = 0;
    }

    /// Writes a character as the terminal would place it.
    fn put(&mut self, c: char, width: usize, out: &mut String) {
        let w = c.width().unwrap_or(0);
        if self.col + w > width {
            self.row += 1;
            self.col = w;
        } else {
            self.col += w;
        }
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_counted_as_the_terminal_wraps() {
        let mut p = Preview::new(true, 4, 24);
        let mut out = String::new();
        p.add("abcd", &mut out);
        p.add("\n", &mut out);
        assert_eq!((p.at.row, p.at.col), (1, 0));
        p.add("abcde", &mut out);
        assert_eq!((p.at.row, p.at.col), (2, 1), "a word wider than a row");
        p.add(" 日本語 ", &mut out);
        assert_eq!((p.at.row, p.at.col), (4, 2), "wide characters");
        assert_eq!(out, "abcd\nabcde\n日本語");
        out.clear();
        p.clear(&mut out);
        assert_eq!(out, "\r\x1b[4A\x1b[J");
    }

    #[test]
    fn words_wrap_whole_and_are_shown_once_complete() {
        let mut p = Preview::new(true, 10, 24);
        let mut out = String::new();
        p.add("hello wor", &mut out);
        assert_eq!(out, "hello", "the word being received is held back");
        p.add("ld again\n", &mut out);
        assert_eq!(out, "hello\nworld\nagain\n");
        p.add("a\tb  c", &mut out);
        assert_eq!(
            out, "hello\nworld\nagain\na\tb",
            "spaces wait for the next word"
        );
        p.add("\n", &mut out);
        assert_eq!(
            out, "hello\nworld\nagain\na\tb\nc\n",
            "a tab counts to its stop"
        );
    }

    #[test]
    fn the_cursor_is_counted_where_the_terminal_puts_it() {
        for (text, at, what) in [
            (
                "abcdefgh   \u{200b} ",
                (1, 1),
                "spaces before a zero-width word run past the row and wrap",
            ),
            (
                "abcdefghi\tx ",
                (0, 10),
                "a tab stops on the last column, and the next character does not wrap",
            ),
        ] {
            let mut p = Preview::new(true, 10, 24);
            let mut out = String::new();
            p.add(text, &mut out);
            assert_eq!((p.at.row, p.at.col), at, "{what}: {out:?}");
        }
    }

    #[test]
    fn nothing_held_back_grows_without_bound() {
        // A hostile answer's endless spaces or zero-width characters, a few at a time: what is
        // held back stays under a row's worth.
        let mut p = Preview::new(true, 10, 24);
        let mut out = String::new();
        for _ in 0..10_000 {
            p.add("  ", &mut out);
        }
        assert!(p.at.spaces.len() <= 10, "{} spaces held", p.at.spaces.len());
        for _ in 0..10_000 {
            p.add("\u{200b}", &mut out);
        }
        assert!(
            p.at.word.len() <= 4 * 10 + 4,
            "{} bytes held",
            p.at.word.len()
        );
    }

    /// Where a terminal's cursor ends after `out`, from the top row: (row, column), the column
    /// being `width` when the cursor sits on the last column with a wrap pending. A model
    /// written apart from the preview's own counting (xterm's: a character that does not fit
    /// wraps first, a tab never wraps and clears a pending wrap, a newline moves down a row).
    fn terminal_cursor(out: &str, width: usize) -> (usize, usize) {
        let (mut row, mut x, mut pending) = (0usize, 0usize, false);
        for c in out.chars() {
            match c {
                '\n' => (row, x, pending) = (row + 1, 0, false),
                '\t' => (x, pending) = (((x / 8 + 1) * 8).min(width - 1), false),
                _ => {
                    let w = c.width().unwrap_or(0);
                    if w == 0 {
                        continue;
                    }
                    if pending || x + w > width {
                        (row, x, pending) = (row + 1, 0, false);
                    }
                    x += w;
                    if x == width {
                        (x, pending) = (width - 1, true);
                    }
                }
            }
        }
        (row, if pending { width } else { x })
    }

    proptest::proptest! {
        /// The preview knows where the terminal's cursor is, so it erases exactly its own rows,
        /// whatever the text and however it is cut.
        #[test]
        fn the_preview_counts_rows_as_a_terminal(
            text in proptest::collection::vec(
                proptest::sample::select(vec!["a", "bc", " ", "  ", "\t", "\n", "日", "\u{200b}", "é"]),
                0..200,
            ),
            cuts in proptest::collection::vec(1usize..8, 1..40),
            width in 2usize..24,
        ) {
            let text = text.concat();
            let mut p = Preview::new(true, width, 10_000);
            let mut out = String::new();
            let mut rest = text.as_str();
            for n in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let mut at = (*n).min(rest.len());
                while !rest.is_char_boundary(at) {
                    at += 1;
                }
                let (piece, tail) = rest.split_at(at);
                p.add(piece, &mut out);
                rest = tail;
            }
            proptest::prop_assert_eq!((p.at.row, p.at.col), terminal_cursor(&out, width), "{:?}", out);
        }
    }

    #[test]
    fn it_stops_before_filling_the_screen_and_escapes_controls() {
        let mut p = Preview::new(true, 80, 5);
        let mut out = String::new();
        p.add("a\x1b[2J\nb\nc\nd\ne\n", &mut out);
        assert_eq!(out, "");
        p.add("more", &mut out);
        assert_eq!(out, "");
        p.clear(&mut out);
        p.add("x\x1b[2J\n", &mut out);
        assert!(!out.contains('\x1b'), "{out:?}");
    }
}
