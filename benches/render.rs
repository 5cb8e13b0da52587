//! Live markdown rendering throughput: a recorded-like 10,000-chunk markdown answer (headings,
//! paragraphs, lists, tables, Rust and Python code blocks) pushed chunk by chunk through
//! `MarkdownStream` into a terminal-shaped buffer (a `String` of the bytes a terminal would
//! get, live preview on, 100x40).
//!
//! Baseline measured in the same run: `raw_escaped`, the raw path's work (the answer's
//! terminal escaping, `StreamEscaper`, appended to a buffer), so figures can be quoted as
//! ratios. Stages, to see where the time goes: `markdown_no_highlight` (the same answer with
//! its fences' languages removed, so code is shown plain) and `markdown_no_preview` (no live
//! preview). `block_latency` prints the time of the pushes that completed a block (the time
//! between a block's last byte arriving and its rendered lines being written) over 10 runs:
//! the slowest as measured, and the slowest of each push's fastest run (without the
//! scheduler's preemptions). `cold` times what the first answers of a process pay once:
//! loading the syntaxes, the first line of a language (its regexes compiled on first use).
//!
//! Run with `cargo bench --bench render`. See docs/performance.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use goshi::cli::render::{MarkdownStream, RenderOptions};
use goshi::text::sanitize::{Mode, StreamEscaper};

#[path = "fixture/mod.rs"]
mod fixture;

use fixture::markdown;

fn opts() -> RenderOptions {
    RenderOptions {
        width: 100,
        height: 40,
        hyperlinks: true,
        truecolor: false,
        preview: true,
    }
}

fn render(chunks: &[String], opts: RenderOptions) -> usize {
    let mut md = MarkdownStream::new(opts);
    let mut out = String::with_capacity(1 << 20);
    for c in chunks {
        md.push(c, &mut out);
    }
    md.finish(&mut out);
    out.len()
}

fn raw_escaped(chunks: &[String]) -> usize {
    let mut esc = StreamEscaper::new(Mode::Text);
    let mut out = String::with_capacity(1 << 20);
    for c in chunks {
        out.push_str(&esc.push(c));
    }
    out.push_str(&esc.finish());
    out.len()
}

/// The time of every push that wrote a rendered block (a push whose output holds a newline
/// that is not only the preview's), by chunk index, over one run.
fn block_pushes(chunks: &[String]) -> Vec<(usize, Duration)> {
    let mut md = MarkdownStream::new(opts());
    let mut out = String::new();
    let mut times = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        out.clear();
        let t = Instant::now();
        md.push(c, &mut out);
        let took = t.elapsed();
        if out.contains("\x1b[J") || out.contains("\x1b[0m\n") {
            times.push((i, took));
        }
    }
    times
}

/// Prints the block latency over `runs` runs: the slowest push as measured (it includes the
/// scheduler's preemptions on a busy machine), and the slowest push once each push's
/// fastest time over the runs is taken (the renderer's own work).
fn block_latency(chunks: &[String], bytes: usize, runs: usize) {
    let mut best: Vec<(usize, Duration)> = block_pushes(chunks);
    let mut worst = best.iter().map(|(_, d)| *d).max().unwrap_or_default();
    for _ in 1..runs {
        for (b, (i, d)) in best.iter_mut().zip(block_pushes(chunks)) {
            assert_eq!(b.0, i, "block writes must not depend on the run");
            worst = worst.max(d);
            b.1 = b.1.min(d);
        }
    }
    let mut own: Vec<Duration> = best.iter().map(|(_, d)| *d).collect();
    own.sort();
    let pct = |p: usize| own.get((own.len() * p / 100).min(own.len().saturating_sub(1)));
    eprintln!(
        "render/block_latency: {} chunks, {bytes} bytes, {} block writes, {runs} runs; \
         slowest as measured: {worst:?}; per push (fastest of the runs): median {:?}, \
         p99 {:?}, max {:?}",
        chunks.len(),
        own.len(),
        pct(50).copied().unwrap_or_default(),
        pct(99).copied().unwrap_or_default(),
        own.last().copied().unwrap_or_default(),
    );
}

fn bench(c: &mut Criterion) {
    let chunks = markdown::answer_chunks();
    let plain_code = markdown::chunks_of(
        &markdown::answer()
            .replace("```rust\n", "```\n")
            .replace("```python\n", "```\n"),
    );
    let bytes: usize = chunks.iter().map(String::len).sum();
    // The first answer of a process loads the syntaxes (goshi does that on a thread at
    // start) and compiles the regexes of the languages it meets (on first use).
    let cold = |src: &str| {
        let t = Instant::now();
        let _ = render(&[src.to_string()], opts());
        t.elapsed()
    };
    let load = cold("```text\nplain\n```\n");
    // The first Python line 150 ms after its fence, as a model would write it; the first Rust
    // line in the same push as its fence.
    let mut md = MarkdownStream::new(opts());
    let mut out = String::new();
    md.push("```python\n", &mut out);
    std::thread::sleep(Duration::from_millis(150));
    let t = Instant::now();
    md.push("def f(x):\n", &mut out);
    let python = t.elapsed();
    md.finish(&mut out);
    let rust = cold("```rust\nfn main() { let x: Vec<u8> = vec![1]; }\n```\n");
    let t = Instant::now();
    let _ = render(&chunks[..200], opts());
    eprintln!(
        "render/cold: loading syntaxes {load:?}; first Python line 150 ms after its fence \
         {python:?}; first Rust line with its fence {rust:?}; then the first section {:?}",
        t.elapsed()
    );
    let no_preview = RenderOptions {
        preview: false,
        ..opts()
    };
    let mut g = c.benchmark_group("render");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("markdown_10k_chunks", |b| {
        b.iter(|| render(black_box(&chunks), opts()))
    });
    g.bench_function("markdown_no_highlight", |b| {
        b.iter(|| render(black_box(&plain_code), opts()))
    });
    g.bench_function("markdown_no_preview", |b| {
        b.iter(|| render(black_box(&chunks), no_preview.clone()))
    });
    g.bench_function("raw_escaped_10k_chunks", |b| {
        b.iter(|| raw_escaped(black_box(&chunks)))
    });
    g.finish();
    block_latency(&chunks, bytes, 10);
    long_blocks(c);
}

/// One long list, one long table: does the work per line grow with the block's length? (A
/// block is written when it is complete; until then each line that may end it costs a parse
/// of the block so far.) Two sizes each: time per byte should not grow with the size.
fn long_blocks(c: &mut Criterion) {
    let mut g = c.benchmark_group("render_long");
    for n in [250usize, 1000] {
        let list: String = (0..n)
            .map(|i| format!("- item {i} with `code`\n"))
            .collect();
        let table: String = "| a | b |\n|---|---|\n".to_string()
            + &(0..n)
                .map(|i| format!("| {i} | `x{i}` |\n"))
                .collect::<String>();
        for (name, text) in [("list", list), ("table", table)] {
            let chunks = markdown::chunks_of(&(text + "\nThe end.\n"));
            let bytes: usize = chunks.iter().map(String::len).sum();
            g.throughput(Throughput::Bytes(bytes as u64));
            g.bench_function(format!("{name}_{n}"), |b| {
                b.iter(|| render(black_box(&chunks), opts()))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
