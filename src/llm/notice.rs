//! Notices: what the LLM layer did on its own that the user should hear about (a retry, a
//! fallback, a protocol switch, a deprecated model). The layer never prints them; it hands
//! each to the caller's [`Notifier`], which decides where and in which words it is shown.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Where the LLM layer sends its notices. The goshi CLI renders them on stderr; an embedding
/// program may log them, show them, or drop them.
pub type Notifier = Arc<dyn Fn(&Notice) + Send + Sync>;

/// A notifier that drops every notice.
pub fn quiet() -> Notifier {
    Arc::new(|_: &Notice| {})
}

/// Something the LLM layer did or found that the user should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A retryable failure; the request is sent again after `wait`.
    Retrying {
        /// What failed (`HTTP 503`, or the error's message).
        why: String,
        /// How long until the next attempt.
        wait: Duration,
        /// This retry's number, from 1.
        attempt: u32,
        /// The most retries allowed.
        max: u32,
    },
    /// Ollama says `model` cannot call tools; the turn continues without them.
    OllamaToolless {
        /// The model.
        model: String,
    },
    /// An OpenAI-compatible server refused `model`'s tools; the turn continues without them.
    ToolsRejected {
        /// The model.
        model: String,
        /// The server's words (or the error's message).
        reason: String,
    },
    /// `model` needs the Responses API for tools with reasoning; it was switched there and
    /// the choice remembered.
    SwitchedToResponses {
        /// The model.
        model: String,
    },
    /// The server refused the token-limit field `refused`; the request is retried with `instead`.
    TokenFieldSwitched {
        /// The model.
        model: String,
        /// The field the server refused.
        refused: &'static str,
        /// The field used instead.
        instead: &'static str,
    },
    /// The server refused the optional parameter `param`; the request is retried without it.
    ParamDropped {
        /// The model.
        model: String,
        /// The parameter's wire name (e.g. `temperature`).
        param: String,
    },
    /// An OpenAI model is deprecated (`gone` false) or already shut down (`gone` true).
    ModelRetiring {
        /// The model.
        model: String,
        /// The shutdown date, `YYYY-MM-DD`.
        date: String,
        /// Whether the date has passed.
        gone: bool,
        /// What to use instead, if known.
        replacement: Option<String>,
    },
    /// The default model shut down; its successor is used instead.
    DefaultModelReplaced {
        /// The former default.
        former: String,
        /// Its shutdown date.
        date: String,
        /// The model used now.
        next: String,
    },
}

impl fmt::Display for Notice {
    /// The neutral wording: no program's settings, commands or flags.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Retrying {
                why,
                wait,
                attempt,
                max,
            } => write!(
                f,
                "{why}; retrying in {:.1}s (attempt {attempt} of {max})",
                wait.as_secs_f64()
            ),
            Notice::OllamaToolless { model } => write!(
                f,
                "model {model} cannot call tools; continuing without them (pick a model with tool \
                 support, e.g. llama3.1:8b or qwen2.5, see `ollama show {model}`)"
            ),
            Notice::ToolsRejected { model, reason } => write!(
                f,
                "model {model} cannot call tools on this server ({reason}); continuing without tools. \
                 Pick a model with tool support or start the server with tool calling enabled \
                 (llama.cpp: --jinja)"
            ),
            Notice::SwitchedToResponses { model } => write!(
                f,
                "{model} does not take function tools with reasoning_effort over Chat Completions; \
                 switching this model to the Responses API"
            ),
            Notice::TokenFieldSwitched {
                model,
                refused,
                instead,
            } => write!(
                f,
                "the server does not accept `{refused}` for {model}; retrying with `{instead}`"
            ),
            Notice::ParamDropped { model, param } => write!(
                f,
                "the server does not accept `{param}` for {model}; retrying without it"
            ),
            Notice::ModelRetiring {
                model,
                date,
                gone,
                replacement,
            } => {
                if *gone {
                    write!(f, "warning: OpenAI model {model} was shut down on {date} and no longer answers")?;
                } else {
                    write!(f, "warning: OpenAI model {model} is deprecated and shuts down on {date}")?;
                }
                match replacement {
                    Some(r) => write!(f, "; use {r} instead"),
                    None => f.write_str("; pick another model"),
                }
            }
            Notice::DefaultModelReplaced { former, date, next } => write!(
                f,
                "the former default model {former} shut down on {date}; using {next}"
            ),
        }
    }
}
