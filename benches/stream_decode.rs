//! Streaming decode throughput: a whole OpenAI Chat Completions SSE stream (the shared
//! fixture, 10,000 chunks) through goshi's real path, `ChatStreamDecoder` (SSE framing plus
//! chunk JSON) fed like network reads, with every event pushed into an `Accumulator`.
//!
//! Baselines measured in the same run, so the figures can be quoted as ratios:
//! - `baseline_memchr_scan`: only finding the event boundaries (`memmem` for `\n\n`), a lower
//!   bound no decoder can beat;
//! - `baseline_serde_value`: the naive decoder, `serde_json::Value` per event payload.
//!
//! Run with `cargo bench --bench stream_decode`; chunks/s = 10,000 / time per iteration.
//! See docs/performance.md.

use std::collections::VecDeque;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use goshi::llm::backend::WireDecoder;
use goshi::llm::openai::stream::ChatStreamDecoder;
use goshi::llm::toolname::ToolNameMap;
use goshi::llm::{Accumulator, AssistantTurn, LlmError, StreamEvent};

#[path = "fixture/mod.rs"]
mod fixture;

use fixture::Fixture;

/// A typical TCP read under a fast stream (reqwest/hyper read buffers are of this order).
const READ_SIZE: usize = 16 * 1024;

/// Decodes `reads` through goshi's decoder into an accumulator, as `decode_stream` and
/// `Backend::complete` do.
fn goshi_decode<'a>(reads: impl Iterator<Item = &'a [u8]>) -> Result<AssistantTurn, LlmError> {
    let mut decoder = ChatStreamDecoder::new(ToolNameMap::default());
    let mut queue: VecDeque<Result<StreamEvent, LlmError>> = VecDeque::new();
    let mut acc = Accumulator::new();
    for read in reads {
        decoder.feed(read, &mut queue);
        for event in queue.drain(..) {
            acc.push(&event?);
        }
    }
    decoder.finish(&mut queue);
    for event in queue.drain(..) {
        acc.push(&event?);
    }
    Ok(acc.finish())
}

/// Decodes the fixture in 16 KiB reads.
fn goshi_16k(fx: &Fixture) -> Result<AssistantTurn, LlmError> {
    goshi_decode(fx.bytes.chunks(READ_SIZE))
}

/// Decodes the fixture one SSE event per read (a slow, token-paced server).
fn goshi_per_event(fx: &Fixture) -> Result<AssistantTurn, LlmError> {
    goshi_decode(fx.events.iter().map(|r| &fx.bytes[r.clone()]))
}

/// Counts the event boundaries only.
fn memchr_scan(bytes: &[u8]) -> usize {
    memchr::memmem::find_iter(bytes, b"\n\n").count()
}

/// The naive decoder: split on blank lines, parse each payload into a `serde_json::Value`,
/// collect the content text.
fn serde_value(bytes: &[u8]) -> String {
    let mut text = String::new();
    let mut start = 0;
    for end in memchr::memmem::find_iter(bytes, b"\n\n") {
        let line = &bytes[start..end];
        start = end + 2;
        let Some(payload) = line.strip_prefix(b"data: ") else {
            continue;
        };
        if payload == b"[DONE]" {
            break;
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(payload) else {
            continue;
        };
        if let Some(s) = v["choices"][0]["delta"]["content"].as_str() {
            text.push_str(s);
        }
    }
    text
}

/// Fails loudly (before any timing) if a decoder does not reproduce the fixture's answer.
fn check(fx: &Fixture) {
    for (name, turn) in [("16k", goshi_16k(fx)), ("per-event", goshi_per_event(fx))] {
        let turn = match turn {
            Ok(t) => t,
            Err(e) => panic!("goshi {name}: decode failed: {e:?}"),
        };
        assert!(turn.text == fx.text, "goshi {name}: wrong text");
        let usage = turn.usage.map(|u| (u.prompt_tokens, u.completion_tokens));
        assert_eq!(
            usage,
            Some((fx.prompt_tokens, fx.completion_tokens)),
            "goshi {name}: wrong usage"
        );
        assert!(turn.finish.is_some(), "goshi {name}: no finish");
    }
    assert_eq!(memchr_scan(&fx.bytes), fx.events.len());
    assert!(serde_value(&fx.bytes) == fx.text, "baseline: wrong text");
}

fn bench(c: &mut Criterion) {
    let fx = fixture::openai_chat_stream(fixture::DEFAULT_CHUNKS);
    check(&fx);
    eprintln!(
        "fixture: {} chunks, {} bytes ({:.0} bytes/chunk), answer {} bytes",
        fx.chunks,
        fx.bytes.len(),
        fx.bytes.len() as f64 / fx.chunks as f64,
        fx.text.len()
    );
    let mut group = c.benchmark_group("stream_decode");
    group.throughput(Throughput::Bytes(fx.bytes.len() as u64));
    group.bench_function("goshi_16k_reads", |b| {
        b.iter(|| goshi_16k(black_box(&fx)).map(|t| t.text.len()))
    });
    group.bench_function("goshi_event_per_read", |b| {
        b.iter(|| goshi_per_event(black_box(&fx)).map(|t| t.text.len()))
    });
    group.bench_function("baseline_memchr_scan", |b| {
        b.iter(|| memchr_scan(black_box(&fx.bytes)))
    });
    group.bench_function("baseline_serde_value", |b| {
        b.iter(|| serde_value(black_box(&fx.bytes)).len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
