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
