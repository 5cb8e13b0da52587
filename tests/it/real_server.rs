//! goshi against a REAL, independent OpenAI-compatible server: llama.cpp's own
//! `llama-server` serving the tiny model from `../shared/real-server` (see
//! `docs/real-server.md`): plain answers, the token line, `goshi models` and `goshi doctor`,
//! errors, and where llama-server answers what OpenAI refuses. The tool rounds and the
//! Responses API are in `tests/real_server_tools.rs`; the helpers in `tests/real_server_common`.
//!
//! Every test is `#[ignore]`d: they need the servers that `scripts/real-server-tests.sh`
//! starts. Run under `--ignored` without them, each test fails and says how to start one.
//!
//! The tests drive the built `goshi` binary the way a user does, in a temporary directory
//! with a hermetic environment. Where a test must see the wire (the usage chunk, how many
//! requests were sent) goshi talks to the server through [`Proxy`], a transparent
//! recording proxy that streams every byte through unchanged.

use crate::support::real_server_common;

use std::fs;
use std::path::Path;

use real_server_common::*;
use serde_json::{json, Value};

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
    let lines = token_lines(&out);
    assert_eq!(lines.len(), 2, "one token line per response\n{out}");
    assert!(lines.iter().all(|l| l.3 == "tiny"), "{out}");
}

#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn no_stream_answer_says_ok() {
    let (p, proxy) = proxied_project(TEMP0);
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
    let lines = token_lines(&out);
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
    let lines = token_lines(&out);
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

// ---- 4. Errors ----

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

// ---- 5. Where llama-server differs from OpenAI ----

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
        token_lines(&out).iter().all(|l| l.3 == "does-not-exist"),
        "{out}"
    );
    let out = Project::run_cmd(p.command(&root, "does-not-exist", &["models"]));
    out.assert_success();
    assert!(out.stdout.contains("tiny"), "{out}");
    assert!(out.stderr.contains("not in this list"), "{out}");
}
