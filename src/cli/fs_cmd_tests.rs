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
        apply("ab", false, true)
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
