//! The OpenAI Chat Completions backend against the in-repo fake server when things go
//! wrong: HTTP errors, retries and backoff, connection failures, timeouts and interrupted
//! streams. Every backend here is for a compatible server (no user cache dir involved).

use crate::support;
use crate::support::openai_common;

use std::time::Duration;

use futures_util::StreamExt;
use goshi::llm::backend::Backend;
use goshi::llm::retry::RetryPolicy;
use goshi::llm::{ErrorKind, FinishReason, StreamEvent};
use openai_common::*;
use serde_json::json;
use support::*;

fn sse(items: &[String]) -> Reply {
    Reply::sse(items)
}

// ---- 11. Timeouts ----

#[tokio::test]
async fn a_stalled_stream_ends_with_a_timeout_naming_the_setting() {
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 300, 2);
    server.push(
        "POST",
        CHAT,
        sse(&[role_chunk(), text_chunk("partial")]).stall(),
    );
    let (events, err) = run(&backend, &request("m")).await;
    assert_eq!(events, vec![StreamEvent::TextDelta("partial".into())]);
    let err = err.unwrap();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(
        err.message,
        "the server sent nothing for 0.3s (llm.request_timeout) and the answer was abandoned"
    );
    assert!(goshi::cli::hints::hint(&err)
        .unwrap()
        .contains("llm.request_timeout"));
    // A stream that already started is never sent again.
    assert_eq!(server.requests_to(CHAT).len(), 1);
    assert!(said(&notes).is_empty());
}

#[tokio::test]
async fn no_response_headers_within_the_timeout_is_a_timeout() {
    let server = FakeServer::start();
    let (backend, _) = compat_with(&server.url(), 300, 2);
    server.push("POST", CHAT, Reply::hang());
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(
        err.message,
        format!(
            "no answer from {}{CHAT} within 0.3s (llm.request_timeout)",
            server.url()
        )
    );
}

#[tokio::test]
async fn the_timeout_bounds_each_wait_not_the_whole_answer() {
    let server = FakeServer::start();
    let (backend, _) = compat_with(&server.url(), 1_000, 0);
    let mut reply = Reply::new(200).header("content-type", "text/event-stream");
    for word in ["one ", "two ", "three ", "four ", "five ", "six"] {
        reply = reply
            .delay_ms(250)
            .chunk(format!("data: {}\n\n", text_chunk(word)));
    }
    reply = reply.chunk(format!(
        "data: {}\n\ndata: [DONE]\n\n",
        finish_chunk("stop")
    ));
    server.push("POST", CHAT, reply);
    let events = run_ok(&backend, &request("m")).await;
    assert_eq!(text_of(&events), "one two three four five six");
}

#[tokio::test]
async fn an_error_body_is_read_only_as_far_as_needed() {
    // A server may send an endless (or huge) error body: goshi reads enough of it for the
    // message and stops, instead of buffering until the timeout and then showing nothing.
    let server = FakeServer::start();
    let (backend, _) = compat_with(&server.url(), 1_000, 0);
    let mut body = error_body("upstream exploded", "server_error", None, None).to_string();
    body.push_str(&" ".repeat(1 << 20));
    server.push(
        "POST",
        CHAT,
        Reply::new(500)
            .header("content-type", "application/json")
            .chunk(body)
            .stall(),
    );
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.status, Some(500));
    assert_eq!(err.server_message.as_deref(), Some("upstream exploded"));
}

// ---- 12. Interrupted streams ----

#[tokio::test]
async fn a_mid_stream_disconnect_keeps_the_partial_text_then_interrupts() {
    let server = FakeServer::start();
    let (backend, _) = compat_with(&server.url(), 5_000, 3);
    server.push(
        "POST",
        CHAT,
        sse(&[role_chunk(), text_chunk("Hel"), text_chunk("lo")]).disconnect(),
    );
    let (events, err) = run(&backend, &request("m")).await;
    assert_eq!(
        events,
        vec![
            StreamEvent::TextDelta("Hel".into()),
            StreamEvent::TextDelta("lo".into())
        ]
    );
    let err = err.unwrap();
    assert_eq!(err.kind, ErrorKind::StreamInterrupted);
    assert!(
        err.message.starts_with("stream interrupted"),
        "{}",
        err.message
    );
    assert_eq!(
        goshi::cli::hints::hint(&err).as_deref(),
        Some("the partial answer was kept; ask again to continue")
    );
    assert_eq!(server.requests_to(CHAT).len(), 1);
}

#[tokio::test]
async fn a_clean_end_without_done_or_finish_reason_is_interrupted() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    server.push("POST", CHAT, sse(&[role_chunk(), text_chunk("cut")]));
    let (events, err) = run(&backend, &request("m")).await;
    assert_eq!(events, vec![StreamEvent::TextDelta("cut".into())]);
    let err = err.unwrap();
    assert_eq!(err.kind, ErrorKind::StreamInterrupted);
    assert_eq!(
        err.message,
        "stream interrupted: the server closed the connection before the answer was complete"
    );

    // Either end marker alone is a complete answer.
    server.push(
        "POST",
        CHAT,
        sse(&[text_chunk("a"), finish_chunk("length")]),
    );
    assert_eq!(
        run_ok(&backend, &request("m")).await,
        vec![
            StreamEvent::TextDelta("a".into()),
            StreamEvent::Finish(FinishReason::Length)
        ]
    );
    server.push("POST", CHAT, sse(&[text_chunk("b"), "[DONE]".to_string()]));
    assert_eq!(
        run_ok(&backend, &request("m")).await,
        vec![StreamEvent::TextDelta("b".into())]
    );
}

// ---- 5. HTTP errors ----

#[tokio::test]
async fn client_errors_are_explained_and_never_retried() {
    let cases = [
        (
            401,
            error_body(
                "Incorrect API key provided: sk-test.",
                "invalid_request_error",
                None,
                Some("invalid_api_key"),
            ),
            ErrorKind::Unauthorized,
            "the server rejected the API key (HTTP 401)",
            "OPENAI_API_KEY",
        ),
        (
            403,
            error_body("Project does not have access to model m", "invalid_request_error", None, Some("model_not_found")),
            ErrorKind::Forbidden,
            "access denied (HTTP 403)",
            "OPENAI_PROJECT_ID",
        ),
        (
            404,
            error_body(
                "The model `m` does not exist or you do not have access to it.",
                "invalid_request_error",
                None,
                Some("model_not_found"),
            ),
            ErrorKind::NotFound,
            "model m was not found (HTTP 404)",
            "goshi models",
        ),
        (
            400,
            error_body(
                "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens.",
                "invalid_request_error",
                Some("messages"),
                Some("context_length_exceeded"),
            ),
            ErrorKind::BadRequest,
            "the server rejected the request (HTTP 400)",
            "/clear",
        ),
    ];
    for (status, body, kind, message, hint_word) in cases {
        let server = FakeServer::start();
        let (backend, notes) = compat_with(&server.url(), 5_000, 3);
        server.push("POST", CHAT, Reply::json(status, body.clone()));
        server.push("POST", CHAT, ok_stream()); // must stay unused
        let err = run_err(&backend, &request("m")).await;
        assert_eq!(err.kind, kind, "{status}");
        assert_eq!(err.status, Some(status));
        assert_eq!(err.message, message);
        assert_eq!(
            err.server_message.as_deref(),
            body["error"]["message"].as_str()
        );
        assert_eq!(err.code.as_deref(), body["error"]["code"].as_str());
        assert_eq!(err.param.as_deref(), body["error"]["param"].as_str());
        let hint = goshi::cli::hints::hint(&err).unwrap();
        assert!(hint.contains(hint_word), "{status}: {hint}");
        // The whole error as shown to the user carries the server's words and code.
        let shown = goshi::cli::hints::error_text(&err);
        assert!(
            shown.contains(&format!(
                "server said: {}",
                body["error"]["message"].as_str().unwrap()
            )),
            "{shown}"
        );
        // Exactly one request: the scripted success is still queued.
        assert_eq!(server.requests_to(CHAT).len(), 1, "{status}");
        assert_eq!(server.queued("POST", CHAT), 1, "{status}");
        assert!(said(&notes).is_empty(), "{status}");
    }
}

#[tokio::test]
async fn error_bodies_that_are_not_openai_shaped_are_still_shown() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    server.push(
        "POST",
        CHAT,
        Reply::json(400, json!({"error": "model is required"})),
    );
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.server_message.as_deref(), Some("model is required"));
    server.push(
        "POST",
        CHAT,
        Reply::text(422, "text/plain", "  bad things  \n"),
    );
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.status, Some(422));
    assert_eq!(err.server_message.as_deref(), Some("bad things"));
    assert_eq!(server.requests_to(CHAT).len(), 2);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_then_succeed() {
    for status in [429, 500, 502, 503, 504, 408, 409] {
        let server = FakeServer::start();
        let (backend, notes) = compat_with(&server.url(), 5_000, 3);
        server.push(
            "POST",
            CHAT,
            Reply::json(status, error_body("try later", "server_error", None, None))
                .header("retry-after", "0"),
        );
        server.push("POST", CHAT, ok_stream());
        assert_eq!(
            run_ok(&backend, &request("m")).await,
            ok_events(),
            "{status}"
        );
        assert_eq!(server.requests_to(CHAT).len(), 2, "{status}");
        assert_eq!(
            said(&notes),
            vec![format!("HTTP {status}; retrying in 0.0s (attempt 1 of 3)")]
        );
        // The retry is the same request.
        let b = bodies(&server);
        assert_eq!(b[0], b[1], "{status}");
    }
}

#[tokio::test]
async fn a_request_that_keeps_failing_is_sent_max_retries_plus_one_times() {
    for retries in [0u32, 1, 3] {
        let server = FakeServer::start();
        let (backend, notes) = compat_with(&server.url(), 5_000, retries);
        server.set_default(
            "POST",
            CHAT,
            Reply::json(503, error_body("overloaded", "server_error", None, None))
                .header("Retry-After", "0"),
        );
        let err = run_err(&backend, &request("m")).await;
        assert_eq!(err.kind, ErrorKind::Server);
        assert_eq!(err.status, Some(503));
        assert_eq!(err.message, "the server failed (HTTP 503)");
        assert_eq!(err.server_message.as_deref(), Some("overloaded"));
        assert_eq!(server.requests_to(CHAT).len(), retries as usize + 1);
        let want: Vec<String> = (1..=retries)
            .map(|a| format!("HTTP 503; retrying in 0.0s (attempt {a} of {retries})"))
            .collect();
        assert_eq!(said(&notes), want);
    }
    // Rate limits give up the same way, with their own hint.
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 2);
    server.set_default(
        "POST",
        CHAT,
        Reply::json(
            429,
            error_body(
                "Rate limit reached",
                "requests",
                None,
                Some("rate_limit_exceeded"),
            ),
        )
        .header("retry-after-ms", "1"),
    );
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.kind, ErrorKind::RateLimited);
    assert_eq!(err.message, "rate limited (HTTP 429)");
    assert!(goshi::cli::hints::hint(&err)
        .unwrap()
        .contains("llm.retry.max_retries"));
    assert_eq!(server.requests_to(CHAT).len(), 3);
    assert_eq!(said(&notes).len(), 2);
}

/// Splits a retry notice into (what failed, wait in seconds, attempt, of).
fn parse_notice(n: &str) -> (String, f64, u32, u32) {
    let (why, rest) = n.rsplit_once("; retrying in ").unwrap();
    let (secs, rest) = rest.split_once("s (attempt ").unwrap();
    let (a, of) = rest.trim_end_matches(')').split_once(" of ").unwrap();
    (
        why.to_string(),
        secs.parse().unwrap(),
        a.parse().unwrap(),
        of.parse().unwrap(),
    )
}

/// The notice's wait (rounded to 0.1 s) lies within the jitter range of the schedule.
fn assert_wait_on_schedule(notice: &str, policy: RetryPolicy) {
    let (_, secs, attempt, of) = parse_notice(notice);
    assert_eq!(of, policy.max_retries);
    let lo = 0.0;
    let hi = policy.ceiling(attempt).as_secs_f64();
    assert!(
        secs >= lo - 0.05 && secs <= hi + 0.05,
        "{notice}: {secs} not in [{lo}, {hi}]"
    );
}

#[tokio::test]
async fn a_refused_local_connection_is_retried_once_quietly_and_said_in_words() {
    // A port with nothing listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let url = format!("{base}/v1/chat/completions");
    let (backend, notes) = compat_with(&base, 5_000, 3);
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.kind, ErrorKind::Connect);
    assert_eq!(
        err.message,
        format!(
            "could not connect to {url}: connection refused (nothing is listening at 127.0.0.1:{port})"
        )
    );
    assert_eq!(
        goshi::cli::hints::hint(&err).as_deref(),
        Some("is the server running? check OPENAI_BASE_URL, llm.openai.base_url or --base-url")
    );
    // A local server that is down does not come back in seconds: no retry notices,
    // whatever llm.retry.max_retries says (the one quick retry is silent).
    assert!(said(&notes).is_empty(), "{:?}", said(&notes));
}

// ---- 6. Backoff ----

#[test]
fn the_backoff_schedule() {
    let ms = |v: Vec<Duration>| v.iter().map(Duration::as_millis).collect::<Vec<_>>();
    let p = RetryPolicy::new(7);
    assert_eq!(
        ms(p.schedule()),
        vec![500, 1000, 2000, 4000, 8000, 8000, 8000]
    );
    // Full jitter: anywhere between zero and the step.
    assert_eq!(p.delay(3, None, 0.0), Duration::ZERO);
    assert_eq!(p.delay(3, None, 0.5), Duration::from_secs(1));
    assert_eq!(ms(RetryPolicy::new(0).schedule()), Vec::<u128>::new());
    assert_eq!(
        p.delay(100, None, 0.999_999),
        Duration::from_secs(8).mul_f64(0.999_999)
    );
    // A server's wait wins over the schedule, up to max_delay.
    assert_eq!(
        p.delay(5, Some(Duration::from_millis(1)), 0.0),
        Duration::from_millis(1)
    );
    assert!(p.too_long(Some(Duration::from_secs(3600))));
}

#[tokio::test]
async fn retry_after_headers_set_the_wait() {
    // retry-after-ms wins over Retry-After (else this would wait 30 s).
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 1);
    server.push(
        "POST",
        CHAT,
        Reply::new(429)
            .header("retry-after-ms", "300")
            .header("retry-after", "30"),
    );
    server.push("POST", CHAT, ok_stream());
    assert_eq!(run_ok(&backend, &request("m")).await, ok_events());
    assert_eq!(
        said(&notes),
        vec!["HTTP 429; retrying in 0.3s (attempt 1 of 1)".to_string()]
    );
    // An HTTP date in the past means "now".
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 1);
    server.push(
        "POST",
        CHAT,
        Reply::new(503).header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    server.push("POST", CHAT, ok_stream());
    run_ok(&backend, &request("m")).await;
    assert_eq!(
        said(&notes),
        vec!["HTTP 503; retrying in 0.0s (attempt 1 of 1)".to_string()]
    );
    // Without a header the computed schedule applies (0 to 0.5 s for the first retry).
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 1);
    server.push("POST", CHAT, Reply::new(500));
    server.push("POST", CHAT, ok_stream());
    run_ok(&backend, &request("m")).await;
    let notes = said(&notes);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].starts_with("HTTP 500; retrying in 0."),
        "{notes:?}"
    );
    assert_wait_on_schedule(&notes[0], RetryPolicy::new(1));
}

#[tokio::test]
async fn the_stream_is_not_retried_after_it_started() {
    // A failure after the 200 is the caller's to handle; a fresh request is separate.
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 3);
    server.push("POST", CHAT, Reply::sse(&[text_chunk("a")]).disconnect());
    let mut stream = backend.stream(&request("m")).await.unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        StreamEvent::TextDelta("a".into())
    );
    assert_eq!(
        stream.next().await.unwrap().unwrap_err().kind,
        ErrorKind::StreamInterrupted
    );
    assert!(stream.next().await.is_none());
    assert_eq!(server.requests_to(CHAT).len(), 1);
    assert!(said(&notes).is_empty());
}

#[tokio::test]
async fn the_servers_x_should_retry_header_overrides_the_status_rules() {
    // "false" on a 503: not retried.
    let server = FakeServer::start();
    let (backend, _) = compat_with(&server.url(), 5_000, 3);
    server.push(
        "POST",
        CHAT,
        Reply::json(503, error_body("down for good", "server_error", None, None))
            .header("x-should-retry", "false"),
    );
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.status, Some(503));
    assert_eq!(server.requests_to(CHAT).len(), 1);
    // "true" on a 400: retried.
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 3);
    server.push(
        "POST",
        CHAT,
        Reply::json(
            400,
            error_body("try again", "invalid_request_error", None, None),
        )
        .header("x-should-retry", "true")
        .header("retry-after", "0"),
    );
    server.push("POST", CHAT, ok_stream());
    assert_eq!(run_ok(&backend, &request("m")).await, ok_events());
    assert_eq!(server.requests_to(CHAT).len(), 2);
    assert_eq!(said(&notes).len(), 1);
}
