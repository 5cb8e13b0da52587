//! Messages, tool definitions and requests: the provider-neutral vocabulary.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::text::cap_bytes;

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

impl ToolCall {
    /// Parses the arguments: they must be one JSON object (an empty text counts as `{}`).
    /// The error says what is wrong, for returning to the model as the tool result.
    pub fn parsed_arguments(&self) -> Result<Value, String> {
        self.parse_arguments().into_object()
    }

    /// Parses the arguments once, keeping both what they are as JSON (for logs and
    /// summaries) and whether they can be used (for running the tool).
    pub fn parse_arguments(&self) -> ParsedArguments {
        let text = self.arguments.trim();
        if text.is_empty() {
            return ParsedArguments::Object(Value::Object(Default::default()));
        }
        match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => ParsedArguments::Object(v),
            Ok(v) => {
                let why = format!(
                    "the arguments of {} must be a JSON object, got: {}",
                    self.name,
                    clip(text)
                );
                ParsedArguments::NotObject(v, why)
            }
            Err(e) => ParsedArguments::NotJson(format!(
                "the arguments of {} are not valid JSON ({e}): {}",
                self.name,
                clip(text)
            )),
        }
    }

    /// The arguments as a JSON text for sending the call back in the history: the model's
    /// own text when it is a JSON object, else `{}`, so a server that parses them does not
    /// reject the follow-up request (the tool result already told the model what was wrong).
    pub fn wire_arguments(&self) -> String {
        match serde_json::from_str::<Value>(&self.arguments) {
            Ok(Value::Object(_)) => self.arguments.clone(),
            _ => "{}".to_string(),
        }
    }

    /// The arguments as a JSON object for servers that want an object, not a text (Ollama):
    /// anything that is not an object, including empty or broken text, becomes `{}`.
    pub fn wire_arguments_object(&self) -> Value {
        match serde_json::from_str::<Value>(&self.arguments) {
            Ok(v @ Value::Object(_)) => v,
            _ => Value::Object(Default::default()),
        }
    }
}

/// A tool call's arguments, parsed once ([`ToolCall::parse_arguments`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedArguments {
    /// A JSON object (an empty text counts as `{}`): the arguments can be used.
    Object(Value),
    /// JSON, but not an object; the text says so, for the model.
    NotObject(Value, String),
    /// Not JSON at all; the text says why, for the model.
    NotJson(String),
}

impl ParsedArguments {
    /// The arguments as JSON of any kind; `None` when they are not JSON.
    pub fn json(&self) -> Option<&Value> {
        match self {
            ParsedArguments::Object(v) | ParsedArguments::NotObject(v, _) => Some(v),
            ParsedArguments::NotJson(_) => None,
        }
    }

    /// The arguments object, or why there is none (worded for the model).
    pub fn object(&self) -> Result<&Value, &str> {
        match self {
            ParsedArguments::Object(v) => Ok(v),
            ParsedArguments::NotObject(_, why) | ParsedArguments::NotJson(why) => Err(why),
        }
    }

    /// [`ParsedArguments::object`], by value.
    pub fn into_object(self) -> Result<Value, String> {
        match self {
            ParsedArguments::Object(v) => Ok(v),
            ParsedArguments::NotObject(_, why) | ParsedArguments::NotJson(why) => Err(why),
        }
    }
}

/// At most 200 bytes of `s` (on a character boundary), for quoting bad arguments.
fn clip(s: &str) -> String {
    match cap_bytes(s, 200) {
        (head, true) => format!("{head}…"),
        (all, false) => all.to_string(),
    }
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
    /// The reasoning summary to ask for: `auto`, `concise` or `detailed` (Responses API
    /// only; sent only when set). Its text streams as [`crate::llm::StreamEvent::ReasoningDelta`].
    pub reasoning_summary: Option<String>,
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
    /// One key per conversation that routes its requests to the same prompt cache
    /// (`prompt_cache_key`; sent to OpenAI itself only). Random, never derived from secrets.
    pub prompt_cache_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(arguments: &str) -> ToolCall {
        ToolCall {
            id: "x".into(),
            name: "fs.read".into(),
            arguments: arguments.into(),
        }
    }

    #[test]
    fn malformed_arguments_are_reported_not_panicked() {
        let err = call("{\"path\": ").parsed_arguments().unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
        assert!(call("[1]")
            .parsed_arguments()
            .unwrap_err()
            .contains("JSON object"));
        assert_eq!(call("").parsed_arguments().unwrap(), serde_json::json!({}));
        let long = format!("\"{}\"", "é".repeat(300));
        let err = call(&long).parsed_arguments().unwrap_err();
        assert!(err.ends_with('…') && err.len() < 300, "{err}");
    }

    #[test]
    fn parsed_once_keeps_the_json_and_the_verdict() {
        let p = call("[1]").parse_arguments();
        assert_eq!(p.json(), Some(&serde_json::json!([1])));
        assert!(p.object().unwrap_err().contains("JSON object"));
        let p = call("{oops").parse_arguments();
        assert_eq!(p.json(), None);
        assert!(p.object().unwrap_err().contains("not valid JSON"));
        let p = call(" {\"path\": \"a\"} ").parse_arguments();
        assert_eq!(p.object(), Ok(&serde_json::json!({"path": "a"})));
        assert_eq!(p.into_object(), Ok(serde_json::json!({"path": "a"})));
    }

    #[test]
    fn wire_arguments_keep_objects_and_replace_the_rest() {
        let text = "{\"path\": \"a\"}";
        assert_eq!(call(text).wire_arguments(), text);
        assert_eq!(call("{}").wire_arguments(), "{}");
        for bad in ["", "nope", "[1]", "null", "{\"path\""] {
            assert_eq!(call(bad).wire_arguments(), "{}", "{bad:?}");
            assert_eq!(call(bad).wire_arguments_object(), serde_json::json!({}));
        }
        assert_eq!(
            call(text).wire_arguments_object(),
            serde_json::json!({"path": "a"})
        );
    }
}
