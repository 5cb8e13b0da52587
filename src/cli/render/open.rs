//! [`Open`]: the one unfinished block the pending text holds, when it is a list or a table,
//! and which lines surely continue it. Such a line cannot complete any block, so the stream
//! need not parse the pending text again for it: without this, every item of a long list
//! and every row of a long table parsed the whole block so far (quadratic; a 1,000-row table
//! took 20 times as long as a 250-row one, not 4 times).

/// The unfinished block the pending text holds (it starts at the pending text's first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Open {
    /// A GFM table (its header and delimiter rows parsed).
    Table,
    /// A list whose first item starts at the left margin with this marker: `-`, `*` or `+`
    /// for bullets, `.` or `)` (after the number) for ordered lists.
    List(u8),
}

impl Open {
    /// The open block for a pending text whose first block is a list (`list`) or a table,
    /// from the text's first line; `None` when it does not start at the left margin.
    pub fn of(list: bool, first_line: &str) -> Option<Open> {
        if !list {
            return first_line.starts_with('|').then_some(Open::Table);
        }
        list_marker(first_line).map(Open::List)
    }

    /// Whether `line` (complete, not blank, not after a blank line) surely continues the
    /// block: a table row starting with `|` (nothing that starts with `|` starts another
    /// block), or an item of the same list at the left margin that is not a thematic break.
    pub fn continued_by(self, line: &str) -> bool {
        match self {
            Open::Table => line.starts_with('|'),
            Open::List(m) => list_marker(line) == Some(m) && !is_thematic_break(line),
        }
    }
}

/// The marker of a list item starting at the left margin (`-`, `*`, `+`, or the `.`/`)` after
/// one to nine digits), followed by a space, a tab or the end of the line.
pub(super) fn list_marker(line: &str) -> Option<u8> {
    let b = line.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let (marker, rest) = match (digits, b.first()) {
        (0, Some(&c @ (b'-' | b'*' | b'+'))) => (c, &b[1..]),
        (1..=9, _) => match b.get(digits) {
            Some(&c @ (b'.' | b')')) => (c, &b[digits + 1..]),
            _ => return None,
        },
        _ => return None,
    };
    matches!(rest.first(), None | Some(b' ' | b'\t' | b'\n' | b'\r')).then_some(marker)
}

/// A thematic break: three or more of the same `-`, `*` or `_`, spaces and tabs between.
fn is_thematic_break(line: &str) -> bool {
    let mut marks = line
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'));
    let Some(first) = marks.next() else {
        return false;
    };
    matches!(first, '-' | '*' | '_') && marks.clone().all(|c| c == first) && marks.count() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_of_the_same_list_continue_it() {
        let dash = Open::of(true, "- a\n");
        assert_eq!(dash, Some(Open::List(b'-')));
        let dash = dash.unwrap();
        assert!(dash.continued_by("- b\n"));
        assert!(dash.continued_by("-\n"));
        assert!(
            !dash.continued_by("* b\n"),
            "another bullet starts another list"
        );
        assert!(!dash.continued_by("- - -\n"), "a thematic break ends it");
        assert!(!dash.continued_by("---\n"));
        assert!(!dash.continued_by("-b\n"));
        assert!(!dash.continued_by("  - nested\n"), "parsed, to be sure");
        let ordered = Open::of(true, "1. a\n").unwrap();
        assert!(ordered.continued_by("2. b\n"));
        assert!(ordered.continued_by("10. b\n"));
        assert!(!ordered.continued_by("3) c\n"));
        assert!(!ordered.continued_by("1234567890. c\n"));
        assert_eq!(Open::of(true, "  - indented\n"), None);
        assert!(!Open::List(b'*').continued_by("* * *\n"));
        assert!(!Open::List(b'*').continued_by("**bold**\n"));
    }

    #[test]
    fn table_rows_continue_a_table() {
        let table = Open::of(false, "| a | b |\n").unwrap();
        assert!(table.continued_by("| 1 | 2 |\n"));
        assert!(!table.continued_by("# heading\n"));
        assert!(!table.continued_by("  | indented |\n"));
        assert_eq!(Open::of(false, "a | b\n"), None);
    }
}
