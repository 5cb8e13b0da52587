//! `goshi models`, `goshi doctor` and the `auto` provider choice, end to end: the `goshi`
//! binary in a temporary directory with a hermetic environment, against the fake server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::{json, Value};
use support::*;
use tempfile::TempDir;

/// The API key set where a test needs one.
const KEY: &str = "sk-test-DOCTOR42";
/// The model the tests configure.
const MODEL: &str = "test-model";
/// Generous bound so a stuck run fails instead of hanging; never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// What a finished `goshi` run printed.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn has_err_line(&self, line: &str) -> bool {
        self.stderr.lines().any(|l| l == line)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// A temporary working directory (also HOME and the config and cache dirs).
struct Dir {
    dir: TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The directory, as goshi sees it (symlinks resolved).
    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }

    fn config(&self, yaml: &str) {
        self.write("goshi.yaml", yaml);
    }

    /// `goshi ARGS` in the directory, with no goshi or OpenAI variables from outside.
    fn goshi(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("goshi").unwrap();
        cmd.current_dir(self.dir.path())
            .args(args)
            .timeout(HANG_GUARD);
        for var in [
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "OPENAI_ORG_ID",
            "OPENAI_PROJECT_ID",
            "GOSHI_LLM_PROVIDER",
            "GOSHI_MODEL",
            "GOSHI_LOG",
            "OLLAMA_HOST",
            "GOSHI_CONFIG",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path())
            .env("XDG_CACHE_HOME", self.dir.path());
        cmd
    }
}

fn run(mut cmd: Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A local port nothing listens on.
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A fake Ollama with these models installed, whose models have these capabilities.
fn fake_ollama(models: &[&str], capabilities: &[&str]) -> FakeServer {
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
fn fake_openai(ids: &[&str]) -> FakeServer {
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
fn ollama_yaml(port: u16) -> String {
    format!(
        "llm:\n  provider: ollama\n  model: {MODEL}\n  max_retries: 0\n  local:\n    url: http://127.0.0.1\n    port: {port}\n"
    )
}

/// The (check, status) pairs of a `doctor --format json` report.
fn statuses(report: &Value) -> Vec<(String, String)> {
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
fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn audit_dir(root: &Path) -> String {
    root.join(".goshi/audit").display().to_string()
}

// ---------------------------------------------------------------- goshi models

#[test]
fn models_lists_ollama_tags_marking_the_configured_model() {
    let server = fake_ollama(&["llama3.1:8b", MODEL, "qwen2.5"], &["tools"]);
    let dir = Dir::new();
    let url = server.url();
    let r = run(dir.goshi(&[
        "models",
        "--provider",
        "ollama",
        "--base-url",
        &url,
        "--model",
        MODEL,
    ]));
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
    let dir = Dir::new();
    let url = server.url();
    let r = run(dir.goshi(&[
        "models",
        "--format",
        "json",
        "--provider",
        "ollama",
        "--base-url",
        &url,
        "--model",
        MODEL,
    ]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.json(),
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
    let dir = Dir::new();
    let base = format!("{}/v1", server.url());
    let args = [
        "models",
        "--provider",
        "openai",
        "--base-url",
        &base,
        "--model",
        MODEL,
    ];
    let mut cmd = dir.goshi(&args);
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

    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let r = run(dir.goshi(&json_args));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.json(),
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
    let dir = Dir::new();
    let url = server.url();
    let r = run(dir.goshi(&[
        "models",
        "--provider",
        "ollama",
        "--base-url",
        &url,
        "--model",
        MODEL,
    ]));
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
    let dir = Dir::new();
    let url = server.url();
    let args = [
        "models",
        "--provider",
        "ollama",
        "--base-url",
        &url,
        "--model",
        "qwen2.5",
    ];
    let r = run(dir.goshi(&args));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "* qwen2.5:latest  (configured)\n  qwen2.5:0.5b\n  llama3.1:8b\n"
    );
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);

    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let r = run(dir.goshi(&json_args));
    let configured: Vec<bool> = r.json()["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["configured"].as_bool().unwrap())
        .collect();
    assert_eq!(configured, [true, false, false]);

    dir.config(&ollama_yaml(server.addr().port()).replace(MODEL, "qwen2.5"));
    let r = run(dir.goshi(&["doctor", "--format", "json"]));
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert_eq!(check(&r.json(), "model")["status"], "pass");
}

#[test]
fn models_against_a_dead_ollama_fails_saying_how_to_start_it() {
    let dir = Dir::new();
    dir.config("llm:\n  max_retries: 0\n");
    let url = format!("http://127.0.0.1:{}", dead_port());
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

// ---------------------------------------------------------------- goshi doctor

#[test]
fn doctor_passes_every_check_of_a_healthy_ollama_setup() {
    let server = fake_ollama(&["llama3.1:8b", MODEL], &["completion", "tools"]);
    let dir = Dir::new();
    dir.config(&ollama_yaml(server.addr().port()));
    let url = server.url();
    let r = run(dir.goshi(&["doctor"]));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let want = [
        "[pass] config     goshi.yaml is valid".to_string(),
        "[pass] self-model using goshi's built-in self-model".to_string(),
        format!("[pass] audit dir  {} is writable", audit_dir(&dir.root())),
        format!("[pass] provider   Ollama answers at {url} (llm.provider: ollama)"),
        format!("[pass] model      {MODEL} is available"),
        format!("[pass] tools      {MODEL} can call tools"),
    ];
    assert_eq!(r.stdout.lines().collect::<Vec<_>>(), want);
    assert_eq!(
        server.requests_to("/api/show")[0].json(),
        json!({"model": MODEL})
    );

    let r = run(dir.goshi(&["doctor", "--format", "json"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["ok"], true);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("config", "pass"),
            ("self-model", "pass"),
            ("audit dir", "pass"),
            ("provider", "pass"),
            ("model", "pass"),
            ("tools", "pass"),
        ])
    );
    // Passing checks carry no fix.
    for c in report["checks"].as_array().unwrap() {
        assert!(c.get("hint").is_none(), "{c}");
    }
    // The audit probe left nothing behind.
    let left: Vec<_> = std::fs::read_dir(dir.root().join(".goshi/audit"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn doctor_finds_ollama_through_ollama_host_with_auto() {
    let server = fake_ollama(&["llama3.1:8b"], &["tools"]);
    let dir = Dir::new();
    let url = server.url();
    let mut cmd = dir.goshi(&["doctor", "--format", "json"]);
    cmd.env("OLLAMA_HOST", server.addr().to_string());
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let report = r.json();
    assert_eq!(report["ok"], true);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("config", "warn"),
            ("self-model", "pass"),
            ("audit dir", "pass"),
            ("provider", "pass"),
            ("model", "pass"),
            ("tools", "pass"),
        ])
    );
    assert_eq!(
        check(&report, "config")["detail"],
        "no goshi.yaml found; using defaults"
    );
    assert_eq!(
        check(&report, "provider")["detail"],
        format!("Ollama answers at {url} (auto: Ollama answered at {url})")
    );
    assert_eq!(
        check(&report, "model")["detail"],
        "llama3.1:8b is available"
    );
}

#[test]
fn doctor_fails_on_an_invalid_config_value_naming_the_key() {
    let dir = Dir::new();
    dir.config("llm:\n  temperature: 3\n");
    let r = run(dir.goshi(&["doctor"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        [
            "[FAIL] config     invalid configuration: llm.temperature: must be between 0 and 2 (got 3)",
            "                  fix: fix the key named above in goshi.yaml",
        ]
    );

    let r = run(dir.goshi(&["doctor", "--format", "json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["ok"], false);
    assert_eq!(statuses(&report), pairs(&[("config", "fail")]));
    let detail = check(&report, "config")["detail"].as_str().unwrap();
    assert!(detail.contains("llm.temperature"), "{detail}");
}

#[test]
fn doctor_fails_when_ollama_is_unreachable_saying_ollama_serve() {
    let dir = Dir::new();
    let port = dead_port();
    dir.config(&ollama_yaml(port));
    let r = run(dir.goshi(&["doctor", "--format", "json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["ok"], false);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("config", "pass"),
            ("self-model", "pass"),
            ("audit dir", "pass"),
            ("provider", "fail"),
        ])
    );
    let provider = check(&report, "provider");
    let detail = provider["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!(
            "Ollama at http://127.0.0.1:{port}: could not connect to"
        )),
        "{detail}"
    );
    let hint = provider["hint"].as_str().unwrap();
    assert!(hint.contains("ollama serve"), "{hint}");

    // The text report prints the fix under the failed check.
    let r = run(dir.goshi(&["doctor"]));
    assert_eq!(r.code, Some(1));
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("                  fix: ") && l.contains("ollama serve")),
        "{}",
        r.stdout
    );
}

#[test]
fn doctor_with_no_provider_at_all_explains_both_ways() {
    let dir = Dir::new();
    let mut cmd = dir.goshi(&["doctor", "--format", "json"]);
    cmd.env("OLLAMA_HOST", format!("127.0.0.1:{}", dead_port()));
    let r = run(cmd);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let report = r.json();
    assert_eq!(check(&report, "provider")["status"], "fail");
    let hint = check(&report, "provider")["hint"].as_str().unwrap();
    assert!(hint.contains("ollama serve"), "{hint}");
    assert!(hint.contains("OPENAI_API_KEY"), "{hint}");
}

#[test]
fn doctor_fails_when_the_model_is_not_pulled_saying_ollama_pull() {
    let server = fake_ollama(&["llama3.1:8b"], &["tools"]);
    let dir = Dir::new();
    dir.config(&ollama_yaml(server.addr().port()));
    let r = run(dir.goshi(&["doctor", "--format", "json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["ok"], false);
    let model = check(&report, "model");
    assert_eq!(model["status"], "fail");
    assert_eq!(model["detail"], format!("{MODEL} is not on the server"));
    let hint = model["hint"].as_str().unwrap();
    assert!(hint.contains(&format!("ollama pull {MODEL}")), "{hint}");
    assert_eq!(check(&report, "provider")["status"], "pass");
}

#[test]
fn doctor_warns_but_passes_when_the_model_cannot_call_tools() {
    let server = fake_ollama(&[MODEL], &["completion"]);
    let dir = Dir::new();
    dir.config(&ollama_yaml(server.addr().port()));
    let r = run(dir.goshi(&["doctor", "--format", "json"]));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["ok"], true);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("config", "pass"),
            ("self-model", "pass"),
            ("audit dir", "pass"),
            ("provider", "pass"),
            ("model", "pass"),
            ("tools", "warn"),
        ])
    );
    let tools = check(&report, "tools");
    assert_eq!(
        tools["detail"],
        format!("{MODEL} cannot call tools; goshi will chat without them")
    );
    assert!(tools["hint"].as_str().unwrap().contains("tool support"));

    let r = run(dir.goshi(&["doctor"]));
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout.lines().any(|l| l
            == format!(
                "[warn] tools      {MODEL} cannot call tools; goshi will chat without them"
            )),
        "{}",
        r.stdout
    );
}

#[test]
fn doctor_fails_the_api_key_check_for_openai_without_a_key() {
    let server = fake_openai(&[MODEL]);
    let dir = Dir::new();
    dir.config(&format!(
        "llm:\n  provider: openai\n  model: {MODEL}\n  max_retries: 0\n  openai:\n    base_url: {}/v1\n    server: openai\n",
        server.url()
    ));
    let r = run(dir.goshi(&["doctor", "--format", "json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["ok"], false);
    let key = check(&report, "api key");
    assert_eq!(key["status"], "fail");
    assert_eq!(key["detail"], "OPENAI_API_KEY is not set");
    assert!(
        key["hint"]
            .as_str()
            .unwrap()
            .contains("export OPENAI_API_KEY="),
        "{key}"
    );
    // Nothing is sent to OpenAI without a key.
    assert_eq!(server.requests().len(), 0, "{:?}", server.requests());
}

#[test]
fn doctor_passes_an_openai_setup_with_a_key() {
    let server = fake_openai(&["other", MODEL]);
    let dir = Dir::new();
    let base = format!("{}/v1", server.url());
    dir.config(&format!(
        "llm:\n  provider: openai\n  model: {MODEL}\n  max_retries: 0\n  openai:\n    base_url: {base}\n    server: openai\n"
    ));
    let mut cmd = dir.goshi(&["doctor", "--format", "json"]);
    cmd.env("OPENAI_API_KEY", KEY);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let report = r.json();
    assert_eq!(report["ok"], true);
    assert_eq!(
        statuses(&report),
        pairs(&[
            ("config", "pass"),
            ("self-model", "pass"),
            ("audit dir", "pass"),
            ("api key", "pass"),
            ("provider", "pass"),
            ("model", "pass"),
            ("tools", "pass"),
            ("protocol", "pass"),
        ])
    );
    assert_eq!(
        check(&report, "provider")["detail"],
        format!("OpenAI answers at {base} (llm.provider: openai)")
    );
    assert!(!r.stdout.contains(KEY) && !r.stderr.contains(KEY));
}

#[test]
fn doctor_fails_when_the_audit_dir_cannot_be_created() {
    let server = fake_ollama(&[MODEL], &["tools"]);
    let dir = Dir::new();
    dir.write("blocker", "a regular file, not a directory\n");
    dir.config(&format!(
        "{}audit:\n  dir: blocker/audit\n",
        ollama_yaml(server.addr().port())
    ));
    let r = run(dir.goshi(&["doctor", "--format", "json"]));
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["ok"], false);
    let audit = check(&report, "audit dir");
    assert_eq!(audit["status"], "fail");
    let detail = audit["detail"].as_str().unwrap();
    let blocked = dir.root().join("blocker/audit").display().to_string();
    assert!(
        detail.starts_with(&format!("{blocked} is not writable: ")),
        "{detail}"
    );
    assert!(audit["hint"].as_str().unwrap().contains("audit.dir"));
    // The other checks still ran and passed.
    assert_eq!(check(&report, "model")["status"], "pass");
}

// ---------------------------------------------------------------- provider: auto

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
    let dir = Dir::new();
    let url = server.url();
    let mut cmd = dir.goshi(&["chat", "hi"]);
    cmd.env("OLLAMA_HOST", server.addr().to_string())
        .env("OPENAI_API_KEY", KEY);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "Hi from Ollama\n");
    assert!(
        r.has_err_line(&format!(
            "goshi: using Ollama at {url} with model llama3.1:8b (auto: Ollama answered at {url})"
        )),
        "{}",
        r.stderr
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
    let dir = Dir::new();
    let base = format!("{}/v1", server.url());
    dir.config(&format!(
        "llm:\n  model: {MODEL}\n  openai:\n    base_url: {base}\n    server: openai\n"
    ));
    let dead = format!("127.0.0.1:{}", dead_port());
    let mut cmd = dir.goshi(&["chat", "hi"]);
    cmd.env("OLLAMA_HOST", &dead).env("OPENAI_API_KEY", KEY);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "Hi from OpenAI\n");
    assert!(
        r.has_err_line(&format!(
            "goshi: using OpenAI at {base} with model {MODEL} (auto: no Ollama at http://{dead}, OPENAI_API_KEY is set)"
        )),
        "{}",
        r.stderr
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
    let dir = Dir::new();
    let base = format!("{}/v1", server.url());
    let dead = format!("127.0.0.1:{}", dead_port());
    let mut cmd = dir.goshi(&["chat", "--model", MODEL, "hi"]);
    cmd.env("OLLAMA_HOST", &dead).env("OPENAI_BASE_URL", &base);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, "local\n");
    assert!(
        r.has_err_line(&format!(
            "goshi: using OpenAI at {base} with model {MODEL} (auto: no Ollama at http://{dead}, an OpenAI-compatible server is configured)"
        )),
        "{}",
        r.stderr
    );
    let chats = server.requests_to("/v1/chat/completions");
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].header("authorization"), None);
}

#[test]
fn auto_with_neither_provider_fails_explaining_both_ways() {
    let dir = Dir::new();
    let dead = format!("127.0.0.1:{}", dead_port());
    let mut cmd = dir.goshi(&["chat", "hi"]);
    cmd.env("OLLAMA_HOST", &dead);
    let r = run(cmd);
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
