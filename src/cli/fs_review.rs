//! How a proposal is shown for review: nothing in it may hide from the reviewer.
//!
//! Every diff is escaped in [`sanitize::Mode::Strict`]: control characters, escape sequences
//! and Unicode bidi/format characters appear as visible escapes (`\r`, `\x1b`, `\u{202e}`),
//! so a line like `echo PWNED # \r\x1b[2K\x1b[1A` cannot erase itself from the terminal. When
//! a proposal holds any, a warning above the diff says so. A proposal goshi did not make on
//! this machine (one that came with the repository) is flagged the same way.

use std::io::{self, Write};

use super::palette::Palette;
use crate::safety::proposals::Proposal;
use crate::text::sanitize;

/// Writes `diff` for review: the hidden-character warning first (when needed), then the
/// escaped diff (coloured by `palette`), ending with a newline. An empty diff says there is
/// no change.
pub(crate) fn write_diff(out: &mut dyn Write, diff: &str, palette: Palette) -> io::Result<()> {
    if diff.is_empty() {
        return writeln!(
            out,
            "(no changes: the content is identical to the current file)"
        );
    }
    if let Some(warning) = hidden_warning(diff) {
        writeln!(out, "{warning}")?;
    }
    let shown = sanitize::escape(diff, sanitize::Mode::Strict);
    write!(out, "{}", palette.diff(&shown))?;
    if !shown.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

/// The warning for a diff holding control, escape or invisible characters, if it does.
pub(crate) fn hidden_warning(diff: &str) -> Option<String> {
    let lines = diff.lines().filter(|l| sanitize::has_hidden(l)).count();
    // `lines()` drops a `\r` before `\n`, which is an ordinary line end; a lone one is not.
    if lines == 0 {
        return None;
    }
    let which = if lines == 1 {
        "1 line".to_string()
    } else {
        format!("{lines} lines")
    };
    Some(format!(
        "warning: this proposal contains control characters, escape sequences or invisible \
         Unicode characters ({which} of the diff). They are shown escaped below (\\r, \\x1b, \
         \\u{{202e}}, ...); read those lines carefully: on a terminal they could hide or \
         reorder text."
    ))
}

/// The warning for a proposal not made on this machine.
pub(crate) fn foreign_warning(p: &Proposal) -> String {
    format!(
        "warning: proposal {} was not made by goshi on this machine: it may have come with the \
         repository (cloned or unpacked). Review it before applying; applying it needs --foreign.",
        p.short_id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(diff: &str) -> String {
        let mut out = Vec::new();
        write_diff(&mut out, diff, Palette::OFF).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn hidden_lines_are_escaped_and_announced() {
        let diff = "--- a/run.sh\n+++ b/run.sh\n@@ -1 +1,2 @@\n echo hi\n\
                    +echo PWNED # \r\x1b[2K\x1b[1A\n+x\u{202e}y\u{200b}\n";
        let out = shown(diff);
        assert!(out.starts_with("warning: this proposal contains"), "{out}");
        assert!(out.contains("(2 lines of the diff)"), "{out}");
        assert!(out.contains("+echo PWNED # \\r\\x1b[2K\\x1b[1A\n"), "{out}");
        assert!(out.contains("+x\\u{202e}y\\u{200b}\n"), "{out}");
        assert!(
            !out.contains(['\r', '\x1b', '\u{202e}', '\u{200b}']),
            "{out:?}"
        );
    }

    #[test]
    fn plain_and_crlf_diffs_have_no_warning() {
        let out = shown("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\r\n+b\r\n");
        assert!(out.starts_with("--- a/x"), "{out}");
        assert_eq!(hidden_warning("+a\tb\n"), None);
        assert!(shown("").starts_with("(no changes"));
    }
}
