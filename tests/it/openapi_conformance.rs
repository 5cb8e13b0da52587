//! Every request body goshi builds for OpenAI's two protocols conforms to OpenAI's own API
//! description (`CreateChatCompletionRequest`, `CreateResponse`), checked with a JSON Schema
//! validator on the bodies exactly as the fake server received them. The reverse direction
//! (every stream event the description defines goes through goshi's decoders) is in
//! `openapi_streams.rs`. How it works and how to refresh the copy: `docs/conformance.md`.

use crate::support;

use goshi::llm::openai::{OpenAiApi, OpenAiBackend, OpenAiServer};
use goshi::llm::{ChatRequest, Message, RequestOptions, ToolCall, ToolChoice};
use goshi::tools::Registry;
use serde_json::{json, Value};
use support::cli_common::{call, Backend, Chat};
use support::openai_common::{backend_for, ok_stream, run_ok, settings, CacheDir};
use support::openapi::{assert_conforms, check};
use support::{FakeServer, Reply};

const CHAT: &str = "/v1/chat/completions";
const RESPONSES: &str = "/v1/responses";
const CHAT_SCHEMA: &str = "CreateChatCompletionRequest";
const RESPONSES_SCHEMA: &str = "CreateResponse";

/// Every `tool_choice` form goshi can send.
fn choices() -> [ToolChoice; 4] {
    [
        ToolChoice::Auto,
        ToolChoice::Required,
        ToolChoice::None,
        ToolChoice::Named("fs.read".into()),
    ]
}

/// Every optional parameter set.
fn all_options(choice: ToolChoice) -> RequestOptions {
    RequestOptions {
        temperature: Some(0.7),
        max_tokens: 256,
        frequency_penalty: Some(0.5),
        presence_penalty: Some(-0.5),
        tool_choice: choice,
        parallel_tool_calls: Some(true),
        reasoning_effort: Some("low".into()),
        reasoning_summary: Some("auto".into()),
        seed: Some(42),
    }
}

/// A conversation with a tool round trip: three parallel calls (one with broken
/// arguments), a reasoning item to echo back, their results, an answer and a new question.
fn round_trip() -> Vec<Message> {
    let c = |id: &str, name: &str, args: &str| ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args.into(),
    };
    vec![
        Message::system("You are goshi."),
        Message::user("read a.txt and b.txt, list docs"),
        Message::Assistant {
            content: String::new(),
            tool_calls: vec![
                c("call_1", "fs.read", r#"{"path":"a.txt"}"#),
                c("call_2", "fs.read", r#"{"path":"b.txt"}"#),
                c("call_3", "fs.list", r#"{"path":"#),
            ],
            opaque: vec![json!({"type": "reasoning", "id": "rs_1", "summary": [],
                "encrypted_content": "gAAAA-opaque"})],
        },
        Message::tool("call_1", "fs.read", "alpha\n"),
        Message::tool("call_2", "fs.read", "beta\n"),
        Message::tool(
            "call_3",
            "fs.list",
            "error: the arguments are not valid JSON",
        ),
        Message::Assistant {
            content: "Read both; the listing failed.".into(),
            tool_calls: vec![],
            opaque: vec![],
        },
        Message::user("thanks"),
    ]
}

fn request(messages: Vec<Message>, options: RequestOptions, no_stream: bool) -> ChatRequest {
    ChatRequest {
        model: "gpt-5.1".into(),
        messages,
        tools: Registry::builtin().definitions(),
        options,
        no_stream,
        // Sent to OpenAI itself: the key must conform too.
        prompt_cache_key: Some("goshi-0123456789abcdef".into()),
    }
}

/// Every request shape: plain and with the round trip, each with no options and with all of
/// them, every tool choice, without tools, streamed and not.
fn requests() -> Vec<ChatRequest> {
    let mut out = Vec::new();
    for no_stream in [false, true] {
        let hello = vec![Message::system("You are goshi."), Message::user("hi")];
        let minimal = RequestOptions {
            max_tokens: 100,
            ..Default::default()
        };
        let mut plain = request(hello.clone(), minimal.clone(), no_stream);
        plain.tools.clear();
        out.push(plain);
        out.push(request(hello, minimal, no_stream));
        for choice in choices() {
            out.push(request(round_trip(), all_options(choice), no_stream));
        }
    }
    out
}

fn backend(
    server: &FakeServer,
    kind: OpenAiServer,
    api: OpenAiApi,
    cache: &CacheDir,
) -> OpenAiBackend {
    let mut s = settings(&server.url(), kind, Some("sk-test"));
    s.api = api;
    backend_for(s, 5_000, 0)
        .0
        .with_cache_dir(cache.dir.path().to_path_buf())
}

fn whole_chat() -> Reply {
    Reply::json(
        200,
        json!({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
            "finish_reason": "stop"}]}),
    )
}

fn responses_stream() -> Reply {
    let events = [
        json!({"type": "response.output_text.delta", "item_id": "m", "output_index": 0,
            "content_index": 0, "delta": "ok"}),
        json!({"type": "response.completed", "response": {"id": "r", "status": "completed",
            "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}}),
    ];
    let body: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect();
    Reply::split("text/event-stream", body.as_bytes(), &[])
}

fn whole_response() -> Reply {
    Reply::json(
        200,
        json!({"id": "r", "object": "response", "status": "completed",
        "output": [{"type": "message", "id": "m", "role": "assistant",
            "content": [{"type": "output_text", "text": "ok", "annotations": []}]}],
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}}),
    )
}

/// Sends every request shape to a fake server playing `kind` over `api`, and returns the
/// bodies it received, one per request.
async fn sent_bodies(kind: OpenAiServer, api: OpenAiApi) -> Vec<Value> {
    let cache = CacheDir::isolate();
    let server = FakeServer::start();
    let path = if api == OpenAiApi::Responses {
        RESPONSES
    } else {
        CHAT
    };
    let all = requests();
    for req in &all {
        let reply = match (api, req.no_stream) {
            (OpenAiApi::Responses, false) => responses_stream(),
            (OpenAiApi::Responses, true) => whole_response(),
            (_, false) => ok_stream(),
            (_, true) => whole_chat(),
        };
        server.push("POST", path, reply);
        run_ok(&backend(&server, kind, api, &cache), req).await;
    }
    let bodies: Vec<Value> = server.requests_to(path).iter().map(|r| r.json()).collect();
    assert_eq!(bodies.len(), all.len(), "one body per request");
    bodies
}

#[tokio::test]
async fn chat_completions_requests_conform_for_openai_and_compatible_servers() {
    for kind in [OpenAiServer::OpenAi, OpenAiServer::Compatible] {
        let bodies = sent_bodies(kind, OpenAiApi::Chat).await;
        for (i, body) in bodies.iter().enumerate() {
            assert_conforms(CHAT_SCHEMA, &format!("{kind:?} chat request {i}"), body);
        }
        // The token field for each kind of server, and the strict flag only for OpenAI.
        let (field, strict) = match kind {
            OpenAiServer::OpenAi => ("max_completion_tokens", Some(&json!(true))),
            OpenAiServer::Compatible => ("max_tokens", None),
        };
        assert!(
            bodies.iter().all(|b| b.get(field).is_some()),
            "{kind:?}: {field}"
        );
        let full = &bodies[2];
        assert_eq!(
            full["tools"][0]["function"].get("strict"),
            strict,
            "{kind:?}"
        );
        assert_eq!(
            full["messages"][2]["tool_calls"].as_array().unwrap().len(),
            3
        );
        assert_eq!(full["reasoning_effort"], "low");
        assert!(bodies[0].get("tools").is_none());
        assert_eq!(
            bodies[6]["stream"],
            Value::Null,
            "--no-stream sends no stream field"
        );
    }
}

#[tokio::test]
async fn responses_requests_conform_for_openai_and_compatible_servers() {
    for kind in [OpenAiServer::OpenAi, OpenAiServer::Compatible] {
        let bodies = sent_bodies(kind, OpenAiApi::Responses).await;
        for (i, body) in bodies.iter().enumerate() {
            assert_conforms(
                RESPONSES_SCHEMA,
                &format!("{kind:?} responses request {i}"),
                body,
            );
        }
        let full = &bodies[2];
        assert_eq!(full["tools"][0]["strict"], true, "{kind:?}");
        let types: Vec<&str> = full["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.get("type").and_then(Value::as_str).unwrap_or("message"))
            .collect();
        assert_eq!(
            types,
            [
                "message",
                "reasoning",
                "function_call",
                "function_call",
                "function_call",
                "function_call_output",
                "function_call_output",
                "function_call_output",
                "message",
                "message"
            ]
        );
    }
}

/// `goshi chat` as a user runs it: a tool round trip with parallel calls, streamed and with
/// `--no-stream`, every optional parameter set from the config; every body it sends conforms.
#[test]
fn cli_tool_round_trips_conform() {
    for no_stream in [false, true] {
        let b = Backend::OpenAi;
        let chat = Chat::new(b);
        // Streamed, the server is taken for OpenAI itself (strict tools, the new token
        // field); with --no-stream, for a compatible one.
        let server = if no_stream { "compatible" } else { "openai" };
        // A repository's ./goshi.yaml may not choose the server kind: name the file.
        chat.write(
            "conformance.yaml",
            &format!(
                "llm:\n  temperature: 0.2\n  frequency_penalty: 0.1\n  presence_penalty: 0.1\n  \
             tool_choice: auto\n  parallel_tool_calls: true\n  reasoning_effort: low\n  \
             openai:\n    server: {server}\n"
            ),
        );
        chat.write("a.txt", "alpha\n");
        chat.write("b.txt", "beta\n");
        let calls = [
            call("call_a", "fs_read", r#"{"path":"a.txt"}"#),
            call("call_b", "fs_read", r#"{"path":"b.txt"}"#),
            call("call_c", "fs_list", r#"{"path":null}"#),
        ];
        let mut args = vec!["--config", "conformance.yaml", "--allow", "fs.read"];
        if no_stream {
            args.push("--no-stream");
            chat.push(b.whole_tool_reply(&calls));
            chat.push(b.whole_reply("Done.", (30, 4)));
        } else {
            chat.push(b.tool_reply(&calls));
            chat.push(b.text_reply(&["Done."], (30, 4)));
        }
        args.push("read a and b");
        let run = chat.chat(&args);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let bodies = chat.requests();
        assert_eq!(bodies.len(), 2);
        for (i, body) in bodies.iter().enumerate() {
            assert_conforms(CHAT_SCHEMA, &format!("goshi chat request {i}"), body);
        }
        assert_eq!(
            bodies[1]["messages"][2]["tool_calls"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let strict = bodies[0]["tools"][0]["function"].get("strict");
        assert_eq!(strict, (!no_stream).then_some(&json!(true)));
    }
}

/// The validator is not a rubber stamp: a Responses function tool without `strict` (what
/// goshi sent before), an unknown role, and a string temperature are all refused.
#[test]
fn the_validator_rejects_broken_bodies() {
    let good = json!({"model": "gpt-5.1", "input": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "name": "fs_read", "description": "Read",
            "parameters": {"type": "object"}, "strict": true}]});
    check(RESPONSES_SCHEMA, &good).unwrap();
    let mut no_strict = good.clone();
    no_strict["tools"][0]
        .as_object_mut()
        .unwrap()
        .remove("strict");
    let err = check(RESPONSES_SCHEMA, &no_strict).unwrap_err();
    assert!(err.contains("/tools/0"), "{err}");

    let good = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    check(CHAT_SCHEMA, &good).unwrap();
    let mut robot = good.clone();
    robot["messages"][0]["role"] = json!("robot");
    assert!(check(CHAT_SCHEMA, &robot)
        .unwrap_err()
        .contains("/messages/0"));
    let mut hot = good.clone();
    hot["temperature"] = json!("hot");
    assert!(check(CHAT_SCHEMA, &hot)
        .unwrap_err()
        .contains("/temperature"));
}
