//! Terminal safety for untrusted text: model output, server messages, file names, stored
//! records. Anything that could drive the terminal is shown *visibly escaped* instead of being
//! written raw, so goshi's own colours are the only escape sequences on its output.
//!
//! What is escaped (terminal control functions, ECMA-48 / xterm control sequences, checked
//! 2026-11-30):
//! - C0 controls (U+0000-U+001F) other than newline and tab, DEL (U+007F) and C1 controls
//!   (U+0080-U+009F, which some terminals obey like `ESC` + a letter: U+009B is CSI). Escaping
//!   the introducer (`ESC`, `CSI`, `OSC` = U+009D, `BEL`) disarms the whole sequence: OSC 52
//!   (clipboard write), OSC 8 (hyperlinks), `ESC[2J` (clear), `ESC[8m` (concealed text) all show
//!   up as plain text such as `\x1b[8m`.
//! - A lone carriage return (`\r`), which moves the cursor back over what was written; a `\r`
//!   right before `\n` is an ordinary line end and kept.
//! - In [`Mode::Line`] and [`Mode::Strict`]: the Unicode bidi controls (U+202A-202E,
//!   U+2066-2069, U+200E/U+200F, U+061C), zero-width and other invisible format characters
//!   (U+200B-200D, U+2060-2064, U+FEFF, U+00AD, U+180E, U+FFF9-FFFB) and the line/paragraph
//!   separators U+2028/U+2029, shown as `\u{202e}`. They reorder or hide what a reviewer reads.
//!
//! Hand-written: the job is a few character classes, and the streaming variant needs to hold
//! a trailing `\r` across chunks; no crate does exactly this without pulling a terminal stack.

use std::borrow::Cow;
use std::fmt::Write as _;

/// How much of the text's layout survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Multi-line prose (answers, error messages): newlines and tabs kept, controls escaped;
    /// bidi and format characters kept (right-to-left languages need the implicit ones).
    Text,
    /// Multi-line text a person must review exactly (diffs, proposals): like [`Mode::Text`],
    /// and bidi/format characters escaped too.
    Strict,
    /// One line (prompts, status lines, table cells, names): newlines and tabs escaped as well.
    Line,
}

/// `s` with every character that could drive the terminal shown visibly escaped (see the
/// module docs). Borrowed when nothing needed escaping.
pub fn escape(s: &str, mode: Mode) -> Cow<'_, str> {
    if surely_clean(s.as_bytes(), mode)
        || !s
            .char_indices()
            .any(|(i, c)| needs_escape(c, mode, s.as_bytes().get(i + 1) == Some(&b'\n')))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let before_lf = chars.peek() == Some(&'\n');
        push_char(&mut out, c, mode, before_lf);
    }
    Cow::Owned(out)
}

/// [`escape`] in [`Mode::Text`]: for answers and server messages.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, Mode::Text)
}

/// [`escape`] in [`Mode::Line`]: for anything shown on one line.
pub fn line(s: &str) -> Cow<'_, str> {
    escape(s, Mode::Line)
}

/// Whether `s` holds anything [`Mode::Strict`] would escape: controls, escape sequences, bidi
/// or invisible format characters. A proposal view warns when it does.
pub fn has_hidden(s: &str) -> bool {
    s.char_indices()
        .any(|(i, c)| needs_escape(c, Mode::Strict, s.as_bytes().get(i + 1) == Some(&b'\n')))
}

/// Serialized JSON made safe to print: DEL, C1 controls and bidi/format characters (which
/// `serde_json` writes raw inside strings) become `\uXXXX` escapes. The JSON means the same;
/// C0 controls are already escaped by any JSON serializer.
pub fn json(serialized: &str) -> Cow<'_, str> {
    let hidden = |c: char| c.is_control() || is_format_char(c);
    if !serialized.chars().any(hidden) {
        return Cow::Borrowed(serialized);
    }
    let mut out = String::with_capacity(serialized.len() + 16);
    for c in serialized.chars() {
        if hidden(c) {
            // Every such character is in the Basic Multilingual Plane: one \u escape.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `c` is a bidi control or an invisible format character (see the module docs).
pub fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// A byte scan that proves `s` needs no escaping in `mode` (the common case, for every token
/// of every answer; the character-by-character check is several times slower). `false` only
/// means "look closer": a `\r`, any control, or (outside [`Mode::Text`]) any non-ASCII byte.
/// In `Text` mode only a C1 control (UTF-8 `C2 80`-`C2 9F`) needs a look among non-ASCII.
fn surely_clean(s: &[u8], mode: Mode) -> bool {
    let text = mode == Mode::Text;
    let mut prev = 0u8;
    for &b in s {
        let ok = match b {
            b'\n' | b'\t' => mode != Mode::Line,
            0x20..=0x7e => true,
            // A continuation byte; after C2 it makes U+0080-U+009F, the C1 controls.
            0x80..=0x9f => text && prev != 0xc2,
            0xa0..=0xff => text,
            _ => false,
        };
        if !ok {
            return false;
        }
        prev = b;
    }
    true
}

/// Whether `c` must be escaped in `mode`; `before_lf` says a `\n` follows it.
fn needs_escape(c: char, mode: Mode, before_lf: bool) -> bool {
    match c {
        '\n' | '\t' => mode == Mode::Line,
        '\r' => mode == Mode::Line || !before_lf,
        c if c.is_control() => true,
        c => mode != Mode::Text && is_format_char(c),
    }
}

fn push_char(out: &mut String, c: char, mode: Mode, before_lf: bool) {
    if !needs_escape(c, mode, before_lf) {
        out.push(c);
        return;
    }
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        // Writing to a String cannot fail. (A range, not `< 0x100`: no character at 0x100
        // needs escaping, so a `<=` would be a mutant no test could tell apart.)
        '\u{0}'..='\u{ff}' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// [`escape`] for text that arrives in pieces (a streamed answer). Each piece is escaped as it
/// comes, except a trailing `\r`, held until the next piece says whether it ends a line
/// (`\r\n`, kept) or stands alone (escaped). Call [`StreamEscaper::finish`] at the end.
#[derive(Debug, Clone)]
pub struct StreamEscaper {
    mode: Mode,
    pending_cr: bool,
}

impl StreamEscaper {
    /// A new escaper for one stream.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            pending_cr: false,
        }
    }

    /// The safe form of `chunk`, ready to write; may hold back a trailing `\r`. Borrowed
    /// when nothing in it needs escaping (most tokens).
    pub fn push<'a>(&mut self, chunk: &'a str) -> Cow<'a, str> {
        if chunk.is_empty() {
            // An empty piece says nothing about a held `\r`: keep holding it.
            return Cow::Borrowed("");
        }
        if !self.pending_cr && surely_clean(chunk.as_bytes(), self.mode) {
            // No `\r` in it, so none to hold either.
            return Cow::Borrowed(chunk);
        }
        let mut out = String::with_capacity(chunk.len() + 4);
        let mut chars = chunk.chars().peekable();
        if self.pending_cr {
            self.pending_cr = false;
            push_char(&mut out, '\r', self.mode, chars.peek() == Some(&'\n'));
        }
        while let Some(c) = chars.next() {
            match chars.peek() {
                None if c == '\r' && self.mode != Mode::Line => self.pending_cr = true,
                next => push_char(&mut out, c, self.mode, next == Some(&'\n')),
            }
        }
        Cow::Owned(out)
    }

    /// Whatever is still held back (a final lone `\r`, escaped).
    pub fn finish(&mut self) -> String {
        if std::mem::take(&mut self.pending_cr) {
            "\\r".to_string()
        } else {
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The hostile sequences from issue 11.
    const ATTACKS: [&str; 6] = [
        "\x1b]52;c;cHduZWQ=\x07",                   // OSC 52: write the clipboard
        "\x1b[2J",                                  // clear the screen
        "\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\", // OSC 8 hyperlink
        "\u{9b}2J",                                 // C1 CSI
        "\x1b[8mhidden\x1b[0m",                     // concealed text
        "a\rb",                                     // overwrite the line
    ];

    fn is_raw_control(c: char) -> bool {
        c.is_control() && c != '\n' && c != '\t'
    }

    #[test]
    fn attacks_are_shown_not_obeyed() {
        for a in ATTACKS {
            let t = text(a);
            assert!(!t.chars().any(is_raw_control), "{a:?} -> {t:?}");
        }
        assert_eq!(text("\x1b[2J"), "\\x1b[2J");
        assert_eq!(text("\u{9b}2J"), "\\x9b2J");
        assert_eq!(text("x\x07"), "x\\x07");
        assert_eq!(text("\x7f"), "\\x7f");
        assert_eq!(text("a\rb"), "a\\rb");
    }

    #[test]
    fn text_keeps_layout_and_plain_text_borrowed() {
        assert!(matches!(text("héllo\n\tworld\r\n"), Cow::Borrowed(_)));
        assert_eq!(text("a\r\nb"), "a\r\nb");
        assert_eq!(text("a\r\r\nb"), "a\\r\r\nb");
        // Right-to-left prose keeps its implicit marks in plain text.
        assert_eq!(text("a\u{200f}b"), "a\u{200f}b");
    }

    #[test]
    fn line_escapes_layout_and_format_characters() {
        assert_eq!(line("a\nb\tc\r\n"), "a\\nb\\tc\\r\\n");
        assert_eq!(
            line("x\u{202e}y\u{2066}z\u{200b}"),
            "x\\u{202e}y\\u{2066}z\\u{200b}"
        );
        assert_eq!(line("\u{feff}\u{2028}"), "\\u{feff}\\u{2028}");
        assert!(matches!(line("naïve café"), Cow::Borrowed(_)));
    }

    #[test]
    fn strict_keeps_lines_but_shows_format_characters() {
        assert_eq!(escape("a\u{202e}b\n", Mode::Strict), "a\\u{202e}b\n");
        assert!(has_hidden("echo PWNED # \r\x1b[2K\x1b[1A"));
        assert!(has_hidden("x\u{2067}"));
        assert!(!has_hidden("plain\r\n\ttext\n"));
    }

    #[test]
    fn json_keeps_its_meaning_without_raw_c1_or_bidi() {
        let v = serde_json::json!({"m": "a\u{9b}2J\u{202e}b\x1b"});
        let safe = json(&v.to_string()).into_owned();
        assert_eq!(safe, r#"{"m":"a\u009b2J\u202eb\u001b"}"#);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn stream_holds_a_trailing_cr_across_chunks() {
        let mut s = StreamEscaper::new(Mode::Text);
        assert_eq!(s.push("line\r"), "line");
        assert_eq!(s.push("\nnext\r"), "\r\nnext");
        assert_eq!(s.push("over"), "\\rover");
        assert_eq!(s.push("end\r"), "end");
        assert_eq!(s.finish(), "\\r");
        assert_eq!(s.finish(), "");
    }

    #[test]
    fn stream_escapes_a_sequence_split_across_chunks() {
        let mut s = StreamEscaper::new(Mode::Text);
        let out = [s.push("ok \x1b"), s.push("]52;c;"), s.push("eA==\x07 done")].concat();
        assert_eq!(out, "ok \\x1b]52;c;eA==\\x07 done");
    }

    #[test]
    fn an_empty_piece_keeps_a_held_carriage_return() {
        let mut s = StreamEscaper::new(Mode::Text);
        let out = [s.push("a\r"), s.push(""), s.push("\nb"), s.finish().into()].concat();
        assert_eq!(out, "a\r\nb");
    }

    #[test]
    fn the_byte_scan_passes_ordinary_text_so_it_is_not_copied() {
        for mode in [Mode::Text, Mode::Strict] {
            assert!(surely_clean(b"fn main() {\n\tprintln!(\"hi\");\n}", mode));
        }
        assert!(surely_clean("café 日本語 🦀 \u{a0}".as_bytes(), Mode::Text));
        assert!(
            !surely_clean("café".as_bytes(), Mode::Strict),
            "non-ASCII: look closer"
        );
        assert!(!surely_clean(b"a\nb", Mode::Line));
        assert!(!surely_clean(b"a\rb", Mode::Text));
        assert!(!surely_clean(b"\x1b[2J", Mode::Text));
        assert!(!surely_clean("\u{9b}2J".as_bytes(), Mode::Text), "C1 CSI");
        assert!(
            surely_clean("\u{100}".as_bytes(), Mode::Text),
            "C4 80 is not C1"
        );
        assert!(matches!(
            escape("plain text\n", Mode::Text),
            Cow::Borrowed(_)
        ));
        let mut e = StreamEscaper::new(Mode::Text);
        assert!(matches!(e.push("a token"), Cow::Borrowed(_)));
    }

    proptest! {
        #[test]
        fn no_raw_controls_survive(s in "\\PC*|[\\x00-\\x1f\\x7f-\\x9f\u{202a}-\u{202e}a\n]*") {
            for mode in [Mode::Text, Mode::Strict, Mode::Line] {
                let out = escape(&s, mode);
                let raw_cr = out.char_indices().any(|(i, c)| {
                    c == '\r' && (mode == Mode::Line || out.as_bytes().get(i + 1) != Some(&b'\n'))
                });
                prop_assert!(!raw_cr);
                prop_assert!(!out.chars().any(|c| c != '\r' && is_raw_control(c)));
                if mode != Mode::Text {
                    prop_assert!(!out.chars().any(is_format_char));
                }
            }
        }

        #[test]
        fn the_byte_scan_never_passes_what_the_character_check_escapes(
            s in "[a \\t\\r\\n\\x00-\\x1f\\x7f\\u{80}-\\u{a0}\\u{ad}\\u{200b}-\\u{202e}\\u{feff}é日🦀]*"
        ) {
            for mode in [Mode::Text, Mode::Strict, Mode::Line] {
                let slow = s.char_indices().any(|(i, c)| {
                    needs_escape(c, mode, s.as_bytes().get(i + 1) == Some(&b'\n'))
                });
                prop_assert!(!(surely_clean(s.as_bytes(), mode) && slow), "{mode:?} {s:?}");
            }
        }

        #[test]
        fn streaming_equals_whole(s in "[a\\r\\n\\x1b\u{9b}é]*", cuts in proptest::collection::vec(0usize..64, 0..6)) {
            let chars: Vec<char> = s.chars().collect();
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(chars.len())).collect();
            points.sort_unstable();
            let mut e = StreamEscaper::new(Mode::Text);
            let mut out = String::new();
            let mut last = 0;
            for p in points.into_iter().chain([chars.len()]) {
                out += &e.push(&chars[last..p].iter().collect::<String>());
                last = p;
            }
            out += &e.finish();
            prop_assert_eq!(out, text(&s).into_owned());
        }
    }
}
