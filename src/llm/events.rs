//! The events every backend produces: the one protocol between models and front ends.

use serde::{Deserialize, Serialize};

/// Token counts of one response, every kind the server reported.
///
/// `cached_tokens` and `cache_write_tokens` are parts of `prompt_tokens`;
/// `reasoning_tokens` is part of `completion_tokens` (and billed as output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt (cached and cache-write tokens included).
    pub prompt_tokens: u64,
    /// Tokens in the answer (reasoning tokens included).
    pub completion_tokens: u64,
    /// Their total, as the server reported it.
    pub total_tokens: u64,
    /// Prompt tokens served from the provider's prompt cache.
    #[serde(default)]
    pub cached_tokens: u64,
    /// Prompt tokens written to the provider's prompt cache.
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Answer tokens the model spent reasoning.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl Usage {
    /// No tokens at all (usable in `const` contexts, unlike `Default`).
    pub const ZERO: Usage = Usage {
        prompt_tokens: 0,
        completion_tokens: 0,
        total_tokens: 0,
        cached_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
    };

    /// Adds another usage to this one.
    pub fn add(&mut self, other: &Usage) {
        // Saturating: the numbers come from the server, which may send anything.
        self.prompt_tokens = self.prompt_tokens.saturating_add(other.prompt_tokens);
        self.completion_tokens = self
            .completion_tokens
            .saturating_add(other.completion_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
        self.cached_tokens = self.cached_tokens.saturating_add(other.cached_tokens);
        self.cache_write_tokens = self
            .cache_write_tokens
            .saturating_add(other.cache_write_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(other.reasoning_tokens);
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A natural end.
    Stop,
    /// Cut at the token limit.
    Length,
    /// The model wants tools to run.
    ToolCalls,
    /// The provider's content filter stopped it.
    ContentFilter,
    /// Anything else the server said.
    Other(String),
}

impl FinishReason {
    /// Maps a wire finish reason (`stop`, `length`, ...) to ours.
    pub fn from_wire(s: &str) -> Self {
        match s {
            "stop" | "end_turn" => FinishReason::Stop,
            "length" | "max_tokens" | "max_output_tokens" => FinishReason::Length,
            "tool_calls" | "function_call" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            other => FinishReason::Other(other.to_string()),
        }
    }
}

/// One event of a model's streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// A piece of answer text, to show as it arrives.
    TextDelta(String),
    /// A piece of the model's reasoning (Ollama's `thinking`, a Responses API reasoning
    /// summary, a compatible server's `reasoning_content`). It is not part of the answer:
    /// show it apart, and never send it back as the assistant's words.
    ReasoningDelta(String),
    /// A tool call begins.
    ToolCallStart {
        /// Its position among this answer's calls.
        index: usize,
        /// The call id.
        id: String,
        /// The tool's goshi name (mapped back from the wire).
        name: String,
    },
    /// A fragment of a tool call's JSON arguments.
    ToolCallArgumentsDelta {
        /// Which call (see [`StreamEvent::ToolCallStart::index`]).
        index: usize,
        /// The fragment.
        fragment: String,
    },
    /// Token usage of this answer.
    Usage(Usage),
    /// An opaque provider item to send back with the assistant message.
    Opaque(serde_json::Value),
    /// The answer ended.
    Finish(FinishReason),
}
