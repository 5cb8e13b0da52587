//! Finding, reading, overriding and validating the configuration.

use std::fmt;
use std::path::{Path, PathBuf};

use super::file::FileConfig;
use super::*;

/// A configuration problem, naming the key, what is allowed and where to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key (`llm.temperature`) or source (`OPENAI_BASE_URL`) at fault.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_string(),
        message: message.into(),
    }
}

/// The environment variables goshi reads, captured once (tests pass their own).
#[derive(Debug, Clone, Default)]
pub struct EnvVars {
    /// `OPENAI_API_KEY`
    pub openai_api_key: Option<String>,
    /// `OPENAI_BASE_URL`
    pub openai_base_url: Option<String>,
    /// `OPENAI_ORG_ID`
    pub openai_org_id: Option<String>,
    /// `OPENAI_PROJECT_ID`
    pub openai_project_id: Option<String>,
    /// `GOSHI_LLM_PROVIDER`
    pub provider: Option<String>,
    /// `GOSHI_MODEL`
    pub model: Option<String>,
    /// `OLLAMA_HOST`
    pub ollama_host: Option<String>,
    /// `GOSHI_CONFIG`
    pub config: Option<String>,
}

impl EnvVars {
    /// Reads the process environment; empty values count as unset.
    pub fn from_process() -> Self {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        EnvVars {
            openai_api_key: get("OPENAI_API_KEY").map(|k| k.trim().to_string()),
            openai_base_url: get("OPENAI_BASE_URL"),
            openai_org_id: get("OPENAI_ORG_ID"),
            openai_project_id: get("OPENAI_PROJECT_ID"),
            provider: get("GOSHI_LLM_PROVIDER"),
            model: get("GOSHI_MODEL"),
            ollama_host: get("OLLAMA_HOST"),
            config: get("GOSHI_CONFIG"),
        }
    }
}

/// Values from command-line flags, which override everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config FILE`
    pub config: Option<PathBuf>,
    /// `--provider P`
    pub provider: Option<String>,
    /// `--model M`
    pub model: Option<String>,
    /// `--base-url URL` (for whichever provider is used)
    pub base_url: Option<String>,
    /// `--api chat|responses|auto`
    pub api: Option<String>,
}

/// Where the configuration file is: `--config`, else `GOSHI_CONFIG`, else `./goshi.yaml`,
/// else `goshi/goshi.yaml` in the user config dir. `Ok(None)` when there is none.
pub fn find_config_file(
    overrides: &Overrides,
    env: &EnvVars,
) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = &overrides.config {
        if !p.is_file() {
            return Err(bad(
                "--config",
                format!("{} does not exist or is not a file", p.display()),
            ));
        }
        return Ok(Some(p.clone()));
    }
    if let Some(p) = &env.config {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(bad(
                "GOSHI_CONFIG",
                format!("{} does not exist or is not a file", p.display()),
            ));
        }
        return Ok(Some(p));
    }
    let local = PathBuf::from("goshi.yaml");
    if local.is_file() {
        return Ok(Some(local));
    }
    Ok(dirs::config_dir()
        .map(|d| d.join("goshi").join("goshi.yaml"))
        .filter(|p| p.is_file()))
}

/// Loads the effective configuration.
pub fn load(overrides: &Overrides, env: &EnvVars) -> Result<Config, ConfigError> {
    let source = find_config_file(overrides, env)?;
    let file = match &source {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    // A `./goshi.yaml` found in the working directory comes with whatever repository was
    // cloned there, so it is not trusted with what only the user may decide.
    let repo_local = overrides.config.is_none()
        && env.config.is_none()
        && source.as_deref() == Some(Path::new("goshi.yaml"));
    let mut config = resolve(file, source, overrides, env)?;
    if repo_local {
        restrict_repo_local(&mut config)?;
    }
    Ok(config)
}

/// What a repository's own `goshi.yaml` may not do: grant permissions, or point the tools
/// outside the repository.
fn restrict_repo_local(config: &mut Config) -> Result<(), ConfigError> {
    if config.safety.auto_confirm_permissions {
        config.safety.auto_confirm_permissions = false;
        config.warnings.push(
            "ignoring safety.auto_confirm_permissions from ./goshi.yaml: a repository's own \
             config cannot grant permissions; set it in your user config \
             (~/.config/goshi/goshi.yaml) or pass --config FILE"
                .to_string(),
        );
    }
    let cwd = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .unwrap_or_else(|_| PathBuf::from("."));
    let root = config
        .repo_root
        .canonicalize()
        .unwrap_or_else(|_| config.repo_root.clone());
    if !root.starts_with(&cwd) {
        return Err(bad(
            "behavior.repo_root",
            format!(
                "{} is outside the current directory; a repository's own ./goshi.yaml may \
                 only narrow the tools to a folder inside it (use --config FILE to set another root)",
                root.display()
            ),
        ));
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let key = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(&key, format!("cannot be read: {e}")))?;
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    serde_yaml_ng::from_str(&text).map_err(|e| {
        bad(
            &key,
            format!("is not valid goshi configuration: {e} (see README, section Configuration)"),
        )
    })
}

/// Applies overrides to the file's values and validates the result.
pub fn resolve(
    file: FileConfig,
    source: Option<PathBuf>,
    ov: &Overrides,
    env: &EnvVars,
) -> Result<Config, ConfigError> {
    let l = file.llm;

    let (provider_key, provider_text) = pick3(
        ("--provider", ov.provider.clone()),
        ("GOSHI_LLM_PROVIDER", env.provider.clone()),
        ("llm.provider", l.provider),
    );
    let provider = match provider_text {
        Some(p) => Provider::parse(&p).ok_or_else(|| {
            bad(
                provider_key,
                format!("unknown provider {p:?}; allowed: ollama, openai, auto"),
            )
        })?,
        None => Provider::Auto,
    };

    let (model_key, model) = pick3(
        ("--model", ov.model.clone()),
        ("GOSHI_MODEL", env.model.clone()),
        ("llm.model", l.model),
    );
    if let Some(m) = &model {
        validate_model_name(m).map_err(|msg| bad(model_key, msg))?;
    }

    let temperature = range("llm.temperature", l.temperature, 0.0, 2.0)?;
    let frequency_penalty = range("llm.frequency_penalty", l.frequency_penalty, -2.0, 2.0)?;
    let presence_penalty = range("llm.presence_penalty", l.presence_penalty, -2.0, 2.0)?;
    let max_tokens = match l.max_tokens {
        None => DEFAULT_MAX_TOKENS,
        Some(n) if (1..=i64::from(u32::MAX)).contains(&n) => n as u32,
        Some(n) => {
            return Err(bad(
                "llm.max_tokens",
                format!("must be a positive whole number of tokens (got {n}); the default is {DEFAULT_MAX_TOKENS}"),
            ))
        }
    };
    let reliability = super::reliability::resolve(super::reliability::FileReliability {
        max_retries_alias: l.max_retries,
        request_timeout: l.request_timeout,
        connect_timeout: l.connect_timeout,
        total_timeout: l.total_timeout,
        retry: l.retry,
        circuit: l.circuit,
    })?;
    let max_tool_rounds = count("llm.max_tool_rounds", l.max_tool_rounds, 8, 1000)?;
    if max_tool_rounds == 0 {
        return Err(bad("llm.max_tool_rounds", "must be at least 1"));
    }
    let tool_choice = l.tool_choice.unwrap_or_else(|| "auto".into());
    if tool_choice.trim().is_empty() || tool_choice.chars().any(char::is_whitespace) {
        return Err(bad(
            "llm.tool_choice",
            format!("{tool_choice:?} is not allowed; use auto, required, none, or a tool name such as fs.read"),
        ));
    }
    let reasoning_effort = match l.reasoning_effort {
        None => None,
        Some(e) => {
            const ALLOWED: [&str; 6] = ["none", "minimal", "low", "medium", "high", "xhigh"];
            if !ALLOWED.contains(&e.as_str()) {
                return Err(bad(
                    "llm.reasoning_effort",
                    format!("unknown value {e:?}; allowed: {}", ALLOWED.join(", ")),
                ));
            }
            Some(e)
        }
    };

    let openai = resolve_openai(l.openai, ov, env)?;
    let local = resolve_local(l.local, ov, env)?;

    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let repo_root = match file.behavior.repo_root {
        Some(r) => {
            let root = cwd.join(&r);
            // A typo must not become a new, empty "repository" (the audit trail would
            // create it) that the tools then work in.
            if !root.is_dir() {
                return Err(bad(
                    "behavior.repo_root",
                    format!(
                        "{r:?} ({}) is not an existing directory; set it to the repository \
                         to work in, or remove it to use the current directory",
                        root.display()
                    ),
                ));
            }
            root
        }
        None => cwd,
    };
    let audit = resolve_audit(file.audit, &repo_root)?;

    Ok(Config {
        source,
        llm: LlmConfig {
            provider,
            model,
            temperature,
            max_tokens,
            request_timeout: reliability.request_timeout,
            connect_timeout: reliability.connect_timeout,
            total_timeout: reliability.total_timeout,
            frequency_penalty,
            presence_penalty,
            retry: reliability.retry,
            circuit: reliability.circuit,
            tool_choice,
            parallel_tool_calls: l.parallel_tool_calls,
            reasoning_effort,
            max_tool_rounds,
            openai,
            local,
        },
        repo_root,
        safety: SafetyConfig {
            auto_backup_on_write: file.safety.auto_backup_on_write.unwrap_or(true),
            auto_confirm_permissions: file.safety.auto_confirm_permissions.unwrap_or(false),
        },
        audit,
        warnings: Vec::new(),
    })
}

fn resolve_openai(
    f: super::file::FileOpenAi,
    ov: &Overrides,
    env: &EnvVars,
) -> Result<OpenAiConfig, ConfigError> {
    let (key, base) = pick3(
        ("--base-url", ov.base_url.clone()),
        ("OPENAI_BASE_URL", env.openai_base_url.clone()),
        ("llm.openai.base_url", f.base_url),
    );
    let base_url = match base {
        Some(b) => normalize_http_url(key, &b)?,
        None => DEFAULT_OPENAI_BASE_URL.to_string(),
    };
    let (server, server_source) = match f.server.as_deref() {
        None | Some("auto") => {
            let host = url::Url::parse(&base_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string));
            if host.as_deref() == Some("api.openai.com") {
                (OpenAiServer::OpenAi, "auto")
            } else {
                (OpenAiServer::Compatible, "auto")
            }
        }
        Some("openai") => (OpenAiServer::OpenAi, "config"),
        Some("compatible") => (OpenAiServer::Compatible, "config"),
        Some(other) => {
            return Err(bad(
                "llm.openai.server",
                format!("unknown value {other:?}; allowed: auto, openai, compatible"),
            ))
        }
    };
    let max_tokens_field = match f.max_tokens_field.as_deref() {
        None | Some("auto") => MaxTokensField::Auto,
        Some("max_tokens") => MaxTokensField::MaxTokens,
        Some("max_completion_tokens") => MaxTokensField::MaxCompletionTokens,
        Some(other) => {
            return Err(bad(
                "llm.openai.max_tokens_field",
                format!(
                    "unknown value {other:?}; allowed: auto, max_tokens, max_completion_tokens"
                ),
            ))
        }
    };
    let (api_key_name, api_text) = pick3(
        ("--api", ov.api.clone()),
        ("llm.openai.api", f.api),
        ("", None),
    );
    let api = match api_text {
        None => OpenAiApi::Auto,
        Some(a) => OpenAiApi::parse(&a).ok_or_else(|| {
            bad(
                api_key_name,
                format!("unknown value {a:?}; allowed: auto, chat, responses"),
            )
        })?,
    };
    Ok(OpenAiConfig {
        base_url,
        server,
        server_source,
        max_tokens_field,
        api,
        organization: env.openai_org_id.clone().or(f.organization),
        project: env.openai_project_id.clone().or(f.project),
        api_key: env.openai_api_key.clone(),
    })
}

fn resolve_local(
    f: super::file::FileLocal,
    ov: &Overrides,
    env: &EnvVars,
) -> Result<OllamaConfig, ConfigError> {
    if let Some(b) = &ov.base_url {
        return Ok(OllamaConfig {
            base_url: normalize_http_url("--base-url", b)?,
        });
    }
    if let Some(h) = &env.ollama_host {
        return Ok(OllamaConfig {
            base_url: parse_ollama_host(h)?,
        });
    }
    let url = f.url.unwrap_or_else(|| "http://127.0.0.1".into());
    let port = match f.port {
        None => 11434,
        Some(p) if (1..=65535).contains(&p) => p as u16,
        Some(p) => {
            return Err(bad(
                "llm.local.port",
                format!("must be a port number 1-65535 (got {p})"),
            ))
        }
    };
    let mut parsed = url::Url::parse(&url).map_err(|e| {
        bad(
            "llm.local.url",
            format!("{url:?} is not a valid URL ({e}); example: http://127.0.0.1"),
        )
    })?;
    // `Url::port()` hides a scheme's default port (`:80`), so look at what was written.
    if !has_explicit_port(&url) && parsed.set_port(Some(port)).is_err() {
        return Err(bad("llm.local.url", format!("{url:?} cannot take a port")));
    }
    normalize_http_url("llm.local.url", parsed.as_str()).map(|base_url| OllamaConfig { base_url })
}

/// Whether `url` names a port itself (`http://host:80`, `http://[::1]:8080/x`).
fn has_explicit_port(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let after_host = match host_port.rfind(']') {
        Some(i) => &host_port[i + 1..],
        None => host_port,
    };
    after_host
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads `OLLAMA_HOST` the way Ollama does: `host`, `host:port`, or a full URL.
pub fn parse_ollama_host(value: &str) -> Result<String, ConfigError> {
    let v = value.trim();
    let with_scheme = if v.contains("://") {
        v.to_string()
    } else {
        format!("http://{v}")
    };
    let mut u = url::Url::parse(&with_scheme).map_err(|e| {
        bad(
            "OLLAMA_HOST",
            format!("{value:?} is not a host, host:port or URL ({e}); example: 127.0.0.1:11434"),
        )
    })?;
    if u.port().is_none() && !v.contains("://") {
        let _ = u.set_port(Some(11434));
    }
    normalize_http_url("OLLAMA_HOST", u.as_str())
}

fn normalize_http_url(key: &str, value: &str) -> Result<String, ConfigError> {
    let u = url::Url::parse(value.trim()).map_err(|e| {
        bad(
            key,
            format!("{value:?} is not a valid URL ({e}); example: http://127.0.0.1:8080/v1"),
        )
    })?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(bad(
            key,
            format!("{value:?} must start with http:// or https://"),
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad(key, format!("{value:?} has no host")));
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}

fn resolve_audit(f: super::file::FileAudit, root: &Path) -> Result<AuditConfig, ConfigError> {
    let style = f.tool_arguments_style.unwrap_or_else(|| "summaries".into());
    if !["full", "long", "short", "summaries"].contains(&style.as_str()) {
        return Err(bad(
            "audit.tool_arguments_style",
            format!("unknown value {style:?}; allowed: full, long, short, summaries"),
        ));
    }
    let retention_days = match f.retention_days {
        None => None,
        Some(d) if d >= 1 => Some(d as u64),
        Some(d) => {
            return Err(bad(
                "audit.retention_days",
                format!("must be at least 1 (got {d})"),
            ))
        }
    };
    let max_sessions = match f.max_sessions {
        None => None,
        Some(n) if n >= 1 => Some(n as usize),
        Some(n) => {
            return Err(bad(
                "audit.max_sessions",
                format!("must be at least 1 (got {n})"),
            ))
        }
    };
    Ok(AuditConfig {
        dir: root.join(f.dir.unwrap_or_else(|| ".goshi/audit".into())),
        redact: f.redact.unwrap_or(true),
        tool_arguments_style: style,
        retention_days,
        max_sessions,
    })
}

/// A model name must be non-empty, at most 256 characters, without whitespace or control
/// characters.
pub fn validate_model_name(m: &str) -> Result<(), String> {
    if m.is_empty() {
        return Err("the model name is empty; example: gpt-4o or llama3.1:8b".into());
    }
    if m.chars().count() > 256 {
        return Err("the model name is longer than 256 characters".into());
    }
    if m.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "the model name {m:?} contains whitespace or control characters"
        ));
    }
    Ok(())
}

fn pick3(
    a: (&'static str, Option<String>),
    b: (&'static str, Option<String>),
    c: (&'static str, Option<String>),
) -> (&'static str, Option<String>) {
    for (k, v) in [a, b, c] {
        if v.is_some() {
            return (k, v);
        }
    }
    ("", None)
}

fn range(key: &str, v: Option<f64>, lo: f64, hi: f64) -> Result<Option<f64>, ConfigError> {
    match v {
        Some(x) if !(x.is_finite() && (lo..=hi).contains(&x)) => {
            Err(bad(key, format!("must be between {lo} and {hi} (got {x})")))
        }
        other => Ok(other),
    }
}

fn count(key: &str, v: Option<i64>, default: u32, max: u32) -> Result<u32, ConfigError> {
    match v {
        None => Ok(default),
        Some(n) if (0..=i64::from(max)).contains(&n) => Ok(n as u32),
        Some(n) => Err(bad(
            key,
            format!("must be between 0 and {max} (got {n}); the default is {default}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn from_yaml(y: &str, ov: &Overrides, env: &EnvVars) -> Result<Config, ConfigError> {
        let file: FileConfig =
            serde_yaml_ng::from_str(y).map_err(|e| bad("yaml", e.to_string()))?;
        resolve(file, None, ov, env)
    }

    #[test]
    fn defaults() {
        let c = from_yaml("{}", &Overrides::default(), &EnvVars::default()).unwrap();
        assert_eq!(c.llm.max_tokens, 4096);
        assert_eq!(c.llm.request_timeout, Duration::from_secs(60));
        assert_eq!(c.llm.retry.max_retries, 3);
        assert_eq!(c.llm.tool_choice, "auto");
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
        assert!(from_yaml("llm: {tempreature: 1}", &o, &e).is_err());
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
}
