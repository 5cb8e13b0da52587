//! The OpenAI backend over the Responses API, against the fake server: streaming, tool
//! calls, errors, the request shape, and the automatic switch from Chat Completions.

use crate::support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use goshi::llm::backend::{Backend, Notifier};
use goshi::llm::http::Transport;
use goshi::llm::openai::{MaxTokensField, OpenAiApi, OpenAiBackend, OpenAiServer, OpenAiSettings};
use goshi::llm::{
    ChatRequest, ErrorKind, FinishReason, LlmError, Message, RequestOptions, StreamEvent,
    ToolDefinition, Usage,
};
use serde_json::{json, Value};
use support::*;

type Notes = Arc<Mutex<Vec<String>>>;

const MODEL: &str = "gpt-5.1";
const RESPONSES: &str = "/v1/responses";
const CHAT: &str = "/v1/chat/completions";

const SWITCH_MESSAGE: &str = "Function tools with reasoning_effort are not supported for gpt-5.1 \
    in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to 'none'.";

fn backend(
    server: &FakeServer,
    api: OpenAiApi,
    cache: &Path,
    notes: &Notes,
    retries: u32,
) -> OpenAiBackend {
    let sink = notes.clone();
    let notifier: Notifier = Arc::new(move |n: &goshi::llm::Notice| {
        sink.lock().unwrap().push(goshi::cli::hints::notice_text(n))
    });
    let transport = Transport::new(Duration::from_secs(5), retries, notifier).unwrap();
    OpenAiBackend::new(
        OpenAiSettings {
            base_url: format!("{}/v1", server.url()),
            api_key: Some("sk-test".into()),
            organization: None,
            project: None,
            server: OpenAiServer::Compatible,
            max_tokens_field: MaxTokensField::Auto,
            api,
        },
        transport,
    )
    .with_cache_dir(cache.to_path_buf())
}

fn tools() -> Vec<ToolDefinition> {
    ["fs.read", "shell.run"]
        .iter()
        .map(|n| ToolDefinition {
            name: n.to_string(),
            description: format!("the {n} tool"),
            parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
        })
        .collect()
}

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: MODEL.into(),
        messages,
        tools: tools(),
        options: RequestOptions {
            max_tokens: 321,
            reasoning_effort: Some("medium".into()),
            ..Default::default()
        },
        no_stream: false,
        prompt_cache_key: None,
    }
}

fn hello() -> ChatRequest {
    request(vec![Message::system("You are goshi."), Message::user("hi")])
}

/// An SSE body with `event:` lines, as OpenAI sends it.
fn sse(events: &[Value]) -> Vec<u8> {
    events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect::<String>()
        .into_bytes()
}

fn stream_reply(events: &[Value]) -> Reply {
    Reply::split("text/event-stream", &sse(events), &[])
}

fn completed(input: u64, output: u64) -> Value {
    json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed",
        "usage": {"input_tokens": input, "output_tokens": output, "total_tokens": input + output}}})
}

fn text_turn(text: &str) -> Vec<Value> {
    let mut events = vec![
        json!({"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}}),
        json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "message", "id": "msg_1", "role": "assistant", "content": []}}),
    ];
    for piece in text.split_inclusive(' ') {
        events.push(
            json!({"type": "response.output_text.delta", "item_id": "msg_1",
            "output_index": 0, "content_index": 0, "delta": piece}),
        );
    }
    events.push(json!({"type": "response.output_text.done", "item_id": "msg_1", "text": text}));
    events.push(json!({"type": "response.output_item.done", "output_index": 0,
        "item": {"type": "message", "id": "msg_1", "content": [{"type": "output_text", "text": text}]}}));
    events.push(completed(12, 3));
    events
}

/// A text delta of message item `m`.
fn delta(text: &str) -> Value {
    json!({"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "delta": text})
}

fn reasoning_item() -> Value {
    json!({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAA-secret"})
}

/// A turn with a reasoning item and two function calls.
fn calls_turn() -> Vec<Value> {
    vec![
        json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "reasoning", "id": "rs_1", "summary": []}}),
        json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "delta": "thinking"}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": reasoning_item()}),
        json!({"type": "response.output_item.added", "output_index": 1, "item": {"type": "function_call",
            "id": "fc_1", "call_id": "call_read", "name": "fs_read", "arguments": ""}}),
        json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 1,
            "delta": "{\"path\":"}),
        json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 1,
            "delta": "\"a.txt\"}"}),
        json!({"type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 1,
            "arguments": "{\"path\":\"a.txt\"}"}),
        json!({"type": "response.output_item.added", "output_index": 2, "item": {"type": "function_call",
            "id": "fc_2", "call_id": "call_run", "name": "shell_run", "arguments": ""}}),
        json!({"type": "response.function_call_arguments.delta", "output_index": 2, "delta": "{}"}),
        json!({"type": "response.output_item.done", "output_index": 2, "item": {"type": "function_call",
            "id": "fc_2", "call_id": "call_run", "name": "shell_run", "arguments": "{}"}}),
        completed(40, 9),
    ]
}

async fn collect(b: &OpenAiBackend, req: &ChatRequest) -> Vec<Result<StreamEvent, LlmError>> {
    let stream = b.stream(req).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), stream.collect::<Vec<_>>())
        .await
        .expect("the stream ended")
}

fn usage(prompt: u64, completion: u64) -> Usage {
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        ..Usage::ZERO
    }
}

fn text_of(events: &[Result<StreamEvent, LlmError>]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::TextDelta(t)) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

fn last_error(events: &[Result<StreamEvent, LlmError>]) -> &LlmError {
    events.last().unwrap().as_ref().unwrap_err()
}

struct Fixture {
    server: FakeServer,
    notes: Notes,
    cache: tempfile::TempDir,
}

fn fixture() -> Fixture {
    Fixture {
        server: FakeServer::start(),
        notes: Notes::default(),
        cache: tempfile::tempdir().unwrap(),
    }
}

impl Fixture {
    fn backend(&self, api: OpenAiApi) -> OpenAiBackend {
        backend(&self.server, api, self.cache.path(), &self.notes, 0)
    }

    fn reply(&self, path: &str, reply: Reply) {
        self.server.push("POST", path, reply);
    }

    fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn streamed_text_survives_any_split() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Responses);
    let text = "Hé, wörld 🌍 — split anywhere";
    let body = sse(&text_turn(text));
    let every_byte: Vec<usize> = (1..body.len()).collect();
    let cut_sets = [
        vec![],
        every_byte,
        vec![1, 2, 3, 100, 101, 102, 103, body.len() - 1],
        (0..body.len()).step_by(17).collect(),
        (0..body.len())
            .filter(|i| i % 7 == 3 || i % 11 == 5)
            .collect(),
    ];
    for cuts in cut_sets {
        f.reply(RESPONSES, Reply::split("text/event-stream", &body, &cuts));
        let events = collect(&b, &hello()).await;
        assert_eq!(text_of(&events), text, "cuts {cuts:?}");
        let tail: Vec<&StreamEvent> = events
            .iter()
            .rev()
            .take(2)
            .map(|e| e.as_ref().unwrap())
            .collect();
        assert_eq!(
            tail,
            [
                &StreamEvent::Usage(usage(12, 3)),
                &StreamEvent::Finish(FinishReason::Stop),
            ]
        );
    }
}

#[tokio::test]
async fn two_function_calls_in_one_turn() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Responses);
    f.reply(RESPONSES, stream_reply(&calls_turn()));
    let turn = b.complete(&hello()).await.unwrap();
    let calls: Vec<(&str, &str, &str)> = turn
        .tool_calls
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("call_read", "fs.read", "{\"path\":\"a.txt\"}"),
            ("call_run", "shell.run", "{}")
        ]
    );
    assert_eq!(turn.finish, Some(FinishReason::ToolCalls));
    assert_eq!(turn.usage, Some(usage(40, 9)));
    assert_eq!(turn.opaque, vec![reasoning_item()]);
    assert_eq!(turn.text, "");
}

#[tokio::test]
async fn incomplete_is_length_with_usage() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Responses);
    let events = [
        delta("cut sh"),
        json!({"type": "response.incomplete", "response": {"status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
            "usage": {"input_tokens": 5, "output_tokens": 321, "total_tokens": 326}}}),
    ];
    f.reply(RESPONSES, stream_reply(&events));
    let turn = b.complete(&hello()).await.unwrap();
    assert_eq!(turn.text, "cut sh");
    assert_eq!(turn.finish, Some(FinishReason::Length));
    assert_eq!(turn.usage.unwrap().total_tokens, 326);
}

#[tokio::test]
async fn failed_response_and_error_event_carry_the_server_message() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Responses);
    let events = [
        delta("par"),
        json!({"type": "response.failed", "response": {"status": "failed",
            "error": {"code": "server_error", "message": "The model crashed"}}}),
    ];
    f.reply(RESPONSES, stream_reply(&events));
    let events = collect(&b, &hello()).await;
    assert_eq!(text_of(&events), "par");
    let e = last_error(&events);
    assert_eq!(e.server_message.as_deref(), Some("The model crashed"));
    assert_eq!(e.code.as_deref(), Some("server_error"));

    f.reply(
        RESPONSES,
        stream_reply(&[json!({"type": "error", "code": "rate_limit_exceeded",
            "message": "Rate limit reached", "param": null, "sequence_number": 3})]),
    );
    let events = collect(&b, &hello()).await;
    assert_eq!(events.len(), 1);
    let e = last_error(&events);
    assert_eq!(e.server_message.as_deref(), Some("Rate limit reached"));
    assert_eq!(e.code.as_deref(), Some("rate_limit_exceeded"));
    assert!(e.to_string().contains("Rate limit reached"));
}

#[tokio::test]
async fn response_completed_ends_the_stream_though_the_connection_stays_open() {
    // Nothing follows `response.completed`: the answer is over, whether or not the server
    // closes the body (else the caller waits for llm.request_timeout and gets an error).
    let f = fixture();
    let b = f.backend(OpenAiApi::Responses);
    f.reply(RESPONSES, stream_reply(&text_turn("all here")).stall());
    let events = collect(&b, &hello()).await;
    assert!(events.iter().all(Result::is_ok), "{events:?}");
    assert_eq!(text_of(&events), "all here");
    assert_eq!(
        events.last().unwrap().as_ref().unwrap(),
        &StreamEvent::Usage(usage(12, 3))
    );
}

#[tokio::test]
async fn a_cut_stream_is_interrupted() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Responses);
    let first = sse(&[delta("half an answ")]);
    f.reply(
        RESPONSES,
        Reply::new(200)
            .header("content-type", "text/event-stream")
            .chunk(first.clone())
            .disconnect(),
    );
    let events = collect(&b, &hello()).await;
    assert_eq!(text_of(&events), "half an answ");
    assert_eq!(last_error(&events).kind, ErrorKind::StreamInterrupted);

    // A clean close before `response.completed` is just as incomplete.
    f.reply(RESPONSES, Reply::split("text/event-stream", &first, &[5]));
    let events = collect(&b, &hello()).await;
    assert_eq!(text_of(&events), "half an answ");
    assert_eq!(last_error(&events).kind, ErrorKind::StreamInterrupted);
}

#[tokio::test]
async fn request_shape_after_a_tool_round_with_reasoning_sent_back() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Responses);
    f.reply(RESPONSES, stream_reply(&calls_turn()));
    f.reply(RESPONSES, stream_reply(&text_turn("done")));

    let mut messages = vec![
        Message::system("You are goshi."),
        Message::user("read a.txt"),
    ];
    let turn = b.complete(&request(messages.clone())).await.unwrap();
    messages.push(turn.to_message());
    messages.push(Message::tool("call_read", "fs.read", "contents of a"));
    messages.push(Message::tool("call_run", "shell.run", "ok"));
    let turn = b.complete(&request(messages)).await.unwrap();
    assert_eq!(turn.text, "done");

    let sent = f.server.requests_to(RESPONSES);
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1].header("authorization").as_deref(),
        Some("Bearer sk-test")
    );
    let body = sent[1].json();
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["instructions"], "You are goshi.");
    assert_eq!(
        body["input"],
        json!([
            {"role": "user", "content": "read a.txt"},
            reasoning_item(),
            {"type": "function_call", "call_id": "call_read", "name": "fs_read", "arguments": "{\"path\":\"a.txt\"}"},
            {"type": "function_call", "call_id": "call_run", "name": "shell_run", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_read", "output": "contents of a"},
            {"type": "function_call_output", "call_id": "call_run", "output": "ok"},
        ])
    );
    assert_eq!(
        body["tools"][0],
        json!({"type": "function", "name": "fs_read", "description": "the fs.read tool",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
            "strict": false})
    );
    assert_eq!(body["tools"][1]["name"], "shell_run");
    assert_eq!(body["tool_choice"], "auto");
    assert_eq!(body["store"], false);
    assert_eq!(body["stream"], true);
    assert_eq!(body["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(body["max_output_tokens"], 321);
    assert_eq!(body["reasoning"], json!({"effort": "medium"}));
    for absent in [
        "messages",
        "temperature",
        "seed",
        "max_tokens",
        "reasoning_effort",
        "parallel_tool_calls",
    ] {
        assert!(body.get(absent).is_none(), "{absent} was sent: {body}");
    }
}

#[tokio::test]
async fn no_stream_reads_the_whole_response_object() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Responses);
    f.reply(
        RESPONSES,
        Reply::json(
            200,
            json!({"id": "resp_1", "object": "response", "status": "completed",
                "output": [reasoning_item(),
                    {"type": "message", "id": "m", "role": "assistant",
                        "content": [{"type": "output_text", "text": "whole", "annotations": []}]},
                    {"type": "function_call", "id": "fc", "call_id": "call_1", "name": "fs_read",
                        "arguments": "{\"path\":\"b\"}"}],
                "usage": {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}}),
        ),
    );
    let mut req = hello();
    req.no_stream = true;
    let turn = b.complete(&req).await.unwrap();
    assert_eq!(turn.text, "whole");
    assert_eq!(turn.tool_calls[0].name, "fs.read");
    assert_eq!(turn.finish, Some(FinishReason::ToolCalls));
    assert_eq!(turn.usage.unwrap().total_tokens, 9);
    assert_eq!(turn.opaque, vec![reasoning_item()]);
    assert_eq!(f.server.requests_to(RESPONSES)[0].json()["stream"], false);
}

#[tokio::test]
async fn refused_parameters_and_retries_use_the_shared_rules() {
    let f = fixture();
    let b = backend(&f.server, OpenAiApi::Responses, f.cache.path(), &f.notes, 1);
    let refusal = json!({"error": {
        "message": "Unsupported parameter: 'temperature' is not supported with this model.",
        "type": "invalid_request_error", "param": "temperature", "code": "unsupported_parameter"}});
    f.reply(RESPONSES, Reply::json(400, refusal));
    f.reply(
        RESPONSES,
        Reply::json(503, json!({"error": {"message": "overloaded"}}))
            .header("retry-after-ms", "10"),
    );
    f.reply(RESPONSES, stream_reply(&text_turn("fine")));
    let mut req = hello();
    req.options.temperature = Some(0.3);
    let events = collect(&b, &req).await;
    assert_eq!(text_of(&events), "fine");
    let sent = f.server.requests_to(RESPONSES);
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[0].json()["temperature"], 0.3);
    assert!(sent[2].json().get("temperature").is_none());
    let notes = f.notes().join("\n");
    assert!(notes.contains("`temperature`"), "{notes}");
    assert!(notes.contains("HTTP 503"), "{notes}");
}

#[tokio::test]
async fn a_refused_reasoning_summary_is_dropped_and_the_summary_streams_as_reasoning() {
    let f = fixture();
    let b = backend(&f.server, OpenAiApi::Responses, f.cache.path(), &f.notes, 1);
    // What OpenAI answers an organization that may not have summaries (the param names the
    // nested field).
    let refusal = json!({"error": {
        "message": "Your organization must be verified to generate reasoning summaries.",
        "type": "invalid_request_error", "param": "reasoning.summary",
        "code": "unsupported_value"}});
    f.reply(RESPONSES, Reply::json(400, refusal));
    let mut events = vec![json!({"type": "response.reasoning_summary_text.delta",
        "item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": "Thinking."})];
    events.extend(text_turn("fine"));
    f.reply(RESPONSES, stream_reply(&events));
    let mut req = hello();
    req.options.reasoning_summary = Some("auto".into());
    let got = collect(&b, &req).await;
    assert_eq!(text_of(&got), "fine");
    assert!(
        got.iter()
            .any(|e| matches!(e, Ok(StreamEvent::ReasoningDelta(t)) if t == "Thinking.")),
        "{got:?}"
    );
    let sent = f.server.requests_to(RESPONSES);
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].json()["reasoning"],
        json!({"effort": "medium", "summary": "auto"})
    );
    assert_eq!(sent[1].json()["reasoning"], json!({"effort": "medium"}));
    assert!(
        f.notes().join("\n").contains("reasoning_summary"),
        "{:?}",
        f.notes()
    );
}

fn switch_refusal() -> Reply {
    Reply::json(
        400,
        json!({"error": {"message": SWITCH_MESSAGE, "type": "invalid_request_error",
            "param": "reasoning_effort", "code": "unsupported_parameter"}}),
    )
}

#[tokio::test]
async fn auto_switches_once_and_remembers_the_choice() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Auto);
    assert_eq!(b.protocol_for(MODEL), (OpenAiApi::Chat, "default"));
    f.reply(CHAT, switch_refusal());
    f.server.set_default(
        "POST",
        RESPONSES,
        stream_reply(&text_turn("answer from responses")),
    );

    let events = collect(&b, &hello()).await;
    assert_eq!(text_of(&events), "answer from responses");
    assert!(events.iter().all(Result::is_ok));
    let chat = f.server.requests_to(CHAT);
    let responses = f.server.requests_to(RESPONSES);
    assert_eq!((chat.len(), responses.len()), (1, 1));
    // The same turn, with reasoning kept rather than dropped.
    assert_eq!(chat[0].json()["reasoning_effort"], "medium");
    assert_eq!(responses[0].json()["reasoning"]["effort"], "medium");
    assert_eq!(
        responses[0].json()["input"],
        json!([{"role": "user", "content": "hi"}])
    );
    let notes = f.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("Responses API") && notes[0].contains(MODEL),
        "{notes:?}"
    );

    // The rest of the session goes straight there, without a word.
    let events = collect(&b, &hello()).await;
    assert_eq!(text_of(&events), "answer from responses");
    assert_eq!(f.server.requests_to(CHAT).len(), 1);
    assert_eq!(f.server.requests_to(RESPONSES).len(), 2);
    assert_eq!(f.notes().len(), 1);
    assert_eq!(
        b.protocol_for(MODEL),
        (OpenAiApi::Responses, "remembered from an earlier switch")
    );
    assert_eq!(b.protocol_for("other-model"), (OpenAiApi::Chat, "default"));

    // So does a later session that shares the cache dir.
    let later = f.backend(OpenAiApi::Auto);
    assert_eq!(
        later.protocol_for(MODEL),
        (OpenAiApi::Responses, "remembered from an earlier switch")
    );
    let events = collect(&later, &hello()).await;
    assert_eq!(text_of(&events), "answer from responses");
    assert_eq!(f.server.requests_to(CHAT).len(), 1);
    assert_eq!(f.server.requests_to(RESPONSES).len(), 3);
    assert_eq!(f.notes().len(), 1);

    // The memory is per cache dir (and per server and model), and settings win over it.
    let elsewhere = tempfile::tempdir().unwrap();
    let fresh = backend(&f.server, OpenAiApi::Auto, elsewhere.path(), &f.notes, 0);
    assert_eq!(fresh.protocol_for(MODEL), (OpenAiApi::Chat, "default"));
    assert_eq!(
        f.backend(OpenAiApi::Chat).protocol_for(MODEL),
        (OpenAiApi::Chat, "configured")
    );
    assert_eq!(
        f.backend(OpenAiApi::Responses).protocol_for(MODEL),
        (OpenAiApi::Responses, "configured")
    );
}

#[tokio::test]
async fn chat_setting_never_switches() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Chat);
    f.reply(CHAT, switch_refusal());
    f.reply(
        CHAT,
        Reply::sse(&[
            r#"{"choices":[{"index":0,"delta":{"content":"chat answer"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ]),
    );
    let events = collect(&b, &hello()).await;
    assert_eq!(text_of(&events), "chat answer");
    assert!(f.server.requests_to(RESPONSES).is_empty());
    let chat = f.server.requests_to(CHAT);
    assert_eq!(chat.len(), 2);
    // The usual fallback instead: the same turn without reasoning_effort.
    assert!(chat[1].json().get("reasoning_effort").is_none());
    assert!(!f.notes().join("\n").contains("Responses API"));
    let memory = f.cache.path().join("goshi/openai-protocols.json");
    assert!(!memory.exists());

    // A refusal the fallback cannot fix says how to get out.
    let refusal = json!({"error": {"message": SWITCH_MESSAGE, "param": "reasoning_effort"}});
    f.reply(CHAT, Reply::json(400, refusal));
    let req = hello();
    let e = b.stream(&req).await.err().unwrap();
    assert!(
        goshi::cli::hints::error_text(&e).contains("llm.openai.api: auto"),
        "{e}"
    );
    assert!(f.server.requests_to(RESPONSES).is_empty());
}

#[tokio::test]
async fn auto_without_the_switch_message_stays_on_chat() {
    let f = fixture();
    let b = f.backend(OpenAiApi::Auto);
    f.reply(
        CHAT,
        Reply::json(
            400,
            json!({"error": {"message": "Unsupported parameter: 'reasoning_effort'",
            "param": "reasoning_effort", "code": "unsupported_parameter"}}),
        ),
    );
    f.reply(
        CHAT,
        Reply::sse(&[
            r#"{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ]),
    );
    let events = collect(&b, &hello()).await;
    assert_eq!(text_of(&events), "ok");
    assert!(f.server.requests_to(RESPONSES).is_empty());
    assert_eq!(b.protocol_for(MODEL), (OpenAiApi::Chat, "default"));
}
