//! `goshi doctor`, end to end: the `goshi` binary in a temporary directory with a
//! hermetic environment, against fake Ollama and OpenAI servers (or none).

use crate::support::hermetic;
use crate::support::provider_common;

use std::path::Path;

use hermetic::{run, Sandbox};
use provider_common::*;
use serde_json::json;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The checks of an Ollama setup, in order.
const OLLAMA_CHECKS: [&str; 6] = [
    "config",
    "self-model",
    "audit dir",
    "provider",
    "model",
    "tools",
];

/// The (check, status) pairs of every Ollama check passing but those in `other`.
fn ollama_checks_passing_but(other: &[(&str, &str)]) -> Vec<(String, String)> {
    OLLAMA_CHECKS
        .iter()
        .map(|&name| {
            let status = other
                .iter()
                .find(|(n, _)| *n == name)
                .map_or("pass", |(_, s)| *s);
            (name.to_string(), status.to_string())
        })
        .collect()
}

fn audit_dir(root: &Path) -> String {
    root.join(".goshi/audit").display().to_string()
}

#[test]
fn doctor_passes_every_check_of_a_healthy_ollama_setup() {
    let server = fake_ollama(&["llama3.1:8b", MODEL], &["completion", "tools"]);
    let dir = Sandbox::new();
    dir.user_config(&ollama_yaml(server.addr().port()));
    let url = server.url();
    let r = run(dir.goshi(&["doctor"]));
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("[pass] config     ")
            && lines[0].ends_with("goshi/goshi.yaml is valid"),
        "{}",
        r.stdout
    );
    let want = [
        "[pass] self-model using goshi's built-in self-model".to_string(),
        format!(
            "[pass] audit dir  {} is writable",
            audit_dir(&dir.canonical_path())
        ),
        format!("[pass] provider   Ollama answers at {url} (llm.provider: ollama)"),
        format!("[pass] model      {MODEL} is available"),
        format!("[pass] tools      {MODEL} can call tools"),
    ];
    assert_eq!(lines[1..], want);
    assert_eq!(
        server.requests_to("/api/show")[0].json(),
        json!({"model": MODEL})
    );

    let report = doctor_json(&dir, &[], 0);
    assert_eq!(report["ok"], true);
    assert_eq!(statuses(&report), ollama_checks_passing_but(&[]));
    // Passing checks carry no fix.
    for c in report["checks"].as_array().unwrap() {
        assert!(c.get("hint").is_none(), "{c}");
    }
    // Doctor only reads: the audit dir it checked was not created.
    assert!(!dir.path().join(".goshi").exists());
}

#[test]
fn doctor_finds_ollama_through_ollama_host_with_auto() {
    let server = fake_ollama(&["llama3.1:8b"], &["tools"]);
    let dir = Sandbox::new();
    let url = server.url();
    let host = server.addr().to_string();
    let report = doctor_json(&dir, &[("OLLAMA_HOST", &host)], 0);
    assert_eq!(report["ok"], true);
    assert_eq!(
        statuses(&report),
        ollama_checks_passing_but(&[("config", "warn")])
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
    let dir = Sandbox::new();
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

    let report = doctor_json(&dir, &[], 1);
    assert_eq!(report["ok"], false);
    assert_eq!(statuses(&report), pairs(&[("config", "fail")]));
    let detail = check(&report, "config")["detail"].as_str().unwrap();
    assert!(detail.contains("llm.temperature"), "{detail}");
}

#[test]
fn doctor_fails_when_ollama_is_unreachable_saying_ollama_serve() {
    let dir = Sandbox::new();
    let port = dead_port();
    dir.user_config(&ollama_yaml(port));
    let report = doctor_json(&dir, &[], 1);
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
    let dir = Sandbox::new();
    let report = doctor_json(&dir, &[("OLLAMA_HOST", &dead_host())], 1);
    assert_eq!(check(&report, "provider")["status"], "fail");
    let hint = check(&report, "provider")["hint"].as_str().unwrap();
    assert!(hint.contains("ollama serve"), "{hint}");
    assert!(hint.contains("OPENAI_API_KEY"), "{hint}");
}

#[test]
fn doctor_fails_when_the_model_is_not_pulled_saying_ollama_pull() {
    let server = fake_ollama(&["llama3.1:8b"], &["tools"]);
    let dir = Sandbox::new();
    dir.user_config(&ollama_yaml(server.addr().port()));
    let report = doctor_json(&dir, &[], 1);
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
    let dir = Sandbox::new();
    dir.user_config(&ollama_yaml(server.addr().port()));
    let report = doctor_json(&dir, &[], 0);
    assert_eq!(report["ok"], true);
    assert_eq!(
        statuses(&report),
        ollama_checks_passing_but(&[("tools", "warn")])
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
    let dir = Sandbox::new();
    dir.user_config(&format!(
        "llm:\n  provider: openai\n  model: {MODEL}\n  max_retries: 0\n  openai:\n    base_url: {}/v1\n    server: openai\n",
        server.url()
    ));
    let report = doctor_json(&dir, &[], 1);
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
    let dir = Sandbox::new();
    let base = format!("{}/v1", server.url());
    dir.user_config(&format!(
        "llm:\n  provider: openai\n  model: {MODEL}\n  max_retries: 0\n  openai:\n    base_url: {base}\n    server: openai\n"
    ));
    let r = goshi_with(
        &dir,
        &["doctor", "--format", "json"],
        &[("OPENAI_API_KEY", KEY)],
    );
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
    let dir = Sandbox::new();
    dir.write("blocker", "a regular file, not a directory\n");
    dir.user_config(&format!(
        "{}audit:\n  dir: blocker/audit\n",
        ollama_yaml(server.addr().port())
    ));
    let report = doctor_json(&dir, &[], 1);
    assert_eq!(report["ok"], false);
    let audit = check(&report, "audit dir");
    assert_eq!(audit["status"], "fail");
    let detail = audit["detail"].as_str().unwrap();
    let blocked = dir
        .canonical_path()
        .join("blocker/audit")
        .display()
        .to_string();
    assert!(
        detail.starts_with(&format!("{blocked} is not writable: ")),
        "{detail}"
    );
    assert!(audit["hint"].as_str().unwrap().contains("audit.dir"));
    // The other checks still ran and passed.
    assert_eq!(check(&report, "model")["status"], "pass");
}
