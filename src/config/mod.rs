//! Configuration: `goshi.yaml`, overridden by environment variables, overridden by flags.
//!
//! `file` holds the file's shape (every key optional), `load` finds and reads the file
//! (`check` reports every problem in it at once, in words), `resolve` applies the overrides
//! and validates everything into the effective [`Config`] (`urls` checks the server
//! addresses, `values` holds the typed word settings), and `show` writes a config back as
//! goshi.yaml.

mod check;
mod cost;
mod file;
mod load;
pub mod reliability;
mod repo_root;
mod resolve;
mod show;
mod trust;
mod urls;
mod values;

pub use file::FileConfig;
pub use load::{defaults, find_config_file, load, search_path, ConfigError, EnvVars, Overrides};
pub use reliability::{CircuitConfig, RetryConfig};
pub use show::file_yaml;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub use crate::llm::DEFAULT_MAX_RESPONSE_BYTES;

/// `llm.max_tool_calls_per_answer` unset: tool calls one answer may ask for.
pub const DEFAULT_MAX_TOOL_CALLS_PER_ANSWER: usize = 64;
/// `llm.max_tool_calls_per_turn` unset: tool calls one user turn may run.
pub const DEFAULT_MAX_TOOL_CALLS_PER_TURN: usize = 256;
/// `llm.max_tool_results_bytes` unset: tool-result bytes sent back after one answer.
pub const DEFAULT_MAX_TOOL_RESULTS_BYTES: usize = 8 * 1024 * 1024;

/// Which model provider to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// A local Ollama server (native `/api/chat`).
    Ollama,
    /// OpenAI or an OpenAI-compatible server.
    OpenAi,
    /// Ollama when it answers, else OpenAI when a key is set.
    Auto,
}

impl Provider {
    /// Parses `ollama`, `openai` or `auto`.
    pub fn parse(s: &str) -> Option<Provider> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ollama" => Some(Provider::Ollama),
            "openai" => Some(Provider::OpenAi),
            "auto" => Some(Provider::Auto),
            _ => None,
        }
    }
}

pub use values::{MaxTokensField, OpenAiApi, OpenAiServer, ToolArgumentsStyle, ToolChoice};

/// Settings of the OpenAI backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenAiConfig {
    /// The API base URL, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// The kind of server (resolved from `auto`).
    pub server: OpenAiServer,
    /// Where `server` came from (`auto` or `config`), for `config show`.
    pub server_source: &'static str,
    /// Which field carries the token limit.
    pub max_tokens_field: MaxTokensField,
    /// Which wire protocol.
    pub api: OpenAiApi,
    /// `OpenAI-Organization` header.
    pub organization: Option<String>,
    /// `OpenAI-Project` header.
    pub project: Option<String>,
    /// The API key (from `OPENAI_API_KEY` only). Never serialized.
    #[serde(skip)]
    pub api_key: Option<String>,
}

/// Settings of the Ollama backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OllamaConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:11434`.
    pub base_url: String,
}

/// Settings of the model requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmConfig {
    /// The provider (may still be `auto`).
    pub provider: Provider,
    /// The configured model; None means the provider's default.
    pub model: Option<String>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Token limit of one answer.
    pub max_tokens: u32,
    /// Idle timeout: the wait for response headers and for each read of the answer.
    #[serde(serialize_with = "secs")]
    pub request_timeout: Duration,
    /// The longest wait for a connection to the server.
    #[serde(serialize_with = "secs")]
    pub connect_timeout: Duration,
    /// Bounds a whole answer, retries included (None: no bound).
    #[serde(serialize_with = "opt_secs")]
    pub total_timeout: Option<Duration>,
    /// Frequency penalty.
    pub frequency_penalty: Option<f64>,
    /// Presence penalty.
    pub presence_penalty: Option<f64>,
    /// How failed requests are sent again.
    pub retry: RetryConfig,
    /// When requests to a failing server stop for a while.
    pub circuit: CircuitConfig,
    /// `auto`, `required`, `none`, or a tool name.
    pub tool_choice: ToolChoice,
    /// Whether the model may call several tools in one answer.
    pub parallel_tool_calls: Option<bool>,
    /// Reasoning effort for reasoning models.
    pub reasoning_effort: Option<String>,
    /// The reasoning summary to ask OpenAI's Responses API for (auto, concise, detailed).
    pub reasoning_summary: Option<String>,
    /// Model rounds per user turn before the chat loop stops.
    pub max_tool_rounds: u32,
    /// Calls of one tool with identical arguments that may run in one turn.
    pub max_identical_tool_calls: u32,
    /// The most text and tool-argument bytes one answer may bring (a broken or hostile server
    /// cannot fill memory).
    pub max_response_bytes: usize,
    /// Tool calls one answer may ask for.
    pub max_tool_calls_per_answer: u32,
    /// Tool calls one user turn may run, all rounds together.
    pub max_tool_calls_per_turn: u32,
    /// Bytes of tool results sent back to the model after one answer.
    pub max_tool_results_bytes: usize,
    /// OpenAI settings.
    pub openai: OpenAiConfig,
    /// Ollama settings.
    pub local: OllamaConfig,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// Safety settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SafetyConfig {
    /// Keep a backup of a file before `goshi fs apply` replaces it.
    pub auto_backup_on_write: bool,
    /// Grant every capability without asking (not recommended).
    pub auto_confirm_permissions: bool,
}

/// Audit settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditConfig {
    /// Where the JSONL files go.
    pub dir: PathBuf,
    /// Mask values that look like secrets.
    pub redact: bool,
    /// How tool arguments are written to the audit log.
    pub tool_arguments_style: ToolArgumentsStyle,
    /// Delete session files older than this many days.
    pub retention_days: Option<u64>,
    /// Keep at most this many session files.
    pub max_sessions: Option<usize>,
}

/// Saved conversations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionsConfig {
    /// Save every chat as it happens (`goshi chat --continue` resumes it).
    pub save: bool,
}

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// The file it was read from, if any.
    pub source: Option<PathBuf>,
    /// Model settings.
    pub llm: LlmConfig,
    /// The repository root the tools may touch.
    pub repo_root: PathBuf,
    /// Safety settings.
    pub safety: SafetyConfig,
    /// Audit settings.
    pub audit: AuditConfig,
    /// Cost settings: prices, caps, the warning threshold.
    pub cost: crate::cost::CostSettings,
    /// Saved conversations.
    pub sessions: SessionsConfig,
    /// Settings that were ignored, and why (shown once on stderr).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// The default `llm.max_identical_tool_calls`.
pub const DEFAULT_MAX_IDENTICAL_TOOL_CALLS: u32 = 2;

/// The default token limit.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;
/// The default OpenAI base URL.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// The default Ollama model.
pub const DEFAULT_OLLAMA_MODEL: &str = "llama3.1:8b";

/// `url` as shown to people: a password in it (`https://user:secret@host`) is masked.
pub fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.as_str().trim_end_matches('/').to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_in_urls_are_masked_for_display() {
        assert_eq!(
            super::display_url("https://me:hunter2@proxy.example.test/v1"),
            "https://me:***@proxy.example.test/v1"
        );
        assert_eq!(
            super::display_url("http://127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/v1"
        );
    }
}
