//! Highlighting throughput of syntect (as goshi uses it: line by line, state kept between
//! lines; with Oniguruma, or fancy-regex with `--no-default-features --features fancy`) and of
//! tree-sitter-highlight (whole text at once, its best case; and re-highlighting the block so
//! far at each completed line, which is what streaming a block would take), over the Rust and
//! Python blocks of `benches/fixture/markdown.rs`, repeated 300 times. Also syntect's first
//! line of each language (its regexes compiled on first use).

use std::error::Error;
use std::time::Instant;

use syntect::easy::HighlightLines;
use syntect::highlighting::ThemeSet;
use syntect::parsing::SyntaxSet;
use tree_sitter_highlight::{HighlightConfiguration, HighlightEvent, Highlighter};

/// The code blocks of the render bench's answer (`N` is the section number there).
const RUST: &str = "fn decode(buf: &mut Vec<u8>, out: &mut Vec<Event>) -> Result<(), Error> {\n    while let Some(i) = memchr(b'\\n', buf) {\n        let line = buf.drain(..=i).collect::<Vec<_>>();\n        out.push(Event::parse(&line)?); // N\n    }\n    Ok(())\n}\n";
const PYTHON: &str = "def total(xs):\n    return sum(x * 2 for x in xs)  # N\n";

/// Highlight names asked of tree-sitter (the usual capture names).
const NAMES: &[&str] = &[
    "attribute",
    "comment",
    "constant",
    "constructor",
    "function",
    "keyword",
    "number",
    "operator",
    "property",
    "punctuation",
    "string",
    "type",
    "variable",
];

const REPEAT: usize = 300;

fn mb_per_s(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e6
}

/// Highlights `text` whole `reps` times; returns MB/s.
fn tree_sitter_whole(
    cfg: &HighlightConfiguration,
    text: &str,
    reps: usize,
) -> Result<f64, Box<dyn Error>> {
    let mut h = Highlighter::new();
    let t = Instant::now();
    let mut seen = 0;
    for _ in 0..reps {
        for ev in h.highlight(cfg, text.as_bytes(), None, |_| None)? {
            if let HighlightEvent::Source { start, end } = ev? {
                seen += end - start;
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(seen, text.len() * reps, "every byte highlighted");
    Ok(mb_per_s(text.len() * reps, secs))
}

/// Streams one block line by line, re-highlighting the block so far at each line; MB/s of
/// the answer's bytes.
fn tree_sitter_streamed(cfg: &HighlightConfiguration, block: &str) -> Result<f64, Box<dyn Error>> {
    let mut h = Highlighter::new();
    let t = Instant::now();
    for n in 0..REPEAT {
        let block = block.replace('N', &n.to_string());
        let mut end = 0;
        for line in block.split_inclusive('\n') {
            end += line.len();
            for ev in h.highlight(cfg, &block.as_bytes()[..end], None, |_| None)? {
                ev?;
            }
        }
    }
    Ok(mb_per_s(block.len() * REPEAT, t.elapsed().as_secs_f64()))
}

fn syntect_lines(ss: &SyntaxSet, token: &str, text: &str) -> Result<f64, Box<dyn Error>> {
    let themes = ThemeSet::load_defaults();
    let theme = themes
        .themes
        .get("base16-ocean.dark")
        .ok_or("theme missing")?;
    let syntax = ss.find_syntax_by_token(token).ok_or("syntax missing")?;
    let mut h = HighlightLines::new(syntax, theme);
    let t = Instant::now();
    h.highlight_line("x\n", ss)?; // compile the regexes before timing
    println!(
        "syntect, {token}: compiling its regexes (the first line) {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    for line in text.split_inclusive('\n') {
        h.highlight_line(line, ss)?;
    }
    Ok(mb_per_s(text.len(), t.elapsed().as_secs_f64()))
}

fn main() -> Result<(), Box<dyn Error>> {
    let repeat = |block: &str| {
        (0..REPEAT)
            .map(|n| block.replace('N', &n.to_string()))
            .collect::<String>()
    };
    let (rust, python) = (repeat(RUST), repeat(PYTHON));
    let mut rust_cfg = HighlightConfiguration::new(
        tree_sitter_rust::LANGUAGE.into(),
        "rust",
        tree_sitter_rust::HIGHLIGHTS_QUERY,
        tree_sitter_rust::INJECTIONS_QUERY,
        "",
    )?;
    rust_cfg.configure(NAMES);
    let mut py_cfg = HighlightConfiguration::new(
        tree_sitter_python::LANGUAGE.into(),
        "python",
        tree_sitter_python::HIGHLIGHTS_QUERY,
        "",
        "",
    )?;
    py_cfg.configure(NAMES);
    let ss = SyntaxSet::load_defaults_newlines();
    println!("{} bytes of Rust, {} of Python", rust.len(), python.len());
    println!(
        "syntect, line by line:               Rust {:6.2} MB/s  Python {:6.2} MB/s",
        syntect_lines(&ss, "rust", &rust)?,
        syntect_lines(&ss, "python", &python)?
    );
    println!(
        "tree-sitter-highlight, whole text:   Rust {:6.2} MB/s  Python {:6.2} MB/s",
        tree_sitter_whole(&rust_cfg, &rust, 10)?,
        tree_sitter_whole(&py_cfg, &python, 10)?
    );
    println!(
        "tree-sitter-highlight, streamed:     Rust {:6.2} MB/s  Python {:6.2} MB/s",
        tree_sitter_streamed(&rust_cfg, RUST)?,
        tree_sitter_streamed(&py_cfg, PYTHON)?
    );
    Ok(())
}
