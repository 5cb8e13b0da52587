//! End-to-end tests of `goshi audit`, run in a temporary repository holding hand-written
//! audit files under the default `.goshi/audit/`.

use crate::support::hermetic;

use assert_cmd::Command;
use hermetic::{success_stdout, Sandbox};
use predicates::prelude::*;

const A1: &str = r#"{"ts":"2026-11-27T10:00:00.000Z","session":"aaaa00000001","type":"session_start","detail":{"version":"0.1.0"}}"#;
const A2: &str = r#"{"ts":"2026-11-27T10:02:00.000Z","session":"aaaa00000001","type":"tool_call","tool":"fs.read","args":{"path":"src/lib.rs"}}"#;
const A3: &str = r#"{"ts":"2026-11-27T10:04:00.000Z","session":"aaaa00000001","type":"tool_result","tool":"fs.read","outcome":"ok"}"#;
const B1: &str =
    r#"{"ts":"2026-11-27T10:01:00.000Z","session":"bbbb00000002","type":"session_start"}"#;
const B2: &str = r#"{"ts":"2026-11-27T10:03:00.000Z","session":"bbbb00000002","type":"permission_denied","tool":"fs.write","outcome":"no"}"#;

/// A repository with two sessions' audit files (one with a corrupt line) and an empty home.
struct Repo {
    sandbox: Sandbox,
}

impl Repo {
    fn new() -> Self {
        let repo = Repo::empty();
        repo.sandbox.write(
            ".goshi/audit/2026-11-27T10-00-00Z-aaaa00000001.jsonl",
            &format!("{A1}\n{{this is not json\n{A2}\n{A3}\n"),
        );
        repo.sandbox.write(
            ".goshi/audit/2026-11-27T10-01-00Z-bbbb00000002.jsonl",
            &format!("{B1}\n{B2}\n"),
        );
        repo
    }

    fn empty() -> Self {
        let sandbox = Sandbox::new();
        std::fs::create_dir(sandbox.path().join(".git")).unwrap();
        Repo { sandbox }
    }

    /// `goshi audit ARGS` in the repository.
    fn goshi(&self, args: &[&str]) -> Command {
        let mut cmd = self.sandbox.goshi(&["audit"]);
        cmd.args(args);
        cmd
    }

    /// The stdout of a successful `goshi audit ARGS`.
    fn stdout(&self, args: &[&str]) -> String {
        success_stdout(self.goshi(args))
    }
}

#[test]
fn human_output_lists_all_events_in_time_order_and_warns_about_the_corrupt_line() {
    let repo = Repo::new();
    let assert = repo.goshi(&[]).assert().success().stderr(
        predicate::str::contains("goshi: warning: skipped 1 unreadable audit entry")
            .and(predicate::str::contains("line 2")),
    );
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(lines[0].starts_with("TIME"), "{out}");
    let types: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "session_start",
            "session_start",
            "tool_call",
            "permission_denied",
            "tool_result"
        ]
    );
    assert!(lines[3].starts_with("2026-11-27T10:02:00Z  aaaa00000001  tool_call"));
    assert!(lines[3].contains(r#"{"path":"src/lib.rs"}"#), "{out}");
}

#[test]
fn type_session_and_limit_filters() {
    let repo = Repo::new();
    let calls = repo.stdout(&["--type", "tool_call"]);
    assert_eq!(calls.lines().count(), 2, "{calls}");
    assert!(calls.contains("fs.read"));

    let b = repo.stdout(&["--session", "bbbb"]);
    assert_eq!(b.lines().count(), 3, "{b}");
    assert!(!b.contains("aaaa00000001"));

    let newest = repo.stdout(&["--limit", "2", "--format", "json"]);
    assert_eq!(newest, format!("{B2}\n{A3}\n"));
}

#[test]
fn since_accepts_a_time_and_a_duration() {
    let repo = Repo::new();
    let late = repo.stdout(&["--since", "2026-11-27T10:03:00Z", "--format", "json"]);
    assert_eq!(late, format!("{B2}\n{A3}\n"));
    // A duration counts back from now: an event of a minute ago is shown, one of two hours
    // ago and the fixed 2026-11-27 ones are not.
    let repo = Repo::empty();
    let at = |ago: u64| {
        let t = std::time::SystemTime::now() - std::time::Duration::from_secs(ago);
        humantime::format_rfc3339_millis(t).to_string()
    };
    let recent = format!(
        r#"{{"ts":"{}","session":"cccc00000003","type":"tool_call","tool":"fs.read"}}"#,
        at(60)
    );
    let old = format!(
        r#"{{"ts":"{}","session":"cccc00000003","type":"session_start"}}"#,
        at(7200)
    );
    repo.sandbox.write(
        ".goshi/audit/2026-11-27T10-00-00Z-aaaa00000001.jsonl",
        &format!("{A1}\n{A2}\n"),
    );
    repo.sandbox.write(
        ".goshi/audit/2026-11-30T00-00-00Z-cccc00000003.jsonl",
        &format!("{old}\n{recent}\n"),
    );
    let hour = repo.stdout(&["--since", "1h", "--format", "json"]);
    assert_eq!(hour, format!("{recent}\n"));
    let day = repo.stdout(&["--since", "3h", "--format", "json"]);
    assert_eq!(day, format!("{old}\n{recent}\n"));
}

#[test]
fn json_format_prints_the_lines_exactly_as_stored() {
    let repo = Repo::new();
    let out = repo.stdout(&["--format", "json"]);
    assert_eq!(out, format!("{A1}\n{B1}\n{A2}\n{B2}\n{A3}\n"));
}

#[test]
fn bad_type_and_since_exit_2_naming_the_allowed_values() {
    let repo = Repo::new();
    repo.goshi(&["--type", "tools"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("goshi: error: --type: unknown event type \"tools\"")
                .and(predicate::str::contains("tool_call"))
                .and(predicate::str::contains("hint:")),
        );
    repo.goshi(&["--since", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("30m, 1h or 2d"));
    repo.goshi(&["--format", "xml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("allowed: human, json"));
}

#[test]
fn no_matches_and_no_events_are_friendly() {
    let repo = Repo::new();
    repo.goshi(&["--type", "llm_error"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "no audit events match the filters",
        ));

    let empty = Repo::empty();
    empty
        .goshi(&[])
        .assert()
        .success()
        .stdout(predicate::str::contains("no audit events yet in"));
    empty
        .goshi(&["--format", "json"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("no audit events yet"));
}
