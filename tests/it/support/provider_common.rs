//! Helpers shared by the provider tests of the `goshi` binary (`tests/models_cli.rs`,
//! `tests/doctor_cli.rs`, `tests/auto_provider_cli.rs`): fake Ollama and OpenAI servers,
//! the `goshi.yaml` and commands that point at them, and readers of a doctor report.

use assert_cmd::Command;
use serde_json::{json, Value};

use crate::support::hermetic::{run, Run, Sandbox};
use crate::support::{FakeServer, Reply};

/// The API key set where a test needs one.
pub const KEY: &str = "sk-test-DOCTOR42";
/// The model the tests configure.
pub const MODEL: &str = "test-model";

/// A local port nothing listens on.
pub fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// An `OLLAMA_HOST` value (`127.0.0.1:PORT`) where nothing listens.
pub fn dead_host() -> String {
    format!("127.0.0.1:{}", dead_port())
}

/// A fake Ollama with these models installed, whose models have these capabilities.
pub fn fake_ollama(models: &[&str], capabilities: &[&str]) -> FakeServer {
    let server = FakeServer::start();
    let tags: Vec<Value> = models
        .iter()
        .map(|m| {
            json!({"name": m, "model": m, "size": 4_920_753_328u64,
            "modified_at": "2026-01-01T00:00:00Z", "details": {"family": "llama"}})
        })
        .collect();
    server.set_default(
        "GET",
        "/api/tags",
        Reply::json(200, json!({"models": tags})),
    );
    server.set_default(
        "POST",
        "/api/show",
        Reply::json(
            200,
            json!({"modelfile": "FROM x", "capabilities": capabilities}),
        ),
    );
    server
}

/// A fake OpenAI-compatible server offering these model ids at `/v1/models`.
pub fn fake_openai(ids: &[&str]) -> FakeServer {
    let server = FakeServer::start();
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 1, "owned_by": "system"}))
        .collect();
    server.set_default(
        "GET",
        "/v1/models",
        Reply::json(200, json!({"object": "list", "data": data})),
    );
    server
}

/// `goshi.yaml` for an Ollama at `port`.
pub fn ollama_yaml(port: u16) -> String {
    format!(
        "llm:\n  provider: ollama\n  model: {MODEL}\n  max_retries: 0\n  local:\n    url: http://127.0.0.1\n    port: {port}\n"
    )
}

/// `goshi models --provider PROVIDER --base-url URL --model MODEL` in `dir`.
pub fn models_cmd(dir: &Sandbox, provider: &str, url: &str, model: &str) -> Command {
    dir.goshi(&[
        "models",
        "--provider",
        provider,
        "--base-url",
        url,
        "--model",
        model,
    ])
}

/// Runs `goshi ARGS` in `dir` with `env` set.
pub fn goshi_with(dir: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = dir.goshi(args);
    cmd.envs(env.iter().copied());
    run(cmd)
}

/// Runs `goshi doctor --format json` in `dir` with `env` set, checks its exit code and
/// returns the report.
pub fn doctor_json(dir: &Sandbox, env: &[(&str, &str)], code: i32) -> Value {
    let r = goshi_with(dir, &["doctor", "--format", "json"], env);
    assert_eq!(r.code, Some(code), "{}\n{}", r.stdout, r.stderr);
    r.json()
}

/// The (check, status) pairs of a `doctor --format json` report.
pub fn statuses(report: &Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The check named `name` of a `doctor --format json` report.
pub fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}
