use super::*;
use std::fs;
use std::path::PathBuf;

fn repo() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("a.txt"), "one\ntwo\n").unwrap();
    let ctx = d.path().to_path_buf();
    (d, ctx)
}

const APPLY: ApplyOptions = ApplyOptions {
    yes: true,
    dry_run: false,
    backup: false,
    foreign: false,
};

fn root(d: &tempfile::TempDir) -> PathBuf {
    fs::canonicalize(d.path()).unwrap()
}

#[test]
fn create_stores_a_proposal_for_an_existing_file() {
    let (d, ctx) = repo();
    let c = create(&ctx, "a.txt", "one\nTWO\n").unwrap();
    let p = &c.proposal;
    assert_eq!(p.path, "a.txt");
    assert_eq!(p.content, "one\nTWO\n");
    assert_eq!(p.base_sha256, sha256_hex(b"one\ntwo\n"));
    assert_eq!(p.id, proposal_id("a.txt", &p.base_sha256, "one\nTWO\n"));
    assert_eq!(p.id.len(), 64);
    assert!(
        humantime::parse_rfc3339(&p.created_at).is_ok(),
        "{}",
        p.created_at
    );
    assert_eq!(p.status(), "pending");
    assert_eq!(
        c.diff,
        "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n"
    );
    // The file is untouched; the JSON file holds the documented fields.
    assert_eq!(
        fs::read_to_string(d.path().join("a.txt")).unwrap(),
        "one\ntwo\n"
    );
    let file = d.path().join(PROPOSALS_DIR).join(format!("{}.json", p.id));
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
    for key in ["id", "path", "content", "base_sha256", "created_at"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert!(json.get("applied_at").is_none());
}

#[test]
fn create_for_a_new_file_uses_absent_and_dev_null() {
    let (_d, ctx) = repo();
    let c = create(&ctx, "docs/new.md", "hi\n").unwrap();
    assert_eq!(c.proposal.base_sha256, ABSENT);
    assert_eq!(c.proposal.path, "docs/new.md");
    assert!(
        c.diff.starts_with("--- /dev/null\n+++ b/docs/new.md\n"),
        "{}",
        c.diff
    );
    assert!(c.diff.contains("+hi\n"));
    let empty = create(&ctx, "empty.txt", "").unwrap();
    assert_eq!(empty.diff, "--- /dev/null\n+++ b/empty.txt\n");
}

#[test]
fn proposing_the_same_change_twice_keeps_one_proposal() {
    let (_d, ctx) = repo();
    let a = create(&ctx, "a.txt", "x").unwrap();
    let b = create(&ctx, "./a.txt", "x").unwrap();
    assert_eq!(a.proposal, b.proposal);
    assert_eq!(list(&ctx).unwrap().len(), 1);
}

#[test]
fn create_refuses_escapes_directories_binary_and_huge_content() {
    let (d, ctx) = repo();
    assert!(matches!(
        create(&ctx, "../../etc/passwd", "x"),
        Err(ToolError::PathRefused { .. })
    ));
    assert!(matches!(
        create(&ctx, ".goshi/proposals/x.json", "x"),
        Err(ToolError::PathRefused { .. })
    ));
    fs::create_dir(d.path().join("dir")).unwrap();
    assert!(matches!(
        create(&ctx, "dir", "x"),
        Err(ToolError::IsADirectory { .. })
    ));
    fs::write(d.path().join("img.png"), b"\x89PNG\r\n\x1a\n\0\0").unwrap();
    let e = create(&ctx, "img.png", "x").unwrap_err();
    assert!(e.to_string().contains("was not changed"), "{e}");
    let huge = "x".repeat(MAX_FILE_BYTES + 1);
    assert!(matches!(
        create(&ctx, "big.txt", &huge),
        Err(ToolError::PathRefused { .. })
    ));
}

/// The limit (`MAX_FILE_BYTES`) is 8 MiB: a file of exactly that size can be proposed, and
/// its proposal file (a little larger than the content) is read back whole.
#[test]
fn content_of_8_mib_is_accepted() {
    let (_d, ctx) = repo();
    let full = "x".repeat(8 * 1024 * 1024);
    let id = create(&ctx, "big.txt", &full).unwrap().proposal.id;
    assert_eq!(load(&ctx, &id).unwrap().content.len(), full.len());
}

#[test]
fn only_proposals_made_here_are_made_here() {
    let (d, ctx) = repo();
    let mine = create(&ctx, "a.txt", "mine").unwrap().proposal;
    assert!(made_here(&ctx, &mine));
    // A valid proposal that came with the repository (written by hand, not by `create`).
    let path = "b.txt";
    let shipped = Proposal {
        id: proposal_id(path, ABSENT, "theirs"),
        path: path.into(),
        content: "theirs".into(),
        base_sha256: ABSENT.into(),
        created_at: "2020-01-01T00:00:00Z".into(),
        applied_at: None,
    };
    let file = root(&d)
        .join(PROPOSALS_DIR)
        .join(format!("{}.json", shipped.id));
    fs::write(file, serde_json::to_string(&shipped).unwrap()).unwrap();
    assert_eq!(load(&ctx, &shipped.id).unwrap(), shipped);
    assert!(!made_here(&ctx, &shipped));
    let e = apply(&ctx, &shipped.id, APPLY).unwrap_err();
    assert!(matches!(e, ToolError::ForeignProposal { .. }), "{e:?}");
    assert!(!d.path().join(path).exists());
}

#[test]
fn list_is_sorted_by_time_and_load_accepts_prefixes() {
    let (d, ctx) = repo();
    let first = create(&ctx, "a.txt", "1").unwrap().proposal;
    let second = create(&ctx, "b.txt", "2").unwrap().proposal;
    // Force distinct, known times regardless of clock resolution.
    for (p, t) in [
        (&first, "2020-01-01T00:00:00Z"),
        (&second, "2021-01-01T00:00:00Z"),
    ] {
        let mut q = p.clone();
        q.created_at = t.to_string();
        let file = root(&d).join(PROPOSALS_DIR).join(format!("{}.json", q.id));
        fs::write(file, serde_json::to_string(&q).unwrap()).unwrap();
    }
    let all = list(d.path()).unwrap();
    let ids: Vec<_> = all.iter().map(|p| p.id.clone()).collect();
    assert_eq!(ids, [first.id.clone(), second.id.clone()]);
    assert_eq!(load(d.path(), &first.id).unwrap().id, first.id);
    assert_eq!(load(d.path(), first.short_id()).unwrap().id, first.id);
    let upper = first.id[..10].to_ascii_uppercase();
    assert_eq!(load(d.path(), &upper).unwrap().id, first.id);
}

#[test]
fn list_without_proposals_is_empty_and_creates_nothing() {
    let (d, _ctx) = repo();
    assert!(list(d.path()).unwrap().is_empty());
    assert!(!d.path().join(".goshi").exists());
}

#[test]
fn load_rejects_bad_missing_and_ambiguous_ids() {
    let (d, ctx) = repo();
    for bad in ["", "../x", "zz", "abc/def", &"a".repeat(65)] {
        assert!(
            matches!(
                load(d.path(), bad),
                Err(ToolError::InvalidProposalId { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        load(d.path(), "abc"),
        Err(ToolError::ProposalNotFound { .. })
    ));
    // 17 proposals: at least two share their first hex digit.
    let ids: Vec<String> = (0..17)
        .map(|i| create(&ctx, "a.txt", &i.to_string()).unwrap().proposal.id)
        .collect();
    let shared = ids
        .iter()
        .map(|id| &id[..1])
        .find(|c| ids.iter().filter(|id| id.starts_with(*c)).count() > 1)
        .unwrap();
    let e = load(d.path(), shared).unwrap_err();
    assert!(matches!(e, ToolError::AmbiguousProposalId { .. }), "{e}");
    assert!(e.to_string().contains("give more digits"), "{e}");
}

#[test]
fn preview_without_both_opt_ins_writes_nothing() {
    let (d, ctx) = repo();
    let id = create(&ctx, "a.txt", "new\n").unwrap().proposal.id;
    for (yes, dry_run) in [(false, true), (true, true), (false, false)] {
        let opts = ApplyOptions {
            yes,
            dry_run,
            backup: true,
            foreign: false,
        };
        match apply(d.path(), &id, opts).unwrap() {
            ApplyOutcome::Preview { diff, proposal } => {
                assert!(diff.contains("+new"), "{diff}");
                assert!(proposal.applied_at.is_none());
            }
            other => panic!("{other:?}"),
        }
        assert!(!opts.missing_flags().is_empty());
    }
    assert_eq!(
        fs::read_to_string(d.path().join("a.txt")).unwrap(),
        "one\ntwo\n"
    );
    assert!(!d.path().join(BACKUPS_DIR).exists());
    assert_eq!(
        ApplyOptions {
            yes: false,
            dry_run: true,
            backup: false,
            foreign: false,
        }
        .missing_flags(),
        ["--yes", "--dry-run=false"]
    );
}

#[test]
fn apply_writes_marks_applied_and_refuses_a_second_time() {
    let (d, ctx) = repo();
    let id = create(&ctx, "a.txt", "new\n").unwrap().proposal.id;
    match apply(d.path(), &id[..8], APPLY).unwrap() {
        ApplyOutcome::Applied {
            proposal, backup, ..
        } => {
            assert!(proposal.applied_at.is_some());
            assert_eq!(backup, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fs::read_to_string(d.path().join("a.txt")).unwrap(), "new\n");
    let stored = load(d.path(), &id).unwrap();
    assert_eq!(stored.status(), "applied");
    let e = apply(d.path(), &id, APPLY).unwrap_err();
    assert!(matches!(e, ToolError::AlreadyApplied { .. }), "{e}");
    // No temporary files are left next to the target.
    let names: Vec<_> = fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.contains("goshi-tmp")), "{names:?}");
}

#[test]
fn apply_creates_parent_directories() {
    let (d, ctx) = repo();
    let id = create(&ctx, "deep/er/new.txt", "x\n").unwrap().proposal.id;
    apply(d.path(), &id, APPLY).unwrap();
    assert_eq!(
        fs::read_to_string(d.path().join("deep/er/new.txt")).unwrap(),
        "x\n"
    );
}

#[test]
fn drift_is_refused_in_preview_and_apply() {
    let (d, ctx) = repo();
    let id = create(&ctx, "a.txt", "new\n").unwrap().proposal.id;
    fs::write(d.path().join("a.txt"), "someone else\n").unwrap();
    for opts in [
        APPLY,
        ApplyOptions {
            dry_run: true,
            ..APPLY
        },
    ] {
        let e = apply(d.path(), &id, opts).unwrap_err();
        assert!(matches!(e, ToolError::Drift { .. }), "{e}");
        let m = e.to_string();
        assert!(m.contains("changed since proposal"), "{m}");
        assert!(m.contains("Propose the change again"), "{m}");
    }
    assert_eq!(
        fs::read_to_string(d.path().join("a.txt")).unwrap(),
        "someone else\n"
    );
}

#[test]
fn drift_when_created_or_deleted_meanwhile() {
    let (d, ctx) = repo();
    let id = create(&ctx, "new.txt", "mine\n").unwrap().proposal.id;
    fs::write(d.path().join("new.txt"), "theirs\n").unwrap();
    let e = apply(d.path(), &id, APPLY).unwrap_err();
    assert!(e.to_string().contains("did not exist then"), "{e}");

    let id = create(&ctx, "a.txt", "x").unwrap().proposal.id;
    fs::remove_file(d.path().join("a.txt")).unwrap();
    let e = apply(d.path(), &id, APPLY).unwrap_err();
    assert!(e.to_string().contains("deleted since"), "{e}");
}

#[test]
fn backup_copies_the_old_file_first() {
    let (d, ctx) = repo();
    fs::create_dir(d.path().join("src")).unwrap();
    fs::write(d.path().join("src/lib.rs"), "old\n").unwrap();
    let opts = ApplyOptions {
        backup: true,
        foreign: false,
        ..APPLY
    };
    let id = create(&ctx, "src/lib.rs", "new\n").unwrap().proposal.id;
    let ApplyOutcome::Applied { backup, .. } = apply(d.path(), &id, opts).unwrap() else {
        panic!("not applied");
    };
    let backup = backup.unwrap();
    assert!(backup.starts_with(".goshi/backups/src/lib.rs."), "{backup}");
    assert!(!backup.contains(':'), "{backup}");
    assert_eq!(fs::read_to_string(d.path().join(&backup)).unwrap(), "old\n");
    assert_eq!(
        fs::read_to_string(d.path().join("src/lib.rs")).unwrap(),
        "new\n"
    );

    // A second backup in the same second gets its own name.
    let id = create(&ctx, "src/lib.rs", "newer\n").unwrap().proposal.id;
    let ApplyOutcome::Applied { backup: b2, .. } = apply(d.path(), &id, opts).unwrap() else {
        panic!("not applied");
    };
    let b2 = b2.unwrap();
    assert_ne!(b2, backup);
    assert_eq!(fs::read_to_string(d.path().join(&b2)).unwrap(), "new\n");

    // Nothing to back up for a new file.
    let id = create(&ctx, "fresh.txt", "x").unwrap().proposal.id;
    let ApplyOutcome::Applied { backup, .. } = apply(d.path(), &id, opts).unwrap() else {
        panic!("not applied");
    };
    assert_eq!(backup, None);
}

#[test]
fn edited_proposal_files_are_detected() {
    let (d, ctx) = repo();
    let p = create(&ctx, "a.txt", "x").unwrap().proposal;
    let file = root(&d).join(PROPOSALS_DIR).join(format!("{}.json", p.id));
    let mut q = p.clone();
    q.content = "sneaky".into();
    fs::write(&file, serde_json::to_string(&q).unwrap()).unwrap();
    let e = load(d.path(), &p.id).unwrap_err();
    assert!(matches!(e, ToolError::CorruptProposal { .. }), "{e}");
    assert!(list(d.path()).unwrap().is_empty());
    fs::write(&file, "{not json").unwrap();
    let e = apply(d.path(), &p.id, APPLY).unwrap_err();
    assert!(e.to_string().contains("damaged"), "{e}");
}

#[test]
fn apply_guards_the_stored_path_again() {
    let (d, ctx) = repo();
    create(&ctx, "a.txt", "x").unwrap();
    // A hand-made proposal (with a matching id) that points outside the repository.
    let path = "../escaped.txt";
    let id = proposal_id(path, ABSENT, "evil");
    let p = Proposal {
        id: id.clone(),
        path: path.into(),
        content: "evil".into(),
        base_sha256: ABSENT.into(),
        created_at: "2020-01-01T00:00:00Z".into(),
        applied_at: None,
    };
    let file = root(&d).join(PROPOSALS_DIR).join(format!("{id}.json"));
    fs::write(file, serde_json::to_string(&p).unwrap()).unwrap();
    let e = apply(d.path(), &id, APPLY).unwrap_err();
    assert!(matches!(e, ToolError::PathRefused { .. }), "{e}");
    assert!(!d.path().parent().unwrap().join("escaped.txt").exists());
}

#[test]
fn diff_is_against_the_current_file() {
    let (d, ctx) = repo();
    let p = create(&ctx, "a.txt", "one\ntwo\n").unwrap().proposal;
    assert_eq!(diff(d.path(), &p).unwrap(), "");
    fs::write(d.path().join("a.txt"), "one\n").unwrap();
    assert!(diff(d.path(), &p).unwrap().contains("+two"));
    assert_eq!(unified_diff("x", Some("same"), "same"), "");
    assert!(unified_diff("x", Some("a"), "b").contains("\\ No newline at end of file"));
}

#[cfg(unix)]
#[test]
fn apply_keeps_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let (d, ctx) = repo();
    let script = d.path().join("run.sh");
    fs::write(&script, "#!/bin/sh\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o750)).unwrap();
    let id = create(&ctx, "run.sh", "#!/bin/sh\necho hi\n")
        .unwrap()
        .proposal
        .id;
    apply(d.path(), &id, APPLY).unwrap();
    let mode = fs::metadata(&script).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o750);
}

#[cfg(unix)]
#[test]
fn a_symlinked_goshi_directory_is_refused() {
    let (d, ctx) = repo();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), d.path().join(".goshi")).unwrap();
    let e = create(&ctx, "a.txt", "x").unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}
