//! Ollama's error bodies (`{"error": "text"}`) turned into errors that say what to do.

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::llm::advice::Advice;
use crate::llm::error::{kind_for_status, ErrorKind, LlmError};
use crate::llm::http::{clip_body, ErrorMapper};

/// The text of an `error` field: Ollama sends a string; an object with a `message` (from
/// a proxy or an OpenAI-style server) is read too.
fn error_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(o) => match o.get("message") {
            Some(Value::String(s)) => s.clone(),
            _ => value.to_string(),
        },
        other => other.to_string(),
    }
}

/// The server's message in an error body: the `error` field, or the body itself.
pub fn server_text(body: &str) -> Option<String> {
    let from_json = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").map(error_text));
    from_json
        .or_else(|| Some(clip_body(body)))
        .filter(|t| !t.trim().is_empty())
}

/// Whether a server message says the model cannot take tools.
pub fn says_tools_unsupported(text: &str) -> bool {
    text.to_ascii_lowercase().contains("does not support tools")
}

/// Builds errors for the Ollama backend.
#[derive(Debug, Clone)]
pub struct OllamaErrors {
    /// The model the request was for; None for requests not about one model (listing).
    pub model: Option<String>,
}

impl OllamaErrors {
    fn not_found(&self, status: u16, server: Option<&str>) -> (ErrorKind, String, Advice) {
        let about_model = server.is_none_or(|s| s.to_ascii_lowercase().contains("model"));
        match &self.model {
            Some(model) if about_model => (
                ErrorKind::NotFound,
                format!("model {model} not found"),
                Advice::PullModel {
                    model: model.clone(),
                },
            ),
            // A plain "404 page not found" means the address is not an Ollama API.
            _ => (
                ErrorKind::NotFound,
                format!("the server has no Ollama API at this address (HTTP {status})"),
                Advice::NotOllama,
            ),
        }
    }
}

impl ErrorMapper for OllamaErrors {
    fn status_error(&self, status: u16, _headers: &HeaderMap, body: &str) -> LlmError {
        let server = server_text(body);
        let model = self.model.as_deref().unwrap_or("the model");
        let kind = kind_for_status(status);
        let (kind, message, hint) = match kind {
            ErrorKind::NotFound => {
                let (kind, message, advice) = self.not_found(status, server.as_deref());
                (kind, message, Ok(advice))
            }
            ErrorKind::BadRequest if server.as_deref().is_some_and(says_tools_unsupported) => (
                ErrorKind::ToolsUnsupported,
                format!("model {model} does not support tools"),
                Err("pick a model with tool support, e.g. llama3.1:8b or qwen2.5".to_string()),
            ),
            ErrorKind::Unauthorized | ErrorKind::Forbidden => (
                kind,
                format!("the server refused access (HTTP {status})"),
                Ok(Advice::OllamaBehindProxy),
            ),
            ErrorKind::RateLimited => (
                kind,
                "Ollama is busy (HTTP 429)".to_string(),
                Err("wait a moment and try again, or raise OLLAMA_MAX_QUEUE on the server".to_string()),
            ),
            ErrorKind::Server => (
                kind,
                format!("Ollama failed (HTTP {status})"),
                Err("this is often temporary (a model still loading, or out of memory): try again, \
                 check `ollama ps`, or pick a smaller model"
                    .to_string()),
            ),
            ErrorKind::Transient => (
                kind,
                format!("Ollama could not handle the request right now (HTTP {status})"),
                Err("try again shortly".to_string()),
            ),
            _ => (
                kind,
                format!("Ollama rejected the request (HTTP {status})"),
                Ok(Advice::CheckSettings),
            ),
        };
        // Ok: advice the front end words; Err: a hint in neutral words.
        let err = LlmError::new(kind, message).with_status(status);
        let mut err = match hint {
            Ok(advice) => err.with_advice(advice),
            Err(text) => err.with_hint(text),
        };
        err.server_message = server;
        err
    }

    fn connect_advice(&self, url: &str) -> Advice {
        Advice::ConnectOllama {
            url: url.to_string(),
        }
    }
}

/// The error for an `{"error": ...}` line that arrived inside a stream.
pub fn stream_error(value: &Value) -> LlmError {
    LlmError::new(
        ErrorKind::Protocol,
        "Ollama reported an error in the middle of the answer",
    )
    .with_server_message(error_text(value))
    .with_hint("the partial answer was kept; try again, or check the Ollama server log")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapper() -> OllamaErrors {
        OllamaErrors {
            model: Some("llama9".into()),
        }
    }

    #[test]
    fn maps_statuses_with_hints() {
        let h = HeaderMap::new();
        let e = mapper().status_error(
            404,
            &h,
            r#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.message, "model llama9 not found");
        assert!(e.to_string().contains("ollama pull llama9"));
        let e = mapper().status_error(404, &h, "404 page not found");
        assert_eq!(e.advice.as_deref(), Some(&Advice::NotOllama), "{e}");
        let e = mapper().status_error(
            400,
            &h,
            r#"{"error":"registry.ollama.ai/library/llama9 does not support tools"}"#,
        );
        assert_eq!(e.kind, ErrorKind::ToolsUnsupported);
        let e = mapper().status_error(500, &h, r#"{"error":"out of memory"}"#);
        assert!(e.is_retryable());
        assert_eq!(e.server_message.as_deref(), Some("out of memory"));
        let e = mapper().status_error(400, &h, "");
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert_eq!(e.server_message, None);
        let e = mapper().status_error(429, &h, r#"{"error":{"message":"busy"}}"#);
        assert!(e.is_retryable());
        assert_eq!(e.server_message.as_deref(), Some("busy"));
        let hint = mapper()
            .connect_advice("http://127.0.0.1:1/api/chat")
            .to_string();
        assert!(hint.contains("ollama serve") && hint.contains("http://127.0.0.1:1/api/chat"));
    }
}
