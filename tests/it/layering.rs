//! The layering is checked, not hoped:
//!
//! - The LLM layer is a library: it never writes to the terminal and never speaks the CLI's
//!   vocabulary (its flags, subcommands, REPL commands). Those words belong to `src/cli`,
//!   which renders the layer's structured errors and notices.
//! - Dependencies point downward: every `crate::MODULE` path in a source file names a module
//!   below the file's own (see ARCHITECTURE.md), and the two backends under `src/llm/` do not
//!   use each other.

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

/// The layers, lowest first. A module may use only the modules before it in this list.
const LAYERS: &[&str] = &[
    "text",
    "persist",
    "llm",
    "safety",
    "tools",
    "audit",
    "sessions",
    "config",
    "selfmodel",
    "agent",
    "cli",
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

/// The top-level modules a line of code names with `crate::` (grouped `crate::{a, b::c}`
/// included). Comment lines are skipped: docs may mention what sits above.
fn crate_paths(line: &str) -> Vec<String> {
    let code = line.trim_start();
    if code.starts_with("//") {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

/// The violations in one file's text, as `file:line: message`.
fn check_text(file: &str, module: &str, text: &str) -> Vec<String> {
    let Some(own) = rank(module) else {
        return vec![format!(
            "{file}: module {module} is not in LAYERS (tests/it/layering.rs)"
        )];
    };
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for used in crate_paths(line) {
            match rank(&used) {
                Some(r) if r > own => bad.push(format!(
                    "{file}:{}: {module} uses crate::{used}, which is above it",
                    n + 1
                )),
                _ => {}
            }
        }
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let sibling = if file.contains("/llm/openai/") {
            Some("ollama")
        } else if file.contains("/llm/ollama/") {
            Some("openai")
        } else {
            None
        };
        if let Some(other) = sibling {
            if code.contains(&format!("llm::{other}")) || code.contains(&format!("super::{other}"))
            {
                bad.push(format!(
                    "{file}:{}: the backends are siblings; this one uses {other}",
                    n + 1
                ));
            }
        }
    }
    bad
}

#[test]
fn dependencies_point_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    let mut checked = 0;
    for path in &files {
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs");
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        bad.extend(check_text(&format!("src/{}", rel.display()), module, &text));
        checked += 1;
    }
    assert!(checked > 50, "only {checked} files found under {src:?}");
    assert!(bad.is_empty(), "upward dependencies:\n{}", bad.join("\n"));
}

#[test]
fn the_checker_finds_upward_uses() {
    let text = "use crate::text::one_line;\nuse crate::{llm::Message, cli::terminal};\n\
                // crate::cli in a comment is fine\nlet x = crate::agent::never_interrupt();\n";
    let bad = check_text("src/safety/x.rs", "safety", text);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad[0].contains("src/safety/x.rs:2: safety uses crate::cli"));
    assert!(bad[1].contains(":4: safety uses crate::agent"));
    assert!(check_text("src/cli/x.rs", "cli", text).is_empty());
    let bad = check_text(
        "src/llm/openai/x.rs",
        "llm",
        "use crate::llm::ollama::wire;\n",
    );
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(check_text("src/newmod.rs", "newmod", "").len(), 1);
}
