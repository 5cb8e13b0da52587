//! The renderer on a corpus of tricky markdown (`testdata/*.md`, expected output in
//! `*.golden` with `ESC` shown as `␛`; `GOSHI_BLESS=1` rewrites them), split at every byte
//! boundary, and with the live preview checked on an emulated screen.

use std::path::{Path, PathBuf};

use super::*;

fn opts(preview: bool) -> RenderOptions {
    RenderOptions {
        width: 40,
        height: 30,
        hyperlinks: true,
        truecolor: false,
        preview,
    }
}

fn render_chunks<'a>(chunks: impl IntoIterator<Item = &'a str>, o: RenderOptions) -> String {
    let mut md = MarkdownStream::new(o);
    let mut out = String::new();
    for c in chunks {
        md.push(c, &mut out);
    }
    md.finish(&mut out);
    out
}

fn render(src: &str) -> String {
    render_chunks([src], opts(false))
}

fn visible(s: &str) -> String {
    s.replace('\x1b', "␛")
}

fn corpus() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli/render/testdata");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the corpus is missing from {dir:?}");
    files
        .into_iter()
        .map(|p| {
            let s = std::fs::read_to_string(&p).unwrap();
            (p, s)
        })
        .collect()
}

#[test]
fn corpus_matches_the_golden_files() {
    let bless = std::env::var_os("GOSHI_BLESS").is_some();
    for (path, src) in corpus() {
        let got = visible(&render(&src));
        let golden = path.with_extension("golden");
        if bless {
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden)
            .unwrap_or_else(|e| panic!("{golden:?}: {e} (GOSHI_BLESS=1 writes it)"));
        assert_eq!(
            got, want,
            "{path:?} renders differently from its golden file"
        );
    }
}

#[test]
fn every_split_gives_the_same_output() {
    for (path, src) in corpus() {
        let whole = render(&src);
        for i in (0..=src.len()).filter(|i| src.is_char_boundary(*i)) {
            let (a, b) = src.split_at(i);
            assert_eq!(
                render_chunks([a, b], opts(false)),
                whole,
                "{path:?} split at byte {i}"
            );
        }
        let chars: Vec<String> = src.chars().map(String::from).collect();
        assert_eq!(
            render_chunks(chars.iter().map(String::as_str), opts(false)),
            whole,
            "{path:?} one character at a time"
        );
    }
}

/// A terminal screen, as far as the renderer drives it: printable text wrapping at the
/// width, newline, carriage return, cursor up and erase below (only ever at column 0). SGR
/// and OSC 8 sequences are kept in the row's text, taking no columns.
fn emulate(out: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut rows: Vec<String> = vec![String::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                row += 1;
                col = 0;
            }
            '\r' => col = 0,
            '\x1b' => {
                let mut seq = String::from(c);
                match chars.next() {
                    Some('[') => {
                        let mut params = String::new();
                        let fin = loop {
                            let n = chars.next().unwrap();
                            if n.is_ascii_alphabetic() {
                                break n;
                            }
                            params.push(n);
                        };
                        match fin {
                            'A' => row -= params.parse::<usize>().unwrap(),
                            'J' => {
                                assert_eq!(col, 0, "erase below mid-row");
                                rows.truncate(row);
                            }
                            'm' => seq = format!("\x1b[{params}m"),
                            other => panic!("unexpected CSI {other}"),
                        }
                        if fin != 'm' {
                            continue;
                        }
                    }
                    Some(']') => {
                        seq.push(']');
                        while let Some(n) = chars.next() {
                            seq.push(n);
                            if n == '\x1b' && chars.peek() == Some(&'\\') {
                                seq.push('\\');
                                chars.next();
                                break;
                            }
                        }
                    }
                    other => panic!("unexpected escape {other:?}"),
                }
                while rows.len() <= row {
                    rows.push(String::new());
                }
                rows[row].push_str(&seq);
            }
            _ => {
                let w = c.width().unwrap_or(0);
                if col + w > width {
                    row += 1;
                    col = 0;
                }
                while rows.len() <= row {
                    rows.push(String::new());
                }
                rows[row].push(c);
                col += w;
            }
        }
        while rows.len() <= row {
            rows.push(String::new());
        }
    }
    rows.join("\n")
}

#[test]
fn the_preview_leaves_the_same_screen_at_every_split() {
    for (path, src) in corpus() {
        let want = emulate(&render(&src), 40);
        for i in (0..=src.len())
            .filter(|i| src.is_char_boundary(*i))
            .step_by(7)
        {
            let (a, b) = src.split_at(i);
            let got = emulate(&render_chunks([a, b], opts(true)), 40);
            assert_eq!(got, want, "{path:?} split at byte {i}");
        }
        let chars: Vec<String> = src.chars().map(String::from).collect();
        let got = emulate(
            &render_chunks(chars.iter().map(String::as_str), opts(true)),
            40,
        );
        assert_eq!(got, want, "{path:?} one character at a time");
    }
}

#[test]
fn a_block_is_written_as_soon_as_its_last_line_arrives() {
    let mut md = MarkdownStream::new(opts(false));
    let mut out = String::new();
    md.push("# Title\n", &mut out);
    assert!(out.contains("Title"), "{out:?}");
    out.clear();
    md.push("Some *text*\n", &mut out);
    assert_eq!(out, "", "a paragraph may continue");
    md.push("\n", &mut out);
    assert!(out.contains("\x1b[3mtext"), "{out:?}");
    out.clear();
    md.push("```rust\nfn main() {}\n", &mut out);
    assert!(
        out.contains("main"),
        "a code line is written at its newline: {out:?}"
    );
    out.clear();
    md.push("```\n", &mut out);
    assert!(out.contains("```"), "{out:?}");
}

#[test]
fn the_preview_shows_the_block_being_written_and_erases_only_itself() {
    let mut md = MarkdownStream::new(opts(true));
    let mut out = String::new();
    md.push("# Done\n\nHalf a para", &mut out);
    // The preview starts where the paragraph will be: after the blank line that separates
    // it from the heading.
    // A word is shown once it is complete.
    assert!(
        out.ends_with("␛[0m\n\nHalf a".replace('␛', "\x1b").as_str()),
        "{out:?}"
    );
    let before = out.len();
    md.push("graph\n\n", &mut out);
    let tail = &out[before..];
    assert!(tail.starts_with(" paragraph\n\r\x1b[2A\x1b[J"), "{tail:?}");
    assert!(tail.ends_with("\nHalf a paragraph\n"), "{tail:?}");
}

#[test]
fn hostile_text_cannot_reach_the_terminal() {
    let src = "a\x1b]52;c;QUJD\x07b \u{9b}2J\n\n[x](https://e.com/\x1b]8;;evil)\n\n```\n\x1b[2J\n```\n| \x1b[31m |\n|---|\n";
    for o in [opts(false), opts(true)] {
        let out = render_chunks([src], o);
        for bad in [
            "\x1b]52",
            "\x07",
            "\u{9b}",
            "\x1b[2J",
            "\x1b[31m",
            "\x1b]8;;https://e.com",
        ] {
            assert!(!out.contains(bad), "{bad:?} passed through: {out:?}");
        }
    }
}

#[test]
fn finish_resets_for_the_next_answer() {
    let mut md = MarkdownStream::new(opts(false));
    let mut first = String::new();
    md.push("```rust\nlet x = 1;", &mut first);
    md.finish(&mut first);
    assert!(
        first.ends_with("\x1b[0m\n") || first.ends_with('\n'),
        "{first:?}"
    );
    let mut second = String::new();
    md.push("plain", &mut second);
    md.finish(&mut second);
    assert_eq!(second, "plain\n");
}

#[test]
fn hyperlink_support_is_read_from_the_environment() {
    let env_of = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default()
        }
    };
    assert!(hyperlinks_supported(&env_of(&[(
        "TERM_PROGRAM",
        "WezTerm"
    )])));
    assert!(hyperlinks_supported(&env_of(&[("VTE_VERSION", "7600")])));
    assert!(!hyperlinks_supported(&env_of(&[("VTE_VERSION", "4600")])));
    assert!(!hyperlinks_supported(&env_of(&[("TERM", "xterm")])));
    assert!(!hyperlinks_supported(&env_of(&[
        ("TERM_PROGRAM", "iTerm.app"),
        ("FORCE_HYPERLINK", "0")
    ])));
    assert!(hyperlinks_supported(&env_of(&[("FORCE_HYPERLINK", "1")])));
}

#[test]
fn a_table_keeps_what_was_written_before_it_in_its_block() {
    // Once, the table's first cell swapped away everything before it: the quote's first
    // paragraph and the blank line before the table.
    let out = render("> para\n>\n> | a | b |\n> |---|---|\n> | 1 | 2 |\n");
    let plain = visible(&out);
    assert!(plain.starts_with("␛[2m│␛[0m para\n␛[2m│␛[0m\n"), "{plain}");
    assert!(
        plain.contains("\n␛[2m│␛[0m ␛[1ma␛[0m ␛[2m│␛[0m ␛[1mb␛[0m"),
        "{plain}"
    );
}

#[test]
fn a_long_block_of_lines_that_may_end_it_is_not_parsed_again_at_every_line() {
    // Paragraph lines that start like a block (`*x`, digits) and a long loose list: each
    // line may end the block, so each would cost a parse of the block so far (quadratic).
    let star: String = (0..8000).map(|i| format!("*x{i}\n")).collect();
    let loose: String = (0..3000).map(|i| format!("- item {i}\n\n")).collect();
    for text in [star, loose.clone()] {
        let mut md = MarkdownStream::new(opts(false));
        let mut out = String::new();
        for line in text.split_inclusive('\n') {
            md.push(line, &mut out);
        }
        let lines = text.lines().count();
        assert!(
            md.parses < 3500,
            "{} parses for {lines} lines: the backoff is not working",
            md.parses
        );
        md.finish(&mut out);
        assert_eq!(out, render(&text), "the same output as in one piece");
    }
}

#[test]
fn a_loose_list_is_parsed_once_not_at_every_blank_line() {
    let loose: String = (0..300).map(|i| format!("- item {i}\n\n")).collect();
    let text = loose + "After the list.\n\n";
    let mut md = MarkdownStream::new(opts(false));
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        md.push(line, &mut out);
    }
    assert!(md.parses < 10, "{} parses", md.parses);
    assert!(
        out.contains("item 299"),
        "written when the paragraph after it came: {out:?}"
    );
    md.finish(&mut out);
    assert_eq!(out, render(&text));
}

#[test]
fn a_long_block_is_written_when_the_next_block_starts_even_while_backing_off() {
    // Each nested item may end the list, so past 8 KiB the list is parsed again only at
    // doublings; the block after it must still have it written at once.
    let list: String = (0..600)
        .map(|i| format!("- item {i}\n  - detail {i}\n"))
        .collect();
    for next in ["\nAfter the list.\n", "## Next\n"] {
        let text = format!("{list}{next}");
        let mut md = MarkdownStream::new(opts(false));
        let mut out = String::new();
        for line in list.split_inclusive('\n') {
            md.push(line, &mut out);
        }
        assert!(
            md.pending.len() > PARSE_BACKOFF_FROM && md.pending.len() < 2 * md.parsed_len,
            "the list ends while backing off"
        );
        for line in next.split_inclusive('\n') {
            md.push(line, &mut out);
        }
        assert!(out.contains("detail 599"), "written when {next:?} came");
        md.finish(&mut out);
        assert_eq!(out, render(&text), "the same output as in one piece");
    }
}

#[test]
fn lines_that_seem_to_end_a_block_but_do_not_are_not_each_parsed() {
    // A fence indented by a space is pending text (only fences at the margin stream); a line
    // at the margin after a blank line inside it looks like the start of a new block.
    let line = format!("{}\n\n", "x".repeat(60));
    let text = format!(" ```\n{}", line.repeat(3000));
    let mut md = MarkdownStream::new(opts(false));
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        md.push(line, &mut out);
    }
    // Every line is parsed up to 8 KiB (about 270 parses), then only at doublings.
    assert!(md.parses < 400, "{} parses", md.parses);
    md.finish(&mut out);
    assert_eq!(out, render(&text));
}
