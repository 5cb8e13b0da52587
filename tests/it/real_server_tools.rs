//! goshi's tool rounds against a REAL llama-server (see `tests/real_server.rs` and
//! `docs/real-server.md`): streamed and whole answers that call tools, the round cap, the
//! Responses API, named tool choice, a tool call cut at `llm.max_tokens`, and consecutive
//! streamed requests on the connections llama-server closes.
//!
//! Every test is `#[ignore]`d: they need the servers that `scripts/real-server-tests.sh`
//! starts. Run under `--ignored` without them, each test fails and says how to start one.
//! Where a test must see the wire (tool call ids, how many requests were sent) goshi talks
//! to the server through [`Proxy`], a transparent recording proxy.

use crate::support::real_server_common;

use real_server_common::*;
use serde_json::{json, Value};

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

/// Whether a run showed a tool status line that ends in success (`→ fs.… ✓`).
fn ran_a_tool(out: &Run) -> bool {
    out.stderr
        .lines()
        .any(|l| l.starts_with("→ fs.") && l.ends_with('✓'))
}

/// Whether a tool result shows the project's content (its notes file, by name or text).
fn shows_the_project(result: &str) -> bool {
    result.contains("notes.txt") || result.contains("remember the milk")
}

// ---- 1. Chat Completions ----

/// A streamed tool round trip: a real tool call, run with permission, its result sent back
/// under the server's own call id, then a text answer.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn streamed_tool_round_trip() {
    let (p, proxy) = proxied_project(TEMP0);
    let out = p.run(
        &proxy.url,
        &["chat", "--allow", "fs.read", "what is in this project?"],
    );
    out.assert_success();
    assert_eq!(out.stdout, "ok.\n", "{out}");
    assert!(ran_a_tool(&out), "no successful tool status line\n{out}");
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
        shows_the_project(result),
        "the tool result is the project's content: {result}"
    );
    assert_eq!(posts[1].status, 200);
}

/// Non-streamed: the server puts `content: ""` next to `tool_calls`.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn no_stream_tool_round_trip() {
    let (p, proxy) = proxied_project(TEMP0);
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
    let (p, proxy) =
        proxied_project("llm:\n  temperature: 0\n  tool_choice: required\n  max_tool_rounds: 2\n");
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

// ---- 2. The Responses API ----

/// `--api responses`: a tool round trip through `/v1/responses`, the function call's
/// `call_id` echoed in the function_call_output item.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn responses_api_tool_round_trip() {
    let (p, proxy) = proxied_project(TEMP0);
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
    assert!(ran_a_tool(&out), "{out}");
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
    let lines = token_lines(&out);
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
    assert!(shows_the_project(text), "{text}");
}

// ---- 3. Where llama-server differs from OpenAI ----

/// A named tool choice goes out as OpenAI's object; llama-server treats it as `auto`
/// (200) and the turn still completes.
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn named_tool_choice_is_accepted() {
    let (p, proxy) = proxied_project("llm:\n  temperature: 0\n  tool_choice: fs.read\n");
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
        assert_eq!(token_lines(&out).len(), 2, "{out}");
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

// ---- 4. Strict tools ----

/// Function tools with `"strict": true` (what OpenAI itself gets, on both protocols) are
/// accepted by llama-server too, and the round trip still works: goshi takes the server for
/// OpenAI through a named config file (a repository's own goshi.yaml may not choose that).
#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn strict_tools_are_accepted_on_both_protocols() {
    let cfg = tempfile::tempdir().unwrap();
    let file = cfg.path().join("strict.yaml");
    std::fs::write(
        &file,
        "llm:\n  temperature: 0\n  openai:\n    server: openai\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    for (api, path) in [("chat", CHAT), ("responses", RESPONSES)] {
        let (p, proxy) = proxied_project(TEMP0);
        let out = p.run_with_key(
            &proxy.url,
            "sk-any",
            &[
                "--api",
                api,
                "--config",
                file,
                "chat",
                "--allow",
                "fs.read",
                "list the project",
            ],
        );
        out.assert_success();
        assert!(
            ran_a_tool(&out),
            "{api}: no successful tool status line\n{out}"
        );
        let posts = proxy.posts(path);
        assert!(posts.len() >= 2, "{api}: {out}");
        let first = posts[0].request_json();
        let tool = &first["tools"][0];
        let strict = if api == "chat" {
            &tool["function"]["strict"]
        } else {
            &tool["strict"]
        };
        assert_eq!(strict, &json!(true), "{api}: {first:#}");
        assert!(posts.iter().all(|x| x.status == 200), "{api}: {out}");
    }
}
