//! GFM tables laid out in columns: cells padded to the widest cell of their column (by
//! display width, ignoring goshi's own escape sequences), header bold, a rule under it.

use super::writer::visible_width;
use pulldown_cmark::Alignment;

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

    /// The table as lines, each ending in `\n`.
    pub fn render(&self, out: &mut String) {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0usize; cols];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(visible_width(cell, 0));
            }
        }
        let bar = format!("\x1b[{}m│\x1b[0m", Role::Dim.sgr());
        for (r, row) in self.rows.iter().enumerate() {
            let mut line = String::new();
            for (i, w) in widths.iter().enumerate() {
                if i > 0 {
                    line.push(' ');
                    line.push_str(&bar);
                    line.push(' ');
                }
                let cell = row.get(i).map_or("", String::as_str);
                let pad = w.saturating_sub(visible_width(cell, 0));
                let (left, right) = match self.aligns.get(i) {
                    Some(Alignment::Right) => (pad, 0),
                    Some(Alignment::Center) => (pad / 2, pad - pad / 2),
                    _ => (0, pad),
                };
                line.push_str(&" ".repeat(left));
                if r == 0 && !cell.is_empty() {
                    line.push_str(&format!("\x1b[{}m{cell}\x1b[0m", Role::Strong.sgr()));
                } else {
                    line.push_str(cell);
                }
                line.push_str(&" ".repeat(right));
            }
            out.push_str(line.trim_end_matches(' '));
            out.push('\n');
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
}

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
        t.render(&mut out);
        let plain = out
            .replace("\x1b[2m", "")
            .replace("\x1b[1m", "")
            .replace("\x1b[0m", "");
        assert_eq!(plain, "a    │ b\n─────┼──\nlong │ 1\n");
    }
}
