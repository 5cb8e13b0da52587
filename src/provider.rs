//! Choosing the backend and model from the configuration (`llm.provider`, with `auto`
//! probing a local Ollama first).

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, OpenAiServer, Provider, DEFAULT_OLLAMA_MODEL};
use crate::llm::backend::{Backend, Notifier};
use crate::llm::http::{Transport, TransportSettings};
use crate::llm::ollama::{self, OllamaBackend};
use crate::llm::openai::lifecycle;
use crate::llm::openai::{OpenAiBackend, OpenAiSettings};
use crate::llm::retry::RetryPolicy;
use crate::llm::LlmError;

/// How long `auto` waits for Ollama to answer.
pub const PROBE_BUDGET: Duration = Duration::from_millis(400);

/// The concrete backend behind a selection (for provider-specific commands).
#[derive(Clone)]
pub enum Concrete {
    /// OpenAI or compatible.
    OpenAi(Arc<OpenAiBackend>),
    /// Ollama.
    Ollama(Arc<OllamaBackend>),
}

/// The chosen backend and model.
#[derive(Clone)]
pub struct Selection {
    /// The backend, behind the provider-neutral interface.
    pub backend: Arc<dyn Backend>,
    /// The same backend, concretely.
    pub concrete: Concrete,
    /// The model to use.
    pub model: String,
    /// Where the model name came from.
    pub model_source: &'static str,
    /// Why this provider was chosen.
    pub why: String,
    /// The server's base URL.
    pub base_url: String,
}

impl Selection {
    /// `Ollama` or `OpenAI`.
    pub fn provider_name(&self) -> &'static str {
        self.backend.provider_name()
    }

    /// The one line said at start: which provider and model, and why.
    pub fn describe(&self) -> String {
        format!(
            "using {} at {} with model {} ({})",
            self.provider_name(),
            crate::config::display_url(&self.base_url),
            self.model,
            self.why
        )
    }
}

/// The transport built from the configuration.
pub fn transport(config: &Config, notify: Notifier) -> Result<Transport, LlmError> {
    let r = &config.llm.retry;
    Transport::with_settings(
        TransportSettings {
            request_timeout: config.llm.request_timeout,
            connect_timeout: config.llm.connect_timeout,
            retry: RetryPolicy {
                max_retries: r.max_retries,
                initial_delay: r.initial_delay,
                max_delay: r.max_delay,
                max_elapsed: r.max_elapsed,
            },
        },
        notify,
    )
}

/// The OpenAI backend for `config`.
pub fn openai_backend(config: &Config, transport: Transport) -> OpenAiBackend {
    let o = &config.llm.openai;
    OpenAiBackend::new(
        OpenAiSettings {
            base_url: o.base_url.clone(),
            api_key: o.api_key.clone(),
            organization: o.organization.clone(),
            project: o.project.clone(),
            server: o.server.into(),
            max_tokens_field: o.max_tokens_field.into(),
            api: o.api.into(),
        },
        transport,
    )
}

/// Picks the provider and model. With `auto`: Ollama when it answers within
/// [`PROBE_BUDGET`], else OpenAI when `OPENAI_API_KEY` is set or a compatible server is
/// configured, else an error that explains both ways.
pub async fn select(config: &Config, notify: Notifier) -> Result<Selection, LlmError> {
    let transport = transport(config, notify.clone())?;
    let (provider, why) = match config.llm.provider {
        Provider::Ollama => (Provider::Ollama, "llm.provider: ollama".to_string()),
        Provider::OpenAi => (Provider::OpenAi, "llm.provider: openai".to_string()),
        Provider::Auto => {
            let url = &config.llm.local.base_url;
            if ollama::probe(url, PROBE_BUDGET).await {
                (Provider::Ollama, format!("auto: Ollama answered at {url}"))
            } else if config.llm.openai.api_key.is_some() {
                (
                    Provider::OpenAi,
                    format!("auto: no Ollama at {url}, OPENAI_API_KEY is set"),
                )
            } else if config.llm.openai.server == OpenAiServer::Compatible {
                (
                    Provider::OpenAi,
                    format!("auto: no Ollama at {url}, an OpenAI-compatible server is configured"),
                )
            } else {
                return Err(LlmError::new(
                    crate::llm::ErrorKind::MissingCredentials,
                    format!("no model provider is available: Ollama did not answer at {url} and OPENAI_API_KEY is not set"),
                )
                .with_hint(
                    "either start Ollama (`ollama serve`, then `ollama pull llama3.1:8b`; set OLLAMA_HOST if it runs elsewhere), \
                     or use OpenAI: export OPENAI_API_KEY=sk-... (https://platform.openai.com/api-keys); \
                     an OpenAI-compatible server works with OPENAI_BASE_URL=http://HOST:PORT/v1",
                ));
            }
        }
    };
    let configured = config.llm.model.clone();
    Ok(match provider {
        Provider::Ollama => {
            let backend = Arc::new(OllamaBackend::new(
                config.llm.local.base_url.clone(),
                transport.direct_for_loopback(&config.llm.local.base_url)?,
            ));
            let (model, model_source) = match configured {
                Some(m) => (m, "configured"),
                None => (DEFAULT_OLLAMA_MODEL.to_string(), "default"),
            };
            Selection {
                backend: backend.clone(),
                concrete: Concrete::Ollama(backend),
                model,
                model_source,
                why,
                base_url: config.llm.local.base_url.clone(),
            }
        }
        _ => {
            let transport = transport.direct_for_loopback(&config.llm.openai.base_url)?;
            let backend = Arc::new(openai_backend(config, transport));
            let (model, model_source) = match configured {
                Some(m) => (m, "configured"),
                None => {
                    let (m, notice) = lifecycle::default_model(&lifecycle::today());
                    if let Some(n) = notice {
                        notify(&n);
                    }
                    backend.quiet_lifecycle(&m);
                    (m, "default")
                }
            };
            Selection {
                backend: backend.clone(),
                concrete: Concrete::OpenAi(backend),
                model,
                model_source,
                why,
                base_url: config.llm.openai.base_url.clone(),
            }
        }
    })
}
