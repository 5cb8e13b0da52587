//! Live markdown rendering throughput: a recorded-like 10,000-chunk markdown answer (headings,
//! paragraphs, lists, tables, Rust and Python code blocks) pushed chunk by chunk through
//! `MarkdownStream` into a terminal-shaped buffer (a `String` of the bytes a terminal would
//! get, live preview on, 100x40).
//!
//! Baseline measured in the same run: `raw_escaped`, the raw path's work (the answer's
//! terminal escaping, `StreamEscaper`, appended to a buffer), so figures can be quoted as
//! ratios. `block_latency` prints the slowest single push that completed a block (the time
//! between a block's last byte arriving and its rendered lines being written), over the run.
//!
//! Run with `cargo bench --bench render`. See docs/performance.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use goshi::cli::render::{MarkdownStream, RenderOptions};
use goshi::text::sanitize::{Mode, StreamEscaper};

const CHUNKS: usize = 10_000;

/// One section of the answer; repeated (numbered) until the answer is long enough.
const SECTION: &str = "## Step {n}: the decoder\n\n\
The **stream** decoder reads `bytes` as they arrive and returns *events*; see the \
[docs](https://example.com/docs/{n}) for details. It never blocks — café, naïve, 日本語 🦀.\n\n\
- parse the `data:` lines\n- keep the partial line\n  - nested: a second level\n- emit one event per frame\n\n\
1. first\n2. second\n\n\
| Field | Type | Default |\n|:------|-----:|:-------:|\n| size | `usize` | 16 |\n| name | `String` | none |\n\n\
```rust\nfn decode(buf: &mut Vec<u8>, out: &mut Vec<Event>) -> Result<(), Error> {\n    \
while let Some(i) = memchr(b'\\n', buf) {\n        let line = buf.drain(..=i).collect::<Vec<_>>();\n        \
out.push(Event::parse(&line)?); // {n}\n    }\n    Ok(())\n}\n```\n\n\
> Note: a quote with `code` and **bold**.\n\n\
```python\ndef total(xs):\n    return sum(x * 2 for x in xs)  # {n}\n```\n\n";

/// The answer, cut into `CHUNKS` pieces at character boundaries (like model tokens).
fn answer_chunks() -> Vec<String> {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < CHUNKS * 6 {
        n += 1;
        text.push_str(&SECTION.replace("{n}", &n.to_string()));
    }
    let per = text.len() / CHUNKS;
    let mut chunks = Vec::with_capacity(CHUNKS);
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + per.max(1)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        chunks.push(text[start..end].to_string());
        start = end;
    }
    chunks
}

fn opts() -> RenderOptions {
    RenderOptions {
        width: 100,
        height: 40,
        hyperlinks: true,
        truecolor: false,
        preview: true,
    }
}

fn render(chunks: &[String]) -> usize {
    let mut md = MarkdownStream::new(opts());
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

/// The slowest push that wrote a rendered block (a push whose output holds a newline that is
/// not only the preview's), over one run.
fn block_latency(chunks: &[String]) -> (Duration, usize) {
    let mut md = MarkdownStream::new(opts());
    let mut out = String::new();
    let mut worst = Duration::ZERO;
    let mut blocks = 0;
    for c in chunks {
        out.clear();
        let t = Instant::now();
        md.push(c, &mut out);
        let took = t.elapsed();
        if out.contains("\x1b[J") || out.contains("\x1b[0m\n") {
            blocks += 1;
            worst = worst.max(took);
        }
    }
    (worst, blocks)
}

fn bench(c: &mut Criterion) {
    let chunks = answer_chunks();
    let bytes: usize = chunks.iter().map(String::len).sum();
    // Load the syntaxes before measuring (goshi loads them on a thread at start).
    let _ = render(&chunks[..100]);
    let mut g = c.benchmark_group("render");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("markdown_10k_chunks", |b| {
        b.iter(|| render(black_box(&chunks)))
    });
    g.bench_function("raw_escaped_10k_chunks", |b| {
        b.iter(|| raw_escaped(black_box(&chunks)))
    });
    g.finish();
    let mut worst = Duration::ZERO;
    let mut blocks = 0;
    for _ in 0..5 {
        let (w, n) = block_latency(&chunks);
        worst = worst.max(w);
        blocks = n;
    }
    eprintln!(
        "render/block_latency: {} chunks, {bytes} bytes, {blocks} block writes; slowest: {:?}",
        chunks.len(),
        worst
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
