//! The two wire formats behind one scripting interface, for `tests/backend_contract.rs`.
//!
//! A scenario is written once as [`Step`]s; [`Wire`] renders it the way each server sends
//! it (OpenAI Chat Completions as SSE `chat.completion.chunk`s at `URL/v1`, Ollama's native
//! `/api/chat` as NDJSON at `URL`), so both backends face the same answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use goshi::llm::backend::{Backend, Notifier};
use goshi::llm::http::Transport;
use goshi::llm::ollama::OllamaBackend;
use goshi::llm::openai::{MaxTokensField, OpenAiApi, OpenAiBackend, OpenAiServer, OpenAiSettings};
use goshi::llm::{
    ChatRequest, FinishReason, LlmError, Message, RequestOptions, StreamEvent, ToolDefinition,
};
use serde_json::{json, Value};

use crate::support::{FakeServer, Recorded, Reply};

/// The model every scenario asks for.
pub const MODEL: &str = "test-model";
/// Generous bound so a stuck test fails instead of hanging; never a timing assertion.
pub const EVENTUALLY: Duration = Duration::from_secs(20);
/// The idle timeout of the timeout scenarios (`llm.request_timeout`).
pub const SHORT_TIMEOUT: Duration = Duration::from_millis(300);
/// The idle timeout everywhere else: long enough that a busy machine never trips it.
pub const LONG_TIMEOUT: Duration = Duration::from_secs(10);

/// One part of a model's answer, independent of the wire.
#[derive(Debug, Clone)]
pub enum Step {
    /// A piece of text.
    Text(String),
    /// A tool call: the server's call id (None: the server gives none), the wire name
    /// (`fs_read`) and the arguments.
    Call {
        /// The call id the server sends, if any.
        id: Option<String>,
        /// The wire-safe tool name.
        name: String,
        /// The arguments object.
        args: Value,
    },
    /// The end: why the model stopped, and (prompt, completion) token counts if reported.
    Finish {
        /// `Stop`, `Length` or `ToolCalls`.
        reason: FinishReason,
        /// (prompt, completion) tokens.
        usage: Option<(u64, u64)>,
    },
}

/// A text step.
pub fn text(t: &str) -> Step {
    Step::Text(t.to_string())
}

/// A tool-call step.
pub fn call(id: Option<&str>, name: &str, args: Value) -> Step {
    Step::Call {
        id: id.map(str::to_string),
        name: name.to_string(),
        args,
    }
}

/// A finish step.
pub fn finish(reason: FinishReason, usage: Option<(u64, u64)>) -> Step {
    Step::Finish { reason, usage }
}

/// What the backend told the user (retry notices and the like).
pub type Notes = Arc<Mutex<Vec<String>>>;

/// Which backend and wire format a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// OpenAI Chat Completions, SSE, at `URL/v1`.
    OpenAi,
    /// Ollama's native API, NDJSON, at `URL`.
    Ollama,
}

/// Both wires.
pub const BOTH: [Wire; 2] = [Wire::OpenAi, Wire::Ollama];

impl Wire {
    /// The path chat requests go to.
    pub fn chat_path(self) -> &'static str {
        match self {
            Wire::OpenAi => "/v1/chat/completions",
            Wire::Ollama => "/api/chat",
        }
    }

    /// The backend's provider name.
    pub fn provider_name(self) -> &'static str {
        match self {
            Wire::OpenAi => "OpenAI",
            Wire::Ollama => "Ollama",
        }
    }

    /// The content type of a streamed answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Wire::OpenAi => "text/event-stream",
            Wire::Ollama => "application/x-ndjson",
        }
    }

    /// One wire message framed as the stream frames it (`data: X\n\n` or `X\n`).
    pub fn frame(self, payload: &str) -> String {
        match self {
            Wire::OpenAi => format!("data: {payload}\n\n"),
            Wire::Ollama => format!("{payload}\n"),
        }
    }

    /// The streamed answer for `steps`, as bytes. Without a [`Step::Finish`] the stream
    /// just stops (no `[DONE]`, no `done: true`), as a broken one would.
    pub fn stream_body(self, steps: &[Step]) -> Vec<u8> {
        let payloads = match self {
            Wire::OpenAi => openai_chunks(steps),
            Wire::Ollama => ollama_lines(steps),
        };
        payloads
            .iter()
            .map(|p| self.frame(p))
            .collect::<String>()
            .into_bytes()
    }

    /// The streamed answer for `steps`, cut into network writes at `cuts` (byte offsets).
    pub fn split_reply(self, steps: &[Step], cuts: &[usize]) -> Reply {
        Reply::split(self.content_type(), &self.stream_body(steps), cuts)
    }

    /// The streamed answer for `steps`, one wire message per network write.
    pub fn reply(self, steps: &[Step]) -> Reply {
        let payloads = match self {
            Wire::OpenAi => openai_chunks(steps),
            Wire::Ollama => ollama_lines(steps),
        };
        payloads.iter().fold(
            Reply::new(200).header("content-type", self.content_type()),
            |r, p| r.chunk(self.frame(p)),
        )
    }

    /// The whole (not streamed) answer for `steps`.
    pub fn whole_reply(self, steps: &[Step]) -> Reply {
        Reply::json(200, self.whole_json(steps))
    }

    /// The body of [`Wire::whole_reply`], as bytes.
    pub fn whole_body(self, steps: &[Step]) -> Vec<u8> {
        self.whole_json(steps).to_string().into_bytes()
    }

    /// The whole (not streamed) answer object for `steps`.
    fn whole_json(self, steps: &[Step]) -> Value {
        let texts: String = steps
            .iter()
            .filter_map(|s| match s {
                Step::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        let calls: Vec<(Option<&String>, &String, &Value)> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Call { id, name, args } => Some((id.as_ref(), name, args)),
                _ => None,
            })
            .collect();
        let (reason, usage) = steps
            .iter()
            .find_map(|s| match s {
                Step::Finish { reason, usage } => Some((reason.clone(), *usage)),
                _ => None,
            })
            .expect("a whole answer needs a Finish step");
        match self {
            Wire::OpenAi => {
                let mut message = json!({"role": "assistant", "content": texts});
                if !calls.is_empty() {
                    message["tool_calls"] = calls
                        .iter()
                        .map(|(id, name, args)| {
                            let mut c = json!({"type": "function",
                                "function": {"name": name, "arguments": args.to_string()}});
                            if let Some(id) = id {
                                c["id"] = json!(id);
                            }
                            c
                        })
                        .collect();
                }
                let mut body = json!({"id": "chatcmpl-1", "object": "chat.completion",
                    "model": MODEL, "choices": [{"index": 0, "message": message,
                    "finish_reason": openai_reason(&reason)}]});
                if let Some((p, c)) = usage {
                    body["usage"] =
                        json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c});
                }
                body
            }
            Wire::Ollama => {
                let mut message = json!({"role": "assistant", "content": texts});
                if !calls.is_empty() {
                    message["tool_calls"] = calls
                        .iter()
                        .enumerate()
                        .map(|(i, (id, name, args))| ollama_call(i, *id, name, args))
                        .collect();
                }
                let mut body = json!({"model": MODEL, "created_at": "2026-01-01T00:00:00Z",
                    "message": message, "done": true, "done_reason": ollama_reason(&reason)});
                if let Some((p, c)) = usage {
                    body["prompt_eval_count"] = json!(p);
                    body["eval_count"] = json!(c);
                }
                body
            }
        }
    }

    /// The server's answer when `model` does not exist.
    pub fn model_not_found(self, model: &str) -> Reply {
        match self {
            Wire::OpenAi => Reply::json(
                404,
                json!({"error": {"message": format!("The model `{model}` does not exist or you do not have access to it."),
                    "type": "invalid_request_error", "param": null, "code": "model_not_found"}}),
            ),
            Wire::Ollama => Reply::json(
                404,
                json!({"error": format!("model \"{model}\" not found, try pulling it first")}),
            ),
        }
    }

    /// A 500 in the server's error shape, asking for an immediate retry.
    pub fn server_error(self) -> Reply {
        let body = match self {
            Wire::OpenAi => json!({"error": {"message": "boom", "type": "server_error"}}),
            Wire::Ollama => json!({"error": "boom"}),
        };
        Reply::json(500, body).header("Retry-After", "0")
    }

    /// A JSON payload of the right syntax but the wrong types for this wire.
    pub fn wrong_types(self) -> &'static str {
        match self {
            Wire::OpenAi => r#"{"choices":[{"index":0,"delta":{"content":5}}]}"#,
            Wire::Ollama => r#"{"message":{"role":"assistant","content":5},"done":false}"#,
        }
    }

    /// A fresh fake server and this wire's backend talking to it (`retries` retries,
    /// `timeout` idle timeout), collecting notices.
    pub fn harness(self, timeout: Duration, retries: u32) -> Harness {
        let server = FakeServer::start();
        let notes: Notes = Arc::default();
        let sink = notes.clone();
        let notifier: Notifier = Arc::new(move |n: &goshi::llm::Notice| {
            sink.lock().unwrap().push(goshi::cli::hints::notice_text(n))
        });
        let transport = Transport::new(timeout, retries, notifier).unwrap();
        let backend: Arc<dyn Backend> = match self {
            Wire::OpenAi => Arc::new(OpenAiBackend::new(
                OpenAiSettings {
                    base_url: format!("{}/v1", server.url()),
                    api_key: Some("sk-contract".into()),
                    organization: None,
                    project: None,
                    // A compatible server: no model lifecycle look-ups on the side.
                    server: OpenAiServer::Compatible,
                    max_tokens_field: MaxTokensField::Auto,
                    api: OpenAiApi::Chat,
                },
                transport,
            )),
            Wire::Ollama => {
                // Ollama asks /api/show whether the model can call tools before offering them.
                server.set_default(
                    "POST",
                    "/api/show",
                    Reply::json(200, json!({"capabilities": ["completion", "tools"]})),
                );
                Arc::new(OllamaBackend::new(server.url(), transport))
            }
        };
        Harness {
            wire: self,
            server,
            backend,
            notes,
        }
    }
}

/// A wire's fake server and backend.
pub struct Harness {
    /// The wire.
    pub wire: Wire,
    /// The fake server.
    pub server: FakeServer,
    /// The backend under test.
    pub backend: Arc<dyn Backend>,
    /// Notices the backend gave.
    pub notes: Notes,
}

impl Harness {
    /// Queues the answer to the next chat request.
    pub fn push(&self, reply: Reply) {
        self.server.push("POST", self.wire.chat_path(), reply);
    }

    /// The chat requests received, in order.
    pub fn chat_requests(&self) -> Vec<Recorded> {
        self.server.requests_to(self.wire.chat_path())
    }

    /// The notices given so far.
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap().clone()
    }

    /// `stream()`, and the whole stream collected.
    pub async fn stream(
        &self,
        req: &ChatRequest,
    ) -> Result<Vec<Result<StreamEvent, LlmError>>, LlmError> {
        let stream = tokio::time::timeout(EVENTUALLY, self.backend.stream(req))
            .await
            .expect("stream() did not return")?;
        Ok(tokio::time::timeout(EVENTUALLY, stream.collect::<Vec<_>>())
            .await
            .expect("the stream did not end"))
    }

    /// `complete()`.
    pub async fn complete(&self, req: &ChatRequest) -> Result<goshi::llm::AssistantTurn, LlmError> {
        tokio::time::timeout(EVENTUALLY, self.backend.complete(req))
            .await
            .expect("complete() did not return")
    }
}

/// A plain request (no tools).
pub fn request() -> ChatRequest {
    ChatRequest {
        model: MODEL.into(),
        messages: vec![Message::system("be brief"), Message::user("hi")],
        tools: vec![],
        options: RequestOptions {
            max_tokens: 100,
            ..Default::default()
        },
        no_stream: false,
    }
}

/// A request offering `fs.read` and `fs.list`.
pub fn tool_request() -> ChatRequest {
    let tool = |name: &str| ToolDefinition {
        name: name.into(),
        description: format!("the {name} tool"),
        parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
    };
    ChatRequest {
        tools: vec![tool("fs.read"), tool("fs.list")],
        ..request()
    }
}

fn openai_reason(r: &FinishReason) -> &'static str {
    match r {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::Other(_) => "other",
    }
}

/// Ollama says `stop` when the model called tools; goshi must tell the calls apart itself.
fn ollama_reason(r: &FinishReason) -> &'static str {
    match r {
        FinishReason::Stop | FinishReason::ToolCalls => "stop",
        FinishReason::Length => "length",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::Other(_) => "other",
    }
}

fn openai_chunks(steps: &[Step]) -> Vec<String> {
    let chunk = |choice: Value| {
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
            "model": MODEL, "choices": [choice]})
        .to_string()
    };
    let mut out = vec![chunk(
        json!({"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}),
    )];
    let mut calls = 0usize;
    for step in steps {
        match step {
            Step::Text(t) => out.push(chunk(
                json!({"index": 0, "delta": {"content": t}, "finish_reason": null}),
            )),
            Step::Call { id, name, args } => {
                // The arguments arrive in two fragments, as real servers split them.
                let args = args.to_string();
                let cut = (0..=args.len() / 2)
                    .rev()
                    .find(|&n| args.is_char_boundary(n))
                    .unwrap_or(0);
                let (a, b) = args.split_at(cut);
                let mut first = json!({"index": calls, "type": "function",
                    "function": {"name": name, "arguments": a}});
                if let Some(id) = id {
                    first["id"] = json!(id);
                }
                out.push(chunk(
                    json!({"index": 0, "delta": {"tool_calls": [first]}, "finish_reason": null}),
                ));
                out.push(chunk(json!({"index": 0, "delta": {"tool_calls": [
                    {"index": calls, "function": {"arguments": b}}]}, "finish_reason": null})));
                calls += 1;
            }
            Step::Finish { reason, usage } => {
                out.push(chunk(
                    json!({"index": 0, "delta": {}, "finish_reason": openai_reason(reason)}),
                ));
                if let Some((p, c)) = usage {
                    out.push(
                        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk",
                            "model": MODEL, "choices": [], "usage": {"prompt_tokens": p,
                            "completion_tokens": c, "total_tokens": p + c}})
                        .to_string(),
                    );
                }
                out.push("[DONE]".into());
            }
        }
    }
    out
}

fn ollama_call(index: usize, id: Option<&String>, name: &str, args: &Value) -> Value {
    let mut c = json!({"function": {"index": index, "name": name, "arguments": args}});
    if let Some(id) = id {
        c["id"] = json!(id);
    }
    c
}

fn ollama_lines(steps: &[Step]) -> Vec<String> {
    let line = |message: Value| {
        json!({"model": MODEL, "created_at": "2026-01-01T00:00:00Z", "message": message,
            "done": false})
        .to_string()
    };
    let mut out = Vec::new();
    let mut calls = 0usize;
    let mut i = 0;
    while i < steps.len() {
        match &steps[i] {
            Step::Text(t) => out.push(line(json!({"role": "assistant", "content": t}))),
            Step::Call { .. } => {
                // Ollama sends the calls of one answer whole, together in one line.
                let mut batch = Vec::new();
                while let Some(Step::Call { id, name, args }) = steps.get(i) {
                    batch.push(ollama_call(calls, id.as_ref(), name, args));
                    calls += 1;
                    i += 1;
                }
                out.push(line(
                    json!({"role": "assistant", "content": "", "tool_calls": batch}),
                ));
                continue;
            }
            Step::Finish { reason, usage } => {
                let mut done = json!({"model": MODEL, "created_at": "2026-01-01T00:00:00Z",
                    "message": {"role": "assistant", "content": ""}, "done": true,
                    "done_reason": ollama_reason(reason), "total_duration": 1});
                if let Some((p, c)) = usage {
                    done["prompt_eval_count"] = json!(p);
                    done["eval_count"] = json!(c);
                }
                out.push(done.to_string());
            }
        }
        i += 1;
    }
    out
}
