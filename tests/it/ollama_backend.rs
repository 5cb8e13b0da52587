//! The Ollama backend against the in-repo fake server: streaming, tool calls, errors,
//! retries, the tools fallback, model listing and probing.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use goshi::llm::backend::{Backend, EventStream, Notifier};
use goshi::llm::http::Transport;
use goshi::llm::ollama::{probe, ModelInfo, OllamaBackend};
use goshi::llm::{
    ChatRequest, ErrorKind, FinishReason, LlmError, Message, RequestOptions, StreamEvent, ToolCall,
    ToolDefinition, Usage,
};
use serde_json::{json, Value};
use support::*;

/// Generous bound so a stuck test fails instead of hanging; never a timing assertion.
const EVENTUALLY: Duration = Duration::from_secs(10);

type Notes = Arc<Mutex<Vec<String>>>;

fn backend_with(url: &str, timeout_ms: u64, retries: u32) -> (OllamaBackend, Notes) {
    let notes: Notes = Arc::default();
    let sink = notes.clone();
    let notifier: Notifier = Arc::new(move |n: &goshi::llm::Notice| {
        sink.lock().unwrap().push(goshi::cli::hints::notice_text(n))
    });
    let transport = Transport::new(Duration::from_millis(timeout_ms), retries, notifier).unwrap();
    (OllamaBackend::new(url.to_string(), transport), notes)
}

fn backend(server: &FakeServer) -> (OllamaBackend, Notes) {
    backend_with(&server.url(), 5_000, 0)
}

fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::system("be brief"), Message::user("hi")],
        tools: vec![],
        options: RequestOptions {
            max_tokens: 100,
            ..Default::default()
        },
        no_stream: false,
    }
}

fn tool(name: &str) -> ToolDefinition {
    ToolDefinition {
        name: name.into(),
        description: format!("the {name} tool"),
        parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
    }
}

fn tool_request(model: &str) -> ChatRequest {
    ChatRequest {
        tools: vec![tool("fs.read"), tool("fs.list")],
        ..request(model)
    }
}

fn text(t: &str) -> Value {
    json!({"model": "m", "message": {"role": "assistant", "content": t}, "done": false})
}

fn done(reason: &str) -> Value {
    json!({"model": "m", "message": {"role": "assistant", "content": ""}, "done": true,
           "done_reason": reason, "prompt_eval_count": 12, "eval_count": 30,
           "total_duration": 123456})
}

fn show(caps: &[&str]) -> Reply {
    Reply::json(
        200,
        json!({"modelfile": "FROM x", "details": {}, "capabilities": caps}),
    )
}

async fn collect(stream: EventStream) -> Vec<Result<StreamEvent, LlmError>> {
    tokio::time::timeout(EVENTUALLY, stream.collect::<Vec<_>>())
        .await
        .expect("stream did not end")
}

async fn events(b: &OllamaBackend, req: &ChatRequest) -> Vec<Result<StreamEvent, LlmError>> {
    collect(b.stream(req).await.unwrap()).await
}

fn ok(items: Vec<Result<StreamEvent, LlmError>>) -> Vec<StreamEvent> {
    items.into_iter().map(|e| e.unwrap()).collect()
}

fn last_err(items: &[Result<StreamEvent, LlmError>]) -> &LlmError {
    items.last().unwrap().as_ref().unwrap_err()
}

const USAGE: StreamEvent = StreamEvent::Usage(Usage {
    prompt_tokens: 12,
    completion_tokens: 30,
    total_tokens: 42,
});

#[tokio::test]
async fn streamed_text_split_at_arbitrary_bytes() {
    let body = format!("{}\n{}\r\n\n{}\n", text("Hé "), text("🦀!"), done("stop"));
    let bytes = body.as_bytes();
    // Cuts inside "é", inside the crab, between CR and LF, and inside JSON keys.
    let crab = body.find('🦀').unwrap();
    let cuts = [
        1,
        body.find('é').unwrap() + 1,
        crab + 2,
        crab + 3,
        body.find("\r\n").unwrap() + 1,
    ];
    let server = FakeServer::start();
    server.push(
        "POST",
        "/api/chat",
        Reply::split("application/x-ndjson", bytes, &cuts),
    );
    let (b, _) = backend(&server);
    assert_eq!(b.provider_name(), "Ollama");
    let got = ok(events(&b, &request("llama3.1:8b")).await);
    assert_eq!(
        got,
        vec![
            StreamEvent::TextDelta("Hé ".into()),
            StreamEvent::TextDelta("🦀!".into()),
            StreamEvent::Finish(FinishReason::Stop),
            USAGE,
        ]
    );
    let sent = server.requests_to("/api/chat")[0].json();
    assert_eq!(sent["stream"], true);
    assert!(sent.get("tools").is_none(), "no tools offered: {sent}");
}

#[tokio::test]
async fn text_arrives_before_the_stream_stalls_then_times_out() {
    let server = FakeServer::start();
    let reply = Reply::new(200)
        .header("content-type", "application/x-ndjson")
        .chunk(format!("{}\n", text("first")))
        .stall();
    server.push("POST", "/api/chat", reply);
    let (b, _) = backend_with(&server.url(), 400, 0);
    let mut stream = b.stream(&request("m")).await.unwrap();
    // Delivered per network read, long before the idle timeout.
    let first = tokio::time::timeout(EVENTUALLY, stream.next())
        .await
        .unwrap();
    assert_eq!(
        first.unwrap().unwrap(),
        StreamEvent::TextDelta("first".into())
    );
    let rest = collect(stream).await;
    assert_eq!(rest.len(), 1);
    let e = last_err(&rest);
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(e.to_string().contains("llm.request_timeout"), "{e}");
}

#[tokio::test]
async fn two_tool_calls_with_object_arguments_get_ids() {
    let server = FakeServer::start();
    server.push("POST", "/api/show", show(&["completion", "tools"]));
    let calls = json!({"model": "m", "done": false, "message": {"role": "assistant", "content": "",
    "tool_calls": [
        {"function": {"index": 0, "name": "fs_read", "arguments": {"path": "a.txt"}}},
        {"function": {"index": 1, "name": "fs_list", "arguments": {"path": "."}}}
    ]}});
    server.push(
        "POST",
        "/api/chat",
        Reply::ndjson(&[text("Let me look."), calls, done("stop")]),
    );
    let (b, notes) = backend(&server);
    let turn = b.complete(&tool_request("qwen2.5")).await.unwrap();
    assert_eq!(turn.text, "Let me look.");
    assert_eq!(
        turn.tool_calls,
        vec![
            ToolCall {
                id: "call_0".into(),
                name: "fs.read".into(),
                arguments: r#"{"path":"a.txt"}"#.into()
            },
            ToolCall {
                id: "call_1".into(),
                name: "fs.list".into(),
                arguments: r#"{"path":"."}"#.into()
            },
        ]
    );
    assert_eq!(turn.finish, Some(FinishReason::ToolCalls));
    assert_eq!(
        turn.usage,
        Some(Usage {
            prompt_tokens: 12,
            completion_tokens: 30,
            total_tokens: 42
        })
    );
    assert!(notes.lock().unwrap().is_empty());
    assert_eq!(
        server.requests_to("/api/show")[0].json(),
        json!({"model": "qwen2.5"})
    );
}

#[tokio::test]
async fn request_shape_tools_options_and_tool_results() {
    let server = FakeServer::start();
    server.push("POST", "/api/show", show(&["tools"]));
    server.push("POST", "/api/chat", Reply::ndjson(&[done("stop")]));
    let (b, _) = backend(&server);
    let mut req = tool_request("llama3.1:8b");
    req.options.temperature = Some(0.2);
    req.options.seed = Some(42);
    req.messages.push(Message::Assistant {
        content: String::new(),
        tool_calls: vec![ToolCall {
            id: "call_0".into(),
            name: "fs.read".into(),
            arguments: r#"{"path":"a.txt"}"#.into(),
        }],
        opaque: vec![],
    });
    req.messages
        .push(Message::tool("call_0", "fs.read", "hello"));
    events(&b, &req).await;
    let sent = server.requests_to("/api/chat")[0].json();
    assert_eq!(sent["model"], "llama3.1:8b");
    assert_eq!(sent["stream"], true);
    assert_eq!(
        sent["options"],
        json!({"num_predict": 100, "temperature": 0.2, "seed": 42})
    );
    assert_eq!(sent["tools"][0]["type"], "function");
    assert_eq!(sent["tools"][0]["function"]["name"], "fs_read");
    assert_eq!(sent["tools"][1]["function"]["name"], "fs_list");
    assert_eq!(
        sent["tools"][0]["function"]["description"],
        "the fs.read tool"
    );
    assert_eq!(sent["tools"][0]["function"]["parameters"]["type"], "object");
    let msgs = sent["messages"].as_array().unwrap();
    assert_eq!(msgs[0], json!({"role": "system", "content": "be brief"}));
    let call = &msgs[2]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "fs_read");
    assert_eq!(
        call["arguments"],
        json!({"path": "a.txt"}),
        "an object, not a string"
    );
    assert_eq!(msgs[3]["role"], "tool");
    assert_eq!(msgs[3]["tool_name"], "fs_read");
    assert_eq!(msgs[3]["content"], "hello");
}

#[tokio::test]
async fn no_stream_answer_gives_the_same_events() {
    let server = FakeServer::start();
    let mut answer = done("length");
    answer["message"]["content"] = json!("a whole answer");
    server.push("POST", "/api/chat", Reply::json(200, answer));
    let (b, _) = backend(&server);
    let mut req = request("m");
    req.no_stream = true;
    let got = ok(events(&b, &req).await);
    assert_eq!(
        got,
        vec![
            StreamEvent::TextDelta("a whole answer".into()),
            StreamEvent::Finish(FinishReason::Length),
            USAGE,
        ]
    );
    assert_eq!(server.requests_to("/api/chat")[0].json()["stream"], false);
}

#[tokio::test]
async fn usage_and_done_reason_length() {
    let server = FakeServer::start();
    server.push(
        "POST",
        "/api/chat",
        Reply::ndjson(&[text("cut"), done("length")]),
    );
    let (b, _) = backend(&server);
    let got = ok(events(&b, &request("m")).await);
    assert_eq!(got[1], StreamEvent::Finish(FinishReason::Length));
    assert_eq!(got[2], USAGE, "usage comes last");
    assert_eq!(got.len(), 3);
}

#[tokio::test]
async fn error_line_mid_stream_ends_with_the_servers_text() {
    let server = FakeServer::start();
    let lines = [
        text("partial"),
        json!({"error": "model runner has unexpectedly stopped"}),
        done("stop"),
    ];
    server.push("POST", "/api/chat", Reply::ndjson(&lines));
    let (b, _) = backend(&server);
    let got = events(&b, &request("m")).await;
    assert_eq!(got.len(), 2, "the stream ends at the error: {got:?}");
    assert_eq!(
        got[0].as_ref().unwrap(),
        &StreamEvent::TextDelta("partial".into())
    );
    let e = last_err(&got);
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert_eq!(
        e.server_message.as_deref(),
        Some("model runner has unexpectedly stopped")
    );
}

#[tokio::test]
async fn malformed_line_is_an_error_event() {
    let server = FakeServer::start();
    let body = format!(
        "{}\n{{\"message\": {{\"content\": \"oops\"\n{}\n",
        text("ok"),
        done("stop")
    );
    server.push(
        "POST",
        "/api/chat",
        Reply::split("application/x-ndjson", body.as_bytes(), &[]),
    );
    let (b, _) = backend(&server);
    let got = events(&b, &request("m")).await;
    assert_eq!(got.len(), 2);
    let e = last_err(&got);
    assert_eq!(e.kind, ErrorKind::Protocol);
    assert!(e.message.contains("malformed"), "{e}");
}

#[tokio::test]
async fn model_not_found_says_how_to_pull_it() {
    let server = FakeServer::start();
    let body = json!({"error": "model \"llama9\" not found, try pulling it first"});
    server.push("POST", "/api/chat", Reply::json(404, body));
    let (b, _) = backend(&server);
    let e = b.stream(&request("llama9")).await.err().unwrap();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert_eq!(e.status, Some(404));
    assert_eq!(e.message, "model llama9 not found");
    assert!(
        goshi::cli::hints::hint(&e)
            .as_deref()
            .unwrap()
            .contains("`ollama pull llama9`"),
        "{e}"
    );
    assert!(e
        .server_message
        .as_deref()
        .unwrap()
        .contains("try pulling it first"));
}

#[tokio::test]
async fn server_error_is_retried_then_succeeds() {
    let server = FakeServer::start();
    let busy = Reply::json(500, json!({"error": "llama runner process has terminated"}))
        .header("retry-after", "0");
    server.push("POST", "/api/chat", busy);
    server.push(
        "POST",
        "/api/chat",
        Reply::ndjson(&[text("fine"), done("stop")]),
    );
    let (b, notes) = backend_with(&server.url(), 5_000, 2);
    let got = ok(events(&b, &request("m")).await);
    assert_eq!(got[0], StreamEvent::TextDelta("fine".into()));
    assert_eq!(server.requests_to("/api/chat").len(), 2);
    let notes = notes.lock().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("HTTP 500") && n.contains("retrying")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn connection_refused_says_to_start_ollama() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (b, _) = backend_with(&url, 2_000, 0);
    let e = b.stream(&request("m")).await.err().unwrap();
    assert_eq!(e.kind, ErrorKind::Connect);
    let hint = goshi::cli::hints::hint(&e).unwrap();
    assert!(hint.contains("ollama serve"), "{hint}");
    assert!(e.message.contains(&url), "{e}");
    assert!(
        hint.contains("OLLAMA_HOST") && hint.contains("llm.local.url"),
        "{hint}"
    );
}

#[tokio::test]
async fn an_address_without_a_scheme_is_explained_not_retried() {
    // `host:port` is what OLLAMA_HOST usually holds; as a URL it has the scheme `localhost`.
    // No server can ever answer it, so it is not retried, and the hint is about the address.
    let (b, notes) = backend_with("localhost:11434", 2_000, 2);
    let e = b.stream(&request("m")).await.err().unwrap();
    assert!(
        notes.lock().unwrap().is_empty(),
        "{:?}",
        notes.lock().unwrap()
    );
    assert!(!e.is_retryable(), "{e:?}");
    assert!(e.message.contains("localhost:11434/api/chat"), "{e}");
    let hint = goshi::cli::hints::hint(&e).unwrap();
    assert!(hint.contains("http://"), "{hint}");
    assert!(!hint.contains("ollama serve"), "{hint}");
}

#[tokio::test]
async fn disconnect_or_early_close_is_stream_interrupted() {
    let server = FakeServer::start();
    let cut = Reply::new(200)
        .header("content-type", "application/x-ndjson")
        .chunk(format!("{}\n", text("half")))
        .disconnect();
    server.push("POST", "/api/chat", cut);
    // A clean close without the final `done: true` line.
    server.push("POST", "/api/chat", Reply::ndjson(&[text("half")]));
    let (b, _) = backend(&server);
    for _ in 0..2 {
        let got = events(&b, &request("m")).await;
        assert_eq!(
            got[0].as_ref().unwrap(),
            &StreamEvent::TextDelta("half".into())
        );
        let e = last_err(&got);
        assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{e}");
        assert!(e.message.starts_with("stream interrupted"), "{e}");
    }
}

fn offered_tools(r: &Recorded) -> bool {
    r.json().get("tools").is_some()
}

#[tokio::test]
async fn tools_unsupported_per_api_show_drops_tools_with_one_notice() {
    let server = FakeServer::start();
    server.set_default("POST", "/api/show", show(&["completion"]));
    server.set_default(
        "POST",
        "/api/chat",
        Reply::ndjson(&[text("no tools"), done("stop")]),
    );
    let (b, notes) = backend(&server);
    for _ in 0..2 {
        let got = ok(events(&b, &tool_request("gemma:2b")).await);
        assert_eq!(got[1], StreamEvent::Finish(FinishReason::Stop));
    }
    let chats = server.requests_to("/api/chat");
    assert_eq!(chats.len(), 2);
    assert!(!chats.iter().any(offered_tools));
    assert_eq!(
        server.requests_to("/api/show").len(),
        1,
        "the answer is cached"
    );
    let notes = notes.lock().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("model gemma:2b cannot call tools; continuing without them"));
    assert!(notes[0].contains("`ollama show gemma:2b`"));
}

#[tokio::test]
async fn tools_unsupported_400_resends_once_without_tools() {
    let server = FakeServer::start();
    // An older server: /api/show has no capabilities, so only the chat answer tells.
    server.set_default(
        "POST",
        "/api/show",
        Reply::json(200, json!({"modelfile": "FROM x"})),
    );
    let refusal = json!({"error": "registry.ollama.ai/library/gemma:2b does not support tools"});
    server.push("POST", "/api/chat", Reply::json(400, refusal));
    server.set_default(
        "POST",
        "/api/chat",
        Reply::ndjson(&[text("plain"), done("stop")]),
    );
    let (b, notes) = backend_with(&server.url(), 5_000, 3);
    for _ in 0..2 {
        let got = ok(events(&b, &tool_request("gemma:2b")).await);
        assert_eq!(got[0], StreamEvent::TextDelta("plain".into()));
    }
    let chats = server.requests_to("/api/chat");
    assert_eq!(
        chats.len(),
        3,
        "one refused request, one resend, one later turn"
    );
    assert!(offered_tools(&chats[0]));
    assert!(!offered_tools(&chats[1]) && !offered_tools(&chats[2]));
    assert_eq!(server.requests_to("/api/show").len(), 1);
    assert_eq!(
        notes.lock().unwrap().len(),
        1,
        "{:?}",
        notes.lock().unwrap()
    );
}

#[tokio::test]
async fn tools_refused_twice_does_not_loop() {
    let server = FakeServer::start();
    let refusal = json!({"error": "m does not support tools"});
    server.set_default("POST", "/api/show", Reply::new(500));
    server.set_default("POST", "/api/chat", Reply::json(400, refusal));
    let (b, _) = backend(&server);
    let e = b.stream(&tool_request("m")).await.err().unwrap();
    assert_eq!(e.kind, ErrorKind::ToolsUnsupported);
    assert_eq!(server.requests_to("/api/chat").len(), 2);
}

#[tokio::test]
async fn list_models_reads_api_tags() {
    let server = FakeServer::start();
    let tags = json!({"models": [
        {"name": "llama3.1:8b", "model": "llama3.1:8b", "size": 4920753328u64,
         "modified_at": "2024-08-01T10:00:00Z", "digest": "abc", "details": {"family": "llama"}},
        {"name": "qwen2.5:latest", "modified_at": "2024-09-01T10:00:00Z"}
    ]});
    server.push("GET", "/api/tags", Reply::json(200, tags));
    server.push(
        "GET",
        "/api/tags",
        Reply::text(404, "text/plain", "404 page not found"),
    );
    let (b, _) = backend(&server);
    let models = b.installed_models().await.unwrap();
    assert_eq!(
        models,
        vec![
            ModelInfo {
                name: "llama3.1:8b".into(),
                size: Some(4920753328)
            },
            ModelInfo {
                name: "qwen2.5:latest".into(),
                size: None
            },
        ]
    );
    let e = b.installed_models().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        goshi::cli::hints::error_text(&e).contains("OLLAMA_HOST"),
        "{e}"
    );
}

#[tokio::test]
async fn probe_needs_a_timely_200() {
    let budget = Duration::from_millis(500);
    let server = FakeServer::start();
    server.push("GET", "/api/tags", Reply::json(200, json!({"models": []})));
    assert!(probe(&server.url(), budget).await);
    // Unscripted routes answer 599.
    assert!(!probe(&server.url(), budget).await);
    server.push("GET", "/api/tags", Reply::hang());
    assert!(!probe(&server.url(), budget).await);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert!(!probe(&format!("http://127.0.0.1:{port}"), budget).await);
}
