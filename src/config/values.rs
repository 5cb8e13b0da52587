//! The settings that take one of a few words, as typed values.
//!
//! They are parsed once, when the configuration is loaded: a bad value is a configuration
//! error at start that names the key and what is allowed, never a silent default later.
//! Config has its own types rather than the backends' or the audit log's, so the file's
//! vocabulary can stay stable while those layers change; the `From` impls at the end are the
//! one boundary where they meet.

use serde::{Serialize, Serializer};

use crate::audit::ArgumentsStyle;
use crate::llm::openai as backend;

/// What kind of server `llm.openai.base_url` is (`llm.openai.server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenAiServer {
    /// OpenAI itself: its model lifecycle and parameter rules apply.
    OpenAi,
    /// Any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's `/v1`).
    Compatible,
}

/// Which request field carries the token limit (`llm.openai.max_tokens_field`).
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

impl MaxTokensField {
    /// Parses `auto`, `max_tokens` or `max_completion_tokens`.
    pub fn parse(s: &str) -> Option<MaxTokensField> {
        match s.trim() {
            "auto" => Some(MaxTokensField::Auto),
            "max_tokens" => Some(MaxTokensField::MaxTokens),
            "max_completion_tokens" => Some(MaxTokensField::MaxCompletionTokens),
            _ => None,
        }
    }
}

/// Which OpenAI wire protocol to use (`llm.openai.api`, `--api`).
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

impl OpenAiApi {
    /// Parses `auto`, `chat` or `responses`.
    pub fn parse(s: &str) -> Option<OpenAiApi> {
        match s.trim() {
            "auto" => Some(OpenAiApi::Auto),
            "chat" => Some(OpenAiApi::Chat),
            "responses" => Some(OpenAiApi::Responses),
            _ => None,
        }
    }
}

/// Whether and which tool the model must call (`llm.tool_choice`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolChoice {
    /// The model decides (the default).
    #[default]
    Auto,
    /// The model must call a tool.
    Required,
    /// The model must not call tools.
    None,
    /// The model must call this tool (a goshi tool name such as `fs.read`; whether it
    /// exists is checked by the command that offers the tools).
    Tool(String),
}

impl ToolChoice {
    /// Parses `auto`, `required`, `none` or a tool name; `Err` says what is allowed.
    pub fn parse(s: &str) -> Result<ToolChoice, String> {
        match s {
            "auto" => Ok(ToolChoice::Auto),
            "required" => Ok(ToolChoice::Required),
            "none" => Ok(ToolChoice::None),
            _ if s.trim().is_empty() || s.chars().any(char::is_whitespace) => Err(format!(
                "{s:?} is not allowed; use auto, required, none, or a tool name such as fs.read"
            )),
            name => Ok(ToolChoice::Tool(name.to_string())),
        }
    }

    /// The value as written in the configuration.
    pub fn as_str(&self) -> &str {
        match self {
            ToolChoice::Auto => "auto",
            ToolChoice::Required => "required",
            ToolChoice::None => "none",
            ToolChoice::Tool(name) => name,
        }
    }
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How tool arguments are written to the audit log (`audit.tool_arguments_style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolArgumentsStyle {
    /// As the model gave them.
    Full,
    /// Strings cut to 1,000 characters.
    Long,
    /// Strings cut to 80 characters.
    Short,
    /// Long strings replaced by their size and a hash prefix (the default).
    #[default]
    Summaries,
}

impl ToolArgumentsStyle {
    /// Parses `full`, `long`, `short` or `summaries`.
    pub fn parse(s: &str) -> Option<ToolArgumentsStyle> {
        match s {
            "full" => Some(ToolArgumentsStyle::Full),
            "long" => Some(ToolArgumentsStyle::Long),
            "short" => Some(ToolArgumentsStyle::Short),
            "summaries" => Some(ToolArgumentsStyle::Summaries),
            _ => None,
        }
    }
}

// The boundary: configuration values become the settings of the layers below.

impl From<OpenAiServer> for backend::OpenAiServer {
    fn from(v: OpenAiServer) -> Self {
        match v {
            OpenAiServer::OpenAi => backend::OpenAiServer::OpenAi,
            OpenAiServer::Compatible => backend::OpenAiServer::Compatible,
        }
    }
}

impl From<MaxTokensField> for backend::MaxTokensField {
    fn from(v: MaxTokensField) -> Self {
        match v {
            MaxTokensField::Auto => backend::MaxTokensField::Auto,
            MaxTokensField::MaxTokens => backend::MaxTokensField::MaxTokens,
            MaxTokensField::MaxCompletionTokens => backend::MaxTokensField::MaxCompletionTokens,
        }
    }
}

impl From<OpenAiApi> for backend::OpenAiApi {
    fn from(v: OpenAiApi) -> Self {
        match v {
            OpenAiApi::Auto => backend::OpenAiApi::Auto,
            OpenAiApi::Chat => backend::OpenAiApi::Chat,
            OpenAiApi::Responses => backend::OpenAiApi::Responses,
        }
    }
}

impl From<&ToolChoice> for crate::llm::ToolChoice {
    fn from(v: &ToolChoice) -> Self {
        match v {
            ToolChoice::Auto => crate::llm::ToolChoice::Auto,
            ToolChoice::Required => crate::llm::ToolChoice::Required,
            ToolChoice::None => crate::llm::ToolChoice::None,
            ToolChoice::Tool(name) => crate::llm::ToolChoice::Named(name.clone()),
        }
    }
}

impl From<ToolArgumentsStyle> for ArgumentsStyle {
    fn from(v: ToolArgumentsStyle) -> Self {
        match v {
            ToolArgumentsStyle::Full => ArgumentsStyle::Full,
            ToolArgumentsStyle::Long => ArgumentsStyle::Long,
            ToolArgumentsStyle::Short => ArgumentsStyle::Short,
            ToolArgumentsStyle::Summaries => ArgumentsStyle::Summaries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_choice_words_names_and_refusals() {
        assert_eq!(ToolChoice::parse("auto"), Ok(ToolChoice::Auto));
        assert_eq!(ToolChoice::parse("required"), Ok(ToolChoice::Required));
        assert_eq!(ToolChoice::parse("none"), Ok(ToolChoice::None));
        assert_eq!(
            ToolChoice::parse("fs.read"),
            Ok(ToolChoice::Tool("fs.read".into()))
        );
        for bad in ["", "  ", "fs read", "auto\n"] {
            let e = ToolChoice::parse(bad).unwrap_err();
            assert!(e.contains("use auto, required, none"), "{bad:?}: {e}");
        }
        for v in ["auto", "required", "none", "fs.write"] {
            assert_eq!(ToolChoice::parse(v).unwrap().as_str(), v);
        }
    }

    #[test]
    fn styles_convert_to_the_audit_log_styles_by_name() {
        for (word, style) in [
            ("full", ArgumentsStyle::Full),
            ("long", ArgumentsStyle::Long),
            ("short", ArgumentsStyle::Short),
            ("summaries", ArgumentsStyle::Summaries),
        ] {
            let parsed = ToolArgumentsStyle::parse(word).unwrap();
            assert_eq!(ArgumentsStyle::from(parsed), style);
            assert_eq!(serde_json::to_value(parsed).unwrap(), word);
        }
        assert_eq!(ToolArgumentsStyle::parse("Full"), None);
        assert_eq!(ToolArgumentsStyle::default(), ToolArgumentsStyle::Summaries);
    }

    #[test]
    fn tool_choice_converts_to_the_request_option() {
        assert_eq!(
            crate::llm::ToolChoice::from(&ToolChoice::Tool("fs.read".into())),
            crate::llm::ToolChoice::Named("fs.read".into())
        );
        assert_eq!(
            crate::llm::ToolChoice::from(&ToolChoice::Required),
            crate::llm::ToolChoice::Required
        );
    }
}
