//! Nothing is left behind by an apply that dies or fails (issue 11, item 11): no temporary
//! files in the user's tree, no partial backup, no backup for a write that did not happen.

use crate::support::hermetic::{run, success_stdout, Sandbox};

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

/// The proposal id from the apply hint `goshi fs write` prints.
fn propose(s: &Sandbox, path: &str, content: &str) -> String {
    let mut cmd = s.goshi(&["fs", "write", path]);
    cmd.write_stdin(content);
    let out = success_stdout(cmd);
    let line = out.lines().find(|l| l.starts_with("Apply it:")).unwrap();
    line.split_whitespace().nth(5).unwrap().to_string()
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
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn leftovers(s: &Sandbox) -> Vec<String> {
    files_below(s.path())
        .into_iter()
        .filter(|f| f.contains(".goshi-tmp-") || f.ends_with("apply-journal.json"))
        .collect()
}

/// `cmd` (a hermetic goshi command) run through `sh -c SCRIPT`, which ends in `exec "$0" "$@"`.
fn through_sh(inner: Command, script: &str) -> Command {
    through_shell("sh", inner, script)
}

/// [`through_sh`] with another shell.
fn through_shell(shell: &str, inner: Command, script: &str) -> Command {
    let mut sh = Command::new(shell);
    sh.arg("-c")
        .arg(script)
        .arg(inner.get_program())
        .args(inner.get_args());
    if let Some(dir) = inner.get_current_dir() {
        sh.current_dir(dir);
    }
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh
}

#[test]
fn a_full_disk_during_the_backup_leaves_no_partial_backup() {
    let s = Sandbox::new();
    let old = "an old line of the file\n".repeat(4000); // ~94 KiB
    s.write("big.txt", &old);
    let id = propose(&s, "big.txt", "short\n");
    // A file size limit of 32 blocks (16 or 32 KiB) makes the backup's write fail with
    // EFBIG, as a full disk would; SIGXFSZ is ignored so the write returns the error.
    let mut sh = through_sh(
        s.std_goshi(&["fs", "apply", &id, "--yes", "--dry-run=false"]),
        "ulimit -f 32 && trap '' XFSZ && exec \"$0\" \"$@\"",
    );
    let out = sh.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("back up"), "{stderr}");
    assert_eq!(fs::read_to_string(s.path().join("big.txt")).unwrap(), old);
    assert_eq!(
        files_below(&s.path().join(".goshi/backups")),
        Vec::<String>::new()
    );
    assert_eq!(leftovers(&s), Vec::<String>::new());
    // Nothing was applied, so it can still be.
    run(s.goshi(&["fs", "apply", &id, "--yes", "--dry-run=false"])).assert_success();
    assert_eq!(
        fs::read_to_string(s.path().join("big.txt")).unwrap(),
        "short\n"
    );
}

#[test]
fn the_next_apply_cleans_up_after_one_that_was_killed() {
    let s = Sandbox::new();
    s.write("dir/a.txt", "old\n");
    s.write("b.txt", "b\n");
    let a = propose(&s, "dir/a.txt", "new\n");
    let b = propose(&s, "b.txt", "B\n");
    // What a kill -9 after the backup, with the new content synced but not yet renamed,
    // leaves: a journal, the temporary file and a backup of a write that never happened.
    s.write("dir/.a.txt.goshi-tmp-0123456789abcdef", "new\n");
    s.write(".goshi/backups/dir/a.txt.20261130T170000Z", "old\n");
    s.write(
        ".goshi/apply-journal.json",
        &format!(
            r#"{{"id":"{a}","path":"dir/a.txt","backup":".goshi/backups/dir/a.txt.20261130T170000Z"}}"#
        ),
    );
    run(s.goshi(&["fs", "apply", &b, "--yes", "--dry-run=false"])).assert_success();
    assert_eq!(leftovers(&s), Vec::<String>::new());
    let kept = files_below(&s.path().join(".goshi/backups"));
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].starts_with("b.txt."), "{kept:?}");
    // The write did not happen, so its proposal is still pending and applies normally.
    assert_eq!(
        fs::read_to_string(s.path().join("dir/a.txt")).unwrap(),
        "old\n"
    );
    run(s.goshi(&["fs", "apply", &a, "--yes", "--dry-run=false"])).assert_success();
}

#[test]
fn a_journal_that_came_with_the_repository_removes_nothing_but_goshi_files() {
    let s = Sandbox::new();
    s.write("keep.txt", "precious\n");
    s.write("b.txt", "b\n");
    let b = propose(&s, "b.txt", "B\n");
    s.write(
        ".goshi/apply-journal.json",
        r#"{"id":"00","path":"keep.txt","backup":"keep.txt"}"#,
    );
    run(s.goshi(&["fs", "apply", &b, "--yes", "--dry-run=false"])).assert_success();
    assert_eq!(
        fs::read_to_string(s.path().join("keep.txt")).unwrap(),
        "precious\n"
    );
    assert_eq!(leftovers(&s), Vec::<String>::new());
}

#[test]
fn applies_killed_at_any_point_leave_a_consistent_tree() {
    let s = Sandbox::new();
    let old = "x".repeat(2 * 1024 * 1024);
    for round in 0..5u64 {
        let name = format!("f{round}.txt");
        s.write(&name, &old);
        let id = propose(&s, &name, &"y".repeat(2 * 1024 * 1024));
        let mut child = s
            .std_goshi(&["fs", "apply", &id, "--yes", "--dry-run=false"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill it somewhere between start and end (wherever that lands is fine: every
        // point must leave a consistent state).
        std::thread::sleep(std::time::Duration::from_millis(round * 10));
        let _ = child.kill();
        let _ = child.wait();
        // The next apply (of another proposal) finishes or undoes the killed one.
        let other = propose(&s, &format!("o{round}.txt"), "o\n");
        run(s.goshi(&["fs", "apply", &other, "--yes", "--dry-run=false"])).assert_success();
        assert_eq!(leftovers(&s), Vec::<String>::new(), "round {round}");
        let written = fs::read(s.path().join(&name)).unwrap()[0] == b'y';
        let backups = files_below(&s.path().join(".goshi/backups"));
        let has_backup = backups.iter().any(|b| b.starts_with(&name));
        let list = success_stdout(s.goshi(&["fs", "proposals"]));
        let line = list
            .lines()
            .find(|l| id.starts_with(l.split(' ').next().unwrap()))
            .unwrap();
        if written {
            assert!(
                has_backup && line.contains("applied"),
                "round {round}: {list}"
            );
        } else {
            assert!(
                !has_backup && line.contains("pending"),
                "round {round}: {backups:?}"
            );
        }
    }
}

#[test]
fn an_apply_that_cannot_mark_its_proposal_leaves_a_journal_the_next_one_finishes() {
    let s = Sandbox::new();
    // A long path makes a journal of more than a KiB, which must still be read whole.
    let path = format!(
        "{}/{}/{}.txt",
        "d".repeat(200),
        "e".repeat(200),
        "t".repeat(200)
    );
    s.write(&path, "old\n");
    // Quotes double in the proposal's JSON: a 40 KiB file under a 64 KiB file size limit
    // (bash counts in KiB) is written, but marking its proposal applied fails with EFBIG.
    let content = "\"".repeat(40 * 1024);
    let id = propose(&s, &path, &content);
    let sh = through_shell(
        "bash",
        s.std_goshi(&["fs", "apply", &id, "--yes", "--dry-run=false"]),
        "ulimit -f 64 && trap '' XFSZ && exec \"$0\" \"$@\"",
    )
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&sh.stderr);
    assert_eq!(sh.status.code(), Some(0), "{stderr}");
    assert_eq!(fs::read_to_string(s.path().join(&path)).unwrap(), content);
    // The write happened but is not recorded in the proposal: only the journal says so.
    let journal = fs::read_to_string(s.path().join(".goshi/apply-journal.json")).unwrap();
    assert!(journal.len() > 1024, "{journal}");
    let list = success_stdout(s.goshi(&["fs", "proposals"]));
    assert!(list.contains("pending"), "{list}");
    // The next apply (of another proposal) marks it applied and removes the journal.
    let other = propose(&s, "o.txt", "o\n");
    run(s.goshi(&["fs", "apply", &other, "--yes", "--dry-run=false"])).assert_success();
    assert_eq!(leftovers(&s), Vec::<String>::new());
    let list = success_stdout(s.goshi(&["fs", "proposals"]));
    let line = list
        .lines()
        .find(|l| id.starts_with(l.split(' ').next().unwrap()))
        .unwrap();
    assert!(line.contains("applied"), "{list}");
}
