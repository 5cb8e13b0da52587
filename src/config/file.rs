//! The shape of `goshi.yaml`. Every key is optional; unknown keys are rejected so that a
//! typo does not silently fall back to a default.

use serde::Deserialize;

use super::reliability::{FileCircuit, FileDuration, FileRetry};

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `llm:` section.
    #[serde(default)]
    pub llm: FileLlm,
    /// `behavior:` section.
    #[serde(default)]
    pub behavior: FileBehavior,
    /// `safety:` section.
    #[serde(default)]
    pub safety: FileSafety,
    /// `audit:` section.
    #[serde(default)]
    pub audit: FileAudit,
    /// `cost:` section.
    #[serde(default)]
    pub cost: Option<super::cost::FileCost>,
    /// `sessions:` section.
    #[serde(default)]
    pub sessions: FileSessions,
}

/// `sessions:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSessions {
    /// `sessions.save`: save every chat in the user data dir (default true).
    pub save: Option<bool>,
}

/// `llm:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLlm {
    /// `llm.provider`
    pub provider: Option<String>,
    /// `llm.model`
    pub model: Option<String>,
    /// `llm.temperature`
    pub temperature: Option<f64>,
    /// `llm.max_tokens` (signed so a negative value gets a clear message)
    pub max_tokens: Option<i64>,
    /// `llm.request_timeout` (idle timeout): seconds or a duration string
    pub request_timeout: Option<FileDuration>,
    /// `llm.connect_timeout`
    pub connect_timeout: Option<FileDuration>,
    /// `llm.total_timeout` (bounds a whole answer, retries included)
    pub total_timeout: Option<FileDuration>,
    /// `llm.frequency_penalty`
    pub frequency_penalty: Option<f64>,
    /// `llm.presence_penalty`
    pub presence_penalty: Option<f64>,
    /// `llm.max_retries` (alias of `llm.retry.max_retries`)
    pub max_retries: Option<i64>,
    /// `llm.retry:`
    #[serde(default)]
    pub retry: FileRetry,
    /// `llm.circuit:`
    #[serde(default)]
    pub circuit: FileCircuit,
    /// `llm.tool_choice`
    pub tool_choice: Option<String>,
    /// `llm.parallel_tool_calls`
    pub parallel_tool_calls: Option<bool>,
    /// `llm.reasoning_effort`
    pub reasoning_effort: Option<String>,
    /// `llm.reasoning_summary`
    pub reasoning_summary: Option<String>,
    /// `llm.max_tool_rounds`
    pub max_tool_rounds: Option<i64>,
    /// `llm.max_identical_tool_calls`
    pub max_identical_tool_calls: Option<i64>,
    /// `llm.max_response_bytes`
    pub max_response_bytes: Option<i64>,
    /// `llm.max_tool_calls_per_answer`
    pub max_tool_calls_per_answer: Option<i64>,
    /// `llm.max_tool_calls_per_turn`
    pub max_tool_calls_per_turn: Option<i64>,
    /// `llm.max_tool_results_bytes`
    pub max_tool_results_bytes: Option<i64>,
    /// `llm.openai:`
    #[serde(default)]
    pub openai: FileOpenAi,
    /// `llm.local:`
    #[serde(default)]
    pub local: FileLocal,
}

/// `llm.openai:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOpenAi {
    /// `llm.openai.server`
    pub server: Option<String>,
    /// `llm.openai.max_tokens_field`
    pub max_tokens_field: Option<String>,
    /// `llm.openai.base_url`
    pub base_url: Option<String>,
    /// `llm.openai.organization`
    pub organization: Option<String>,
    /// `llm.openai.project`
    pub project: Option<String>,
    /// `llm.openai.api`
    pub api: Option<String>,
}

/// `llm.local:` (Ollama)
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLocal {
    /// `llm.local.url`
    pub url: Option<String>,
    /// `llm.local.port`
    pub port: Option<i64>,
}

/// `behavior:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBehavior {
    /// `behavior.repo_root`
    pub repo_root: Option<String>,
}

/// `safety:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSafety {
    /// `safety.auto_backup_on_write`
    pub auto_backup_on_write: Option<bool>,
    /// `safety.auto_confirm_permissions`
    pub auto_confirm_permissions: Option<bool>,
}

/// `audit:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAudit {
    /// `audit.dir`
    pub dir: Option<String>,
    /// `audit.redact`
    pub redact: Option<bool>,
    /// `audit.tool_arguments_style`
    pub tool_arguments_style: Option<String>,
    /// `audit.retention_days`
    pub retention_days: Option<i64>,
    /// `audit.max_sessions`
    pub max_sessions: Option<i64>,
}
