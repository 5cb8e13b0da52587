//! The OpenAI backend: Chat Completions (and the Responses API where a model needs it),
//! for OpenAI itself and for OpenAI-compatible servers.

pub mod client;
pub mod errors;
pub mod lifecycle;
pub mod responses;
pub mod shutdown;
pub mod stream;
pub mod strict;
pub mod tools;

pub use client::{OpenAiBackend, OpenAiSettings};

use serde::Serialize;

/// What kind of server the OpenAI backend talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenAiServer {
    /// OpenAI itself: its model lifecycle and parameter rules apply.
    OpenAi,
    /// Any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's `/v1`).
    Compatible,
}

/// Which request field carries the token limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensField {
    /// `max_completion_tokens` for OpenAI, `max_tokens` for compatible servers.
    Auto,
    /// Always `max_tokens`.
    MaxTokens,
    /// Always `max_completion_tokens`.
    MaxCompletionTokens,
}

/// Which OpenAI wire protocol to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenAiApi {
    /// Chat Completions, switching a model to Responses when the server demands it.
    Auto,
    /// Always Chat Completions.
    Chat,
    /// Always the Responses API.
    Responses,
}

/// Puts `value` in `body` under `key` unless it is unset or the server refused `key` this
/// session (both protocols' optional parameters).
pub(crate) fn put_optional(
    body: &mut serde_json::Map<String, serde_json::Value>,
    dropped: &std::collections::HashSet<String>,
    key: &str,
    value: Option<serde_json::Value>,
) {
    if let Some(v) = value {
        if !dropped.contains(key) {
            body.insert(key.into(), v);
        }
    }
}

/// The sampling parameters both protocols take alike: temperature and the two penalties.
pub(crate) fn put_sampling(
    body: &mut serde_json::Map<String, serde_json::Value>,
    dropped: &std::collections::HashSet<String>,
    o: &crate::llm::types::RequestOptions,
) {
    use serde_json::json;
    put_optional(
        body,
        dropped,
        "temperature",
        o.temperature.map(|t| json!(t)),
    );
    let penalties = [
        ("frequency_penalty", o.frequency_penalty),
        ("presence_penalty", o.presence_penalty),
    ];
    for (key, p) in penalties {
        put_optional(body, dropped, key, p.map(|t| json!(t)));
    }
}
