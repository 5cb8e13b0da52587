use super::*;
use crate::text::SNIFF_LEN;
use std::fs;

fn repo() -> (tempfile::TempDir, PathGuard) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    fs::write(p.join("b.txt"), "bee").unwrap();
    fs::write(p.join("a.txt"), "a").unwrap();
    fs::create_dir(p.join("src")).unwrap();
    fs::create_dir(p.join(".git")).unwrap();
    fs::create_dir_all(p.join(".goshi/proposals")).unwrap();
    fs::create_dir_all(p.join("src/.git")).unwrap();
    let g = PathGuard::new(p).unwrap();
    (d, g)
}

#[test]
fn list_sorts_types_sizes_and_hides_git_and_goshi_at_root() {
    let (_d, g) = repo();
    let l = list(&g, ".").unwrap();
    let names: Vec<_> = l.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a.txt", "b.txt", "src"]);
    assert_eq!(l.total, 3);
    assert!(!l.truncated());
    assert_eq!(l.entries[1].kind, EntryKind::File);
    assert_eq!(l.entries[1].size, Some(3));
    assert_eq!(l.entries[2].kind, EntryKind::Dir);
    assert_eq!(l.entries[2].size, None);
    let text = l.render();
    assert!(text.contains("file     b.txt  (3 bytes)"), "{text}");
    assert!(text.contains("dir      src/"), "{text}");
    assert!(!text.contains(".git"), "{text}");
    assert!(!text.contains(".goshi"), "{text}");
    // Below the root .git is an ordinary name.
    let l = list(&g, "src").unwrap();
    assert_eq!(l.entries[0].name, ".git");
    assert_eq!(l.rel, "src");
}

#[test]
fn list_empty_directory() {
    let (d, g) = repo();
    fs::create_dir(d.path().join("empty")).unwrap();
    let l = list(&g, "empty").unwrap();
    assert_eq!(l.total, 0);
    assert!(l.render().contains("is empty"));
}

#[test]
fn list_cap_says_how_many_in_total() {
    let (d, g) = repo();
    let many = d.path().join("many");
    fs::create_dir(&many).unwrap();
    for i in 0..(LIST_CAP + 5) {
        fs::write(many.join(format!("f{i:05}")), "").unwrap();
    }
    let l = list(&g, "many").unwrap();
    assert_eq!(l.entries.len(), LIST_CAP);
    assert_eq!(l.total, LIST_CAP + 5);
    assert!(l.truncated());
    assert_eq!(l.entries[0].name, "f00000");
    assert_eq!(
        l.entries[LIST_CAP - 1].name,
        format!("f{:05}", LIST_CAP - 1)
    );
    let text = l.render();
    assert!(
        text.contains(&format!("showing the first {LIST_CAP} of {}", LIST_CAP + 5)),
        "{}",
        &text[text.len() - 200..]
    );
    let l = list_capped(&g, ".", 2).unwrap();
    assert_eq!(l.entries.len(), 2);
    assert_eq!(l.total, 4);
}

#[test]
fn list_refuses_files_missing_and_escapes() {
    let (_d, g) = repo();
    let e = list(&g, "a.txt").unwrap_err();
    assert!(e.to_string().contains("use fs.read"), "{e}");
    assert!(matches!(list(&g, "nope"), Err(ToolError::NotFound { .. })));
    assert!(matches!(list(&g, ".."), Err(ToolError::PathRefused { .. })));
    assert!(matches!(
        list(&g, ".git"),
        Err(ToolError::PathRefused { .. })
    ));
}

#[cfg(unix)]
#[test]
fn list_shows_symlinks_without_following() {
    let (d, g) = repo();
    std::os::unix::fs::symlink("/etc", d.path().join("etc-link")).unwrap();
    let l = list(&g, ".").unwrap();
    let e = l.entries.iter().find(|e| e.name == "etc-link").unwrap();
    assert_eq!(e.kind, EntryKind::Symlink);
    assert_eq!(e.link_target.as_deref(), Some("/etc"));
    assert!(l.render().contains("symlink  etc-link -> /etc"));
}

#[test]
fn read_returns_text() {
    let (_d, g) = repo();
    let f = read(&g, "b.txt").unwrap();
    assert_eq!(f.text, "bee");
    assert_eq!(f.size, 3);
    assert!(!f.truncated && !f.lossy);
    assert_eq!(f.render(), "bee");
}

#[test]
fn read_empty_file_says_so() {
    let (d, g) = repo();
    fs::write(d.path().join("e"), "").unwrap();
    assert!(read(&g, "e").unwrap().render().contains("is empty"));
}

#[test]
fn read_caps_at_256_kib_and_says_the_full_size() {
    let (d, g) = repo();
    let big = "0123456789abcde\n".repeat(20 * 1024); // 320 KiB
    fs::write(d.path().join("big.txt"), &big).unwrap();
    let f = read(&g, "big.txt").unwrap();
    assert!(f.truncated);
    assert_eq!(f.text.len(), READ_CAP);
    assert_eq!(f.size, big.len() as u64);
    let out = f.render();
    assert!(
        out.contains(&format!(
            "showing the first {READ_CAP} bytes of {}",
            big.len()
        )),
        "{}",
        &out[out.len() - 200..]
    );
}

#[test]
fn read_cap_never_splits_a_character() {
    let (d, g) = repo();
    fs::write(d.path().join("u.txt"), "aééé").unwrap(); // 1 + 3×2 bytes
    let f = read_capped(&g, "u.txt", 4).unwrap();
    assert_eq!(f.text, "aé");
    assert!(f.truncated && !f.lossy);
}

#[test]
fn read_refuses_binary() {
    let (d, g) = repo();
    fs::write(d.path().join("nul.bin"), b"abc\0def").unwrap();
    let e = read(&g, "nul.bin").unwrap_err();
    assert!(matches!(e, ToolError::Binary { .. }));
    assert!(e.to_string().contains("NUL bytes"), "{e}");
    fs::write(d.path().join("latin1.txt"), b"caf\xe9 au lait").unwrap();
    let e = read(&g, "latin1.txt").unwrap_err();
    assert!(e.to_string().contains("not valid UTF-8"), "{e}");
    // A truncated multi-byte character at the very end of a small file is invalid too.
    fs::write(d.path().join("cut.txt"), b"ab\xc3").unwrap();
    assert!(read(&g, "cut.txt").is_err());
}

#[test]
fn read_invalid_utf8_after_the_sniff_window_is_replaced_with_a_note() {
    let (d, g) = repo();
    let mut bytes = "x".repeat(SNIFF_LEN + 10).into_bytes();
    bytes.extend_from_slice(b"\xff tail");
    fs::write(d.path().join("late.txt"), &bytes).unwrap();
    let f = read(&g, "late.txt").unwrap();
    assert!(f.lossy);
    assert!(f.text.ends_with("\u{fffd} tail"));
    assert!(f.render().contains("replaced with U+FFFD"));
}

#[test]
fn read_refuses_directories_missing_and_escapes() {
    let (_d, g) = repo();
    let e = read(&g, "src").unwrap_err();
    assert!(matches!(e, ToolError::IsADirectory { .. }));
    assert!(e.to_string().contains("use fs.list"), "{e}");
    let e = read(&g, "missing.txt").unwrap_err();
    assert!(
        e.to_string().contains("\"missing.txt\" does not exist"),
        "{e}"
    );
    assert!(matches!(
        read(&g, "../../etc/passwd"),
        Err(ToolError::PathRefused { .. })
    ));
}

#[cfg(unix)]
#[test]
fn read_refuses_fifos_without_blocking() {
    let (d, g) = repo();
    let fifo = d.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(made, Ok(s) if s.success()) {
        return; // mkfifo unavailable: nothing to test
    }
    assert!(matches!(
        read(&g, "pipe"),
        Err(ToolError::NotARegularFile { .. })
    ));
}

#[test]
fn sniff_allows_a_character_cut_by_the_window() {
    let mut bytes = "a".repeat(SNIFF_LEN - 1).into_bytes();
    bytes.extend_from_slice("é and more".as_bytes());
    assert_eq!(sniff_binary(&bytes, false), None);
    assert_eq!(sniff_binary(b"ok", false), None);
    assert!(sniff_binary(b"\xc3", false).is_some());
    assert_eq!(sniff_binary(b"\xc3", true), None);
}

#[test]
fn list_tool_treats_empty_path_as_root() {
    let (d, _g) = repo();
    let ctx = ToolContext::new(d.path());
    let out = run_list(
        ListArgs {
            path: String::new(),
        },
        &ctx,
    )
    .unwrap();
    assert!(out.content.contains("a.txt"));
}

#[test]
fn write_tool_does_not_touch_the_file_and_caps_the_diff() {
    let (d, _g) = repo();
    let ctx = ToolContext::new(d.path());
    let content = "line\n".repeat(10_000);
    let out = run_write(
        WriteArgs {
            path: "a.txt".into(),
            content: content.clone(),
        },
        &ctx,
    )
    .unwrap();
    assert_eq!(fs::read_to_string(d.path().join("a.txt")).unwrap(), "a");
    assert!(out.content.contains("[diff truncated:"), "tail");
    assert!(out.content.len() < DIFF_CAP + 1024);
    let same = run_write(
        WriteArgs {
            path: "b.txt".into(),
            content: "bee".into(),
        },
        &ctx,
    )
    .unwrap();
    assert!(same.content.contains("no changes"), "{}", same.content);
}
