//! OpenAI's error bodies turned into errors that say what to do.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::llm::advice::Advice;
use crate::llm::backend::EventStream;
use crate::llm::error::{kind_for_status, ErrorKind, LlmError};
use crate::llm::http::{clip_body, ErrorMapper};
use futures_util::StreamExt;

/// The `error` object of an OpenAI-style error body.
#[derive(Debug, Default, Deserialize)]
pub struct ApiError {
    /// Human-readable message.
    #[serde(default)]
    pub message: Option<String>,
    /// e.g. `invalid_request_error`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The parameter at fault.
    #[serde(default)]
    pub param: Option<String>,
    /// e.g. `unsupported_parameter`; some servers send a number.
    #[serde(default)]
    pub code: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Envelope {
    error: ErrorField,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Object(ApiError),
    Text(String),
}

/// Parses an error body (`{"error": {...}}`, `{"error": "text"}`); None if it is neither.
pub fn parse_error_body(body: &str) -> Option<ApiError> {
    match serde_json::from_str::<Envelope>(body).ok()?.error {
        ErrorField::Object(e) => Some(e),
        ErrorField::Text(t) => Some(ApiError {
            message: Some(t),
            ..Default::default()
        }),
    }
}

fn code_text(code: &Option<serde_json::Value>) -> Option<String> {
    match code {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether a 404 body says the path is not served at all (so the base URL is wrong) rather
/// than that the model is unknown: a body that is not JSON ("404 page not found"), or
/// FastAPI's `{"detail": "Not Found"}` for a route it does not have (vLLM, SGLang, ...).
fn not_an_api(raw: &str) -> bool {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Err(_) => true,
        Ok(v) => {
            v.get("error").is_none()
                && v.get("detail").and_then(|d| d.as_str()) == Some("Not Found")
        }
    }
}

/// A hint in neutral words, or advice the front end words.
enum Hint {
    Text(String),
    Advice(Advice),
}

/// Builds errors for the OpenAI backend.
pub struct OpenAiErrors {
    /// Whether the server is OpenAI itself (hints differ).
    pub is_openai: bool,
    /// The model requested, for messages.
    pub model: String,
}

impl OpenAiErrors {
    /// The error for a status and an already parsed body.
    pub fn from_parts(&self, status: u16, api: Option<ApiError>, raw: &str) -> LlmError {
        let kind = kind_for_status(status);
        let api = api.unwrap_or_default();
        let server_message = api
            .message
            .clone()
            .filter(|m| !m.trim().is_empty())
            .or_else(|| (!raw.trim().is_empty()).then(|| clip_body(raw)));
        let code = code_text(&api.code);
        let model = &self.model;
        let (message, hint) = match kind {
            ErrorKind::Unauthorized => (
                "the server rejected the API key (HTTP 401)".to_string(),
                if self.is_openai {
                    Hint::Text("set a valid key: export OPENAI_API_KEY=sk-... (create one at https://platform.openai.com/api-keys)".to_string())
                } else {
                    Hint::Text("set the key this server expects in OPENAI_API_KEY".to_string())
                },
            ),
            ErrorKind::Forbidden => (
                "access denied (HTTP 403)".to_string(),
                Hint::Text("your key, organization or project may lack access to this model; check OPENAI_ORG_ID / OPENAI_PROJECT_ID and the project's model permissions".to_string()),
            ),
            ErrorKind::NotFound if !raw.trim().is_empty() && not_an_api(raw) => {
                (
                "the server answered 404 Not Found without an API error: the address is probably wrong".to_string(),
                Hint::Advice(Advice::CheckBaseUrl),
            )
            }
            ErrorKind::NotFound => (
                format!("model {model} was not found (HTTP 404)"),
                Hint::Advice(Advice::ChooseModel),
            ),
            ErrorKind::RateLimited => (
                "rate limited (HTTP 429)".to_string(),
                if code.as_deref() == Some("insufficient_quota") {
                    Hint::Text("the account has no quota left: check your plan and billing".to_string())
                } else {
                    Hint::Advice(Advice::WaitOrRetryMore)
                },
            ),
            ErrorKind::Server => (
                format!("the server failed (HTTP {status})"),
                Hint::Advice(Advice::ServerKeepsFailing),
            ),
            ErrorKind::Transient => (
                format!("the server could not handle the request right now (HTTP {status})"),
                Hint::Text("try again shortly".to_string()),
            ),
            _ => {
                let hint = match code.as_deref() {
                    Some("context_length_exceeded") => {
                        Hint::Advice(Advice::ConversationTooLong)
                    }
                    _ if server_message
                        .as_deref()
                        .is_some_and(|m| m.contains("context") && (m.contains("exceed") || m.contains("too long"))) =>
                    {
                        Hint::Advice(Advice::PromptTooLarge)
                    }
                    _ => match &api.param {
                        Some(p) => Hint::Text(format!("the server objected to the request parameter `{p}`")),
                        None => Hint::Advice(Advice::CheckSettings),
                    },
                };
                (format!("the server rejected the request (HTTP {status})"), hint)
            }
        };
        // Retrying cannot refill an empty account, so this 429 is not retried.
        let kind = if code.as_deref() == Some("insufficient_quota") {
            ErrorKind::QuotaExceeded
        } else {
            kind
        };
        let err = LlmError::new(kind, message).with_status(status);
        let mut err = match hint {
            Hint::Text(t) => err.with_hint(t),
            Hint::Advice(a) => err.with_advice(a),
        };
        err.server_message = server_message;
        err.code = code;
        err.param = api.param;
        err
    }
}

impl ErrorMapper for OpenAiErrors {
    fn status_error(&self, status: u16, _headers: &HeaderMap, body: &str) -> LlmError {
        self.from_parts(status, parse_error_body(body), body)
    }

    fn connect_advice(&self, url: &str) -> Advice {
        if self.is_openai {
            Advice::ConnectOpenAi
        } else {
            Advice::ConnectServer {
                url: url.to_string(),
            }
        }
    }
}

/// `result` with the API key masked in its error, or in any error inside its stream: a server
/// may echo the key back (a 401 body quoting the `Authorization` header).
pub fn masked(
    result: Result<EventStream, LlmError>,
    key: Option<String>,
) -> Result<EventStream, LlmError> {
    let Some(key) = key else {
        return result;
    };
    match result {
        Err(e) => Err(e.mask_secret(&key)),
        Ok(stream) => Ok(Box::pin(
            stream.map(move |item| item.map_err(|e| e.mask_secret(&key))),
        )),
    }
}

/// The error for an `{"error": ...}` object that arrived inside a stream.
pub fn stream_error(value: &serde_json::Value) -> LlmError {
    let api: ApiError = match value {
        serde_json::Value::String(s) => ApiError {
            message: Some(s.clone()),
            ..Default::default()
        },
        other => serde_json::from_value(other.clone()).unwrap_or_default(),
    };
    let mut err = LlmError::new(
        ErrorKind::Protocol,
        "the server reported an error in the middle of the answer",
    )
    .with_hint("the partial answer was kept; try again");
    err.server_message = api.message.or_else(|| Some(value.to_string()));
    err.code = code_text(&api.code);
    err.param = api.param;
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapper() -> OpenAiErrors {
        OpenAiErrors {
            is_openai: true,
            model: "gpt-x".into(),
        }
    }

    #[test]
    fn maps_each_status_with_server_message_and_hint() {
        let body = r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        let e = mapper().status_error(401, &HeaderMap::new(), body);
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert_eq!(
            e.server_message.as_deref(),
            Some("Incorrect API key provided")
        );
        assert!(e.to_string().contains("OPENAI_API_KEY"));
        let e = mapper().status_error(404, &HeaderMap::new(), "{}");
        assert_eq!(e.advice.as_deref(), Some(&Advice::ChooseModel));
        let e = mapper().status_error(
            400,
            &HeaderMap::new(),
            r#"{"error":{"message":"too long","code":"context_length_exceeded","param":"messages"}}"#,
        );
        assert_eq!(e.code.as_deref(), Some("context_length_exceeded"));
        assert_eq!(e.advice.as_deref(), Some(&Advice::ConversationTooLong));
        let e = mapper().status_error(503, &HeaderMap::new(), "upstream down");
        assert!(e.is_retryable());
        assert_eq!(e.server_message.as_deref(), Some("upstream down"));
        let e = mapper().status_error(
            500,
            &HeaderMap::new(),
            r#"{"error":{"code":500,"message":"boom"}}"#,
        );
        assert_eq!(e.code.as_deref(), Some("500"));
        assert!(!mapper()
            .status_error(403, &HeaderMap::new(), "")
            .is_retryable());
    }
}
