//! GFM tables laid out in columns: cells padded to the widest cell of their column (by
//! display width, ignoring goshi's own escape sequences), header bold, a rule under it.
//!
//! A table wider than the room it has is fitted to it: the columns narrower than a fair
//! share keep their width, the others share the rest, and their cells wrap onto more lines
//! of the row (at spaces; a word longer than its column is cut). A terminal would otherwise
//! wrap each row at its right edge and scramble the columns.

use pulldown_cmark::Alignment;
use unicode_width::UnicodeWidthChar;

use super::writer::{sequence_len, visible_width};

use crate::cli::palette::Role;

/// A table being collected, cell by cell (cells arrive already styled).
pub(super) struct Table {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with its columns' alignments.
    pub fn new(aligns: Vec<Alignment>) -> Table {
        Table {
            aligns,
            rows: Vec::new(),
        }
    }

    /// Starts a row (the first one is the header).
    pub fn start_row(&mut self) {
        self.rows.push(Vec::new());
    }

    /// Adds a cell to the current row.
    pub fn push_cell(&mut self, cell: String) {
        if self.rows.is_empty() {
            self.rows.push(Vec::new());
        }
        if let Some(r) = self.rows.last_mut() {
            r.push(cell.trim().to_string());
        }
    }

    /// The table as lines, each ending in `\n`, fitted to `room` columns (0: unknown, not
    /// fitted).
    pub fn render(&self, room: usize, out: &mut String) {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut natural = vec![0usize; cols];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                natural[i] = natural[i].max(visible_width(cell, 0));
            }
        }
        // Each column after the first is preceded by " │ ".
        let widths = fit(&natural, room.saturating_sub(3 * cols.saturating_sub(1)));
        let bar = format!("\x1b[{}m│\x1b[0m", Role::Dim.sgr());
        for (r, row) in self.rows.iter().enumerate() {
            let cells: Vec<Vec<String>> = (0..cols)
                .map(|i| wrap_cell(row.get(i).map_or("", String::as_str), widths[i]))
                .collect();
            let height = cells.iter().map(Vec::len).max().unwrap_or(1);
            for k in 0..height {
                let mut line = String::new();
                for (i, w) in widths.iter().enumerate() {
                    if i > 0 {
                        line.push(' ');
                        line.push_str(&bar);
                        line.push(' ');
                    }
                    let cell = cells[i].get(k).map_or("", String::as_str);
                    self.push_cell_line(&mut line, cell, i, *w, r == 0);
                }
                out.push_str(line.trim_end_matches(' '));
                out.push('\n');
            }
            if r == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                out.push_str(&format!(
                    "\x1b[{}m{}\x1b[0m\n",
                    Role::Dim.sgr(),
                    rule.join("─┼─")
                ));
            }
        }
    }

    /// One line of a cell, padded to `width` as its column is aligned (bold in the header).
    fn push_cell_line(&self, line: &mut String, cell: &str, col: usize, width: usize, head: bool) {
        let pad = width.saturating_sub(visible_width(cell, 0));
        let (left, right) = match self.aligns.get(col) {
            Some(Alignment::Right) => (pad, 0),
            Some(Alignment::Center) => (pad / 2, pad - pad / 2),
            _ => (0, pad),
        };
        line.push_str(&" ".repeat(left));
        if head && !cell.is_empty() {
            line.push_str(&format!("\x1b[{}m{cell}\x1b[0m", Role::Strong.sgr()));
        } else {
            line.push_str(cell);
        }
        line.push_str(&" ".repeat(right));
    }
}

/// A column is never fitted narrower than this (a table that cannot fit so is left as is).
const MIN_COLUMN: usize = 6;

/// The columns' widths for `room` columns of cells: their natural widths when they fit; else
/// the columns narrower than a fair share keep theirs and the others share what is left.
fn fit(natural: &[usize], room: usize) -> Vec<usize> {
    let total: usize = natural.iter().sum();
    let n = natural.len();
    if room == 0 || total <= room || room < n * MIN_COLUMN {
        return natural.to_vec();
    }
    let mut kept = vec![false; n];
    let mut left = room;
    let mut open = n;
    loop {
        let share = left / open.max(1);
        let mut changed = false;
        for i in 0..n {
            if !kept[i] && natural[i] <= share {
                kept[i] = true;
                left -= natural[i];
                open -= 1;
                changed = true;
            }
        }
        if !changed || open == 0 {
            break;
        }
    }
    let share = left / open.max(1);
    let mut extra = left - share * open.max(1);
    natural
        .iter()
        .zip(&kept)
        .map(|(&w, &k)| {
            if k {
                return w;
            }
            let give = usize::from(extra > 0);
            extra -= give;
            (share + give).max(MIN_COLUMN)
        })
        .collect()
}

/// The lines of a styled cell wrapped to `width` columns: at spaces, a longer word cut. A
/// style or hyperlink open at a break is ended on its line and opened again on the next.
fn wrap_cell(cell: &str, width: usize) -> Vec<String> {
    if width == 0 || visible_width(cell, 0) <= width {
        return vec![cell.to_owned()];
    }
    let mut w = CellWrap {
        width,
        lines: Vec::new(),
        line: String::new(),
        col: 0,
        sgr: String::new(),
        link: None,
    };
    for (i, word) in cell.split(' ').enumerate() {
        let cols = visible_width(word, 0);
        if i > 0 {
            if w.col > 0 && w.col + 1 + cols > width {
                w.break_line();
            } else {
                w.line.push(' ');
                w.col += 1;
            }
        }
        w.word(word);
    }
    w.lines.push(w.line);
    w.lines
}

/// The state of [`wrap_cell`].
struct CellWrap {
    width: usize,
    lines: Vec<String>,
    line: String,
    col: usize,
    /// The SGR sequences in effect (written since the last reset).
    sgr: String,
    /// The OSC 8 sequence of the hyperlink in effect.
    link: Option<String>,
}

impl CellWrap {
    /// Appends a word (text and goshi's own sequences, no space), cut where it is too long.
    fn word(&mut self, word: &str) {
        let mut rest = word;
        while let Some(c) = rest.chars().next() {
            let seq = sequence_len(rest);
            if seq > 0 {
                let (s, tail) = rest.split_at(seq);
                self.sequence(s);
                rest = tail;
                continue;
            }
            let cw = c.width().unwrap_or(0);
            if self.col > 0 && self.col + cw > self.width {
                self.break_line();
            }
            self.line.push(c);
            self.col += cw;
            rest = &rest[c.len_utf8()..];
        }
    }

    fn sequence(&mut self, s: &str) {
        self.line.push_str(s);
        if s == "\x1b[0m" {
            self.sgr.clear();
        } else if s.starts_with("\x1b[") {
            self.sgr.push_str(s);
        } else if s == OSC8_END {
            self.link = None;
        } else {
            self.link = Some(s.to_owned());
        }
    }

    /// Ends the line (closing what is open) and starts the next with it open again.
    fn break_line(&mut self) {
        if self.link.is_some() {
            self.line.push_str(OSC8_END);
        }
        if !self.sgr.is_empty() {
            self.line.push_str("\x1b[0m");
        }
        let mut next = self.link.clone().unwrap_or_default();
        next.push_str(&self.sgr);
        self.lines.push(std::mem::replace(&mut self.line, next));
        self.col = 0;
    }
}

const OSC8_END: &str = "\x1b]8;;\x1b\\";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned() {
        let mut t = Table::new(vec![Alignment::None, Alignment::Right]);
        t.start_row();
        t.push_cell("a".into());
        t.push_cell("b".into());
        t.start_row();
        t.push_cell("long".into());
        t.push_cell("1".into());
        let mut out = String::new();
        t.render(0, &mut out);
        let plain = out
            .replace("\x1b[2m", "")
            .replace("\x1b[1m", "")
            .replace("\x1b[0m", "");
        assert_eq!(plain, "a    │ b\n─────┼──\nlong │ 1\n");
    }

    fn plain(s: &str) -> String {
        s.replace("\x1b[2m", "")
            .replace("\x1b[1m", "")
            .replace("\x1b[0m", "")
    }

    #[test]
    fn a_table_wider_than_the_room_wraps_its_wide_columns() {
        let mut t = Table::new(vec![Alignment::None, Alignment::None]);
        t.start_row();
        t.push_cell("Key".into());
        t.push_cell("What it does".into());
        t.start_row();
        t.push_cell("a".into());
        t.push_cell("one two three four five six seven".into());
        let mut out = String::new();
        t.render(20, &mut out);
        for line in out.lines() {
            assert!(visible_width(line, 0) <= 20, "{line:?}");
        }
        assert_eq!(
            plain(&out),
            "Key │ What it does\n────┼───────────────\na   │ one two three\n    │ four five six\n    │ seven\n"
        );
    }

    #[test]
    fn styles_and_links_are_closed_at_a_cell_break_and_reopened() {
        let link = "\x1b]8;;https://x.y\x1b\\";
        let cell = format!("{link}\x1b[4mabc defg\x1b[0m{OSC8_END} hi");
        let lines = wrap_cell(&cell, 4);
        assert_eq!(
            lines,
            [
                format!("{link}\x1b[4mabc{OSC8_END}\x1b[0m"),
                format!("{link}\x1b[4mdefg\x1b[0m{OSC8_END}"),
                "hi".to_owned(),
            ]
        );
        assert_eq!(
            wrap_cell("abcdefghij", 4),
            ["abcd", "efgh", "ij"],
            "a long word is cut"
        );
    }

    #[test]
    fn columns_keep_their_width_when_fitting_is_impossible_or_needless() {
        assert_eq!(fit(&[3, 50], 0), [3, 50]);
        assert_eq!(fit(&[3, 5], 20), [3, 5]);
        assert_eq!(fit(&[30, 30, 30], 10), [30, 30, 30], "under 6 columns each");
        assert_eq!(fit(&[3, 40, 40], 43), [3, 20, 20]);
        assert_eq!(fit(&[3, 40, 40], 44), [3, 21, 20]);
    }

    proptest::proptest! {
        /// A wrapped cell's lines fit its column and hold every character but the spaces
        /// broken at, with no sequence cut.
        #[test]
        fn a_wrapped_cell_fits_and_loses_nothing(
            parts in proptest::collection::vec(("[a-zé日 ]{0,12}", 0u8..3), 1..12),
            width in 2usize..30,
        ) {
            let mut cell = String::new();
            for (text, kind) in &parts {
                match kind {
                    0 => cell.push_str(text),
                    1 => cell.push_str(&format!("\x1b[1m{text}\x1b[0m")),
                    _ => cell.push_str(&format!("\x1b]8;;https://x.y\x1b\\{text}{OSC8_END}")),
                }
            }
            let lines = wrap_cell(&cell, width);
            let strip = |s: &str| -> String {
                let mut out = String::new();
                let mut rest = s;
                while let Some(c) = rest.chars().next() {
                    let n = sequence_len(rest);
                    if n > 0 {
                        rest = &rest[n..];
                    } else {
                        if c != ' ' {
                            out.push(c);
                        }
                        rest = &rest[c.len_utf8()..];
                    }
                }
                out
            };
            for line in &lines {
                proptest::prop_assert!(visible_width(line, 0) <= width, "{line:?}");
            }
            proptest::prop_assert_eq!(strip(&lines.concat()), strip(&cell));
        }
    }
}
