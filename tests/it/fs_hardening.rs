//! Hardening of the file commands against hostile repositories (issue 11, items 2, 7, 9, 11
//! and 12), end to end: the built binary in a repository fixture.

use crate::support::hermetic::{self, run, success_stdout, Sandbox};

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

/// The proposal id from the apply hint `goshi fs write` prints.
fn propose(s: &Sandbox, path: &str, content: &str) -> String {
    let mut cmd = s.goshi(&["fs", "write", path]);
    cmd.write_stdin(content);
    let out = success_stdout(cmd);
    let line = out
        .lines()
        .find(|l| l.starts_with("Apply it:"))
        .unwrap_or_else(|| panic!("no apply hint in:\n{out}"));
    line.split_whitespace().nth(5).unwrap().to_string()
}

/// `goshi fs apply ID --yes --dry-run=false` in `s`, not yet started.
fn apply_cmd(s: &Sandbox, id: &str) -> Command {
    s.std_goshi(&["fs", "apply", id, "--yes", "--dry-run=false"])
}

/// Every regular file below `dir`, relative to it.
fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn lines_hidden_with_escapes_are_shown_escaped_with_a_warning() {
    let s = Sandbox::new();
    s.write("run.sh", "#!/bin/sh\necho hi\n");
    let id = propose(
        &s,
        "run.sh",
        "#!/bin/sh\necho hi\necho PWNED # \r\x1b[2K\x1b[1A\nok\u{202e}\n",
    );
    for args in [vec!["fs", "show", &id], vec!["fs", "apply", &id]] {
        let out = success_stdout(s.goshi(&args));
        assert!(
            !out.contains(['\r', '\x1b', '\u{202e}']),
            "{args:?}: {out:?}"
        );
        // One line of the file is one line of the diff, a lone `\r` in it or not.
        assert!(out.contains("@@ -1,2 +1,4 @@\n"), "{out}");
        assert!(out.contains("+echo PWNED # \\r\\x1b[2K\\x1b[1A\n"), "{out}");
        assert!(out.contains("+ok\\u{202e}\n"), "{out}");
        let warning = out
            .find("warning: this proposal contains control characters")
            .unwrap();
        assert!(warning < out.find("--- a/run.sh").unwrap(), "{out}");
    }
    let mut write = s.goshi(&["fs", "write", "other.sh"]);
    write.write_stdin("\x1b]52;c;ZWNobyBoaQ==\x07\n");
    let out = success_stdout(write);
    assert!(!out.contains('\x1b') && out.contains("\\x1b]52"), "{out:?}");
}

#[test]
fn refusals_say_nothing_about_what_is_outside() {
    let s = Sandbox::new();
    std::os::unix::fs::symlink("/etc", s.path().join("etc")).unwrap();
    let refusal = |path: &str| {
        let r = run(s.goshi(&["fs", "read", path]));
        r.assert_failure();
        // The same words whatever exists out there; only the path as given differs.
        r.stderr.replace(path, "PATH")
    };
    let passwd = refusal("/etc/passwd/x");
    assert_eq!(passwd, refusal("/etc/nonexistent-goshi/x"));
    assert!(passwd.contains("outside the repository"), "{passwd}");
    let linked = refusal("etc/passwd/x");
    assert_eq!(linked, refusal("etc/nonexistent-goshi/x"));
    assert!(!linked.contains("Not a directory"), "{linked}");
    assert!(
        linked.contains("through the symbolic link \"etc\""),
        "{linked}"
    );
    let root = s.canonical_path().display().to_string();
    for text in [&passwd, &linked, &refusal("../../x")] {
        assert!(!text.contains(&root) && !text.contains("/etc/"), "{text}");
    }
}

#[test]
fn a_file_that_turns_binary_late_is_not_read() {
    let s = Sandbox::new();
    let mut text = "text line\n".repeat(10_000);
    text.push('\0');
    s.write("late.bin", &text);
    let r = run(s.goshi(&["fs", "read", "late.bin"]));
    r.assert_failure();
    assert!(r.stderr.contains("NUL bytes"), "{r}");
    assert!(r.stdout.is_empty(), "{r}");
}

#[test]
fn proposals_that_came_with_the_repository_are_flagged_and_need_foreign() {
    let s = Sandbox::new();
    s.write("a.txt", "old\n");
    let id = propose(&s, "a.txt", "new\n");
    // The same repository on another machine (another user data directory).
    let other = tempfile::tempdir().unwrap();
    let elsewhere = |args: &[&str]| {
        let mut cmd = hermetic::goshi_cmd_with_home(s.path(), other.path());
        cmd.args(args);
        cmd
    };
    let list = success_stdout(elsewhere(&["fs", "proposals"]));
    assert!(list.contains("pending FOREIGN"), "{list}");
    let show = success_stdout(elsewhere(&["fs", "show", &id]));
    assert!(show.starts_with("warning: proposal"), "{show}");
    assert!(show.contains("not made by goshi on this machine"), "{show}");
    assert!(show.contains("--dry-run=false --foreign"), "{show}");
    let r = run(elsewhere(&["fs", "apply", &id, "--yes", "--dry-run=false"]));
    r.assert_failure();
    assert!(
        r.stderr.contains("not made by goshi on this machine"),
        "{r}"
    );
    assert!(r.stderr.contains("--foreign"), "{r}");
    assert_eq!(fs::read_to_string(s.path().join("a.txt")).unwrap(), "old\n");
    // Where it was made it is not foreign; elsewhere --foreign applies it.
    assert!(!success_stdout(s.goshi(&["fs", "proposals"])).contains("FOREIGN"));
    let r = run(elsewhere(&[
        "fs",
        "apply",
        &id,
        "--yes",
        "--dry-run=false",
        "--foreign",
    ]));
    r.assert_success();
    assert_eq!(fs::read_to_string(s.path().join("a.txt")).unwrap(), "new\n");
}

/// Starts `cmds` at once and returns their results in order.
fn run_together(cmds: Vec<Command>) -> Vec<hermetic::Run> {
    let children: Vec<_> = cmds
        .into_iter()
        .map(|mut c| {
            c.stdout(Stdio::piped()).stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            hermetic::Run {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .collect()
}

fn backups(s: &Sandbox) -> Vec<String> {
    files_below(&s.path().join(".goshi/backups"))
}

#[test]
fn two_applies_at_once_never_both_win() {
    for round in 0..4 {
        // Two proposals against the same base: one wins, the other is refused as drift.
        let s = Sandbox::new();
        s.write("a.txt", "base\n");
        let first = propose(&s, "a.txt", "first\n");
        let second = propose(&s, "a.txt", "second\n");
        let runs = run_together(vec![apply_cmd(&s, &first), apply_cmd(&s, &second)]);
        let won: Vec<_> = runs.iter().filter(|r| r.code == Some(0)).collect();
        assert_eq!(won.len(), 1, "round {round}: {runs:#?}");
        let content = fs::read_to_string(s.path().join("a.txt")).unwrap();
        let winner = if runs[0].code == Some(0) {
            "first\n"
        } else {
            "second\n"
        };
        assert_eq!(content, winner);
        let lost = runs.iter().find(|r| r.code != Some(0)).unwrap();
        assert!(lost.stderr.contains("changed since"), "{lost}");
        assert_eq!(backups(&s).len(), 1, "{:?}", backups(&s));

        // The same proposal twice: one applies it, the other is told it already was.
        let s = Sandbox::new();
        s.write("a.txt", "base\n");
        let id = propose(&s, "a.txt", "once\n");
        let runs = run_together(vec![apply_cmd(&s, &id), apply_cmd(&s, &id)]);
        let won = runs.iter().filter(|r| r.code == Some(0)).count();
        assert_eq!(won, 1, "round {round}: {runs:#?}");
        assert_eq!(backups(&s).len(), 1, "{:?}", backups(&s));
        assert!(
            runs.iter().any(|r| r.stderr.contains("already applied")),
            "{runs:#?}"
        );
    }
}
