//! `goshi models`, end to end: the `goshi` binary in a temporary directory with a
//! hermetic environment, against fake Ollama and OpenAI servers.

use crate::support::hermetic;
use crate::support::provider_common;

use hermetic::{run, Sandbox};
use provider_common::*;
use serde_json::{json, Value};

/// `goshi models --format json` for `provider` at `url`: checks that it succeeded and
/// returns the listing.
fn models_json(dir: &Sandbox, provider: &str, url: &str, model: &str) -> Value {
    let mut cmd = models_cmd(dir, provider, url, model);
    cmd.args(["--format", "json"]);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.json()
}

#[test]
fn models_lists_ollama_tags_marking_the_configured_model() {
    let server = fake_ollama(&["llama3.1:8b", MODEL, "qwen2.5"], &["tools"]);
    let dir = Sandbox::new();
    let url = server.url();
    let r = run(models_cmd(&dir, "ollama", &url, MODEL));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        format!("  llama3.1:8b\n* {MODEL}  (configured)\n  qwen2.5\n")
    );
    assert!(
        r.has_err_line(&format!("Ollama models at {url}:")),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);
    let sent = server.requests();
    assert_eq!(sent.len(), 1, "one GET /api/tags, no probe: {sent:?}");
    assert_eq!(
        (sent[0].method.as_str(), sent[0].path.as_str()),
        ("GET", "/api/tags")
    );
}

#[test]
fn models_json_for_ollama_has_the_models_and_the_configured_flag() {
    let server = fake_ollama(&["llama3.1:8b", MODEL], &["tools"]);
    let dir = Sandbox::new();
    let url = server.url();
    assert_eq!(
        models_json(&dir, "ollama", &url, MODEL),
        json!({
            "provider": "Ollama",
            "base_url": url,
            "configured": MODEL,
            "models": [
                {"name": "llama3.1:8b", "configured": false},
                {"name": MODEL, "configured": true},
            ],
        })
    );
}

#[test]
fn models_lists_openai_models_sorted_marking_the_configured_model() {
    let server = fake_openai(&["zeta", MODEL, "alpha"]);
    let dir = Sandbox::new();
    let base = format!("{}/v1", server.url());
    let mut cmd = models_cmd(&dir, "openai", &base, MODEL);
    cmd.env("OPENAI_API_KEY", KEY);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        format!("  alpha\n* {MODEL}  (configured)\n  zeta\n")
    );
    assert!(
        r.has_err_line(&format!("OpenAI models at {base}:")),
        "{}",
        r.stderr
    );
    let sent = server.requests_to("/v1/models");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "GET");
    assert_eq!(
        sent[0].header("authorization").as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );

    assert_eq!(
        models_json(&dir, "openai", &base, MODEL),
        json!({
            "provider": "OpenAI",
            "base_url": base,
            "configured": MODEL,
            "models": [
                {"name": "alpha", "configured": false},
                {"name": MODEL, "configured": true},
                {"name": "zeta", "configured": false},
            ],
        })
    );
    // A compatible server (not api.openai.com) is asked without a key when none is set.
    let sent = server.requests_to("/v1/models");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].header("authorization"), None);
}

#[test]
fn models_notes_a_configured_model_the_server_does_not_have() {
    let server = fake_ollama(&["qwen2.5"], &["tools"]);
    let dir = Sandbox::new();
    let r = run(models_cmd(&dir, "ollama", &server.url(), MODEL));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "  qwen2.5\n");
    assert!(
        r.has_err_line(&format!(
            "note: the configured model {MODEL} is not in this list"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn an_ollama_model_without_a_tag_is_the_latest_one_listed() {
    // Ollama lists `ollama pull qwen2.5` as `qwen2.5:latest`; `qwen2.5` names that model.
    let server = fake_ollama(
        &["qwen2.5:latest", "qwen2.5:0.5b", "llama3.1:8b"],
        &["tools"],
    );
    let dir = Sandbox::new();
    let url = server.url();
    let r = run(models_cmd(&dir, "ollama", &url, "qwen2.5"));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "* qwen2.5:latest  (configured)\n  qwen2.5:0.5b\n  llama3.1:8b\n"
    );
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);

    let configured: Vec<bool> = models_json(&dir, "ollama", &url, "qwen2.5")["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["configured"].as_bool().unwrap())
        .collect();
    assert_eq!(configured, [true, false, false]);

    dir.user_config(&ollama_yaml(server.addr().port()).replace(MODEL, "qwen2.5"));
    let report = doctor_json(&dir, &[], 0);
    assert_eq!(check(&report, "model")["status"], "pass");
}

#[test]
fn models_against_a_dead_ollama_fails_saying_how_to_start_it() {
    let dir = Sandbox::new();
    dir.config("llm:\n  max_retries: 0\n");
    let url = format!("http://{}", dead_host());
    let r = run(dir.goshi(&["models", "--provider", "ollama", "--base-url", &url]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("goshi: error: could not connect to"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("ollama serve"), "{}", r.stderr);
}

#[test]
fn models_without_any_provider_or_key_is_a_configuration_error() {
    // As for `goshi chat`: no provider at all, or OpenAI itself without a key, is a setup
    // problem (exit 2), not a failure of the command (exit 1).
    let dir = Sandbox::new();
    let dead = dead_host();
    let r = goshi_with(&dir, &["models"], &[("OLLAMA_HOST", &dead)]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("no model provider is available"),
        "{}",
        r.stderr
    );

    let r = goshi_with(&dir, &["models", "--provider", "openai"], &[]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("OPENAI_API_KEY"), "{}", r.stderr);
}
