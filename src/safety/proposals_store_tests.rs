//! Unit tests of the proposal store: each pins a behaviour that a mutation run found unpinned
//! (see docs/testing.md).

use super::*;
use std::fs;

fn guard() -> (tempfile::TempDir, PathGuard) {
    let d = tempfile::tempdir().unwrap();
    let g = PathGuard::new(d.path()).unwrap();
    (d, g)
}

/// The reason of a refusal, or a panic naming what came instead.
fn refusal(e: ToolError) -> String {
    match e {
        ToolError::PathRefused { reason, .. } => reason,
        other => panic!("not a refusal: {other:?}"),
    }
}

/// A made-up id: `prefix` then `n` in hex, 64 digits in all.
fn fake_id(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:0width$x}", width = 64 - prefix.len())
}

#[test]
fn a_file_where_the_store_should_be_is_named() {
    let (d, g) = guard();
    fs::create_dir(d.path().join(".goshi")).unwrap();
    fs::write(d.path().join(PROPOSALS_DIR), "not a directory").unwrap();
    let why = refusal(store_dir(&g).unwrap_err());
    assert!(
        why.starts_with("\".goshi/proposals\" is not a directory;"),
        "{why}"
    );
}

#[test]
fn a_file_named_goshi_is_an_error_when_listing_not_an_empty_store() {
    let (d, g) = guard();
    fs::write(d.path().join(".goshi"), "not a directory").unwrap();
    let why = refusal(stored_files(&g).err().unwrap());
    assert!(why.starts_with("\".goshi\" is not a directory;"), "{why}");
}

#[test]
fn the_explanation_skips_empty_and_dot_components() {
    let (d, g) = guard();
    fs::write(d.path().join("file.txt"), "x").unwrap();
    let e = explain_dir_error(&g, "./file.txt//x", "shown", std::io::Error::other("boom"));
    let why = refusal(e);
    assert!(why.starts_with("\"file.txt\" is not a directory;"), "{why}");
}

#[test]
fn stored_files_lists_only_proposal_file_names() {
    let (d, g) = guard();
    let store = d.path().join(PROPOSALS_DIR);
    fs::create_dir_all(&store).unwrap();
    let good = fake_id("ab", 1);
    for name in [
        format!("{good}.json"),
        "abc.json".to_string(),             // hex, but too short
        format!("{}.json", "A".repeat(64)), // 64 digits, but upper case
        format!("{}.json", "g".repeat(64)), // 64 characters, not hex
        format!("{}.txt", fake_id("cd", 2)),
        "notes.json".to_string(),
    ] {
        fs::write(store.join(name), "{}").unwrap();
    }
    let (_, ids) = stored_files(&g).unwrap().unwrap();
    assert_eq!(ids, [good]);
}

#[test]
fn an_ambiguous_prefix_names_at_most_five_matches() {
    let (d, g) = guard();
    let store = d.path().join(PROPOSALS_DIR);
    fs::create_dir_all(&store).unwrap();
    let matches_of = |prefix: &str| match load_with(&g, prefix) {
        Err(ToolError::AmbiguousProposalId { matches, .. }) => matches,
        other => panic!("{other:?}"),
    };
    for n in 0..2 {
        fs::write(store.join(format!("{}.json", fake_id("aa", n))), "{}").unwrap();
    }
    assert_eq!(matches_of("aa").len(), 2);
    for n in 2..5 {
        fs::write(store.join(format!("{}.json", fake_id("aa", n))), "{}").unwrap();
    }
    let five = matches_of("aa");
    assert_eq!(five.len(), 5, "{five:?}");
    assert!(five.iter().all(|m| m.len() == 16), "{five:?}");
    fs::write(store.join(format!("{}.json", fake_id("aa", 5))), "{}").unwrap();
    let six = matches_of("aa");
    assert_eq!(six.len(), 6, "{six:?}");
    assert_eq!(six[..5], five[..]);
    assert_eq!(six[5], "…");
}

#[test]
fn a_file_of_exactly_the_limit_is_read_whole_and_one_byte_more_is_refused() {
    let (d, g) = guard();
    let file = fs::File::create(d.path().join("full.bin")).unwrap();
    file.set_len(MAX_FILE_BYTES as u64).unwrap();
    let current = read_in(g.dir(), "full.bin", "full.bin").unwrap().unwrap();
    assert_eq!(current.bytes.len(), MAX_FILE_BYTES);
    assert!(current.permissions.is_some());
    file.set_len(MAX_FILE_BYTES as u64 + 1).unwrap();
    let why = refusal(read_in(g.dir(), "full.bin", "full.bin").err().unwrap());
    assert!(
        why.contains(&format!("{} bytes", MAX_FILE_BYTES + 1)),
        "{why}"
    );
}

#[test]
fn only_a_missing_file_reads_as_none() {
    let (_d, g) = guard();
    assert!(read_in(g.dir(), "missing.txt", "missing.txt")
        .unwrap()
        .is_none());
    // A name longer than any file system allows is an error, not a missing file.
    let long = "x".repeat(300);
    let e = read_in(g.dir(), &long, "long").err().unwrap();
    assert!(matches!(e, ToolError::Io { .. }), "{e:?}");
}

/// The part of a backup name after `<file>.`: `YYYYMMDDTHHMMSSZ`, then `-N` from the second
/// backup of the same second on.
fn stamp_of<'a>(rel: &'a str, prefix: &str) -> &'a str {
    rel.strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{rel} does not start with {prefix}"))
}

fn is_compact_stamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b.iter().enumerate().all(|(i, c)| match i {
            8 => *c == b'T',
            15 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn backup_names_are_the_path_and_a_compact_time_then_a_counter() {
    let (_d, g) = guard();
    let (_, top) = backup_slot(&g, "a.txt").unwrap();
    let stamp = stamp_of(&top, ".goshi/backups/a.txt.");
    assert!(is_compact_stamp(stamp), "{top}");

    // Two backups of one file in the same second: the second gets `-1`. (Retried when the
    // clock turns a second in between.)
    for _ in 0..20 {
        let (dir, first) = backup_slot(&g, "src/lib.rs").unwrap();
        let stamp = stamp_of(&first, ".goshi/backups/src/lib.rs.").to_string();
        assert!(is_compact_stamp(&stamp), "{first}");
        write_backup(&dir, &first, b"old").unwrap();
        let (_, second) = backup_slot(&g, "src/lib.rs").unwrap();
        if second == format!("{first}-1") {
            return;
        }
        let later = stamp_of(&second, ".goshi/backups/src/lib.rs.");
        assert!(
            is_compact_stamp(later) && later > stamp.as_str(),
            "{second}"
        );
    }
    panic!("no two backups in the same second in 20 tries");
}

#[test]
fn a_read_takes_at_most_one_byte_past_the_cap() {
    assert_eq!(
        read_capped(&b"abc"[..], 3).unwrap().as_deref(),
        Some(&b"abc"[..])
    );
    assert_eq!(
        read_capped(&b"abcd"[..], 3).unwrap(),
        None,
        "one byte too many"
    );
    assert_eq!(read_capped(&b""[..], 0).unwrap().as_deref(), Some(&b""[..]));
    // A file that keeps growing while it is read (an endless reader) is refused, not read
    // for ever.
    assert_eq!(read_capped(std::io::repeat(b'x'), 16).unwrap(), None);
}
