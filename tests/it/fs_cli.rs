//! End-to-end tests of `goshi fs ...`, run in a temporary repository.

use crate::support::hermetic;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use hermetic::{success_stdout, Sandbox};
use predicates::prelude::*;

/// A temporary repository plus an empty home, so no user configuration leaks in.
struct Repo {
    sandbox: Sandbox,
}

impl Repo {
    fn new() -> Self {
        let sandbox = Sandbox::new();
        sandbox.write("README.md", "# demo\nhello\n");
        sandbox.write("src/lib.rs", "pub fn a() {}\n");
        sandbox.write(".git/config", "[core]\n");
        Repo { sandbox }
    }

    fn path(&self) -> &Path {
        self.sandbox.path()
    }

    /// `goshi fs ARGS` in the repository.
    fn goshi(&self, args: &[&str]) -> Command {
        let mut cmd = self.sandbox.goshi(&["fs"]);
        cmd.args(args);
        cmd
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// Every line of every audit file, concatenated.
    fn audit_lines(&self) -> String {
        let mut lines = String::new();
        for entry in fs::read_dir(self.path().join(".goshi/audit")).unwrap() {
            lines.push_str(&fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        lines
    }

    /// Proposes `content` for `path` and returns the proposal id from the apply hint.
    fn propose(&self, path: &str, content: &str) -> String {
        let mut cmd = self.goshi(&["write", path]);
        cmd.write_stdin(content);
        let out = success_stdout(cmd);
        let line = out
            .lines()
            .find(|l| l.contains("goshi fs apply "))
            .unwrap_or_else(|| panic!("no apply hint in:\n{out}"));
        let id = line
            .split_whitespace()
            .skip_while(|w| *w != "apply")
            .nth(1)
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 64, "{line}");
        id
    }
}

#[test]
fn list_shows_entries_but_not_git_or_goshi() {
    let repo = Repo::new();
    repo.goshi(&["list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("README.md"))
        .stdout(predicate::str::contains("src/"))
        .stdout(predicate::str::contains(".git").not());
    repo.goshi(&["list", "src"])
        .assert()
        .success()
        .stdout(predicate::str::contains("lib.rs  (14 bytes)"));
}

#[test]
fn read_prints_the_file() {
    let repo = Repo::new();
    repo.goshi(&["read", "README.md"])
        .assert()
        .success()
        .stdout("# demo\nhello\n");
    repo.goshi(&["read", "src"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("goshi: error: "))
        .stderr(predicate::str::contains("use fs.list"));
    repo.goshi(&["read", ".git/config"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refused path"));
}

#[test]
fn write_stores_a_proposal_and_leaves_the_file_alone() {
    let repo = Repo::new();
    let id = repo.propose("README.md", "# demo\nbye\n");
    assert_eq!(repo.read("README.md"), "# demo\nhello\n");
    assert!(repo
        .path()
        .join(format!(".goshi/proposals/{id}.json"))
        .is_file());

    repo.goshi(&["proposals"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&id[..12]))
        .stdout(predicate::str::contains("pending"))
        .stdout(predicate::str::contains("README.md"));

    repo.goshi(&["show", &id[..8]])
        .assert()
        .success()
        .stdout(predicate::str::contains("--- a/README.md"))
        .stdout(predicate::str::contains("+++ b/README.md"))
        .stdout(predicate::str::contains("-hello"))
        .stdout(predicate::str::contains("+bye"));
}

#[test]
fn apply_without_both_opt_ins_only_previews() {
    let repo = Repo::new();
    let id = repo.propose("README.md", "changed\n");
    for extra in [&[][..], &["--yes"][..], &["--dry-run=false"][..]] {
        let mut args = vec!["apply", id.as_str()];
        args.extend_from_slice(extra);
        repo.goshi(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("+changed"))
            .stdout(predicate::str::contains("nothing was written"))
            .stdout(predicate::str::contains(format!(
                "goshi fs apply {id} --yes --dry-run=false"
            )));
        assert_eq!(repo.read("README.md"), "# demo\nhello\n");
    }
    assert!(!repo.path().join(".goshi/backups").exists());
}

#[test]
fn apply_with_opt_ins_writes_atomically_with_a_backup_once() {
    let repo = Repo::new();
    let id = repo.propose("src/lib.rs", "pub fn b() {}\n");
    repo.goshi(&["apply", &id, "--yes", "--dry-run=false"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Applied proposal"))
        .stdout(predicate::str::contains(".goshi/backups/src/lib.rs."));
    assert_eq!(repo.read("src/lib.rs"), "pub fn b() {}\n");

    // The backup holds the old content; no temporary files are left behind.
    let backups: Vec<_> = fs::read_dir(repo.path().join(".goshi/backups/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(fs::read_to_string(&backups[0]).unwrap(), "pub fn a() {}\n");
    let names: Vec<_> = fs::read_dir(repo.path().join("src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["lib.rs"]);

    // Applying twice is refused and changes nothing.
    fs::write(repo.path().join("src/lib.rs"), "edited later\n").unwrap();
    repo.goshi(&["apply", &id, "--yes", "--dry-run=false"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already applied"));
    assert_eq!(repo.read("src/lib.rs"), "edited later\n");
    repo.goshi(&["proposals"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied"));
}

#[test]
fn apply_creates_new_files_and_directories() {
    let repo = Repo::new();
    let id = repo.propose("docs/guide/intro.md", "intro\n");
    repo.goshi(&["apply", &id, "--yes", "--dry-run=false"])
        .assert()
        .success();
    assert_eq!(repo.read("docs/guide/intro.md"), "intro\n");
}

#[test]
fn drift_is_refused() {
    let repo = Repo::new();
    let id = repo.propose("README.md", "mine\n");
    fs::write(repo.path().join("README.md"), "someone else's\n").unwrap();
    repo.goshi(&["apply", &id, "--yes", "--dry-run=false"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("goshi: error: "))
        .stderr(predicate::str::contains("changed since proposal"))
        .stderr(predicate::str::contains("hint:"));
    assert_eq!(repo.read("README.md"), "someone else's\n");
}

#[test]
fn unknown_and_invalid_ids() {
    let repo = Repo::new();
    repo.goshi(&["show", "abcdef"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("goshi fs proposals"));
    repo.goshi(&["apply", "../../etc/passwd"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a proposal id"));
}

#[test]
fn path_escapes_are_refused() {
    let repo = Repo::new();
    repo.goshi(&["read", "../../etc/passwd"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "refused path \"../../etc/passwd\"",
        ))
        .stderr(predicate::str::contains("outside the repository root"));
    repo.goshi(&["write", "../../etc/passwd"])
        .write_stdin("root::0:0::/:/bin/sh\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refused path"));
    repo.goshi(&["list", "/"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refused path"));
    assert!(!repo.path().join(".goshi/proposals").exists());
}

#[cfg(unix)]
#[test]
fn symlink_escapes_are_refused() {
    let repo = Repo::new();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.txt"), "secret\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), repo.path().join("out")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        repo.path().join("secret-link"),
    )
    .unwrap();
    repo.goshi(&["read", "out/secret.txt"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("outside the repository root"))
        .stdout(predicate::str::contains("secret").not());
    repo.goshi(&["read", "secret-link"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refused path"));
    repo.goshi(&["write", "out/new.txt"])
        .write_stdin("x")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("refused path"));
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 1);
}

#[test]
fn proposals_made_and_applied_from_the_cli_are_audited() {
    let repo = Repo::new();
    let id = repo.propose("README.md", "# demo\nchanged\n");
    repo.goshi(&["apply", &id, "--yes", "--dry-run=false"])
        .assert()
        .success();
    let lines = repo.audit_lines();
    assert!(lines.contains("\"type\":\"proposal_created\""), "{lines}");
    assert!(lines.contains("\"type\":\"proposal_applied\""), "{lines}");
    assert!(lines.contains(&id), "{lines}");
    assert!(lines.contains("\"path\":\"README.md\""), "{lines}");
}

#[test]
fn the_api_key_is_masked_in_the_audited_path_of_a_proposal() {
    // The key of an OpenAI-compatible server can be any string: this one matches no secret
    // pattern, so only the exact-match layer (fed from OPENAI_API_KEY) can mask it. The audit
    // records every proposal's path, and here the path holds the key.
    const KEY: &str = "lmstudio-local-0123456789";
    let repo = Repo::new();
    let path = format!("notes/{KEY}.txt");
    let goshi = |args: &[&str]| {
        let mut cmd = repo.goshi(args);
        cmd.env("OPENAI_API_KEY", KEY);
        cmd
    };
    let propose = |content: &str| {
        let mut cmd = goshi(&["write", &path]);
        cmd.write_stdin(content);
        let out = success_stdout(cmd);
        out.split_whitespace()
            .skip_while(|w| *w != "apply")
            .nth(1)
            .unwrap_or_else(|| panic!("no apply hint in:\n{out}"))
            .to_string()
    };
    let applied = propose("note\n");
    goshi(&["apply", &applied, "--yes", "--dry-run=false"])
        .assert()
        .success();
    let discarded = propose("other\n");
    goshi(&["discard", &discarded]).assert().success();
    assert_eq!(repo.read(&path), "note\n");
    let lines = repo.audit_lines();
    for kind in ["proposal_created", "proposal_applied", "proposal_discarded"] {
        assert!(lines.contains(&format!("\"type\":\"{kind}\"")), "{lines}");
    }
    assert!(!lines.contains(KEY), "{lines}");
    assert_eq!(
        lines.matches("notes/***REDACTED***.txt").count(),
        4,
        "{lines}"
    );
}
