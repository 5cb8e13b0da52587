//! Servers that are not quite what goshi expects: a wrong base URL, JSON instead of a stream, no tool support.

use crate::support;
use crate::support::openai_common;

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
    assert!(
        goshi::cli::hints::error_text(&err).contains("base_url"),
        "{err}"
    );
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

#[tokio::test]
async fn a_fastapi_404_for_an_unknown_route_points_at_the_address_not_the_model() {
    // vLLM, SGLang, LiteLLM...: FastAPI answers a path it does not serve (a base URL
    // without /v1) with this JSON, which is not an API error about the model.
    let server = FakeServer::start();
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::json(404, json!({"detail": "Not Found"})),
    );
    let (backend, _) = compat(&server);
    let err = run_err(&backend, &request("m")).await;
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains("address"), "{err}");
    assert!(!err.to_string().contains("goshi models"), "{err}");
    assert!(err.to_string().contains("/v1"), "{err}");
}

#[tokio::test]
async fn a_server_that_refuses_tools_gets_the_turn_without_them_once_noticed() {
    let server = FakeServer::start();
    // llama.cpp without --jinja, for instance, refuses tools with a 500.
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::json(
            500,
            json!({"error":{"code":500,"message":"tools param requires --jinja flag","type":"server_error"}}),
        ),
    );
    server.set_default("POST", "/v1/chat/completions", ok_stream());
    let (backend, notes) = compat_with(&server.url(), 2_000, 0);
    let events = run_ok(&backend, &tool_request("m")).await;
    assert_eq!(events, ok_events());
    // A second turn goes straight without tools.
    run_ok(&backend, &tool_request("m")).await;
    let bodies = bodies(&server);
    assert_eq!(bodies.len(), 3);
    assert!(bodies[0].get("tools").is_some());
    assert!(bodies[1].get("tools").is_none() && bodies[1].get("tool_choice").is_none());
    assert!(bodies[2].get("tools").is_none());
    let said = said(&notes);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("cannot call tools"), "{said:?}");
}

#[tokio::test]
async fn other_server_errors_are_not_mistaken_for_a_tools_refusal() {
    let server = FakeServer::start();
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::json(400, json!({"error":{"message":"messages is required"}})),
    );
    let (backend, notes) = compat_with(&server.url(), 2_000, 0);
    let err = run_err(&backend, &tool_request("m")).await;
    assert_eq!(err.status, Some(400));
    assert_eq!(bodies(&server).len(), 1);
    assert!(said(&notes).is_empty());
}
