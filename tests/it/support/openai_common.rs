//! Helpers shared by the OpenAI Chat Completions tests (`tests/openai_chat*.rs`): backends
//! wired to the fake server, request and chunk builders, and event collection.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::StreamExt;
use goshi::llm::backend::{Backend, Notifier};
use goshi::llm::http::Transport;
use goshi::llm::openai::{MaxTokensField, OpenAiApi, OpenAiBackend, OpenAiServer, OpenAiSettings};
use goshi::llm::{
    ChatRequest, FinishReason, LlmError, Message, RequestOptions, StreamEvent, ToolDefinition,
};
use serde_json::{json, Value};

use crate::support::{FakeServer, Reply};

/// The Chat Completions path.
pub const CHAT: &str = "/v1/chat/completions";

/// Generous bound so a stuck test fails instead of hanging; never a timing assertion.
pub const EVENTUALLY: Duration = Duration::from_secs(20);

/// The notices a backend gave, in order.
pub type Notes = Arc<Mutex<Vec<String>>>;

/// The notices so far.
pub fn said(n: &Notes) -> Vec<String> {
    n.lock().unwrap().clone()
}

/// Settings for a server at `base` (`http://127.0.0.1:PORT`).
pub fn settings(base: &str, server: OpenAiServer, key: Option<&str>) -> OpenAiSettings {
    OpenAiSettings {
        base_url: format!("{base}/v1"),
        api_key: key.map(str::to_string),
        organization: None,
        project: None,
        server,
        max_tokens_field: MaxTokensField::Auto,
        api: OpenAiApi::Chat,
    }
}

/// A transport with the given idle timeout and retry count, its notices collected.
pub fn transport(timeout_ms: u64, retries: u32) -> (Transport, Notes) {
    let notes: Notes = Arc::default();
    let sink = notes.clone();
    let notifier: Notifier = Arc::new(move |n: &goshi::llm::Notice| {
        sink.lock().unwrap().push(goshi::cli::hints::notice_text(n))
    });
    let t = Transport::new(Duration::from_millis(timeout_ms), retries, notifier).unwrap();
    (t, notes)
}

/// A backend over `settings`.
pub fn backend_for(
    settings: OpenAiSettings,
    timeout_ms: u64,
    retries: u32,
) -> (OpenAiBackend, Notes) {
    let (t, notes) = transport(timeout_ms, retries);
    (OpenAiBackend::new(settings, t), notes)
}

/// A backend for a compatible server at `base` with key `sk-test`.
pub fn compat_with(base: &str, timeout_ms: u64, retries: u32) -> (OpenAiBackend, Notes) {
    backend_for(
        settings(base, OpenAiServer::Compatible, Some("sk-test")),
        timeout_ms,
        retries,
    )
}

/// A backend for the fake server as a compatible server: 5 s timeout, no retries.
pub fn compat(server: &FakeServer) -> (OpenAiBackend, Notes) {
    compat_with(&server.url(), 5_000, 0)
}

/// A backend for the fake server playing OpenAI itself (key `sk-test`).
pub fn openai(server: &FakeServer, retries: u32) -> (OpenAiBackend, Notes) {
    backend_for(
        settings(&server.url(), OpenAiServer::OpenAi, Some("sk-test")),
        5_000,
        retries,
    )
}

/// A plain request: system + user message, 100 tokens, no tools.
pub fn request(model: &str) -> ChatRequest {
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

/// A tool definition with one `path` argument.
pub fn tool(name: &str) -> ToolDefinition {
    ToolDefinition {
        name: name.into(),
        description: format!("the {name} tool"),
        parameters: json!({
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"]
        }),
    }
}

/// A request offering `fs.read` and `fs.list`.
pub fn tool_request(model: &str) -> ChatRequest {
    ChatRequest {
        tools: vec![tool("fs.read"), tool("fs.list")],
        ..request(model)
    }
}

/// Sends `req` and drains the stream: the events before the first error, and that error
/// (from the request itself or from the stream).
pub async fn run(
    backend: &OpenAiBackend,
    req: &ChatRequest,
) -> (Vec<StreamEvent>, Option<LlmError>) {
    let fut = async {
        let mut stream = match backend.stream(req).await {
            Ok(s) => s,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut events = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(ev) => events.push(ev),
                Err(e) => {
                    // The stream must end after its error.
                    assert!(stream.next().await.is_none(), "items after an error");
                    return (events, Some(e));
                }
            }
        }
        (events, None)
    };
    tokio::time::timeout(EVENTUALLY, fut)
        .await
        .expect("the request did not finish")
}

/// Like [`run`], for a request that must succeed.
pub async fn run_ok(backend: &OpenAiBackend, req: &ChatRequest) -> Vec<StreamEvent> {
    let (events, err) = run(backend, req).await;
    if let Some(e) = err {
        panic!("unexpected error: {e}\n events: {events:?}");
    }
    events
}

/// Like [`run`], for a request that must fail; returns the error.
pub async fn run_err(backend: &OpenAiBackend, req: &ChatRequest) -> LlmError {
    run(backend, req).await.1.expect("the request should fail")
}

/// A `chat.completion.chunk` with one choice carrying `delta` (and `finish_reason`).
pub fn chunk(delta: Value, finish: Option<&str>) -> String {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
    })
    .to_string()
}

/// The first chunk: the role, no content.
pub fn role_chunk() -> String {
    chunk(json!({"role": "assistant", "content": ""}), None)
}

/// A text delta chunk.
pub fn text_chunk(t: &str) -> String {
    chunk(json!({"content": t}), None)
}

/// The chunk with the finish reason and an empty delta.
pub fn finish_chunk(reason: &str) -> String {
    chunk(json!({}), Some(reason))
}

/// The final usage chunk (`stream_options.include_usage`): no choices.
pub fn usage_chunk(prompt: u64, completion: u64, total: u64) -> String {
    json!({
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}
    })
    .to_string()
}

/// A tool-call delta chunk for call `index` (id and name only on the first one).
pub fn tool_chunk(index: usize, id: Option<&str>, name: Option<&str>, args: &str) -> String {
    let mut call = json!({"index": index, "function": {"arguments": args}});
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    if let Some(name) = name {
        call["function"]["name"] = json!(name);
    }
    chunk(json!({"tool_calls": [call]}), None)
}

/// The event that starts tool call `index`.
pub fn call_start(index: usize, id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolCallStart {
        index,
        id: id.into(),
        name: name.into(),
    }
}

/// The event with a fragment of tool call `index`'s arguments.
pub fn call_args(index: usize, fragment: &str) -> StreamEvent {
    StreamEvent::ToolCallArgumentsDelta {
        index,
        fragment: fragment.into(),
    }
}

/// Text events joined.
pub fn text_of(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

/// Serializes the tests that set `XDG_CACHE_HOME` (the environment is process-wide), and
/// points the user cache dir at a fresh temporary dir for as long as the guard lives.
pub struct CacheDir {
    pub dir: tempfile::TempDir,
    _guard: MutexGuard<'static, ()>,
}

static ENV_LOCK: Mutex<()> = Mutex::new(());

impl CacheDir {
    /// Takes the lock and sets `XDG_CACHE_HOME` to a new temporary dir.
    pub fn isolate() -> CacheDir {
        let guard = ENV_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("XDG_CACHE_HOME", dir.path());
        CacheDir { dir, _guard: guard }
    }

    /// The shutdown-date cache file goshi writes under this dir.
    pub fn file(&self) -> std::path::PathBuf {
        self.dir
            .path()
            .join("goshi")
            .join("openai-shutdown-dates.json")
    }
}

/// A short successful answer: "ok", then stop.
pub fn ok_stream() -> Reply {
    Reply::sse(&[text_chunk("ok"), finish_chunk("stop"), "[DONE]".to_string()])
}

/// The events of [`ok_stream`].
pub fn ok_events() -> Vec<StreamEvent> {
    vec![
        StreamEvent::TextDelta("ok".into()),
        StreamEvent::Finish(FinishReason::Stop),
    ]
}

/// An OpenAI-style error body.
pub fn error_body(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

/// The JSON bodies of the chat requests so far.
pub fn bodies(server: &FakeServer) -> Vec<Value> {
    server.requests_to(CHAT).iter().map(|r| r.json()).collect()
}
