//! The cost of reading through the safety core: `fs.read` of a small file three directories
//! deep, as the model's tool does it (path guard walk through the root handle, then the
//! component-by-component `O_NOFOLLOW` open of `safety::beneath`, then the binary check).
//!
//! Baseline measured in the same run, so the figure can be quoted as a ratio:
//! `baseline_std_read`, a plain `std::fs::read` of the same absolute path (no checks at all).
//! Also `guard_only`: the path guard's resolution alone.
//!
//! Run with `cargo bench --bench fs_tools`. See docs/performance.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use goshi::safety::PathGuard;
use goshi::tools::fs as fs_tools;

fn bench(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let file = dir.path().join("src/a/b/lib.rs");
    let made = std::fs::create_dir_all(dir.path().join("src/a/b"))
        .and_then(|()| std::fs::write(&file, "fn main() {}\n".repeat(300)));
    let Ok(guard) = PathGuard::new(dir.path()) else {
        return;
    };
    if made.is_err() || fs_tools::read(&guard, "src/a/b/lib.rs").is_err() {
        return;
    }
    let mut g = c.benchmark_group("fs_read_4kib");
    g.bench_function("baseline_std_read", |b| {
        b.iter(|| std::fs::read(black_box(&file)).map(|v| v.len()))
    });
    g.bench_function("guard_only", |b| {
        b.iter(|| {
            guard
                .existing(black_box("src/a/b/lib.rs"))
                .map(|r| r.exists)
        })
    });
    g.bench_function("goshi_fs_read", |b| {
        b.iter(|| fs_tools::read(&guard, black_box("src/a/b/lib.rs")).map(|f| f.size))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
