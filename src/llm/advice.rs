//! What to do about a failure, as structured values: the LLM layer names the situation and
//! the setting that matters; the program embedding it words the advice in its own
//! vocabulary (where each setting is set, which command lists the models). Each value also
//! has a neutral wording (its `Display`), which any program can show as it is.

use std::fmt;

/// A setting of the embedding program that a failure or notice concerns. The LLM layer only
/// names it; the front end says where it is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The model name.
    Model,
    /// The API key sent to an OpenAI-compatible server.
    ApiKey,
    /// The base URL of the OpenAI-compatible server (usually ending in `/v1`).
    OpenAiBaseUrl,
    /// The base URL of the Ollama server.
    OllamaUrl,
    /// How long to wait for the next byte from the server.
    RequestTimeout,
    /// How many times a retryable failure is retried.
    MaxRetries,
    /// How long to wait for a connection.
    ConnectTimeout,
    /// How long a whole answer may take.
    TotalTimeout,
    /// The longest wait between two tries (and the longest `Retry-After` honoured).
    RetryMaxDelay,
    /// Whether the circuit breaker applies.
    Circuit,
    /// Which wire field carries the token limit (`max_tokens` or `max_completion_tokens`).
    MaxTokensField,
    /// Which OpenAI protocol to speak (Chat Completions or Responses).
    OpenAiApi,
    /// The reasoning effort asked of the model.
    ReasoningEffort,
}

/// What to do about a failure that depends on how the embedding program is configured.
/// Each variant names one situation; [`Advice::setting`] says which setting matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Advice {
    /// A 404 or a web page instead of the API: the base URL is probably wrong.
    CheckBaseUrl,
    /// A model list that is not one: the base URL probably lacks its `/v1`.
    BaseUrlLacksV1,
    /// The stream did not look like Chat Completions: the server may be something else.
    NotOpenAiCompatible,
    /// The stream did not look like the Responses API.
    NotResponsesApi,
    /// The server has no Responses API at `url`.
    NoResponsesApi {
        /// The address that answered 404.
        url: String,
    },
    /// `model` takes tools with reasoning only over the Responses API, which is switched off.
    ResponsesOnly {
        /// The model.
        model: String,
    },
    /// The model is unknown to the server: list what it offers, then choose.
    ChooseModel,
    /// The model shut down on `date`; `replacement` is its successor.
    ModelShutDown {
        /// The retired model.
        model: String,
        /// `YYYY-MM-DD`.
        date: String,
        /// What to use instead.
        replacement: String,
    },
    /// Ollama does not have the model: pull it.
    PullModel {
        /// The model.
        model: String,
    },
    /// Rate limited after the retries: wait, or allow more retries.
    WaitOrRetryMore,
    /// The server kept failing after the retries.
    ServerKeepsFailing,
    /// The conversation (by the server's error code) is too long for the model's context.
    ConversationTooLong,
    /// The prompt (by the server's message) is larger than the model's context.
    PromptTooLarge,
    /// The request was rejected for no stated reason: check the model name and settings.
    CheckSettings,
    /// OpenAI itself could not be reached.
    ConnectOpenAi,
    /// An OpenAI-compatible server could not be reached at `url`.
    ConnectServer {
        /// The address tried.
        url: String,
    },
    /// Ollama could not be reached at `url`.
    ConnectOllama {
        /// The address tried.
        url: String,
    },
    /// The address answered, but not as Ollama.
    NotOllama,
    /// Something in front of Ollama asked for credentials.
    OllamaBehindProxy,
    /// An answer line was not Ollama's.
    OllamaAddress,
    /// Ollama's model list was not one.
    OllamaModelList,
    /// The server address is not a full URL.
    FullUrl,
    /// Nothing arrived within the timeout mid-answer: the model may just be slow.
    RaiseTimeout,
    /// No answer arrived within the timeout at all.
    ServerUpOrTimeout,
    /// OpenAI itself needs a key and none was given.
    MissingApiKey,
    /// No connection within the connect timeout: the inner advice, or allow longer.
    RaiseConnectTimeout(Box<Advice>),
    /// The whole answer took longer than the total timeout.
    RaiseTotalTimeout,
    /// The server asked for a longer wait before a retry than the policy makes.
    ComeBackLater {
        /// The longest wait the retry policy makes.
        max_delay: std::time::Duration,
    },
    /// Nothing was sent: the server's circuit breaker is open.
    CircuitOpen,
}

impl Advice {
    /// Replaces every occurrence of `secret` in the text it carries (an address, a model
    /// name) with `mask`.
    pub fn mask(&mut self, secret: &str, mask: &str) {
        use Advice::*;
        let texts: Vec<&mut String> = match self {
            NoResponsesApi { url } | ConnectServer { url } | ConnectOllama { url } => vec![url],
            ResponsesOnly { model } | PullModel { model } => vec![model],
            ModelShutDown {
                model,
                date,
                replacement,
            } => vec![model, date, replacement],
            _ => Vec::new(),
        };
        for text in texts {
            if text.contains(secret) {
                *text = text.replace(secret, mask);
            }
        }
    }

    /// The setting that matters for this advice, if one does.
    pub fn setting(&self) -> Option<Setting> {
        use Advice::*;
        Some(match self {
            CheckBaseUrl
            | BaseUrlLacksV1
            | NotOpenAiCompatible
            | ConnectOpenAi
            | ConnectServer { .. } => Setting::OpenAiBaseUrl,
            NotResponsesApi | NoResponsesApi { .. } | ResponsesOnly { .. } => Setting::OpenAiApi,
            ChooseModel | ModelShutDown { .. } | PullModel { .. } => Setting::Model,
            WaitOrRetryMore | ServerKeepsFailing => Setting::MaxRetries,
            ConnectOllama { .. }
            | NotOllama
            | OllamaBehindProxy
            | OllamaAddress
            | OllamaModelList => Setting::OllamaUrl,
            RaiseTimeout | ServerUpOrTimeout => Setting::RequestTimeout,
            MissingApiKey => Setting::ApiKey,
            RaiseConnectTimeout(_) => Setting::ConnectTimeout,
            RaiseTotalTimeout => Setting::TotalTimeout,
            ComeBackLater { .. } => Setting::RetryMaxDelay,
            CircuitOpen => Setting::Circuit,
            ConversationTooLong | PromptTooLarge | CheckSettings | FullUrl => return None,
        })
    }
}

impl fmt::Display for Advice {
    /// The neutral wording: no program's settings, commands or flags.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Advice::*;
        match self {
            CheckBaseUrl => f.write_str("check the server's base URL (it usually ends in /v1)"),
            BaseUrlLacksV1 => f.write_str("check that the base URL ends in /v1"),
            NotOpenAiCompatible => {
                f.write_str("the server may not be OpenAI-compatible; check the base URL")
            }
            NotResponsesApi => f.write_str(
                "the server may not speak the Responses API; check the base URL, or use Chat Completions",
            ),
            NoResponsesApi { url } => write!(
                f,
                "this server may not offer the Responses API at {url}; use Chat Completions"
            ),
            ResponsesOnly { model } => write!(
                f,
                "{model} takes tools with reasoning_effort only over the Responses API: allow it, \
                 or leave reasoning_effort unset"
            ),
            ChooseModel => f.write_str("list the models this server offers and choose one of them"),
            ModelShutDown {
                model,
                date,
                replacement,
            } => write!(f, "{model} was shut down on {date}; use {replacement} instead"),
            PullModel { model } => write!(f, "pull it with `ollama pull {model}`"),
            WaitOrRetryMore => f.write_str("wait a moment and try again, or allow more retries"),
            ServerKeepsFailing => f.write_str(
                "it was retried; if it keeps failing, the server may be overloaded or unable to handle this request",
            ),
            ConversationTooLong => f.write_str(
                "the conversation is too long for the model: start over or send a shorter prompt",
            ),
            PromptTooLarge => f.write_str(
                "the prompt is larger than the model's context: start over or send a shorter prompt",
            ),
            CheckSettings => f.write_str("check the model name and the request's settings"),
            ConnectOpenAi => {
                f.write_str("check your network connection, or the base URL if you use a proxy")
            }
            ConnectServer { url } => write!(f, "is the server running at {url}?"),
            ConnectOllama { url } => {
                write!(f, "is Ollama running? start it with `ollama serve` (tried {url})")
            }
            NotOllama => f.write_str("is it Ollama? check the Ollama server's address"),
            OllamaBehindProxy => f.write_str(
                "Ollama itself needs no login; a proxy in front of it may: check the Ollama server's address",
            ),
            OllamaAddress => f.write_str("check that the address points at an Ollama server"),
            OllamaModelList => f.write_str(
                "check that the address points at an Ollama server; `ollama list` shows the models too",
            ),
            FullUrl => f.write_str(
                "the server address must be a full URL such as http://127.0.0.1:11434 or https://api.openai.com/v1",
            ),
            RaiseTimeout => f.write_str("raise the request timeout if the model is just slow"),
            ServerUpOrTimeout => {
                f.write_str("check that the server is up, or raise the request timeout")
            }
            MissingApiKey => f.write_str(
                "create a key at https://platform.openai.com/api-keys and pass it, or use a local model",
            ),
            RaiseConnectTimeout(inner) => write!(f, "{inner}; or raise the connect timeout"),
            RaiseTotalTimeout => {
                f.write_str("raise or remove the total timeout if long answers are expected")
            }
            ComeBackLater { max_delay } => write!(
                f,
                "try again after that; the retry policy waits at most {}s",
                max_delay.as_secs_f64()
            ),
            CircuitOpen => f.write_str(
                "wait until then, or send without the circuit breaker",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{ErrorKind, LlmError};

    #[test]
    fn a_masked_error_masks_its_advice_too() {
        let key = "sk-secret-key-0123456789";
        let err = LlmError::new(ErrorKind::Connect, "could not connect")
            .with_advice(Advice::ConnectServer {
                url: format!("http://h/{key}/v1"),
            })
            .mask_secret(key);
        assert!(!format!("{err:?}").contains(key), "{err:?}");
        assert_eq!(err.setting(), Some(Setting::OpenAiBaseUrl));
    }
}
