//! Helpers shared by the end-to-end `goshi chat` tests (`tests/chat_cli.rs`,
//! `tests/agent_cli.rs`): a temporary repository, the fake server scripted in either
//! backend's wire format, the hermetic `goshi` command (`tests/hermetic`) set up for it, and
//! readers for what it left behind.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::hermetic::{run, std_goshi_cmd};
pub use crate::support::hermetic::{Run, HANG_GUARD};
use crate::support::{FakeServer, Reply};

/// The API key every test sets; it must never reach a file goshi writes.
pub const KEY: &str = "sk-test-SECRET123";
/// The model the tests ask for.
pub const MODEL: &str = "test-model";

/// Which backend a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// OpenAI Chat Completions (SSE) at `URL/v1`.
    OpenAi,
    /// Ollama's native `/api/chat` (NDJSON) at `URL`.
    Ollama,
}

/// Both backends, for scenarios that run against each.
pub const BOTH: [Backend; 2] = [Backend::OpenAi, Backend::Ollama];

/// One tool call as a model sends it: call id, wire name (`fs_read`), arguments text.
#[derive(Debug, Clone)]
pub struct WireCall {
    /// The call id (OpenAI only; Ollama sends none and goshi numbers them `call_N`).
    pub id: String,
    /// The wire name, e.g. `fs_read`.
    pub name: String,
    /// The arguments as JSON text (may be broken on purpose).
    pub args: String,
}

/// A call of `name` with `args`, id `id`.
pub fn call(id: &str, name: &str, args: &str) -> WireCall {
    WireCall {
        id: id.into(),
        name: name.into(),
        args: args.into(),
    }
}

impl Backend {
    /// The provider name in goshi's messages (`OpenAI`, `Ollama`).
    pub fn display(self) -> &'static str {
        match self {
            Backend::OpenAi => "OpenAI",
            Backend::Ollama => "Ollama",
        }
    }

    /// The `--provider` value.
    pub fn flag(self) -> &'static str {
        match self {
            Backend::OpenAi => "openai",
            Backend::Ollama => "ollama",
        }
    }

    /// The path goshi posts chat requests to.
    pub fn chat_path(self) -> &'static str {
        match self {
            Backend::OpenAi => "/v1/chat/completions",
            Backend::Ollama => "/api/chat",
        }
    }

    /// A streamed text answer in `chunks`, ending with `finish` (`stop`, `length`) and
    /// reporting `usage` (prompt, completion) tokens.
    pub fn text_reply_with(self, chunks: &[&str], finish: &str, usage: (u64, u64)) -> Reply {
        let (p, c) = usage;
        match self {
            Backend::OpenAi => {
                let mut items: Vec<String> = vec![json!({"id": "x", "choices": [{"index": 0,
                    "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]})
                .to_string()];
                for t in chunks {
                    items.push(
                        json!({"choices": [{"index": 0, "delta": {"content": t}}]}).to_string(),
                    );
                }
                items.push(
                    json!({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
                        .to_string(),
                );
                items.push(
                    json!({"choices": [], "usage": {"prompt_tokens": p,
                        "completion_tokens": c, "total_tokens": p + c}})
                    .to_string(),
                );
                items.push("[DONE]".into());
                Reply::sse(&items)
            }
            Backend::Ollama => {
                let mut lines: Vec<Value> = chunks.iter().map(|t| ollama_text(t)).collect();
                lines.push(ollama_done(finish, usage));
                Reply::ndjson(&lines)
            }
        }
    }

    /// A streamed text answer that stops normally.
    pub fn text_reply(self, chunks: &[&str], usage: (u64, u64)) -> Reply {
        self.text_reply_with(chunks, "stop", usage)
    }

    /// A streamed answer that calls tools (and says nothing).
    pub fn tool_reply(self, calls: &[WireCall]) -> Reply {
        match self {
            Backend::OpenAi => {
                let mut items = Vec::new();
                for (i, c) in calls.iter().enumerate() {
                    // The arguments arrive in two fragments, as real servers split them.
                    let cut = (0..=c.args.len() / 2)
                        .rev()
                        .find(|&n| c.args.is_char_boundary(n))
                        .unwrap_or(0);
                    let (a, b) = c.args.split_at(cut);
                    items.push(
                        json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": i,
                            "id": c.id, "type": "function",
                            "function": {"name": c.name, "arguments": a}}]}}]})
                        .to_string(),
                    );
                    items.push(
                        json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": i,
                            "function": {"arguments": b}}]}}]})
                        .to_string(),
                    );
                }
                items.push(
                    json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
                        .to_string(),
                );
                items.push(
                    json!({"choices": [], "usage": {"prompt_tokens": 20,
                        "completion_tokens": 5, "total_tokens": 25}})
                    .to_string(),
                );
                items.push("[DONE]".into());
                Reply::sse(&items)
            }
            Backend::Ollama => {
                let wire: Vec<Value> = calls
                    .iter()
                    .map(|c| {
                        // Ollama sends arguments as an object; broken ones stay text.
                        let args = match serde_json::from_str::<Value>(&c.args) {
                            Ok(v) => v,
                            Err(_) => Value::String(c.args.clone()),
                        };
                        json!({"function": {"name": c.name, "arguments": args}})
                    })
                    .collect();
                Reply::ndjson(&[
                    json!({"model": MODEL, "message": {"role": "assistant", "content": "",
                        "tool_calls": wire}, "done": false}),
                    ollama_done("stop", (20, 5)),
                ])
            }
        }
    }

    /// A complete (not streamed) text answer, for `--no-stream`.
    pub fn whole_reply(self, text: &str, usage: (u64, u64)) -> Reply {
        let (p, c) = usage;
        match self {
            Backend::OpenAi => Reply::json(
                200,
                json!({"id": "x", "object": "chat.completion", "model": MODEL,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}}),
            ),
            Backend::Ollama => Reply::json(
                200,
                json!({"model": MODEL, "message": {"role": "assistant", "content": text},
                    "done": true, "done_reason": "stop",
                    "prompt_eval_count": p, "eval_count": c}),
            ),
        }
    }

    /// A complete (not streamed) answer that calls tools, for `--no-stream`.
    pub fn whole_tool_reply(self, calls: &[WireCall]) -> Reply {
        match self {
            Backend::OpenAi => {
                let wire: Vec<Value> = calls
                    .iter()
                    .map(|c| {
                        json!({"id": c.id, "type": "function",
                            "function": {"name": c.name, "arguments": c.args}})
                    })
                    .collect();
                Reply::json(
                    200,
                    json!({"id": "x", "object": "chat.completion", "model": MODEL,
                        "choices": [{"index": 0, "message": {"role": "assistant",
                            "content": null, "tool_calls": wire},
                            "finish_reason": "tool_calls"}],
                        "usage": {"prompt_tokens": 20, "completion_tokens": 5,
                            "total_tokens": 25}}),
                )
            }
            Backend::Ollama => {
                let wire: Vec<Value> = calls
                    .iter()
                    .map(|c| {
                        let args = serde_json::from_str::<Value>(&c.args)
                            .unwrap_or_else(|_| Value::String(c.args.clone()));
                        json!({"function": {"name": c.name, "arguments": args}})
                    })
                    .collect();
                Reply::json(
                    200,
                    json!({"model": MODEL, "message": {"role": "assistant", "content": "",
                        "tool_calls": wire}, "done": true, "done_reason": "stop",
                        "prompt_eval_count": 20, "eval_count": 5}),
                )
            }
        }
    }

    /// A streamed answer made of these wire payloads (OpenAI chunks, Ollama lines) that
    /// never finishes: the caller ends it with `.disconnect()` or `.stall()`.
    pub fn unfinished_reply(self, payloads: &[Value]) -> Reply {
        let (content_type, framed): (&str, fn(&Value) -> String) = match self {
            Backend::OpenAi => ("text/event-stream", |p| format!("data: {p}\n\n")),
            Backend::Ollama => ("application/x-ndjson", |p| format!("{p}\n")),
        };
        payloads.iter().fold(
            Reply::new(200).header("content-type", content_type),
            |reply, p| reply.chunk(framed(p)),
        )
    }

    /// A streamed text answer that stops after `chunks` without finishing: the caller ends
    /// it with `.disconnect()` or `.stall()`.
    pub fn unfinished_text_reply(self, chunks: &[&str]) -> Reply {
        let payloads: Vec<Value> = chunks
            .iter()
            .map(|t| match self {
                Backend::OpenAi => json!({"choices": [{"index": 0, "delta": {"content": t}}]}),
                Backend::Ollama => {
                    json!({"message": {"role": "assistant", "content": t}, "done": false})
                }
            })
            .collect();
        self.unfinished_reply(&payloads)
    }

    /// The id goshi gives the `n`th call of an answer: the server's for OpenAI, `call_N`
    /// for Ollama (which sends none).
    pub fn call_id(self, sent: &WireCall, n: usize) -> String {
        match self {
            Backend::OpenAi => sent.id.clone(),
            Backend::Ollama => format!("call_{n}"),
        }
    }
}

fn ollama_text(t: &str) -> Value {
    json!({"model": MODEL, "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": t}, "done": false})
}

fn ollama_done(reason: &str, usage: (u64, u64)) -> Value {
    json!({"model": MODEL, "message": {"role": "assistant", "content": ""}, "done": true,
        "done_reason": reason, "prompt_eval_count": usage.0, "eval_count": usage.1,
        "total_duration": 1})
}

/// A temporary repository with a fake server for one backend.
pub struct Chat {
    /// The repository (goshi's working directory, HOME and config dirs).
    pub dir: TempDir,
    /// The fake model server.
    pub server: FakeServer,
    /// The backend scripted.
    pub backend: Backend,
    /// Whether OPENAI_API_KEY is set for the runs.
    pub with_key: bool,
    /// The user data dir (XDG_DATA_HOME: saved conversations, REPL history), kept out of the
    /// repository so the tools do not see it.
    pub data: TempDir,
}

impl Chat {
    /// A fresh repository and server; for Ollama, `/api/show` says the model can call tools.
    pub fn new(backend: Backend) -> Chat {
        let server = FakeServer::start();
        if backend == Backend::Ollama {
            server.set_default(
                "POST",
                "/api/show",
                Reply::json(200, json!({"capabilities": ["completion", "tools"]})),
            );
        }
        Chat {
            dir: tempfile::tempdir().unwrap(),
            server,
            backend,
            with_key: true,
            data: tempfile::tempdir().unwrap(),
        }
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (and its directories) into the repository.
    pub fn write(&self, rel: &str, content: &str) {
        let p = self.root().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }

    /// Writes `./goshi.yaml`.
    pub fn config(&self, yaml: &str) {
        self.write("goshi.yaml", yaml);
    }

    /// Writes the user's own config (`goshi/goshi.yaml` in the config dir, which is the
    /// repository here): trusted, unlike a repository's `./goshi.yaml`.
    pub fn user_config(&self, yaml: &str) {
        self.write("goshi/goshi.yaml", yaml);
    }

    /// The `--base-url` for this backend.
    pub fn base_url(&self) -> String {
        match self.backend {
            Backend::OpenAi => format!("{}/v1", self.server.url()),
            Backend::Ollama => self.server.url(),
        }
    }

    /// `goshi ARGS` with a hermetic environment, in the repository.
    pub fn goshi(&self, args: &[&str]) -> Command {
        let mut cmd = Command::from_std(self.std_goshi(args));
        cmd.timeout(HANG_GUARD);
        cmd
    }

    /// [`Chat::goshi`] as a plain `std::process::Command`, for runs a test interacts with.
    pub fn std_goshi(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std_goshi_cmd(self.root());
        cmd.env("XDG_DATA_HOME", self.data.path());
        cmd.args(args);
        if self.with_key {
            cmd.env("OPENAI_API_KEY", KEY);
        }
        cmd
    }

    /// `goshi chat --provider P --base-url URL --model test-model ARGS`.
    pub fn chat_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::from_std(self.std_chat(args));
        cmd.timeout(HANG_GUARD);
        cmd
    }

    /// [`Chat::chat_cmd`] as a plain `std::process::Command`.
    pub fn std_chat(&self, args: &[&str]) -> std::process::Command {
        let base = self.base_url();
        let mut all = vec![
            "chat",
            "--provider",
            self.backend.flag(),
            "--base-url",
            &base,
            "--model",
            MODEL,
        ];
        all.extend_from_slice(args);
        self.std_goshi(&all)
    }

    /// Runs a command to completion.
    pub fn run(&self, cmd: Command) -> Run {
        run(cmd)
    }

    /// Runs `goshi chat ... ARGS`.
    pub fn chat(&self, args: &[&str]) -> Run {
        self.run(self.chat_cmd(args))
    }

    /// Queues an answer to the next chat request.
    pub fn push(&self, reply: Reply) {
        self.server.push("POST", self.backend.chat_path(), reply);
    }

    /// One turn in which the model calls `calls` and then answers `answer`: runs
    /// `goshi chat ... ARGS` and checks that it succeeded.
    pub fn tool_turn(&self, calls: &[WireCall], answer: &str, args: &[&str]) -> Run {
        let b = self.backend;
        self.push(b.tool_reply(calls));
        self.push(b.text_reply(&[answer], (3, 1)));
        let run = self.chat(args);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        run
    }

    /// The answer to every chat request once the queue is empty.
    pub fn set_default(&self, reply: Reply) {
        self.server
            .set_default("POST", self.backend.chat_path(), reply);
    }

    /// The bodies of the chat requests goshi made, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.server
            .requests_to(self.backend.chat_path())
            .iter()
            .map(|r| r.json())
            .collect()
    }

    /// The `provider/model` line goshi prints on stderr at start.
    pub fn using_line(&self) -> String {
        format!(
            "goshi: using {} at {} with model {MODEL} (llm.provider: {})",
            self.backend.display(),
            self.base_url(),
            self.backend.flag()
        )
    }

    /// The token line for `usage` (prompt, completion).
    pub fn token_line(&self, usage: (u64, u64)) -> String {
        format!(
            "{} tokens: prompt={}, completion={}, total={} (model: {MODEL})",
            self.backend.display(),
            usage.0,
            usage.1,
            usage.0 + usage.1
        )
    }

    /// Every audit event of every session file, files in name (time) order.
    pub fn audit_events(&self) -> Vec<Value> {
        let mut files = self.audit_files();
        files.sort();
        files
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str::<Value>(l).unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The session files under `.goshi/audit/`.
    pub fn audit_files(&self) -> Vec<PathBuf> {
        let dir = self.root().join(".goshi/audit");
        match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The proposal files under `.goshi/proposals/`.
    pub fn proposal_files(&self) -> Vec<PathBuf> {
        let dir = self.root().join(".goshi/proposals");
        match std::fs::read_dir(dir) {
            Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Every file below `.goshi/`, with its bytes.
    pub fn goshi_dir_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let Ok(rd) = std::fs::read_dir(dir) else {
                return;
            };
            for e in rd {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    let bytes = std::fs::read(&p).unwrap();
                    out.push((p, bytes));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root().join(".goshi"), &mut out);
        out
    }
}

/// The event types of audit events, in order.
pub fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// The `messages` of a request body.
pub fn messages(body: &Value) -> Vec<Value> {
    body["messages"].as_array().unwrap().clone()
}

/// The tool-result messages of a request body, in order.
pub fn tool_results(body: &Value) -> Vec<Value> {
    messages(body)
        .into_iter()
        .filter(|m| m["role"] == "tool")
        .collect()
}

/// The content of the only tool result of a request body.
pub fn only_tool_result(body: &Value) -> String {
    let results = tool_results(body);
    assert_eq!(results.len(), 1, "{results:#?}");
    results[0]["content"].as_str().unwrap().to_string()
}

/// Whether `haystack` contains `needle` as bytes.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
