//! The live preview: the not-yet-complete part of an answer, shown as plain text below the
//! written output and erased (only its own rows) when its block is written.
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
    /// Rows below the preview's first row where the cursor is.
    row: usize,
    /// The cursor's column (`width` in the pending-wrap state after a full row).
    col: usize,
    /// Something is shown.
    shown: bool,
    /// It stopped growing (too tall); nothing more is shown until it is cleared.
    frozen: bool,
    /// Start with a blank row, where the blank line before the block will be, so the block
    /// replaces its preview on the very rows the preview took.
    gap: bool,
}

impl Preview {
    /// A preview for a terminal of `width` x `height` (off when `enabled` is false).
    pub fn new(enabled: bool, width: usize, height: usize) -> Preview {
        Preview {
            enabled: enabled && width > 0 && height > 2,
            width,
            max_rows: height.saturating_sub(2),
            row: 0,
            col: 0,
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
        let (mut row, mut col) = if lead {
            (self.row + 1, 0)
        } else {
            (self.row, self.col)
        };
        for c in safe.chars() {
            match c {
                '\n' => {
                    row += 1;
                    col = 0;
                }
                '\t' => col = (col / 8 + 1) * 8,
                _ => {
                    let w = c.width().unwrap_or(0);
                    if col + w > self.width {
                        row += 1;
                        col = w;
                    } else {
                        col += w;
                    }
                }
            }
            if col > self.width {
                // A tab past the last column stops there.
                col = self.width;
            }
            if row >= self.max_rows {
                self.frozen = true;
                return;
            }
        }
        self.row = row;
        self.col = col;
        self.shown = true;
        if lead {
            out.push('\n');
        }
        out.push_str(&safe);
    }

    /// Erases what is shown: back to the preview's first row, erase below.
    pub fn clear(&mut self, out: &mut String) {
        if self.shown {
            out.push('\r');
            if self.row > 0 {
                out.push_str(&format!("\x1b[{}A", self.row));
            }
            out.push_str("\x1b[J");
        }
        self.row = 0;
        self.col = 0;
        self.shown = false;
        self.frozen = false;
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
        assert_eq!((p.row, p.col), (0, 4));
        p.add("\n", &mut out);
        assert_eq!((p.row, p.col), (1, 0));
        p.add("abcde", &mut out);
        assert_eq!((p.row, p.col), (2, 1));
        p.add("日本語", &mut out);
        assert_eq!((p.row, p.col), (3, 4));
        out.clear();
        p.clear(&mut out);
        assert_eq!(out, "\r\x1b[3A\x1b[J");
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
