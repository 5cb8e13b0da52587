//! Edges of the wire that a regression could slip through (issue 17): the retry wait is
//! really waited, OpenAI's `text/event-stream; charset=utf-8` is read like the bare type,
//! and a connection the server closed (before answering, or after every answer) is sent
//! again once and quietly.

use crate::support;

use std::time::{Duration, Instant};

use goshi::llm::openai::OpenAiApi;
use goshi::llm::ErrorKind;
use serde_json::json;
use support::openai_common::*;
use support::{FakeServer, Reply};

const RESPONSES: &str = "/v1/responses";

#[tokio::test]
async fn the_retry_after_wait_is_really_waited() {
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 1);
    server.push(
        "POST",
        CHAT,
        Reply::new(429).header("retry-after-ms", "400"),
    );
    server.push("POST", CHAT, ok_stream());
    let started = Instant::now();
    assert_eq!(run_ok(&backend, &request("m")).await, ok_events());
    // A lower bound only: a loaded machine may take longer, never shorter.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400),
        "retried after {waited:?}"
    );
    assert_eq!(said(&notes).len(), 1);
    assert_eq!(server.requests_to(CHAT).len(), 2);
}

/// OpenAI sends `text/event-stream; charset=utf-8`; both protocols read it as a stream.
#[tokio::test]
async fn an_event_stream_with_a_charset_is_a_stream() {
    const TYPE: &str = "text/event-stream; charset=utf-8";
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    let body = format!(
        "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        text_chunk("ok"),
        finish_chunk("stop")
    );
    server.push("POST", CHAT, Reply::split(TYPE, body.as_bytes(), &[7]));
    assert_eq!(run_ok(&backend, &request("m")).await, ok_events());

    let mut s = settings(
        &server.url(),
        goshi::llm::openai::OpenAiServer::Compatible,
        Some("k"),
    );
    s.api = OpenAiApi::Responses;
    let (backend, _) = backend_for(s, 5_000, 0);
    let events = [
        json!({"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
            "content_index": 0, "delta": "ok"}),
        json!({"type": "response.completed", "response": {"id": "r", "status": "completed"}}),
    ];
    let body: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect();
    server.push("POST", RESPONSES, Reply::split(TYPE, body.as_bytes(), &[3]));
    assert_eq!(text_of(&run_ok(&backend, &request("m")).await), "ok");
}

/// A request that finds its connection closed before any answer is sent again at once and
/// quietly, even with no retries allowed: exactly two requests, no retry notice. Only once:
/// a second close in a row is an error.
#[tokio::test]
async fn a_connection_closed_before_the_answer_is_resent_once_quietly() {
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 0);
    server.push("POST", CHAT, Reply::close_before_status());
    server.push("POST", CHAT, ok_stream());
    assert_eq!(run_ok(&backend, &request("m")).await, ok_events());
    assert_eq!(server.requests_to(CHAT).len(), 2);
    assert!(said(&notes).is_empty(), "{:?}", said(&notes));

    let server = FakeServer::start();
    let (backend, _) = compat_with(&server.url(), 5_000, 0);
    server.push("POST", CHAT, Reply::close_before_status());
    server.push("POST", CHAT, Reply::close_before_status());
    server.push("POST", CHAT, ok_stream());
    let err = run_err(&backend, &request("m")).await;
    assert!(
        matches!(err.kind, ErrorKind::Connect | ErrorKind::Transient),
        "{:?}: {err}",
        err.kind
    );
    assert_eq!(server.requests_to(CHAT).len(), 2, "resent once, not twice");
}

/// A server that closes the connection after every answer (as llama-server does after a
/// streamed one): turn after turn succeeds, quietly, on a new connection each time.
#[tokio::test]
async fn a_server_closing_after_every_answer_still_serves_every_turn() {
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 0);
    server.set_default("POST", CHAT, ok_stream().close_after());
    for turn in 0..3 {
        // Whether the client notices the close before reusing the connection or only on
        // sending (then it sends again), the turn succeeds.
        assert_eq!(
            run_ok(&backend, &request("m")).await,
            ok_events(),
            "turn {turn}"
        );
    }
    assert_eq!(server.requests_to(CHAT).len(), 3);
    assert_eq!(server.connections(), 3, "each answer closed its connection");
    assert!(said(&notes).is_empty(), "{:?}", said(&notes));
}
