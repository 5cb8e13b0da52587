//! The repository as goshi finds it, commands that only read, and configuration mistakes
//! reported all at once: the binary run as a user would.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::hermetic::{run, Sandbox};
use crate::support::provider_common::fake_ollama;

/// Every path under `dir`, relative to it.
fn tree(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.insert(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn read_only_commands_create_no_files_in_the_directory_or_the_home() {
    let server = fake_ollama(&["llama3.1:8b"], &["tools"]);
    let host = server.url();
    let sb = Sandbox::new();
    for args in [
        &["doctor"][..],
        &["doctor", "--format", "json"],
        &["config", "show"],
        &["config", "path"],
        &["models"],
        &["audit"],
        &["version"],
        &["--help"],
        &["chat", "--help"],
        &["man"],
        &["completions", "bash"],
    ] {
        let mut cmd = sb.goshi(args);
        cmd.env("OLLAMA_HOST", &host);
        let r = run(cmd);
        assert!(r.code.is_some(), "{args:?}: {r:?}");
        assert_eq!(
            tree(sb.path()),
            BTreeSet::new(),
            "{args:?} wrote into the directory"
        );
        assert_eq!(
            tree(sb.home()),
            BTreeSet::new(),
            "{args:?} wrote into the home"
        );
    }
}

#[test]
fn the_repository_is_the_git_work_tree_wherever_goshi_starts_in_it() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.path().join(".git")).unwrap();
    sb.write("top.txt", "at the top\n");
    sb.write("src/deep/er/here.txt", "deep\n");
    let mut cmd = sb.goshi(&["fs", "read", "top.txt"]);
    cmd.current_dir(sb.path().join("src/deep/er"));
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("at the top"), "{r:?}");
    // The whole repository is listed, not the subdirectory goshi started in.
    let mut cmd = sb.goshi(&["fs", "list"]);
    cmd.current_dir(sb.path().join("src/deep"));
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("top.txt"), "{r:?}");
    // Outside any work tree, the current directory is the root.
    let plain = Sandbox::new();
    plain.write("sub/inner.txt", "x\n");
    let mut cmd = plain.goshi(&["fs", "read", "../x"]);
    cmd.current_dir(plain.path().join("sub"));
    let r = run(cmd);
    assert_ne!(r.code, Some(0), "{r:?}");
}

#[test]
fn every_problem_in_the_config_file_is_reported_at_once_in_words() {
    let sb = Sandbox::new();
    sb.config(
        "llm:\n  temprature: 0.5\n  max_retries: lots\n  temperature: 9\n  openai:\n    base_ulr: x\naudit:\n  redact: maybe\n",
    );
    let r = run(sb.goshi(&["config", "show"]));
    assert_eq!(r.code, Some(2), "{r:?}");
    let lines = r.err_lines();
    let errors: Vec<_> = lines.iter().filter(|l| l.contains("error:")).collect();
    assert_eq!(errors.len(), 5, "{}", r.stderr);
    for want in [
        "llm.temprature: unknown key \"temprature\"; did you mean llm.temperature?",
        "llm.openai.base_ulr: unknown key \"base_ulr\"; did you mean llm.openai.base_url?",
        "llm.max_retries: expected a whole number, found the text \"lots\"",
        "audit.redact: expected true or false, found the text \"maybe\"",
        "llm.temperature: must be between 0 and 2 (got 9)",
    ] {
        assert!(r.stderr.contains(want), "{want}\n{}", r.stderr);
    }
    assert!(!r.stderr.contains("invalid type"), "{}", r.stderr);
    assert!(!r.stderr.contains("expected i64"), "{}", r.stderr);
}

/// The YAML lines of `config show`'s output (comments dropped).
fn yaml_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect()
}

#[test]
fn config_show_prints_a_goshi_yaml_that_goshi_reads_back_the_same() {
    let sb = Sandbox::new();
    sb.config("llm:\n  model: from-file\n  temperature: 0.5\n  local:\n    port: 11500\n");
    let mut cmd = sb.goshi(&["config", "show", "--provider", "openai"]);
    cmd.env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1");
    let first = run(cmd);
    assert_eq!(first.code, Some(0), "{first:?}");
    // Where each value came from, as comments above it.
    assert!(
        first
            .stdout
            .contains("  # from goshi.yaml\n  model: from-file\n"),
        "{}",
        first.stdout
    );
    assert!(
        first
            .stdout
            .contains("  # from the environment or a flag\n  provider: openai\n"),
        "{}",
        first.stdout
    );
    sb.write("shown.yaml", &first.stdout);
    let again = run(sb.goshi(&["config", "show", "--config", "shown.yaml"]));
    assert_eq!(
        again.code,
        Some(0),
        "goshi refused its own output: {again:?}"
    );
    assert_eq!(yaml_lines(&again.stdout), yaml_lines(&first.stdout));
}

#[test]
fn config_path_lists_where_goshi_looks_even_when_the_file_is_broken() {
    let sb = Sandbox::new();
    sb.config("llm: [\n");
    let r = run(sb.goshi(&["config", "path"]));
    assert_eq!(r.code, Some(0), "{r:?}");
    let local = sb.path().join("goshi.yaml");
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains(&local.display().to_string()) && l.ends_with("used)")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("user config dir; not found"),
        "{}",
        r.stdout
    );
}
