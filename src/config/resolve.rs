//! From the file's values and the overrides to the effective [`Config`], one section at a
//! time; every bad value is an error naming its key and what is allowed.

use std::path::{Path, PathBuf};

use super::file::{FileAudit, FileConfig, FileLlm, FileLocal, FileOpenAi, FileSafety};
use super::load::{bad, ConfigError, EnvVars, Overrides};
use super::urls::{has_explicit_port, normalize_http_url, parse_ollama_host};
use super::*;

/// Applies overrides to the file's values and validates the result.
pub fn resolve(
    file: FileConfig,
    source: Option<PathBuf>,
    ov: &Overrides,
    env: &EnvVars,
) -> Result<Config, ConfigError> {
    let llm = resolve_llm(file.llm, ov, env)?;
    let repo_root = resolve_repo_root(file.behavior.repo_root)?;
    let audit = resolve_audit(file.audit, &repo_root)?;
    Ok(Config {
        source,
        llm,
        repo_root,
        safety: resolve_safety(file.safety),
        audit,
        cost: super::cost::resolve_cost(file.cost.unwrap_or_default())?,
        sessions: SessionsConfig {
            save: file.sessions.save.unwrap_or(true),
        },
        warnings: Vec::new(),
    })
}

/// The `llm` section, flags and environment applied.
fn resolve_llm(l: FileLlm, ov: &Overrides, env: &EnvVars) -> Result<LlmConfig, ConfigError> {
    let provider = resolve_provider(l.provider, ov, env)?;
    let model = resolve_model(l.model, ov, env)?;
    let temperature = range("llm.temperature", l.temperature, 0.0, 2.0)?;
    let frequency_penalty = range("llm.frequency_penalty", l.frequency_penalty, -2.0, 2.0)?;
    let presence_penalty = range("llm.presence_penalty", l.presence_penalty, -2.0, 2.0)?;
    let max_tokens = resolve_max_tokens(l.max_tokens)?;
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
    let max_identical_tool_calls = count(
        "llm.max_identical_tool_calls",
        l.max_identical_tool_calls,
        DEFAULT_MAX_IDENTICAL_TOOL_CALLS,
        1000,
    )?;
    if max_identical_tool_calls == 0 {
        return Err(bad("llm.max_identical_tool_calls", "must be at least 1"));
    }
    let max_response_bytes = byte_size(
        "llm.max_response_bytes",
        l.max_response_bytes,
        DEFAULT_MAX_RESPONSE_BYTES,
        "32 MiB",
    )?;
    let max_tool_calls_per_answer = at_least_one(
        "llm.max_tool_calls_per_answer",
        l.max_tool_calls_per_answer,
        DEFAULT_MAX_TOOL_CALLS_PER_ANSWER,
        10_000,
    )?;
    let max_tool_calls_per_turn = at_least_one(
        "llm.max_tool_calls_per_turn",
        l.max_tool_calls_per_turn,
        DEFAULT_MAX_TOOL_CALLS_PER_TURN,
        100_000,
    )?;
    let max_tool_results_bytes = byte_size(
        "llm.max_tool_results_bytes",
        l.max_tool_results_bytes,
        DEFAULT_MAX_TOOL_RESULTS_BYTES,
        "8 MiB",
    )?;
    let tool_choice = match l.tool_choice {
        None => ToolChoice::Auto,
        Some(t) => ToolChoice::parse(&t).map_err(|msg| bad("llm.tool_choice", msg))?,
    };
    let reasoning_effort = resolve_reasoning_effort(l.reasoning_effort)?;
    let reasoning_summary = resolve_reasoning_summary(l.reasoning_summary)?;
    let openai = resolve_openai(l.openai, ov, env)?;
    let local = resolve_local(l.local, ov, env)?;
    Ok(LlmConfig {
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
        reasoning_summary,
        max_tool_rounds,
        max_identical_tool_calls,
        max_response_bytes,
        max_tool_calls_per_answer,
        max_tool_calls_per_turn,
        max_tool_results_bytes,
        openai,
        local,
    })
}

/// A cap in bytes (`llm.max_response_bytes`, `llm.max_tool_results_bytes`): 1 KiB to 1 GiB.
fn byte_size(
    key: &str,
    v: Option<i64>,
    default: usize,
    default_shown: &str,
) -> Result<usize, ConfigError> {
    const MIN: i64 = 1024;
    const MAX: i64 = 1 << 30;
    match v {
        None => Ok(default),
        Some(n) if (MIN..=MAX).contains(&n) => Ok(n as usize),
        Some(n) => Err(bad(
            key,
            format!(
                "must be between {MIN} and {MAX} bytes (got {n}); the default is {default} \
                 ({default_shown})"
            ),
        )),
    }
}

/// A cap on a number of tool calls: 1 to `max`.
fn at_least_one(key: &str, v: Option<i64>, default: usize, max: u32) -> Result<u32, ConfigError> {
    let default = u32::try_from(default).unwrap_or(max);
    let n = count(key, v, default, max)?;
    if n == 0 {
        return Err(bad(key, "must be at least 1"));
    }
    Ok(n)
}

/// `--provider`, else `GOSHI_LLM_PROVIDER`, else `llm.provider`, else `auto`.
fn resolve_provider(
    file: Option<String>,
    ov: &Overrides,
    env: &EnvVars,
) -> Result<Provider, ConfigError> {
    let (key, text) = pick3(
        ("--provider", ov.provider.clone()),
        ("GOSHI_LLM_PROVIDER", env.provider.clone()),
        ("llm.provider", file),
    );
    match text {
        Some(p) => Provider::parse(&p).ok_or_else(|| {
            bad(
                key,
                format!("unknown provider {p:?}; allowed: ollama, openai, auto"),
            )
        }),
        None => Ok(Provider::Auto),
    }
}

/// `--model`, else `GOSHI_MODEL`, else `llm.model`; `None` means the provider's default.
fn resolve_model(
    file: Option<String>,
    ov: &Overrides,
    env: &EnvVars,
) -> Result<Option<String>, ConfigError> {
    let (key, model) = pick3(
        ("--model", ov.model.clone()),
        ("GOSHI_MODEL", env.model.clone()),
        ("llm.model", file),
    );
    if let Some(m) = &model {
        validate_model_name(m).map_err(|msg| bad(key, msg))?;
    }
    Ok(model)
}

fn resolve_max_tokens(v: Option<i64>) -> Result<u32, ConfigError> {
    match v {
        None => Ok(DEFAULT_MAX_TOKENS),
        Some(n) if (1..=i64::from(u32::MAX)).contains(&n) => Ok(n as u32),
        Some(n) => Err(bad(
            "llm.max_tokens",
            format!("must be a positive whole number of tokens (got {n}); the default is {DEFAULT_MAX_TOKENS}"),
        )),
    }
}

fn resolve_reasoning_effort(v: Option<String>) -> Result<Option<String>, ConfigError> {
    const ALLOWED: [&str; 6] = ["none", "minimal", "low", "medium", "high", "xhigh"];
    match v {
        Some(e) if !ALLOWED.contains(&e.as_str()) => Err(bad(
            "llm.reasoning_effort",
            format!("unknown value {e:?}; allowed: {}", ALLOWED.join(", ")),
        )),
        other => Ok(other),
    }
}

/// `llm.reasoning_summary`: the values OpenAI's `Reasoning.summary` takes (its OpenAPI
/// description, checked 2026-11-30).
fn resolve_reasoning_summary(v: Option<String>) -> Result<Option<String>, ConfigError> {
    const ALLOWED: [&str; 3] = ["auto", "concise", "detailed"];
    match v {
        Some(e) if !ALLOWED.contains(&e.as_str()) => Err(bad(
            "llm.reasoning_summary",
            format!("unknown value {e:?}; allowed: {}", ALLOWED.join(", ")),
        )),
        other => Ok(other),
    }
}

/// `behavior.repo_root` relative to the current directory (it must exist); unset, the top of
/// the git work tree goshi runs in, else the current directory.
fn resolve_repo_root(configured: Option<String>) -> Result<PathBuf, ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let Some(r) = configured else {
        return Ok(super::repo_root::git_work_tree_top(&cwd).unwrap_or(cwd));
    };
    let root = cwd.join(&r);
    // A typo must not become a new, empty "repository" (the audit trail would create it)
    // that the tools then work in.
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
    Ok(root)
}

fn resolve_safety(f: FileSafety) -> SafetyConfig {
    SafetyConfig {
        auto_backup_on_write: f.auto_backup_on_write.unwrap_or(true),
        auto_confirm_permissions: f.auto_confirm_permissions.unwrap_or(false),
    }
}

fn resolve_openai(
    f: FileOpenAi,
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
        None => MaxTokensField::Auto,
        Some(v) => MaxTokensField::parse(v).ok_or_else(|| {
            bad(
                "llm.openai.max_tokens_field",
                format!("unknown value {v:?}; allowed: auto, max_tokens, max_completion_tokens"),
            )
        })?,
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

fn resolve_local(f: FileLocal, ov: &Overrides, env: &EnvVars) -> Result<OllamaConfig, ConfigError> {
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

fn resolve_audit(f: FileAudit, root: &Path) -> Result<AuditConfig, ConfigError> {
    let style = match f.tool_arguments_style {
        None => ToolArgumentsStyle::default(),
        Some(s) => ToolArgumentsStyle::parse(&s).ok_or_else(|| {
            bad(
                "audit.tool_arguments_style",
                format!("unknown value {s:?}; allowed: full, long, short, summaries"),
            )
        })?,
    };
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
pub(super) fn validate_model_name(m: &str) -> Result<(), String> {
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
#[path = "resolve_tests.rs"]
mod tests;
