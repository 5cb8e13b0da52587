//! Check-then-use races (issue 11, item 6): another process swaps a directory of the
//! repository for a symbolic link to outside, atomically and in a loop, while reads, lists,
//! proposals and applies run. Not one of them may read or write outside the repository.
//!
//! Bounded: a fixed number of operations, the swapper stops when they are done; nothing is
//! timed.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use goshi::safety::proposals::{self, ApplyOptions};
use goshi::safety::PathGuard;
use goshi::tools::fs as fs_tools;
use rustix::fs::{renameat_with, RenameFlags, CWD};

const WRITE: ApplyOptions = ApplyOptions {
    yes: true,
    dry_run: false,
    backup: true,
    foreign: true,
};

/// `repo/d` (a real directory holding `f`) and `repo/swap` (a link to `../outside`, which
/// holds its own `f` and a `secret`), exchanged until `stop` is set.
fn swapper(base: &Path, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let (d, swap) = (base.join("repo/d"), base.join("repo/swap"));
    std::thread::spawn(move || {
        let mut swaps = 0;
        while !stop.load(Ordering::Relaxed) {
            renameat_with(CWD, &d, CWD, &swap, RenameFlags::EXCHANGE).unwrap();
            swaps += 1;
        }
        swaps
    })
}

fn setup() -> tempfile::TempDir {
    let base = tempfile::tempdir().unwrap();
    let b = base.path();
    fs::create_dir_all(b.join("repo/d")).unwrap();
    fs::write(b.join("repo/d/f"), "inside\n").unwrap();
    fs::create_dir_all(b.join("outside")).unwrap();
    fs::write(b.join("outside/f"), "OUTSIDE\n").unwrap();
    fs::write(b.join("outside/secret"), "SECRET\n").unwrap();
    std::os::unix::fs::symlink("../outside", b.join("repo/swap")).unwrap();
    base
}

/// What is in `outside/` now, as (name, content) pairs.
fn outside(base: &Path) -> Vec<(String, String)> {
    let mut v: Vec<_> = fs::read_dir(base.join("outside"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let content = fs::read_to_string(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), content)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn reads_and_lists_never_reach_outside_while_a_directory_is_swapped() {
    let base = setup();
    let repo = base.path().join("repo");
    let guard = PathGuard::new(&repo).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let thread = swapper(base.path(), stop.clone());
    let mut leaks = Vec::new();
    for _ in 0..5000 {
        if let Ok(file) = fs_tools::read(&guard, "d/f") {
            if file.text != "inside\n" {
                leaks.push(file.text);
            }
        }
        if let Ok(listing) = fs_tools::list(&guard, "d") {
            if listing.entries.iter().any(|e| e.name == "secret") {
                leaks.push("listed outside/secret".into());
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = thread.join().unwrap();
    assert!(
        leaks.is_empty(),
        "{} reads or lists reached outside: {:?}",
        leaks.len(),
        &leaks[..leaks.len().min(3)]
    );
    assert!(swaps > 0);
}

#[test]
fn proposals_and_applies_never_write_outside_while_a_directory_is_swapped() {
    let base = setup();
    let repo = base.path().join("repo");
    let before = outside(base.path());
    let stop = Arc::new(AtomicBool::new(false));
    let thread = swapper(base.path(), stop.clone());
    for i in 0..150 {
        // A new file below the swapped directory, and a change to the file in it (with a
        // backup): each may be refused or fail, but never land outside.
        for (path, content) in [
            (format!("d/new{i}.txt"), format!("new {i}\n")),
            ("d/f".to_string(), format!("changed {i}\n")),
        ] {
            if let Ok(created) = proposals::create(&repo, &path, &content) {
                let _ = proposals::apply(&repo, &created.proposal.id, WRITE);
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();
    assert_eq!(
        outside(base.path()),
        before,
        "something was written outside the repository"
    );
}
