//! The OpenAI Chat Completions backend against the in-repo fake server: the request body
//! (tools, tool choice, tool rounds), tool-call accumulation, `--no-stream`, credentials
//! and headers, and the token-field / parameter fallbacks.
//!
//! Every backend here is for a compatible server, or fails before any request: nothing in
//! this file reads or writes the user cache dir (see `openai_chat_lifecycle.rs`).

use crate::support;
use crate::support::openai_common;

use goshi::llm::backend::Backend;
use goshi::llm::openai::{OpenAiBackend, OpenAiServer};
use goshi::llm::{
    Accumulator, ChatRequest, ErrorKind, FinishReason, Message, StreamEvent, ToolCall, ToolChoice,
    Usage,
};
use openai_common::*;
use serde_json::{json, Value};
use support::*;

// ---- 3. Tools in the request ----

fn tool_json(wire: &str, goshi: &str) -> Value {
    json!({"type": "function", "function": {
        "name": wire,
        "description": format!("the {goshi} tool"),
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
    }})
}

#[tokio::test]
async fn tools_go_out_with_wire_safe_names_and_the_exact_body() {
    let server = FakeServer::start();
    server.set_default("POST", CHAT, ok_stream());
    let (backend, _) = compat(&server);
    let mut req = tool_request("m");
    req.options.temperature = Some(0.25);
    assert_eq!(run_ok(&backend, &req).await, ok_events());
    assert_eq!(
        bodies(&server)[0],
        json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"}
            ],
            "max_tokens": 100,
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.25,
            "tools": [tool_json("fs_read", "fs.read"), tool_json("fs_list", "fs.list")],
            "tool_choice": "auto"
        })
    );
}

#[tokio::test]
async fn tool_choice_and_parallel_tool_calls() {
    let server = FakeServer::start();
    server.set_default("POST", CHAT, ok_stream());
    let (backend, _) = compat(&server);
    let cases = [
        (ToolChoice::Auto, None, json!("auto")),
        (ToolChoice::Required, Some(false), json!("required")),
        (ToolChoice::None, Some(true), json!("none")),
        (
            ToolChoice::Named("fs.list".into()),
            None,
            json!({"type": "function", "function": {"name": "fs_list"}}),
        ),
    ];
    for (choice, parallel, _) in &cases {
        let mut req = tool_request("m");
        req.options.tool_choice = choice.clone();
        req.options.parallel_tool_calls = *parallel;
        run_ok(&backend, &req).await;
    }
    let sent = bodies(&server);
    for ((_, parallel, want), body) in cases.iter().zip(&sent) {
        assert_eq!(&body["tool_choice"], want);
        assert_eq!(
            body.get("parallel_tool_calls"),
            parallel.map(Value::Bool).as_ref()
        );
    }
    // Without tools there is no tool choice and no parallel flag, whatever the options say.
    let mut req = request("m");
    req.options.tool_choice = ToolChoice::Required;
    req.options.parallel_tool_calls = Some(true);
    run_ok(&backend, &req).await;
    let body = &bodies(&server)[4];
    for key in ["tools", "tool_choice", "parallel_tool_calls"] {
        assert_eq!(body.get(key), None, "{key}");
    }
}

// ---- 4. Parallel tool calls, 3. the tool round ----

/// Two calls interleaved by index: ids and names first, arguments in fragments, once
/// both calls' fragments in one delta.
fn interleaved_calls() -> Vec<String> {
    vec![
        role_chunk(),
        tool_chunk(0, Some("call_a"), Some("fs_read"), ""),
        tool_chunk(1, Some("call_b"), Some("fs_list"), ""),
        tool_chunk(0, None, None, "{\"pa"),
        tool_chunk(1, None, None, "{\"path\""),
        chunk(
            json!({"tool_calls": [
                {"index": 0, "function": {"arguments": "th\":\"a."}},
                {"index": 1, "function": {"arguments": ":\".\"}"}}
            ]}),
            None,
        ),
        tool_chunk(0, None, None, "txt\"}"),
        finish_chunk("tool_calls"),
        usage_chunk(50, 20, 70),
        "[DONE]".into(),
    ]
}

/// The two calls of [`interleaved_calls`] and [`streamed_tool_answer`], as goshi keeps them.
fn read_and_list_calls() -> Vec<ToolCall> {
    vec![
        ToolCall {
            id: "call_a".into(),
            name: "fs.read".into(),
            arguments: "{\"path\":\"a.txt\"}".into(),
        },
        ToolCall {
            id: "call_b".into(),
            name: "fs.list".into(),
            arguments: "{\"path\":\".\"}".into(),
        },
    ]
}

#[tokio::test]
async fn interleaved_parallel_tool_calls_accumulate() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    server.push("POST", CHAT, Reply::sse(&interleaved_calls()));
    let events = run_ok(&backend, &tool_request("m")).await;
    assert_eq!(
        events,
        vec![
            call_start(0, "call_a", "fs.read"),
            call_start(1, "call_b", "fs.list"),
            call_args(0, "{\"pa"),
            call_args(1, "{\"path\""),
            call_args(0, "th\":\"a."),
            call_args(1, ":\".\"}"),
            call_args(0, "txt\"}"),
            StreamEvent::Finish(FinishReason::ToolCalls),
            StreamEvent::Usage(Usage {
                prompt_tokens: 50,
                completion_tokens: 20,
                total_tokens: 70
            }),
        ]
    );
    // Through an Accumulator ...
    let mut acc = Accumulator::new();
    for e in &events {
        acc.push(e);
    }
    let turn = acc.finish();
    assert_eq!(turn.text, "");
    assert_eq!(turn.tool_calls, read_and_list_calls());
    assert_eq!(turn.finish, Some(FinishReason::ToolCalls));
    assert_eq!(
        turn.tool_calls[0].parsed_arguments().unwrap(),
        json!({"path": "a.txt"})
    );
    // ... and through `complete()`.
    server.push("POST", CHAT, Reply::sse(&interleaved_calls()));
    assert_eq!(backend.complete(&tool_request("m")).await.unwrap(), turn);
}

#[tokio::test]
async fn a_tool_round_sends_the_calls_and_matching_tool_results_back() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    server.push("POST", CHAT, Reply::sse(&interleaved_calls()));
    server.push("POST", CHAT, ok_stream());
    let mut req = tool_request("m");
    let turn = backend.complete(&req).await.unwrap();
    req.messages.push(turn.to_message());
    req.messages
        .push(Message::tool("call_a", "fs.read", "contents of a"));
    req.messages
        .push(Message::tool("call_b", "fs.list", "a.txt\nb.txt"));
    assert_eq!(backend.complete(&req).await.unwrap().text, "ok");
    let call = |id: &str, name: &str, args: &str| json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}});
    assert_eq!(
        bodies(&server)[1]["messages"],
        json!([
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": null, "tool_calls": [
                call("call_a", "fs_read", "{\"path\":\"a.txt\"}"),
                call("call_b", "fs_list", "{\"path\":\".\"}")
            ]},
            {"role": "tool", "tool_call_id": "call_a", "content": "contents of a"},
            {"role": "tool", "tool_call_id": "call_b", "content": "a.txt\nb.txt"}
        ])
    );

    // Text next to a call is kept; empty arguments travel as `{}`.
    let mut req = tool_request("m");
    req.messages.push(Message::Assistant {
        content: "Looking.".into(),
        tool_calls: vec![ToolCall {
            id: "x1".into(),
            name: "fs.list".into(),
            arguments: String::new(),
        }],
        opaque: vec![],
    });
    req.messages.push(Message::tool("x1", "fs.list", "[]"));
    server.push("POST", CHAT, ok_stream());
    run_ok(&backend, &req).await;
    let msgs = &bodies(&server)[2]["messages"];
    assert_eq!(
        msgs[2],
        json!({"role": "assistant", "content": "Looking.", "tool_calls": [call("x1", "fs_list", "{}")]})
    );
    assert_eq!(
        msgs[3],
        json!({"role": "tool", "tool_call_id": "x1", "content": "[]"})
    );
}

// ---- 13. --no-stream ----

fn streamed_tool_answer() -> Vec<String> {
    vec![
        role_chunk(),
        text_chunk("Let me look."),
        tool_chunk(0, Some("call_a"), Some("fs_read"), "{\"path\":\"a.txt\"}"),
        tool_chunk(1, Some("call_b"), Some("fs_list"), "{\"path\":\".\"}"),
        finish_chunk("tool_calls"),
        usage_chunk(20, 10, 30),
        "[DONE]".into(),
    ]
}

fn full_tool_answer(message_extra: Value) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": "Let me look.",
        "refusal": null,
        "tool_calls": [
            {"id": "call_a", "type": "function",
             "function": {"name": "fs_read", "arguments": "{\"path\":\"a.txt\"}"}},
            {"id": "call_b", "type": "function",
             "function": {"name": "fs_list", "arguments": "{\"path\":\".\"}"}}
        ]
    });
    for (k, v) in message_extra.as_object().unwrap() {
        message[k] = v.clone();
    }
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "m",
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30},
        "system_fingerprint": "fp_1"
    })
}

fn tool_answer_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::TextDelta("Let me look.".into()),
        call_start(0, "call_a", "fs.read"),
        call_args(0, "{\"path\":\"a.txt\"}"),
        call_start(1, "call_b", "fs.list"),
        call_args(1, "{\"path\":\".\"}"),
        StreamEvent::Finish(FinishReason::ToolCalls),
        StreamEvent::Usage(Usage {
            prompt_tokens: 20,
            completion_tokens: 10,
            total_tokens: 30,
        }),
    ]
}

#[tokio::test]
async fn no_stream_sends_no_stream_field_and_gives_the_same_events() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    server.push("POST", CHAT, Reply::sse(&streamed_tool_answer()));
    let streamed = run_ok(&backend, &tool_request("m")).await;
    assert_eq!(streamed, tool_answer_events());

    server.push("POST", CHAT, Reply::json(200, full_tool_answer(json!({}))));
    let req = goshi::llm::ChatRequest {
        no_stream: true,
        ..tool_request("m")
    };
    let full = run_ok(&backend, &req).await;
    assert_eq!(full, streamed);

    let bodies: Vec<Value> = server.requests_to(CHAT).iter().map(|r| r.json()).collect();
    assert_eq!(bodies[0]["stream"], json!(true));
    assert_eq!(bodies[1].get("stream"), None);
    assert_eq!(bodies[1].get("stream_options"), None);
    // Otherwise the same request.
    let mut without = bodies[0].clone();
    without.as_object_mut().unwrap().remove("stream");
    without.as_object_mut().unwrap().remove("stream_options");
    assert_eq!(without, bodies[1]);

    // `complete()` over the non-streamed answer.
    server.push("POST", CHAT, Reply::json(200, full_tool_answer(json!({}))));
    let turn = backend.complete(&req).await.unwrap();
    assert_eq!(turn.text, "Let me look.");
    assert_eq!(turn.tool_calls, read_and_list_calls());
    assert_eq!(turn.finish, Some(FinishReason::ToolCalls));
    assert_eq!(turn.usage.unwrap().total_tokens, 30);
}

#[tokio::test]
async fn no_stream_tolerates_null_fields_of_compatible_servers() {
    let server = FakeServer::start();
    let (backend, _) = compat(&server);
    let req = goshi::llm::ChatRequest {
        no_stream: true,
        ..request("m")
    };
    // A text answer with `tool_calls: null` (vLLM, LM Studio) and no usage.
    let mut body = full_tool_answer(json!({"content": "Hello.", "tool_calls": null}));
    body["usage"] = Value::Null;
    server.push("POST", CHAT, Reply::json(200, body));
    let events = run_ok(&backend, &req).await;
    assert_eq!(
        events,
        vec![
            StreamEvent::TextDelta("Hello.".into()),
            StreamEvent::Finish(FinishReason::ToolCalls)
        ]
    );
    // `content: null` next to tool calls, and arguments sent as an object.
    let mut body = full_tool_answer(json!({"content": null}));
    body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] =
        json!({"path": "a.txt"});
    server.push("POST", CHAT, Reply::json(200, body));
    let tool_req = goshi::llm::ChatRequest {
        no_stream: true,
        ..tool_request("m")
    };
    let events = run_ok(&backend, &tool_req).await;
    assert_eq!(events, tool_answer_events()[1..].to_vec());
    // A body that is no completion at all.
    server.push("POST", CHAT, Reply::json(200, json!({"choices": []})));
    let err = run_err(&backend, &req).await;
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert_eq!(err.message, "the server's answer has no choices");
}

// ---- 8. Credentials ----

#[tokio::test]
async fn openai_without_a_key_fails_before_any_request() {
    let server = FakeServer::start();
    server.set_default("POST", CHAT, ok_stream());
    let (backend, notes) = backend_for(
        settings(&server.url(), OpenAiServer::OpenAi, None),
        5_000,
        3,
    );
    let err = run_err(&backend, &request("gpt-4o")).await;
    assert_eq!(err.kind, ErrorKind::MissingCredentials);
    assert_eq!(
        err.message,
        "OPENAI_API_KEY is not set, so goshi cannot talk to OpenAI"
    );
    let hint = goshi::cli::hints::hint(&err).unwrap();
    assert!(
        hint.contains("https://platform.openai.com/api-keys"),
        "{hint}"
    );
    assert!(hint.contains("export OPENAI_API_KEY=sk-"), "{hint}");
    assert!(hint.contains("--provider ollama"), "{hint}");
    let err = backend.complete(&request("gpt-4o")).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::MissingCredentials);
    let err = backend.list_models().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::MissingCredentials);
    assert_eq!(server.requests().len(), 0);
    assert!(said(&notes).is_empty());
}

#[tokio::test]
async fn headers_for_keys_organizations_and_projects() {
    let server = FakeServer::start();
    server.set_default("POST", CHAT, ok_stream());
    // A compatible server without a key: no Authorization header at all.
    let (backend, _) = backend_for(
        settings(&server.url(), OpenAiServer::Compatible, None),
        5_000,
        0,
    );
    run_ok(&backend, &request("m")).await;
    // With a key, organization and project.
    let mut s = settings(&server.url(), OpenAiServer::Compatible, Some("sk-test"));
    s.organization = Some("org-1".into());
    s.project = Some("proj_2".into());
    let (backend, _) = backend_for(s, 5_000, 0);
    run_ok(&backend, &request("m")).await;
    let reqs = server.requests_to(CHAT);
    assert_eq!(reqs[0].header("authorization"), None);
    assert_eq!(reqs[0].header("openai-organization"), None);
    assert_eq!(
        reqs[0].header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        reqs[1].header("authorization").as_deref(),
        Some("Bearer sk-test")
    );
    assert_eq!(
        reqs[1].header("openai-organization").as_deref(),
        Some("org-1")
    );
    assert_eq!(reqs[1].header("openai-project").as_deref(), Some("proj_2"));
    assert!(reqs[1].header("user-agent").unwrap().starts_with("goshi/"));
}

// ---- 10. The token field and refused parameters ----

/// OpenAI's 400 refusing the request parameter `param`, with this message and code.
fn refused(message: &str, param: &str, code: &str) -> Reply {
    Reply::json(
        400,
        error_body(message, "invalid_request_error", Some(param), Some(code)),
    )
}

fn unsupported_max_tokens() -> Reply {
    refused(
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        "max_tokens",
        "unsupported_parameter",
    )
}

fn unsupported_temperature() -> Reply {
    refused(
        "Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is supported.",
        "temperature",
        "unsupported_value",
    )
}

async fn ok_run(backend: &OpenAiBackend, req: &ChatRequest) {
    assert_eq!(run_ok(backend, req).await, ok_events());
}

#[tokio::test]
async fn a_refused_max_tokens_switches_the_field_once_per_session() {
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 3);
    server.push("POST", CHAT, unsupported_max_tokens());
    server.push("POST", CHAT, ok_stream());
    server.push("POST", CHAT, ok_stream());
    let req = request("o9");
    ok_run(&backend, &req).await;
    ok_run(&backend, &req).await;
    let b = bodies(&server);
    assert_eq!(b.len(), 3);
    assert_eq!(b[0]["max_tokens"], json!(100));
    assert_eq!(b[0].get("max_completion_tokens"), None);
    for later in &b[1..] {
        assert_eq!(later["max_completion_tokens"], json!(100));
        assert_eq!(later.get("max_tokens"), None);
    }
    assert_eq!(
        said(&notes),
        vec![
            "the server does not accept `max_tokens` for o9; retrying with `max_completion_tokens` \
             (set llm.openai.max_tokens_field: max_completion_tokens in goshi.yaml to skip this)"
                .to_string()
        ]
    );
    // A second refusal does not flip the field back: the error is shown.
    server.push(
        "POST",
        CHAT,
        refused("no", "max_completion_tokens", "unsupported_parameter"),
    );
    let err = run_err(&backend, &req).await;
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert_eq!(err.param.as_deref(), Some("max_completion_tokens"));
    assert_eq!(server.requests_to(CHAT).len(), 4);
    assert_eq!(said(&notes).len(), 1);
}

#[tokio::test]
async fn a_refused_temperature_is_dropped_once_per_session() {
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 3);
    server.push("POST", CHAT, unsupported_temperature());
    server.set_default("POST", CHAT, ok_stream());
    let mut req = request("o9");
    req.options.temperature = Some(0.7);
    ok_run(&backend, &req).await;
    ok_run(&backend, &req).await;
    let b = bodies(&server);
    assert_eq!(b.len(), 3);
    assert_eq!(b[0]["temperature"], json!(0.7));
    assert_eq!(b[1].get("temperature"), None);
    assert_eq!(b[2].get("temperature"), None);
    // Otherwise the retry is the same request.
    let mut first = b[0].clone();
    first.as_object_mut().unwrap().remove("temperature");
    assert_eq!(first, b[1]);
    assert_eq!(
        said(&notes),
        vec![
            "the server does not accept `temperature` for o9; retrying without it \
             (remove llm.temperature from goshi.yaml to skip this)"
                .to_string()
        ]
    );
}

#[tokio::test]
async fn both_fallbacks_in_one_request() {
    let server = FakeServer::start();
    let (backend, notes) = compat_with(&server.url(), 5_000, 0);
    server.push("POST", CHAT, unsupported_max_tokens());
    server.push("POST", CHAT, unsupported_temperature());
    server.push("POST", CHAT, ok_stream());
    let mut req = request("o9");
    req.options.temperature = Some(0.7);
    ok_run(&backend, &req).await;
    let b = bodies(&server);
    assert_eq!(b.len(), 3);
    assert_eq!(b[2]["max_completion_tokens"], json!(100));
    assert_eq!(b[2].get("temperature"), None);
    assert_eq!(said(&notes).len(), 2);
    // A parameter goshi does not add itself is never dropped.
    server.push(
        "POST",
        CHAT,
        refused("no", "messages", "unsupported_parameter"),
    );
    let err = run_err(&backend, &req).await;
    assert_eq!(err.param.as_deref(), Some("messages"));
    assert_eq!(server.requests_to(CHAT).len(), 4);
}
