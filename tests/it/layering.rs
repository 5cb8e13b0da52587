//! The LLM layer is a library: it never writes to the terminal and never speaks the CLI's
//! vocabulary (its flags, subcommands, REPL commands). Those words belong to `src/cli`,
//! which renders the layer's structured errors and notices.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

/// REPL commands (see `src/cli/chat.rs`), and the word itself.
const REPL_WORDS: &[&str] = &["/clear", "/quit", "/exit", "/help", "/tokens", "REPL"];

/// What may not appear in code (doc comments aside: their examples are the embedder's code).
const OUTPUT_CALLS: &[&str] = &[
    "print!(",
    "println!(",
    "eprint!(",
    "eprintln!(",
    "dbg!(",
    "io::stdout",
    "io::stderr",
    "std::process::exit",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every long flag (`--model`) and subcommand path (`goshi fs proposals`) the CLI defines.
fn cli_words() -> Vec<String> {
    fn walk(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                out.push(format!("--{long}"));
            }
        }
        for sub in cmd.get_subcommands() {
            let path = format!("{prefix} {}", sub.get_name());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&goshi::cli::Cli::command(), "goshi", &mut out);
    out.extend(REPL_WORDS.iter().map(|w| w.to_string()));
    out.sort();
    out.dedup();
    out
}

/// `word` occurs in `line` as a whole word: `--model` must not match `--models-dir`.
fn names(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        let next = line[i + word.len()..].chars().next();
        !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

#[test]
fn the_llm_layer_neither_prints_nor_names_cli_flags_subcommands_or_repl_commands() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/llm");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 10, "found only {files:?}");
    let words = cli_words();
    assert!(words.iter().any(|w| w == "--base-url"), "{words:?}");
    assert!(words.iter().any(|w| w == "goshi models"), "{words:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let at = format!("{}:{}", file.display(), n + 1);
            let doc = line.trim_start().starts_with("//!") || line.trim_start().starts_with("///");
            for call in OUTPUT_CALLS.iter().filter(|_| !doc) {
                if line.contains(call) {
                    found.push(format!("{at}: writes to the terminal ({call}): {line}"));
                }
            }
            for word in words.iter().filter(|w| names(line, w)) {
                found.push(format!("{at}: names the CLI's `{word}`: {line}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the LLM layer must leave the screen and the CLI's words to src/cli (render them in \
         src/cli/hints.rs from an Advice or a Notice):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_guard_sees_what_it_looks_for() {
    assert!(names("set --model or GOSHI_MODEL", "--model"));
    assert!(!names("see --models-dir", "--model"));
    assert!(names("start over (/clear in the REPL)", "/clear"));
    assert!(cli_words().iter().any(|w| w == "goshi config show"));
}
