//! Tests of [`super::resolve`]: defaults, precedence, and errors that name the key.

use super::*;

fn from_yaml(y: &str, ov: &Overrides, env: &EnvVars) -> Result<Config, ConfigError> {
    let file: FileConfig = serde_yaml_ng::from_str(y).map_err(|e| bad("yaml", e.to_string()))?;
    resolve(file, None, ov, env)
}

#[test]
fn defaults() {
    let c = from_yaml("{}", &Overrides::default(), &EnvVars::default()).unwrap();
    assert_eq!(c.llm.max_tokens, 4096);
    assert_eq!(c.llm.request_timeout, Duration::from_secs(60));
    assert_eq!(c.llm.retry.max_retries, 3);
    assert_eq!(c.llm.tool_choice, ToolChoice::Auto);
    assert_eq!(c.llm.provider, Provider::Auto);
    assert_eq!(c.llm.openai.base_url, "https://api.openai.com/v1");
    assert_eq!(c.llm.openai.server, OpenAiServer::OpenAi);
    assert_eq!(c.llm.local.base_url, "http://127.0.0.1:11434");
    assert_eq!(c.llm.temperature, None);
    assert!(c.audit.redact);
}

#[test]
fn flags_beat_env_beat_file() {
    let y = "llm: {provider: ollama, model: file-model}";
    let env = EnvVars {
        provider: Some("openai".into()),
        model: Some("env-model".into()),
        ..Default::default()
    };
    let c = from_yaml(y, &Overrides::default(), &env).unwrap();
    assert_eq!(c.llm.provider, Provider::OpenAi);
    assert_eq!(c.llm.model.as_deref(), Some("env-model"));
    let ov = Overrides {
        model: Some("flag-model".into()),
        provider: Some("auto".into()),
        ..Default::default()
    };
    let c = from_yaml(y, &ov, &env).unwrap();
    assert_eq!(c.llm.model.as_deref(), Some("flag-model"));
    assert_eq!(c.llm.provider, Provider::Auto);
}

#[test]
fn invalid_values_name_the_key_and_range() {
    let e = EnvVars::default();
    let o = Overrides::default();
    let err = from_yaml("llm: {temperature: 3}", &o, &e).unwrap_err();
    assert_eq!(err.key, "llm.temperature");
    assert!(err.message.contains("between 0 and 2"), "{err}");
    let err = from_yaml("llm: {max_tokens: -5}", &o, &e).unwrap_err();
    assert_eq!(err.key, "llm.max_tokens");
    let err = from_yaml("llm: {provider: azure}", &o, &e).unwrap_err();
    assert!(err.message.contains("ollama, openai, auto"));
    let err = from_yaml("llm: {openai: {base_url: 'not a url'}}", &o, &e).unwrap_err();
    assert_eq!(err.key, "llm.openai.base_url");
    let err = from_yaml("llm: {model: 'two words'}", &o, &e).unwrap_err();
    assert_eq!(err.key, "llm.model");
    let err = from_yaml("llm: {reasoning_effort: extreme}", &o, &e).unwrap_err();
    assert!(err.message.contains("xhigh"));
    let err = from_yaml("llm: {max_tool_calls_per_answer: 0}", &o, &e).unwrap_err();
    assert_eq!(err.key, "llm.max_tool_calls_per_answer");
    let err = from_yaml("llm: {max_tool_results_bytes: 10}", &o, &e).unwrap_err();
    assert_eq!(err.key, "llm.max_tool_results_bytes");
    assert!(err.message.contains("8388608 (8 MiB)"), "{err}");
    let caps = from_yaml(
        "llm: {max_tool_calls_per_answer: 3, max_tool_calls_per_turn: 5, max_tool_results_bytes: 2048}",
        &o,
        &e,
    )
    .unwrap();
    assert_eq!(
        (
            caps.llm.max_tool_calls_per_answer,
            caps.llm.max_tool_calls_per_turn,
            caps.llm.max_tool_results_bytes
        ),
        (3, 5, 2048)
    );
    let err = from_yaml("llm: {reasoning_summary: brief}", &o, &e).unwrap_err();
    assert_eq!(err.key, "llm.reasoning_summary");
    assert!(err.message.contains("auto, concise, detailed"), "{err}");
    let ok = from_yaml("llm: {reasoning_summary: concise}", &o, &e).unwrap();
    assert_eq!(ok.llm.reasoning_summary.as_deref(), Some("concise"));
    assert!(from_yaml("llm: {tempreature: 1}", &o, &e).is_err());
    let err = from_yaml("llm: {tool_choice: 'fs read'}", &o, &e).unwrap_err();
    assert_eq!(err.key, "llm.tool_choice");
    assert!(err.message.contains("auto, required, none"), "{err}");
    let err = from_yaml("audit: {tool_arguments_style: tiny}", &o, &e).unwrap_err();
    assert_eq!(err.key, "audit.tool_arguments_style");
    assert!(
        err.message.contains("full, long, short, summaries"),
        "{err}"
    );
    let err = from_yaml("llm: {openai: {max_tokens_field: tokens}}", &o, &e).unwrap_err();
    assert_eq!(err.key, "llm.openai.max_tokens_field");
}

#[test]
fn word_settings_are_typed_once_at_load() {
    let (e, o) = (EnvVars::default(), Overrides::default());
    let y = "llm: {tool_choice: fs.read}\naudit: {tool_arguments_style: full}";
    let c = from_yaml(y, &o, &e).unwrap();
    assert_eq!(c.llm.tool_choice, ToolChoice::Tool("fs.read".into()));
    assert_eq!(c.audit.tool_arguments_style, ToolArgumentsStyle::Full);
    let c = from_yaml("", &o, &e).unwrap();
    assert_eq!(c.audit.tool_arguments_style, ToolArgumentsStyle::Summaries);
}

#[test]
fn server_kind_follows_the_base_url_host() {
    let env = EnvVars {
        openai_base_url: Some("http://127.0.0.1:8080/v1/".into()),
        ..Default::default()
    };
    let c = from_yaml("{}", &Overrides::default(), &env).unwrap();
    assert_eq!(c.llm.openai.server, OpenAiServer::Compatible);
    assert_eq!(c.llm.openai.base_url, "http://127.0.0.1:8080/v1");
    let c = from_yaml(
        "llm: {openai: {server: openai}}",
        &Overrides::default(),
        &env,
    )
    .unwrap();
    assert_eq!(c.llm.openai.server, OpenAiServer::OpenAi);
}

#[test]
fn an_explicit_default_port_is_kept() {
    let c = from_yaml(
        "llm: {local: {url: 'http://ollama.example.test:80'}}",
        &Overrides::default(),
        &EnvVars::default(),
    )
    .unwrap();
    assert_eq!(c.llm.local.base_url, "http://ollama.example.test");
    assert!(has_explicit_port("http://[::1]:8080/x"));
    assert!(!has_explicit_port("http://[::1]/x"));
    assert!(!has_explicit_port("http://user:pw@host/x"));
}

#[test]
fn ollama_host_forms() {
    assert_eq!(
        parse_ollama_host("example.test").unwrap(),
        "http://example.test:11434"
    );
    assert_eq!(
        parse_ollama_host("127.0.0.1:9999").unwrap(),
        "http://127.0.0.1:9999"
    );
    assert_eq!(
        parse_ollama_host("https://o.example.test").unwrap(),
        "https://o.example.test"
    );
    let c = from_yaml(
        "llm: {local: {url: 'http://10.1.2.3', port: 1234}}",
        &Overrides::default(),
        &EnvVars::default(),
    )
    .unwrap();
    assert_eq!(c.llm.local.base_url, "http://10.1.2.3:1234");
}

#[test]
fn a_repo_root_that_is_not_a_directory_is_refused_naming_the_key() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("no-such-dir");
    let y = format!(
        "behavior: {{repo_root: {:?}}}",
        missing.display().to_string()
    );
    let err = from_yaml(&y, &Overrides::default(), &EnvVars::default()).unwrap_err();
    assert_eq!(err.key, "behavior.repo_root");
    assert!(err.message.contains("no-such-dir"), "{err}");
    let file = d.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    let y = format!("behavior: {{repo_root: {:?}}}", file.display().to_string());
    let err = from_yaml(&y, &Overrides::default(), &EnvVars::default()).unwrap_err();
    assert_eq!(err.key, "behavior.repo_root");
    let y = format!(
        "behavior: {{repo_root: {:?}}}",
        d.path().display().to_string()
    );
    let c = from_yaml(&y, &Overrides::default(), &EnvVars::default()).unwrap();
    assert_eq!(c.repo_root, d.path());
}
