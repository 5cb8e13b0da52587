use super::*;
use std::fs;

/// Runs a command against `root`, feeding `stdin`; returns (code, stdout, stderr).
fn go(cmd: FsCommand, root: &std::path::Path, stdin: &str) -> (u8, String, String) {
    let env = FsEnv {
        repo_root: root.to_path_buf(),
        auto_backup: true,
        audit: None,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with(
        &cmd,
        &env,
        &mut Io {
            stdin: &mut stdin.as_bytes(),
            stdin_tty: false,
            out: &mut out,
            err: &mut err,
            ask: None,
            palette: Palette::OFF,
        },
    );
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn apply(id: &str, yes: bool, dry_run: bool) -> FsCommand {
    apply_with(id, yes, Some(dry_run))
}

fn apply_with(id: &str, yes: bool, dry_run: Option<bool>) -> FsCommand {
    FsCommand::Apply {
        id: id.into(),
        yes,
        foreign: false,
        dry_run,
    }
}

#[test]
fn clap_parses_the_apply_flags() {
    use clap::Parser;
    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        cmd: FsCommand,
    }
    let parse = |args: &[&str]| Cli::try_parse_from(args).map(|c| c.cmd);
    assert_eq!(
        parse(&["g", "apply", "ab"]).unwrap(),
        apply_with("ab", false, None)
    );
    assert_eq!(
        parse(&["g", "discard", "ab"]).unwrap(),
        FsCommand::Discard { id: "ab".into() }
    );
    assert_eq!(
        parse(&["g", "apply", "ab", "--yes", "--dry-run=false"]).unwrap(),
        apply("ab", true, false)
    );
    assert_eq!(
        parse(&["g", "apply", "ab", "--dry-run"]).unwrap(),
        apply("ab", false, true)
    );
    assert!(parse(&["g", "apply", "ab", "--dry-run=maybe"]).is_err());
    assert_eq!(
        parse(&["g", "list"]).unwrap(),
        FsCommand::List { path: None }
    );
}

#[test]
fn write_show_apply_round_trip() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("a.txt"), "old\n").unwrap();
    let (code, out, err) = go(
        FsCommand::Write {
            path: "a.txt".into(),
        },
        d.path(),
        "new\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("-old\n+new\n"), "{out}");
    let id = proposals::list(d.path()).unwrap()[0].id.clone();
    assert!(out.contains(&format!("goshi fs apply {id} --yes --dry-run=false")));

    let (code, out, _) = go(FsCommand::Proposals, d.path(), "");
    assert_eq!(code, 0);
    assert!(out.contains(&id[..12]) && out.contains("pending"), "{out}");

    let (code, out, _) = go(FsCommand::Show { id: id[..6].into() }, d.path(), "");
    assert_eq!(code, 0);
    assert!(
        out.contains("+new") && out.contains("status    pending"),
        "{out}"
    );

    let (code, out, _) = go(apply(&id, true, true), d.path(), "");
    assert_eq!(code, 0);
    assert!(out.contains("missing: --dry-run=false"), "{out}");
    assert_eq!(fs::read_to_string(d.path().join("a.txt")).unwrap(), "old\n");

    let (code, out, err) = go(apply(&id, true, false), d.path(), "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Applied proposal"), "{out}");
    assert!(out.contains(".goshi/backups/a.txt."), "{out}");
    assert_eq!(fs::read_to_string(d.path().join("a.txt")).unwrap(), "new\n");

    let (code, _, err) = go(apply(&id, true, false), d.path(), "");
    assert_eq!(code, 1);
    assert!(err.starts_with("goshi: error: proposal"), "{err}");
    assert!(
        err.contains("already applied") && err.contains("\nhint: "),
        "{err}"
    );
}

#[test]
fn errors_and_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = go(
        FsCommand::Read {
            path: "../../etc/passwd".into(),
        },
        d.path(),
        "",
    );
    assert_eq!(code, 1);
    assert!(
        err.starts_with("goshi: error: refused path \"../../etc/passwd\""),
        "{err}"
    );
    let (code, _, err) = go(FsCommand::Show { id: "../x".into() }, d.path(), "");
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = go(
        FsCommand::Show {
            id: "abcdef".into(),
        },
        d.path(),
        "",
    );
    assert_eq!(code, 1);
    assert!(err.contains("goshi fs proposals"), "{err}");
    let (code, out, _) = go(FsCommand::Proposals, d.path(), "");
    assert_eq!(code, 0);
    assert!(out.starts_with("No proposals."), "{out}");
}

#[test]
fn write_refuses_a_terminal_stdin_and_non_utf8() {
    let d = tempfile::tempdir().unwrap();
    let env = FsEnv {
        repo_root: d.path().to_path_buf(),
        auto_backup: false,
        audit: None,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with(
        &FsCommand::Write { path: "x".into() },
        &env,
        &mut Io {
            stdin: &mut &b""[..],
            stdin_tty: true,
            out: &mut out,
            err: &mut err,
            ask: None,
            palette: Palette::OFF,
        },
    );
    assert_eq!(code, 2);
    assert!(String::from_utf8(err)
        .unwrap()
        .contains("pipe the content in"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with(
        &FsCommand::Write { path: "x".into() },
        &env,
        &mut Io {
            stdin: &mut &b"\xff\xfe"[..],
            stdin_tty: false,
            out: &mut out,
            err: &mut err,
            ask: None,
            palette: Palette::OFF,
        },
    );
    assert_eq!(code, 1);
    assert!(String::from_utf8(err).unwrap().contains("not valid UTF-8"));
}

#[test]
fn stored_times_cannot_drive_the_terminal() {
    // `created_at` and `applied_at` are not covered by the id, so a proposal file that
    // came with a repository may hold anything there.
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = go(
        FsCommand::Write {
            path: "a.txt".into(),
        },
        d.path(),
        "x\n",
    );
    assert_eq!(code, 0, "{err}");
    let p = proposals::list(d.path()).unwrap().remove(0);
    let file = d.path().join(format!(".goshi/proposals/{}.json", p.id));
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    v["created_at"] = "\u{1b}[2J\u{1b}]0;owned\u{7}".into();
    fs::write(&file, v.to_string()).unwrap();
    let (code, out, _) = go(FsCommand::Proposals, d.path(), "");
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    let (code, out, _) = go(FsCommand::Show { id: p.id.clone() }, d.path(), "");
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    v["applied_at"] = "\u{1b}[31mnow".into();
    fs::write(&file, v.to_string()).unwrap();
    let (_, out, _) = go(FsCommand::Show { id: p.id.clone() }, d.path(), "");
    assert!(!out.contains('\u{1b}'), "{out:?}");
    let (_, _, err) = go(apply(&p.id, true, false), d.path(), "");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn list_and_read() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("hello.txt"), "hi there").unwrap();
    let (code, out, _) = go(FsCommand::List { path: None }, d.path(), "");
    assert_eq!(code, 0);
    assert!(out.contains("hello.txt  (8 bytes)"), "{out}");
    let (code, out, _) = go(
        FsCommand::Read {
            path: "hello.txt".into(),
        },
        d.path(),
        "",
    );
    assert_eq!((code, out.as_str()), (0, "hi there"));
}

/// Runs a command as at a terminal whose user answers `answer` to every y/N question;
/// returns (code, stdout, the questions asked).
fn go_asked(cmd: FsCommand, root: &std::path::Path, answer: bool) -> (u8, String, Vec<String>) {
    let env = FsEnv {
        repo_root: root.to_path_buf(),
        auto_backup: true,
        audit: None,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut asked = Vec::new();
    let mut ask = |q: &str| {
        asked.push(q.to_string());
        answer
    };
    let code = run_with(
        &cmd,
        &env,
        &mut Io {
            stdin: &mut &b""[..],
            stdin_tty: true,
            out: &mut out,
            err: &mut err,
            ask: Some(&mut ask),
            palette: Palette::OFF,
        },
    );
    (code, String::from_utf8(out).unwrap(), asked)
}

fn proposed(root: &std::path::Path) -> String {
    fs::write(root.join("a.txt"), "old\n").unwrap();
    let (code, _, err) = go(
        FsCommand::Write {
            path: "a.txt".into(),
        },
        root,
        "new\n",
    );
    assert_eq!(code, 0, "{err}");
    proposals::list(root).unwrap()[0].id.clone()
}

#[test]
fn apply_at_a_terminal_shows_the_diff_and_writes_only_on_yes() {
    let d = tempfile::tempdir().unwrap();
    let id = proposed(d.path());
    let (code, out, asked) = go_asked(apply_with(&id[..8], false, None), d.path(), false);
    assert_eq!(code, 0);
    assert!(out.contains("-old\n+new\n"), "{out}");
    assert!(out.contains("Not applied"), "{out}");
    assert_eq!(asked.len(), 1);
    assert!(asked[0].starts_with(&format!("Apply proposal {}", &id[..12])));
    assert_eq!(fs::read_to_string(d.path().join("a.txt")).unwrap(), "old\n");

    // --dry-run alone still only previews, without asking.
    let (_, out, asked) = go_asked(apply_with(&id, false, Some(true)), d.path(), true);
    assert!(asked.is_empty() && out.contains("Dry run"), "{out}");
    assert_eq!(fs::read_to_string(d.path().join("a.txt")).unwrap(), "old\n");

    let (code, out, asked) = go_asked(apply_with(&id, false, None), d.path(), true);
    assert_eq!(code, 0);
    assert_eq!(asked.len(), 1);
    assert_eq!(out.matches("+new").count(), 1, "diff shown once: {out}");
    assert!(out.contains("Applied proposal"), "{out}");
    assert_eq!(fs::read_to_string(d.path().join("a.txt")).unwrap(), "new\n");
}

#[test]
fn apply_off_a_terminal_never_asks_and_writes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let id = proposed(d.path());
    let (code, out, _) = go(apply_with(&id, false, None), d.path(), "y\n");
    assert_eq!(code, 0);
    assert!(out.contains("Dry run: nothing was written"), "{out}");
    assert_eq!(fs::read_to_string(d.path().join("a.txt")).unwrap(), "old\n");
}

#[test]
fn discard_deletes_the_proposal_and_keeps_the_file() {
    let d = tempfile::tempdir().unwrap();
    let id = proposed(d.path());
    let (code, out, err) = go(FsCommand::Discard { id: id[..6].into() }, d.path(), "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("Discarded proposal {}", &id[..12])),
        "{out}"
    );
    assert!(proposals::list(d.path()).unwrap().is_empty());
    assert_eq!(fs::read_to_string(d.path().join("a.txt")).unwrap(), "old\n");
    let (code, _, err) = go(FsCommand::Discard { id: id.clone() }, d.path(), "");
    assert_eq!(code, 1);
    assert!(err.contains("goshi fs proposals"), "{err}");
    let (code, _, _) = go(FsCommand::Discard { id: "xyz".into() }, d.path(), "");
    assert_eq!(code, 2);
}
