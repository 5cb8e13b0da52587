//! Messages, tool definitions and requests: the provider-neutral vocabulary.

use serde::{Deserialize, Serialize};

/// One tool call made by the assistant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call id the server gave (or one goshi made up when the server gave none).
    pub id: String,
    /// The tool's goshi name, e.g. `fs.read` (already mapped back from the wire-safe name).
    pub name: String,
    /// The arguments as a JSON text, exactly as the model produced them.
    pub arguments: String,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    /// Instructions from the application (the self-model).
    System {
        /// The text.
        content: String,
    },
    /// What the user said.
    User {
        /// The text.
        content: String,
    },
    /// What the model answered: text, tool calls, or both.
    Assistant {
        /// The text (may be empty when the model only called tools).
        content: String,
        /// The tool calls, in the order the model made them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
        /// Opaque provider items that must be sent back with this message (e.g. the
        /// Responses API's encrypted reasoning items). Never interpreted by goshi.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        opaque: Vec<serde_json::Value>,
    },
    /// The result of one tool call.
    Tool {
        /// The id of the call this answers.
        tool_call_id: String,
        /// The goshi name of the tool that ran (some servers want it back).
        name: String,
        /// What the tool returned (or why it did not run).
        content: String,
    },
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Message::System {
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message::User {
            content: content.into(),
        }
    }

    /// An assistant message with text only.
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::Assistant {
            content: content.into(),
            tool_calls: Vec::new(),
            opaque: Vec::new(),
        }
    }

    /// A tool result message.
    pub fn tool(
        tool_call_id: impl Into<String>,
        name: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Message::Tool {
            tool_call_id: tool_call_id.into(),
            name: name.into(),
            content: content.into(),
        }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// goshi's name of the tool, e.g. `fs.read`.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of its arguments (an object schema).
    pub parameters: serde_json::Value,
}

/// How the model should choose tools.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides (the default).
    #[default]
    Auto,
    /// The model must call a tool.
    Required,
    /// The model must not call tools.
    None,
    /// The model must call this tool (goshi name).
    Named(String),
}

impl ToolChoice {
    /// Parses the config form: `auto`, `required`, `none`, or a tool name.
    pub fn parse(s: &str) -> Self {
        match s {
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            "none" => ToolChoice::None,
            other => ToolChoice::Named(other.to_string()),
        }
    }
}

/// Sampling and limit options; `None` means "not sent".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestOptions {
    /// Sampling temperature (0..=2).
    pub temperature: Option<f64>,
    /// The answer's token limit (always sent).
    pub max_tokens: u32,
    /// Frequency penalty (-2..=2).
    pub frequency_penalty: Option<f64>,
    /// Presence penalty (-2..=2).
    pub presence_penalty: Option<f64>,
    /// Tool choice (sent only when tools are offered).
    pub tool_choice: ToolChoice,
    /// Whether the model may call several tools at once (sent only when set).
    pub parallel_tool_calls: Option<bool>,
    /// Reasoning effort for reasoning models (sent only when set).
    pub reasoning_effort: Option<String>,
    /// Seed for reproducible sampling (sent only when set).
    pub seed: Option<u64>,
}

/// One request to a model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    /// The model name.
    pub model: String,
    /// The conversation, the self-model first.
    pub messages: Vec<Message>,
    /// The tools offered (may be empty).
    pub tools: Vec<ToolDefinition>,
    /// Options.
    pub options: RequestOptions,
    /// Ask the server for one complete answer instead of a stream; the
    /// backend still hands it over as the same events.
    pub no_stream: bool,
}
