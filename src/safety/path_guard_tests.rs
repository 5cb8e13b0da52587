use super::*;
use std::fs;

fn setup() -> (tempfile::TempDir, PathGuard) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("README.md"), "hi").unwrap();
    fs::create_dir_all(dir.path().join("src/sub/.git")).unwrap();
    fs::write(dir.path().join("src/lib.rs"), "x").unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    fs::write(dir.path().join(".git/config"), "x").unwrap();
    let guard = PathGuard::new(dir.path()).unwrap();
    (dir, guard)
}

fn refused(r: Result<Resolved, ToolError>) -> String {
    match r {
        Err(e @ ToolError::PathRefused { .. }) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn relative_paths_inside_resolve() {
    let (_d, g) = setup();
    let r = g.existing("src/lib.rs").unwrap();
    assert_eq!(r.rel, "src/lib.rs");
    assert!(r.exists);
    assert_eq!(r.abs, g.root().join("src/lib.rs"));
    assert_eq!(g.existing(".").unwrap().rel, ".");
    assert_eq!(g.existing("./src/../README.md").unwrap().rel, "README.md");
    assert_eq!(g.existing("src/").unwrap().rel, "src");
}

#[test]
fn absolute_path_inside_resolves() {
    let (_d, g) = setup();
    let abs = g.root().join("README.md");
    let r = g.existing(abs.to_str().unwrap()).unwrap();
    assert_eq!(r.rel, "README.md");
}

#[test]
fn dotdot_escapes_are_refused_even_when_missing() {
    let (_d, g) = setup();
    let m = refused(g.existing("../../etc/passwd"));
    assert!(m.contains("../../etc/passwd"), "{m}");
    assert!(m.contains("outside the repository root"), "{m}");
    refused(g.existing("../definitely-missing-goshi-file"));
    refused(g.existing("src/../../x"));
    refused(g.target("../new.txt"));
}

#[cfg(unix)]
#[test]
fn absolute_paths_outside_are_refused() {
    let (_d, g) = setup();
    refused(g.existing("/etc/passwd"));
    refused(g.existing("/"));
    refused(g.target("/tmp/goshi-new-file"));
}

#[test]
fn missing_inside_is_not_found() {
    let (_d, g) = setup();
    match g.existing("nope.txt") {
        Err(ToolError::NotFound { path }) => assert_eq!(path, "nope.txt"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn git_and_goshi_at_root_are_off_limits() {
    let (_d, g) = setup();
    // Each says which directory it is and why (the path alone names `.git/` too).
    let m = refused(g.existing(".git/config"));
    assert!(m.contains("the repository's history"), "{m}");
    refused(g.existing(".git"));
    refused(g.existing(".GIT/config"));
    let m = refused(g.target(".goshi/proposals/x.json"));
    assert!(m.contains("goshi's own proposals"), "{m}");
    assert!(!m.contains("history"), "{m}");
    refused(g.target(".git/hooks/pre-commit"));
    refused(g.existing("src/../.git/config"));
    // Below the root they are ordinary directories.
    assert_eq!(g.existing("src/sub/.git").unwrap().rel, "src/sub/.git");
}

#[test]
fn empty_and_nul_paths_are_refused() {
    let (_d, g) = setup();
    assert!(refused(g.existing("")).contains("empty"));
    assert!(refused(g.existing("  ")).contains("empty"));
    assert!(refused(g.target("a\0b")).contains("NUL"));
}

#[test]
fn write_targets_may_not_exist_yet() {
    let (_d, g) = setup();
    let r = g.target("new/dir/file.txt").unwrap();
    assert!(!r.exists);
    assert_eq!(r.rel, "new/dir/file.txt");
    assert_eq!(r.abs, g.root().join("new/dir/file.txt"));
    let r = g.target("src/lib.rs").unwrap();
    assert!(r.exists);
    let r = g.target("./src/./new.rs").unwrap();
    assert_eq!(r.rel, "src/new.rs");
}

#[test]
fn write_targets_reject_dotdot_in_missing_part_and_files_as_dirs() {
    let (_d, g) = setup();
    let m = refused(g.target("new/../../escape.txt"));
    assert!(m.contains(".."), "{m}");
    let m = refused(g.target("README.md/child.txt"));
    assert!(m.contains("is a file"), "{m}");
}

#[test]
fn canonical_root_through_a_symlink() {
    let (d, _g) = setup();
    #[cfg(unix)]
    {
        let outer = tempfile::tempdir().unwrap();
        let link = outer.path().join("repo-link");
        std::os::unix::fs::symlink(d.path(), &link).unwrap();
        let g = PathGuard::new(&link).unwrap();
        assert_eq!(g.existing("README.md").unwrap().rel, "README.md");
        assert_eq!(g.target("x/y.txt").unwrap().rel, "x/y.txt");
        let abs = link.join("README.md");
        assert_eq!(g.existing(abs.to_str().unwrap()).unwrap().rel, "README.md");
    }
    let missing = d.path().join("no-such-root");
    assert!(matches!(
        PathGuard::new(&missing),
        Err(ToolError::Io { .. })
    ));
}

#[cfg(unix)]
mod symlinks {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlink_file_pointing_outside_is_refused() {
        let (d, g) = setup();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        symlink(outside.path().join("secret"), d.path().join("leak")).unwrap();
        let m = refused(g.existing("leak"));
        assert!(m.contains("outside"), "{m}");
        refused(g.target("leak"));
    }

    #[test]
    fn symlink_directory_component_pointing_outside_is_refused() {
        let (d, g) = setup();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), "s").unwrap();
        symlink(outside.path(), d.path().join("src/out")).unwrap();
        refused(g.existing("src/out/secret"));
        refused(g.existing("src/out"));
        // A new file below the escaping directory is refused too.
        refused(g.target("src/out/new.txt"));
        refused(g.target("src/out/a/b.txt"));
    }

    #[test]
    fn symlink_inside_pointing_inside_is_followed() {
        let (d, g) = setup();
        symlink("src/lib.rs", d.path().join("alias.rs")).unwrap();
        let r = g.existing("alias.rs").unwrap();
        assert_eq!(r.rel, "src/lib.rs");
    }

    #[test]
    fn symlink_into_git_is_refused() {
        let (d, g) = setup();
        symlink(".git/config", d.path().join("cfg")).unwrap();
        refused(g.existing("cfg"));
        symlink(".git", d.path().join("g")).unwrap();
        refused(g.target("g/hooks/new"));
    }

    /// A chain of [`MAX_LINKS`] links resolves; one more link, or a loop, is refused (and
    /// the walk ends: a loop must not spin forever).
    #[test]
    fn link_chains_are_followed_up_to_the_limit() {
        let (d, g) = setup();
        for i in 0..MAX_LINKS {
            let to = if i + 1 == MAX_LINKS {
                "README.md".to_string()
            } else {
                format!("l{}", i + 1)
            };
            symlink(to, d.path().join(format!("l{i}"))).unwrap();
        }
        assert_eq!(g.existing("l0").unwrap().rel, "README.md");
        symlink("l0", d.path().join("one-more")).unwrap();
        let m = refused(g.existing("one-more"));
        assert!(m.contains("too many symbolic links"), "{m}");
        symlink("loop-b", d.path().join("loop-a")).unwrap();
        symlink("loop-a", d.path().join("loop-b")).unwrap();
        let m = refused(g.target("loop-a/new.txt"));
        assert!(m.contains("too many symbolic links"), "{m}");
    }

    #[test]
    fn dangling_symlink_is_refused_as_write_target() {
        let (d, g) = setup();
        symlink("/nonexistent-goshi-target/file", d.path().join("dangling")).unwrap();
        let m = refused(g.target("dangling"));
        assert!(m.contains("symbolic link"), "{m}");
        refused(g.target("dangling/child"));
        // Reading it refuses as well (an escape that happens to be missing).
        let m = refused(g.existing("dangling"));
        assert!(m.contains("outside the repository root"), "{m}");
    }
}

/// A file used as a directory is refused as such, never taken for a missing path (which a
/// write would then create), in both resolutions (issue 17).
#[test]
fn a_file_used_as_a_directory_is_refused_not_missing() {
    let (_d, g) = setup();
    let m = refused(g.existing("README.md/x"));
    assert!(m.contains("is a file"), "{m}");
    let m = refused(g.existing("src/lib.rs/deeper/x"));
    assert!(m.contains("is a file"), "{m}");
    let m = refused(g.target("README.md/x/y.txt"));
    assert!(m.contains("is a file"), "{m}");
    // A trailing `.` after a file names the file itself, as the OS does not; it stays refused
    // or resolved, never a missing path below the file.
    assert!(!matches!(
        g.existing("README.md/./x"),
        Err(ToolError::NotFound { .. }) | Ok(_)
    ));
    // A missing path is NotFound, not a refusal.
    assert!(matches!(
        g.existing("src/missing/x"),
        Err(ToolError::NotFound { .. })
    ));
}

/// `.` inside the missing part of a write target is skipped, not refused (issue 17).
#[test]
fn dot_components_in_a_new_path_are_skipped() {
    let (_d, g) = setup();
    let r = g.target("newdir/./file.txt").unwrap();
    assert_eq!(r.rel, "newdir/file.txt");
    assert!(!r.exists);
    let r = g.target("./newdir/././sub/./file.txt").unwrap();
    assert_eq!(r.rel, "newdir/sub/file.txt");
    assert_eq!(r.abs, g.root().join("newdir/sub/file.txt"));
}

/// A neighbouring directory whose name starts with the root's (`repo` and `repo-evil`) is
/// outside: a string-prefix check would let every one of these through (issue 17).
#[cfg(unix)]
#[test]
fn a_neighbouring_directory_with_the_same_prefix_is_outside() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    let evil = d.path().join("repo-evil");
    fs::create_dir_all(&repo).unwrap();
    fs::create_dir_all(&evil).unwrap();
    fs::write(evil.join("secret"), "s").unwrap();
    std::os::unix::fs::symlink(evil.join("secret"), repo.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("../repo-evil/secret", repo.join("rel-link")).unwrap();
    std::os::unix::fs::symlink("../repo-evil", repo.join("dir-link")).unwrap();
    for g in [
        PathGuard::new(&repo).unwrap(),
        PathGuard::new(&fs::canonicalize(&repo).unwrap()).unwrap(),
    ] {
        let canonical = fs::canonicalize(&evil).unwrap().join("secret");
        for p in [
            evil.join("secret").to_str().unwrap().to_string(),
            canonical.to_str().unwrap().to_string(),
            "../repo-evil/secret".to_string(),
            "../repo-evil".to_string(),
            "abs-link".to_string(),
            "rel-link".to_string(),
            "dir-link/secret".to_string(),
        ] {
            let m = refused(g.existing(&p));
            assert!(m.contains("outside the repository root"), "{p}: {m}");
            refused(g.target(&p));
        }
        refused(g.target(evil.join("new.txt").to_str().unwrap()));
        refused(g.target("dir-link/new.txt"));
    }
}

/// A resolution error other than "not found" (here a name longer than the file system
/// allows) is an error, never a missing path that a write would then try to create.
#[test]
fn a_resolution_error_is_not_taken_for_a_missing_path() {
    let (_d, g) = setup();
    let long = "x".repeat(300);
    for path in [long.clone(), format!("src/{long}/new.txt")] {
        assert!(
            matches!(g.target(&path), Err(ToolError::Io { .. })),
            "{:?}",
            g.target(&path)
        );
        assert!(
            matches!(g.existing(&path), Err(ToolError::Io { .. })),
            "{:?}",
            g.existing(&path)
        );
    }
}
