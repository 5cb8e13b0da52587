//! Errors of the LLM layer: each says what happened, why, and what to do.

use std::fmt;
use std::time::Duration;

use super::advice::{Advice, Setting};
use crate::text::redact::{mask_credentials, MASK, MIN_SECRET_LEN};
use crate::text::sanitize::{self, Mode};

/// What kind of failure happened; decides retries and exit behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A required credential is missing (nothing was sent).
    MissingCredentials,
    /// The server rejected the credentials (401).
    Unauthorized,
    /// The credentials lack access (403).
    Forbidden,
    /// The model (or route) does not exist (404).
    NotFound,
    /// The request was rejected as invalid (400, 422, other 4xx).
    BadRequest,
    /// Too many requests (429).
    RateLimited,
    /// The account has no quota left (429 `insufficient_quota`): waiting does not help.
    QuotaExceeded,
    /// A retryable status that is not a 5xx or 429 (408 timeout, 409 conflict).
    Transient,
    /// The server failed (5xx).
    Server,
    /// No connection could be made (refused, DNS, TLS).
    Connect,
    /// A timeout fired (connecting, waiting for the next byte, or the whole answer).
    Timeout,
    /// The stream broke after it had started.
    StreamInterrupted,
    /// The server sent data goshi cannot understand, or an error event inside the stream.
    Protocol,
    /// The model's tool-call arguments were not valid JSON.
    ToolArguments,
    /// The model cannot be used with tools.
    ToolsUnsupported,
    /// Nothing was sent: the server failed repeatedly and its circuit breaker is open.
    CircuitOpen,
}

/// An error of the LLM layer, ready to be shown to a person.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmError {
    /// The kind of failure.
    pub kind: ErrorKind,
    /// What happened, in one sentence.
    pub message: String,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
    /// The server's own error message, shown verbatim.
    pub server_message: Option<String>,
    /// The server's error code (e.g. `context_length_exceeded`).
    pub code: Option<String>,
    /// The request parameter the server complained about.
    pub param: Option<String>,
    /// What to do about it, in words that fit any program (no program's settings or
    /// commands). When `advice` is set, this is its neutral wording.
    pub hint: Option<String>,
    /// What to do about it, as a situation the embedding program words in its own
    /// vocabulary (where the setting that matters is set); see [`Advice`]. Boxed: it is
    /// rare, and errors travel by value through every `Result`.
    pub advice: Option<Box<Advice>>,
    /// How long the server asked us to wait before retrying.
    pub retry_after: Option<Duration>,
}

impl LlmError {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        LlmError {
            kind,
            message: message.into(),
            status: None,
            server_message: None,
            code: None,
            param: None,
            hint: None,
            advice: None,
            retry_after: None,
        }
    }

    /// Adds a hint (what to do) in neutral words; it replaces any earlier advice.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self.advice = None;
        self
    }

    /// Adds structured advice (what to do); the hint becomes its neutral wording.
    pub fn with_advice(mut self, advice: Advice) -> Self {
        self.set_advice(advice);
        self
    }

    /// Replaces the advice (and the hint, with its neutral wording).
    pub fn set_advice(&mut self, advice: Advice) {
        self.hint = Some(advice.to_string());
        self.advice = Some(Box::new(advice));
    }

    /// The setting that matters for this failure, when one does.
    pub fn setting(&self) -> Option<Setting> {
        self.advice.as_deref().and_then(Advice::setting)
    }

    /// Adds the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds the server's own message.
    pub fn with_server_message(mut self, msg: impl Into<String>) -> Self {
        self.server_message = Some(msg.into());
        self
    }

    /// Masks every occurrence of `secret` (the API key) in the text this error carries: a
    /// server may echo the key back in its error message. Secrets shorter than
    /// [`MIN_SECRET_LEN`] bytes are left alone (no real key is that short).
    pub fn mask_secret(mut self, secret: &str) -> Self {
        if secret.len() < MIN_SECRET_LEN {
            return self;
        }
        let fields = [
            Some(&mut self.message),
            self.server_message.as_mut(),
            self.code.as_mut(),
            self.param.as_mut(),
            self.hint.as_mut(),
        ];
        for text in fields.into_iter().flatten() {
            if text.contains(secret) {
                *text = text.replace(secret, MASK);
            }
        }
        if let Some(advice) = self.advice.as_deref_mut() {
            advice.mask(secret, MASK);
        }
        self
    }

    /// A malformed-data error.
    pub fn protocol(message: impl Into<String>) -> Self {
        LlmError::new(ErrorKind::Protocol, message)
    }

    /// Whether sending the same request again may succeed: 408, 409, 429, 5xx and
    /// connection failures.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::RateLimited | ErrorKind::Transient | ErrorKind::Server | ErrorKind::Connect
        )
    }
}

/// Shown to people: what happened, the server's words, what to do. Server-chosen text has
/// anything that could drive a terminal escaped ([`sanitize`]) and anything that looks like a
/// credential (`Bearer …`, `sk-…`, `Authorization: …`) masked: a 401 body may echo the key.
impl fmt::Display for LlmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sanitize::text(&self.message))?;
        if let Some(msg) = &self.server_message {
            write!(f, "\n  server said: {}", shown(msg, Mode::Text))?;
            if let Some(code) = &self.code {
                write!(f, " (code: {})", shown(code, Mode::Line))?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", sanitize::text(hint))?;
        }
        Ok(())
    }
}

/// Server text as shown: credentials masked, terminal controls escaped.
fn shown(s: &str, mode: Mode) -> String {
    sanitize::escape(&mask_credentials(s), mode).into_owned()
}

impl std::error::Error for LlmError {}

/// Maps an HTTP status to the kind of failure it means.
pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        408 | 409 => ErrorKind::Transient,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::BadRequest,
    }
}
