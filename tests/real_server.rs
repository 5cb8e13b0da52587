#![allow(clippy::unwrap_used, clippy::expect_used)]
//! goshi against a REAL, independent OpenAI-compatible server: llama.cpp's own
//! `llama-server` serving the tiny model from `../shared/real-server` (see
//! `docs/real-server.md`).
//!
//! Every test is `#[ignore]`d: they need the servers that `scripts/real-server-tests.sh`
//! starts. Run under `--ignored` without them, each test fails and says how to start one.
//!
//! The tests drive the built `goshi` binary the way a user does, in a temporary directory
//! with a hermetic environment. Where a test must see the wire (tool call ids, the usage
//! chunk, how many requests were sent) goshi talks to the server through [`Proxy`], a
//! transparent recording proxy that streams every byte through unchanged.
//!
//! Environment:
//! - `GOSHI_REAL_SERVER_URL`: a plain server, e.g. `http://127.0.0.1:8765`
//! - `GOSHI_REAL_SERVER_KEYED_URL` + `GOSHI_REAL_SERVER_KEY`: one started with `--api-key KEY`

use std::convert::Infallible;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tempfile::TempDir;

// ---- The servers ----

fn how_to_start(var: &str) -> String {
    format!(
        "{var} is not set, so there is no real llama-server to test against.\n\
         Run the whole suite with:  bash scripts/real-server-tests.sh\n\
         or start servers yourself (from the repository root):\n\
         \x20 ../shared/real-server/setup.sh && ../shared/real-server/start.sh 8765\n\
         \x20 ../shared/real-server/start.sh 8766 --api-key some-key\n\
         \x20 export GOSHI_REAL_SERVER_URL=http://127.0.0.1:8765\n\
         \x20 export GOSHI_REAL_SERVER_KEYED_URL=http://127.0.0.1:8766 GOSHI_REAL_SERVER_KEY=some-key\n\
         then: cargo test --test real_server -- --ignored --test-threads=1"
    )
}

fn env_or_explain(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v.trim().trim_end_matches('/').to_string(),
        _ => panic!("{}", how_to_start(var)),
    }
}

/// The plain server's root URL (no `/v1`).
fn plain() -> String {
    env_or_explain("GOSHI_REAL_SERVER_URL")
}

/// The keyed server's root URL and its key.
fn keyed() -> (String, String) {
    (
        env_or_explain("GOSHI_REAL_SERVER_KEYED_URL"),
        env_or_explain("GOSHI_REAL_SERVER_KEY"),
    )
}

// ---- Running goshi ----

/// A project directory and an empty home, so nothing of the user's setup leaks in.
struct Project {
    dir: TempDir,
    home: TempDir,
}

/// What one goshi run left behind.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Out {
    /// The `OpenAI tokens: prompt=X, completion=Y, total=Z (model: M)` lines, parsed.
    fn token_lines(&self) -> Vec<(u64, u64, u64, String)> {
        self.stderr
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("OpenAI tokens: prompt=")?;
                let (p, rest) = rest.split_once(", completion=")?;
                let (c, rest) = rest.split_once(", total=")?;
                let (t, rest) = rest.split_once(" (model: ")?;
                let m = rest.strip_suffix(')')?;
                Some((
                    p.parse().ok()?,
                    c.parse().ok()?,
                    t.parse().ok()?,
                    m.to_string(),
                ))
            })
            .collect()
    }

    fn assert_success(&self) {
        assert_eq!(self.code, Some(0), "goshi should succeed\n{self}");
    }

    fn assert_failure(&self) {
        assert!(
            matches!(self.code, Some(c) if c != 0),
            "goshi should fail with a non-zero exit code\n{self}"
        );
    }
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("notes.txt"), "remember the milk\n").unwrap();
        fs::create_dir(dir.path().join("data")).unwrap();
        fs::write(dir.path().join("data/numbers.csv"), "a,b\n1,2\n").unwrap();
        Project {
            dir,
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `./goshi.yaml`.
    fn config(&self, yaml: &str) -> &Self {
        fs::write(self.path().join("goshi.yaml"), yaml).unwrap();
        self
    }

    /// `goshi --provider openai --base-url ROOT/v1 --model MODEL ARGS...`, hermetic.
    fn command(&self, root: &str, model: &str, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("goshi").unwrap();
        cmd.current_dir(self.path());
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("GOSHI_") {
                cmd.env_remove(&k);
            }
        }
        for k in [
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "OPENAI_ORG_ID",
            "OPENAI_PROJECT_ID",
            "OLLAMA_HOST",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            cmd.env_remove(k);
        }
        let home = self.home.path();
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("NO_PROXY", "127.0.0.1,localhost")
            .args(["--provider", "openai", "--base-url"])
            .arg(format!("{root}/v1"))
            .args(["--model", model])
            .args(args)
            // A pipe, never the developer's terminal: no permission prompts, no REPL.
            .write_stdin(Vec::<u8>::new())
            .timeout(Duration::from_secs(180));
        cmd
    }

    fn run_cmd(mut cmd: Command) -> Out {
        let o = cmd.output().unwrap();
        Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Runs goshi with `--model tiny`.
    fn run(&self, root: &str, args: &[&str]) -> Out {
        Self::run_cmd(self.command(root, "tiny", args))
    }

    /// Runs goshi with `--model tiny` and `OPENAI_API_KEY=key`.
    fn run_with_key(&self, root: &str, key: &str, args: &[&str]) -> Out {
        let mut cmd = self.command(root, "tiny", args);
        cmd.env("OPENAI_API_KEY", key);
        Self::run_cmd(cmd)
    }
}

// ---- A transparent recording proxy ----

/// One request that went through the proxy, and the server's answer byte for byte.
#[derive(Clone)]
struct Exchange {
    method: String,
    path: String,
    request: Vec<u8>,
    status: u16,
    response: Arc<Mutex<Vec<u8>>>,
}

impl Exchange {
    fn request_json(&self) -> Value {
        serde_json::from_slice(&self.request).unwrap_or_else(|e| {
            panic!(
                "goshi sent a body that is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.request)
            )
        })
    }

    fn response_text(&self) -> String {
        String::from_utf8_lossy(&self.response.lock().unwrap()).into_owned()
    }

    /// The JSON payloads of the response's SSE `data:` lines (`[DONE]` left out).
    fn sse_data(&self) -> Vec<Value> {
        self.response_text()
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .filter(|d| *d != "[DONE]" && !d.is_empty())
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    fn response_json(&self) -> Value {
        serde_json::from_str(&self.response_text()).unwrap()
    }
}

type Log = Arc<Mutex<Vec<Exchange>>>;

/// Forwards everything to the real server, streaming answers through as they come, and
/// records each exchange.
struct Proxy {
    url: String,
    log: Log,
    _rt: tokio::runtime::Runtime,
}

impl Proxy {
    fn start(upstream: &str) -> Proxy {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log: Log = Arc::default();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let (upstream, accept_log) = (upstream.to_string(), log.clone());
        rt.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (upstream, log, client) =
                    (upstream.clone(), accept_log.clone(), client.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        forward(req, upstream.clone(), client.clone(), log.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Proxy { url, log, _rt: rt }
    }

    /// The exchanges so far (the POSTs to `path`).
    fn posts(&self, path: &str) -> Vec<Exchange> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.method == "POST" && e.path == path)
            .cloned()
            .collect()
    }
}

type ProxyBody = UnsyncBoxBody<Bytes, std::io::Error>;

async fn forward(
    req: Request<Incoming>,
    upstream: String,
    client: reqwest::Client,
    log: Log,
) -> Result<Response<ProxyBody>, Infallible> {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let headers = req.headers().clone();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut rb = client.request(method.clone(), format!("{upstream}{path}"));
    for (k, v) in &headers {
        if k != HOST && k != CONTENT_LENGTH && k != CONNECTION {
            rb = rb.header(k, v);
        }
    }
    let resp = match rb.body(body.clone()).send().await {
        Ok(r) => r,
        Err(e) => {
            let mut r = Response::new(
                Full::new(Bytes::from(format!("proxy: upstream failed: {e}")))
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            );
            *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            return Ok(r);
        }
    };
    let recorded: Arc<Mutex<Vec<u8>>> = Arc::default();
    log.lock().unwrap().push(Exchange {
        method: method.to_string(),
        path: path.split('?').next().unwrap_or_default().to_string(),
        request: body.to_vec(),
        status: resp.status().as_u16(),
        response: recorded.clone(),
    });
    let mut out = Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        if k != CONTENT_LENGTH && k != TRANSFER_ENCODING && k != CONNECTION {
            out = out.header(k, v);
        }
    }
    let stream = resp.bytes_stream().map(move |chunk| {
        if let Ok(b) = &chunk {
            recorded.lock().unwrap().extend_from_slice(b);
        }
        chunk.map(Frame::data).map_err(std::io::Error::other)
    });
    Ok(out.body(StreamBody::new(stream).boxed_unsync()).unwrap())
}

// ---- Wire helpers ----

const CHAT: &str = "/v1/chat/completions";
const RESPONSES: &str = "/v1/responses";

/// The one streamed tool call of a Chat Completions SSE answer: (id, wire name, arguments).
fn streamed_tool_call(chunks: &[Value]) -> (String, String, String) {
    let (mut id, mut name, mut args) = (None, String::new(), String::new());
    for c in chunks {
        for choice in c["choices"].as_array().into_iter().flatten() {
            for tc in choice["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                assert_eq!(tc["index"], 0, "this model never makes parallel calls");
                if let Some(i) = tc["id"].as_str() {
                    id = Some(i.to_string());
                }
                name.push_str(tc["function"]["name"].as_str().unwrap_or_default());
                args.push_str(tc["function"]["arguments"].as_str().unwrap_or_default());
            }
        }
    }
    (id.expect("the server streamed no tool call id"), name, args)
}

/// The usage chunk of a Chat Completions SSE answer.
fn usage_chunk(chunks: &[Value]) -> (u64, u64, u64) {
    let u = chunks
        .iter()
        .rev()
        .find_map(|c| c.get("usage").filter(|u| u.is_object()))
        .expect("the server sent no usage chunk (goshi asks for stream_options.include_usage)");
    (
        u["prompt_tokens"].as_u64().unwrap(),
        u["completion_tokens"].as_u64().unwrap(),
        u["total_tokens"].as_u64().unwrap(),
    )
}

/// Whether `id` looks like llama-server's: 32 alphanumerics, not OpenAI's `call_…`.
fn assert_llama_id(id: &str) {
    assert!(
        !id.starts_with("call_") && id.len() >= 16 && id.chars().all(|c| c.is_ascii_alphanumeric()),
        "expected a llama-server style tool call id (alphanumerics, no call_ prefix), got {id:?}"
    );
}

/// The assistant message with tool calls and its tool message, from a second request.
fn tool_exchange(second: &Value) -> (Value, Value) {
    let msgs = second["messages"].as_array().unwrap();
    let assistant = msgs
        .iter()
        .find(|m| m["role"] == "assistant" && m["tool_calls"].is_array())
        .unwrap_or_else(|| panic!("no assistant tool_calls message in {second:#}"))
        .clone();
    let tool = msgs
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap_or_else(|| panic!("no tool message in {second:#}"))
        .clone();
    (assistant, tool)
}

fn self_model_text() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("goshi.self.model.yaml")).unwrap()
}

/// goshi's tools in the Chat Completions shape, built here from the registry (dots become
/// underscores on the wire).
fn chat_tools() -> Value {
    Value::Array(
        goshi::tools::Registry::builtin()
            .definitions()
            .into_iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name.replace('.', "_"),
                    "description": t.description,
                    "parameters": t.parameters,
                }})
            })
            .collect(),
    )
}

/// POSTs `body` to the server directly and returns the status and JSON answer.
fn post_direct(root: &str, path: &str, body: &Value) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{root}{path}"))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    })
}

const WRONG_KEY: &str = "wrong-key-7f3e9a";

const TEMP0: &str = "llm:\n  temperature: 0\n";

// ---- 1. Plain answers ----

/// Streamed, temperature 0. The model calls a tool whenever tools are offered (goshi always
/// offers them); without --allow and without a terminal, goshi refuses it, sends the refusal
/// back, and the model then says exactly `ok.`.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn streamed_answer_says_ok() {
    let root = plain();
    let p = Project::new();
    p.config(TEMP0);
    let out = p.run(&root, &["chat", "hi"]);
    out.assert_success();
    assert_eq!(out.stdout, "ok.\n", "{out}");
    assert!(out.stderr.contains("permission denied"), "{out}");
    assert!(out.stderr.contains("--allow fs.read"), "{out}");
    let lines = out.token_lines();
    assert_eq!(lines.len(), 2, "one token line per response\n{out}");
    assert!(lines.iter().all(|l| l.3 == "tiny"), "{out}");
}

#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn no_stream_answer_says_ok() {
    let root = plain();
    let p = Project::new();
    p.config(TEMP0);
    let proxy = Proxy::start(&root);
    let out = p.run(&proxy.url, &["chat", "--no-stream", "hi"]);
    out.assert_success();
    assert_eq!(out.stdout, "ok.\n", "{out}");
    let posts = proxy.posts(CHAT);
    assert_eq!(posts.len(), 2, "{out}");
    for e in &posts {
        assert!(
            e.request_json().get("stream").is_none(),
            "--no-stream sends no stream flag"
        );
        assert_eq!(e.status, 200);
    }
    // The token lines carry the servers' own usage objects.
    let lines = out.token_lines();
    assert_eq!(lines.len(), 2, "{out}");
    for (line, e) in lines.iter().zip(&posts) {
        let u = &e.response_json()["usage"];
        assert_eq!(line.0, u["prompt_tokens"].as_u64().unwrap(), "{out}");
        assert_eq!(line.1, u["completion_tokens"].as_u64().unwrap(), "{out}");
        assert_eq!(line.2, u["total_tokens"].as_u64().unwrap(), "{out}");
    }
}

// ---- 2. The token line ----

/// goshi's token lines are exactly the server's usage chunks, and the first prompt count
/// equals what the server reports for the same messages and tools sent directly.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn token_line_is_the_servers_usage() {
    let root = plain();
    let p = Project::new();
    p.config(TEMP0);
    let proxy = Proxy::start(&root);
    let prompt = "how many files are there?";
    let out = p.run(&proxy.url, &["chat", prompt]);
    out.assert_success();
    let lines = out.token_lines();
    let posts = proxy.posts(CHAT);
    assert_eq!(
        lines.len(),
        posts.len(),
        "one token line per response\n{out}"
    );
    assert!(!lines.is_empty(), "{out}");
    for ((x, y, z, model), e) in lines.iter().zip(&posts) {
        assert!(*x > 0 && *y > 0, "{out}");
        assert_eq!(x + y, *z, "{out}");
        assert_eq!(model, "tiny");
        assert_eq!((*x, *y, *z), usage_chunk(&e.sse_data()), "{out}");
    }

    // The same first request, made here without goshi: the self-model as the system
    // message, the prompt, the same tools.
    let (status, direct) = post_direct(
        &root,
        CHAT,
        &json!({
            "model": "tiny",
            "messages": [
                {"role": "system", "content": self_model_text()},
                {"role": "user", "content": prompt},
            ],
            "tools": chat_tools(),
            "tool_choice": "auto",
            "temperature": 0,
            "max_tokens": 64,
        }),
    );
    assert_eq!(status, 200, "{direct:#}");
    assert_eq!(
        lines[0].0,
        direct["usage"]["prompt_tokens"].as_u64().unwrap(),
        "goshi's prompt count differs from the server's for the same messages and tools\n{out}"
    );
    // The byte-level vocabulary: at least one token per byte of the system prompt.
    assert!(lines[0].0 as usize > self_model_text().len(), "{out}");
}

// ---- 3. goshi models / goshi doctor ----

#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn models_lists_tiny() {
    let root = plain();
    let p = Project::new();
    let out = p.run(&root, &["models"]);
    out.assert_success();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.trim() == "* tiny  (configured)"),
        "{out}"
    );
    let out = p.run(&root, &["models", "--format", "json"]);
    out.assert_success();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["provider"], "OpenAI", "{out}");
    assert_eq!(
        v["models"],
        json!([{"name": "tiny", "configured": true}]),
        "{out}"
    );
}

#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn doctor_passes_against_the_server() {
    let root = plain();
    let p = Project::new();
    p.config(TEMP0);
    let out = p.run(&root, &["doctor"]);
    out.assert_success();
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("[pass] provider"), "{out}");
    assert!(all.contains("[pass] model      tiny is available"), "{out}");
    assert!(!all.contains("[FAIL]"), "{out}");
}

// ---- 4. Tools ----

/// A streamed tool round trip: a real tool call, run with permission, its result sent back
/// under the server's own call id, then a text answer.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn streamed_tool_round_trip() {
    let root = plain();
    let p = Project::new();
    p.config(TEMP0);
    let proxy = Proxy::start(&root);
    let out = p.run(
        &proxy.url,
        &["chat", "--allow", "fs.read", "what is in this project?"],
    );
    out.assert_success();
    assert_eq!(out.stdout, "ok.\n", "{out}");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("→ fs.") && l.ends_with('✓')),
        "no successful tool status line\n{out}"
    );
    let posts = proxy.posts(CHAT);
    assert_eq!(posts.len(), 2, "{out}");
    let first = posts[0].request_json();
    assert_eq!(first["stream"], true);
    assert_eq!(
        first["tools"].as_array().map(Vec::len),
        Some(3),
        "tools are offered"
    );

    let chunks = posts[0].sse_data();
    // llama-server's quirks, seen here on the wire and coped with above.
    assert!(
        chunks[0]["choices"][0]["delta"]["content"].is_null(),
        "the first chunk has delta.content: null"
    );
    assert!(
        chunks.iter().any(|c| c.get("timings").is_some()),
        "the server sends its non-standard timings"
    );
    let (id, name, args) = streamed_tool_call(&chunks);
    assert_llama_id(&id);
    assert!(name.starts_with("fs_"), "{name}");
    let args: Value = serde_json::from_str(&args).unwrap();

    let (assistant, tool) = tool_exchange(&posts[1].request_json());
    let call = &assistant["tool_calls"][0];
    assert_eq!(
        call["id"],
        id.as_str(),
        "goshi must echo the server's call id"
    );
    assert_eq!(call["function"]["name"], name.as_str());
    let echoed: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(echoed, args);
    assert_eq!(
        tool["tool_call_id"],
        id.as_str(),
        "the result answers that call id"
    );
    let result = tool["content"].as_str().unwrap();
    assert!(
        result.contains("notes.txt") || result.contains("remember the milk"),
        "the tool result is the project's content: {result}"
    );
    assert_eq!(posts[1].status, 200);
}

/// Non-streamed: the server puts `content: ""` next to `tool_calls`.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn no_stream_tool_round_trip() {
    let root = plain();
    let p = Project::new();
    p.config(TEMP0);
    let proxy = Proxy::start(&root);
    let out = p.run(
        &proxy.url,
        &["chat", "--no-stream", "--allow", "fs.read", "what is here?"],
    );
    out.assert_success();
    assert_eq!(out.stdout, "ok.\n", "{out}");
    let posts = proxy.posts(CHAT);
    assert_eq!(posts.len(), 2, "{out}");
    let msg = &posts[0].response_json()["choices"][0]["message"];
    assert_eq!(
        msg["content"], "",
        "llama-server's quirk: content \"\" with tool calls"
    );
    let id = msg["tool_calls"][0]["id"].as_str().unwrap();
    assert_llama_id(id);
    let (assistant, tool) = tool_exchange(&posts[1].request_json());
    assert_eq!(assistant["tool_calls"][0]["id"], id);
    assert_eq!(tool["tool_call_id"], id);
    // An empty content next to tool calls must not come back as text.
    assert!(
        assistant["content"].is_null() || assistant["content"] == "",
        "{assistant:#}"
    );
}

/// `llm.tool_choice: required`: this model never stops calling tools, so the round cap
/// (2) ends the turn with an error naming llm.max_tool_rounds.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn required_tool_choice_meets_the_round_cap() {
    let root = plain();
    let p = Project::new();
    p.config("llm:\n  temperature: 0\n  tool_choice: required\n  max_tool_rounds: 2\n");
    let proxy = Proxy::start(&root);
    let out = p.run(&proxy.url, &["chat", "--allow", "fs.read", "look around"]);
    out.assert_failure();
    assert!(out.stderr.contains("llm.max_tool_rounds"), "{out}");
    let posts = proxy.posts(CHAT);
    assert_eq!(posts.len(), 2, "exactly max_tool_rounds requests\n{out}");
    for e in &posts {
        assert_eq!(e.request_json()["tool_choice"], "required");
        assert_eq!(e.status, 200);
    }
}

// ---- 5. Errors ----

/// A prompt longer than the 32,768-token context: the server's 400 is shown, not retried.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn prompt_over_the_context_is_reported_not_retried() {
    let root = plain();
    let p = Project::new();
    let big = "word ".repeat(8000); // 40,000 bytes, one token per byte
    for extra in [&[][..], &["--no-stream"][..]] {
        let proxy = Proxy::start(&root);
        let mut args = vec!["chat"];
        args.extend_from_slice(extra);
        args.push(&big);
        let out = p.run(&proxy.url, &args);
        out.assert_failure();
        assert!(
            out.stderr.contains("exceeds the available context size"),
            "the server's message is shown\n{out}"
        );
        assert!(out.stderr.contains("400"), "{out}");
        assert!(
            !out.stderr.contains("retrying"),
            "a 400 is not retried\n{out}"
        );
        assert!(out.stdout.is_empty(), "{out}");
        let posts = proxy.posts(CHAT);
        assert_eq!(posts.len(), 1, "sent once\n{out}");
        assert_eq!(posts[0].status, 400);
    }
}

/// The keyed server: a wrong or missing key gets a 401 and guidance naming OPENAI_API_KEY,
/// once; the right key works.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn api_key_wrong_missing_and_right() {
    let (root, key) = keyed();
    let p = Project::new();
    p.config(TEMP0);
    let proxy = Proxy::start(&root);
    let out = p.run_with_key(&proxy.url, WRONG_KEY, &["chat", "hi"]);
    out.assert_failure();
    assert!(out.stderr.contains("401"), "{out}");
    assert!(out.stderr.contains("OPENAI_API_KEY"), "{out}");
    assert!(
        !out.stderr.contains("retrying"),
        "a 401 is not retried\n{out}"
    );
    assert!(
        !out.stderr.contains(WRONG_KEY),
        "the key is never echoed\n{out}"
    );
    assert_eq!(proxy.posts(CHAT).len(), 1, "{out}");
    assert_eq!(
        proxy.posts(CHAT)[0].status,
        401,
        "the server itself refused the key"
    );

    let out = p.run(&root, &["chat", "hi"]);
    out.assert_failure();
    assert!(out.stderr.contains("OPENAI_API_KEY"), "{out}");

    let out = p.run_with_key(&root, WRONG_KEY, &["models"]);
    out.assert_failure();
    assert!(out.stderr.contains("OPENAI_API_KEY"), "{out}");

    let out = p.run_with_key(&root, WRONG_KEY, &["doctor"]);
    out.assert_failure();
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("[FAIL] provider"),
        "{out}"
    );

    let out = p.run_with_key(&root, &key, &["chat", "hi"]);
    out.assert_success();
    assert_eq!(out.stdout, "ok.\n", "{out}");
    let out = p.run_with_key(&root, &key, &["models"]);
    out.assert_success();
    assert!(out.stdout.contains("tiny"), "{out}");
    let out = p.run_with_key(&root, &key, &["doctor"]);
    out.assert_success();
}

// ---- 6. The Responses API ----

/// `--api responses`: a tool round trip through `/v1/responses`, the function call's
/// `call_id` echoed in the function_call_output item.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn responses_api_tool_round_trip() {
    let root = plain();
    let p = Project::new();
    p.config(TEMP0);
    let proxy = Proxy::start(&root);
    let out = p.run(
        &proxy.url,
        &[
            "--api",
            "responses",
            "chat",
            "--allow",
            "fs.read",
            "what is in this project?",
        ],
    );
    out.assert_success();
    assert_eq!(out.stdout, "ok.\n", "{out}");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("→ fs.") && l.ends_with('✓')),
        "{out}"
    );
    assert!(
        proxy.posts(CHAT).is_empty(),
        "--api responses must not use chat completions"
    );
    let posts = proxy.posts(RESPONSES);
    assert_eq!(posts.len(), 2, "{out}");
    let events = posts[0].sse_data();
    let item = events
        .iter()
        .find(|e| e["type"] == "response.output_item.added" && e["item"]["type"] == "function_call")
        .unwrap_or_else(|| panic!("no function_call item in {}", posts[0].response_text()));
    let call_id = item["item"]["call_id"].as_str().unwrap();
    let completed = events
        .iter()
        .find(|e| e["type"] == "response.completed")
        .expect("a response.completed event");
    let u = &completed["response"]["usage"];
    let lines = out.token_lines();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0].0, u["input_tokens"].as_u64().unwrap(), "{out}");
    assert_eq!(lines[0].1, u["output_tokens"].as_u64().unwrap(), "{out}");
    assert_eq!(lines[0].2, u["total_tokens"].as_u64().unwrap(), "{out}");

    let second = posts[1].request_json();
    let input = second["input"].as_array().unwrap();
    let call = input
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap_or_else(|| panic!("no function_call item in {second:#}"));
    assert_eq!(call["call_id"], call_id);
    let output = input
        .iter()
        .find(|i| i["type"] == "function_call_output")
        .unwrap_or_else(|| panic!("no function_call_output item in {second:#}"));
    assert_eq!(
        output["call_id"], call_id,
        "the result answers the server's call id"
    );
    let text = output["output"].as_str().unwrap();
    assert!(
        text.contains("notes.txt") || text.contains("remember the milk"),
        "{text}"
    );
}

#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn responses_api_errors_are_reported_not_retried() {
    let root = plain();
    let p = Project::new();
    let big = "word ".repeat(8000);
    let out = p.run(&root, &["--api", "responses", "chat", &big]);
    out.assert_failure();
    assert!(
        out.stderr.contains("exceeds the available context size"),
        "{out}"
    );
    assert!(!out.stderr.contains("retrying"), "{out}");

    let (keyed_root, _) = keyed();
    let out = p.run_with_key(
        &keyed_root,
        WRONG_KEY,
        &["--api", "responses", "chat", "hi"],
    );
    out.assert_failure();
    assert!(out.stderr.contains("OPENAI_API_KEY"), "{out}");
    assert!(!out.stderr.contains("retrying"), "{out}");
}

// ---- 7. Where llama-server differs from OpenAI ----

/// An unknown model is answered (200) instead of OpenAI's 404: goshi goes on, and `models`
/// notes that the configured model is not listed.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn unknown_model_is_answered() {
    let root = plain();
    let p = Project::new();
    p.config(TEMP0);
    let out = Project::run_cmd(p.command(&root, "does-not-exist", &["chat", "hi"]));
    out.assert_success();
    assert_eq!(out.stdout, "ok.\n", "{out}");
    assert!(
        out.token_lines().iter().all(|l| l.3 == "does-not-exist"),
        "{out}"
    );
    let out = Project::run_cmd(p.command(&root, "does-not-exist", &["models"]));
    out.assert_success();
    assert!(out.stdout.contains("tiny"), "{out}");
    assert!(out.stderr.contains("not in this list"), "{out}");
}

/// A named tool choice goes out as OpenAI's object; llama-server treats it as `auto`
/// (200) and the turn still completes.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn named_tool_choice_is_accepted() {
    let root = plain();
    let p = Project::new();
    p.config("llm:\n  temperature: 0\n  tool_choice: fs.read\n");
    let proxy = Proxy::start(&root);
    let out = p.run(
        &proxy.url,
        &["chat", "--allow", "fs.read", "read the notes"],
    );
    out.assert_success();
    assert!(!out.stdout.trim().is_empty(), "{out}");
    let posts = proxy.posts(CHAT);
    assert!(!posts.is_empty());
    assert_eq!(
        posts[0].request_json()["tool_choice"],
        json!({"type": "function", "function": {"name": "fs_read"}})
    );
    assert!(posts.iter().all(|e| e.status == 200), "{out}");
}

/// An answer cut at `llm.max_tokens` in the middle of a tool call leaves arguments that are
/// not JSON (`{`). Such a call cannot run, and it must not be sent back either: llama-server
/// parses the arguments of every assistant tool call in the history and answers 500
/// ("Failed to parse tool call arguments as JSON") to each later request of the session.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn tool_call_cut_at_max_tokens_is_not_sent_back() {
    let root = plain();
    let p = Project::new();
    // 30 tokens (bytes) end this model's tool call right after `{`.
    p.config("llm:\n  temperature: 0\n  max_tokens: 30\n");
    let mut problems = Vec::new();
    for (api, path) in [("chat", CHAT), ("responses", RESPONSES)] {
        let proxy = Proxy::start(&root);
        let out = p.run(
            &proxy.url,
            &["--api", api, "chat", "--allow", "fs.read", "what is here?"],
        );
        let posts = proxy.posts(path);
        assert!(!posts.is_empty(), "{out}");
        let mut problem = Vec::new();
        for (n, e) in posts.iter().enumerate().skip(1) {
            let body = e.request_json();
            let calls: Vec<&Value> = if api == "chat" {
                body["messages"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|m| m["tool_calls"].as_array().into_iter().flatten())
                    .map(|c| &c["function"]["arguments"])
                    .collect()
            } else {
                body["input"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|i| i["type"] == "function_call")
                    .map(|i| &i["arguments"])
                    .collect()
            };
            for args in calls {
                let text = args.as_str().unwrap_or_default();
                if serde_json::from_str::<Value>(text).is_err() {
                    problem.push(format!(
                        "request {} sent back a tool call cut at llm.max_tokens, arguments {text:?}; \
                         the server answered {} {}",
                        n + 1,
                        e.status,
                        e.response_text().chars().take(300).collect::<String>()
                    ));
                }
            }
        }
        if let Some(e) = posts.iter().find(|e| e.status != 200) {
            problem.push(format!(
                "a request goshi sent was refused with HTTP {} (every request must be one the server accepts)",
                e.status
            ));
        }
        if out.stderr.contains("retrying") {
            problem.push("goshi retried".into());
        }
        if !problem.is_empty() {
            problems.push(format!("--api {api}:\n  {}\n{out}", problem.join("\n  ")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// llama-server closes the connection after each streamed answer although it advertises
/// `Keep-Alive`. goshi's next request must not trip over the dead pooled connection: no
/// "could not connect ... retrying" notice, no backoff, on an ordinary tool round trip.
/// (Run direct, without the proxy, which keeps connections alive.)
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn consecutive_streamed_requests_need_no_retry() {
    let root = plain();
    let p = Project::new();
    p.config(TEMP0);
    // The race is lost in roughly one turn in five on a 2-core machine; 12 turns.
    const RUNS: usize = 12;
    let mut hit = Vec::new();
    for _ in 0..RUNS {
        let out = p.run(&root, &["chat", "--allow", "fs.read", "what is here?"]);
        out.assert_success();
        assert_eq!(out.token_lines().len(), 2, "{out}");
        if out.stderr.contains("retrying") || out.stderr.contains("could not connect") {
            hit.push(out);
        }
    }
    assert!(
        hit.is_empty(),
        "in {} of {RUNS} turns the second streamed request went out on the connection \
         llama-server had closed after the first stream; goshi reported it as a connection \
         failure (\"could not connect\") and backed off before retrying. First:\n{}",
        hit.len(),
        hit[0]
    );
}
