//! A base URL that points at something other than an OpenAI-compatible API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod openai_common;
mod support;

use goshi::llm::{ErrorKind, StreamEvent};
use openai_common::*;
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_web_page_instead_of_an_event_stream_says_check_the_base_url() {
    let server = FakeServer::start();
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::text(200, "text/html", "<html>hello</html>"),
    );
    let (backend, _) = compat(&server);
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.message.contains("text/html"), "{err}");
    assert!(err.to_string().contains("base_url"), "{err}");
}

#[tokio::test]
async fn a_json_answer_to_a_stream_request_is_read_as_a_whole_answer() {
    let server = FakeServer::start();
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::json(
            200,
            json!({"choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}],
                   "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}),
        ),
    );
    let (backend, _) = compat(&server);
    let events = run_ok(&backend, &request("m")).await;
    assert_eq!(events[0], StreamEvent::TextDelta("whole".into()));
    assert_eq!(text_of(&events), "whole");
}

#[tokio::test]
async fn a_plain_404_points_at_the_address_not_the_model() {
    let server = FakeServer::start();
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::text(404, "text/plain", "404 page not found"),
    );
    let (backend, _) = compat(&server);
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains("address"), "{err}");
    assert!(err.to_string().contains("/v1"), "{err}");
    assert_eq!(err.server_message.as_deref(), Some("404 page not found"));
}
