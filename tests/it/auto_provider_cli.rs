//! The `auto` provider choice, end to end: the `goshi` binary in a temporary directory
//! with a hermetic environment picks Ollama when it answers at `OLLAMA_HOST`, else an
//! OpenAI or compatible server, else explains both ways.

use crate::support;
use crate::support::hermetic;
use crate::support::provider_common;

use hermetic::{Run, Sandbox};
use provider_common::*;
use serde_json::json;
use support::*;

/// Asserts that a chat succeeded with `answer` and said which provider it used, and why.
fn assert_answered(r: &Run, answer: &str, using: &str) {
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, answer);
    assert!(r.has_err_line(using), "{}", r.stderr);
}

#[test]
fn auto_uses_ollama_when_it_answers_at_ollama_host() {
    let server = fake_ollama(&["llama3.1:8b"], &["completion", "tools"]);
    server.push(
        "POST",
        "/api/chat",
        Reply::ndjson(&[
            json!({"model": "llama3.1:8b", "message": {"role": "assistant", "content": "Hi from Ollama"}, "done": false}),
            json!({"model": "llama3.1:8b", "message": {"role": "assistant", "content": ""}, "done": true,
                "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 4}),
        ]),
    );
    let dir = Sandbox::new();
    let url = server.url();
    let host = server.addr().to_string();
    let r = goshi_with(
        &dir,
        &["chat", "hi"],
        &[("OLLAMA_HOST", &host), ("OPENAI_API_KEY", KEY)],
    );
    assert_answered(
        &r,
        "Hi from Ollama\n",
        &format!(
            "goshi: using Ollama at {url} with model llama3.1:8b (auto: Ollama answered at {url})"
        ),
    );
    let chats = server.requests_to("/api/chat");
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].json()["model"], "llama3.1:8b");
    assert_eq!(server.requests_to("/v1/chat/completions").len(), 0);
    let probes = server.requests_to("/api/tags");
    assert_eq!(probes.len(), 1, "one probe");
    assert_eq!(probes[0].method, "GET");
}

#[test]
fn auto_uses_openai_when_ollama_is_down_and_a_key_is_set() {
    let server = FakeServer::start();
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::sse(&[
            json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi from OpenAI"}}]}).to_string(),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).to_string(),
            json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}).to_string(),
            "[DONE]".to_string(),
        ]),
    );
    let dir = Sandbox::new();
    let base = format!("{}/v1", server.url());
    dir.user_config(&format!(
        "llm:\n  model: {MODEL}\n  openai:\n    base_url: {base}\n    server: openai\n"
    ));
    let dead = dead_host();
    let r = goshi_with(
        &dir,
        &["chat", "hi"],
        &[("OLLAMA_HOST", &dead), ("OPENAI_API_KEY", KEY)],
    );
    assert_answered(
        &r,
        "Hi from OpenAI\n",
        &format!(
            "goshi: using OpenAI at {base} with model {MODEL} (auto: no Ollama at http://{dead}, OPENAI_API_KEY is set)"
        ),
    );
    let chats = server.requests_to("/v1/chat/completions");
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].json()["model"], MODEL);
    assert_eq!(
        chats[0].header("authorization").as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[test]
fn auto_uses_a_configured_compatible_server_without_a_key() {
    let server = FakeServer::start();
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::sse(&[
            json!({"choices": [{"index": 0, "delta": {"content": "local"}}]}).to_string(),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).to_string(),
            "[DONE]".to_string(),
        ]),
    );
    let dir = Sandbox::new();
    let base = format!("{}/v1", server.url());
    let dead = dead_host();
    let r = goshi_with(
        &dir,
        &["chat", "--model", MODEL, "hi"],
        &[("OLLAMA_HOST", &dead), ("OPENAI_BASE_URL", &base)],
    );
    assert_answered(
        &r,
        "local\n",
        &format!(
            "goshi: using OpenAI at {base} with model {MODEL} (auto: no Ollama at http://{dead}, an OpenAI-compatible server is configured)"
        ),
    );
    let chats = server.requests_to("/v1/chat/completions");
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].header("authorization"), None);
}

#[test]
fn auto_with_neither_provider_fails_explaining_both_ways() {
    let dir = Sandbox::new();
    let dead = dead_host();
    let r = goshi_with(&dir, &["chat", "hi"], &[("OLLAMA_HOST", &dead)]);
    assert!(matches!(r.code, Some(1 | 2)), "{:?}: {}", r.code, r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains(&format!(
            "goshi: error: no model provider is available: Ollama did not answer at http://{dead} and OPENAI_API_KEY is not set"
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("ollama serve"), "{}", r.stderr);
    assert!(r.stderr.contains("export OPENAI_API_KEY="), "{}", r.stderr);
    assert!(!r.stderr.contains("goshi: using"), "{}", r.stderr);
}
