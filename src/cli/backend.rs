//! Building the backend the configuration asks for, and choosing the provider and model
//! (`llm.provider`, with `auto` probing a local Ollama first). The CLI's commands share it;
//! the LLM layer below knows nothing of goshi's configuration.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, OpenAiServer, Provider, DEFAULT_OLLAMA_MODEL};
use crate::llm::http::{Transport, TransportSettings};
use crate::llm::ollama::{self, OllamaBackend};
use crate::llm::openai::lifecycle;
use crate::llm::openai::{OpenAiBackend, OpenAiSettings};
use crate::llm::retry::RetryPolicy;
use crate::llm::{Backend, ErrorKind, LlmError, Notifier};

/// How long `auto` waits for Ollama to answer.
pub const PROBE_BUDGET: Duration = Duration::from_millis(400);

/// The chosen backend and model.
#[derive(Clone)]
pub struct Selection {
    /// The backend, behind the provider-neutral interface.
    pub backend: Arc<dyn Backend>,
    /// Which provider it is (never [`Provider::Auto`]).
    pub provider: Provider,
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

/// Picks the provider and model: the provider (see [`choose_provider`]), its backend over a
/// transport that reaches a local server directly, then the model.
pub async fn select(config: &Config, notify: Notifier) -> Result<Selection, LlmError> {
    let transport = transport(config, notify.clone())?;
    let (provider, why) = choose_provider(config).await?;
    let (backend, base_url): (Arc<dyn Backend>, &str) = match provider {
        Provider::Ollama => {
            let url = &config.llm.local.base_url;
            let backend = OllamaBackend::new(url.clone(), transport.direct_for_loopback(url)?);
            (Arc::new(backend), url)
        }
        _ => {
            let url = &config.llm.openai.base_url;
            let backend = openai_backend(config, transport.direct_for_loopback(url)?);
            if config.llm.model.is_none() {
                // goshi chose this model itself and moves off it on its shutdown date: no
                // deprecation warning on every run (doctor and config show mention it).
                backend.quiet_lifecycle(&lifecycle::default_model(&lifecycle::today()).0);
            }
            (Arc::new(backend), url)
        }
    };
    let (model, model_source) = model(config, provider, &notify);
    Ok(Selection {
        backend,
        provider,
        model,
        model_source,
        why,
        base_url: base_url.to_string(),
    })
}

/// On an OpenAI-compatible server with no model configured, goshi's default (an OpenAI model
/// name) means nothing: the model is the one the server serves when it serves exactly one.
pub enum ServedModel {
    /// Nothing to decide: a model was configured, or the server is OpenAI itself or Ollama.
    Keep,
    /// The server serves exactly this model; it is now the selection's model.
    Only(String),
    /// The server serves these (none, or several): the user must choose.
    Choose(Vec<String>),
}

/// Applies [`ServedModel`] to `sel`; asks the server's model list only when it matters.
pub async fn pick_served_model(
    sel: &mut Selection,
    config: &Config,
) -> Result<ServedModel, LlmError> {
    let compatible =
        sel.provider == Provider::OpenAi && config.llm.openai.server == OpenAiServer::Compatible;
    if !compatible || sel.model_source != "default" {
        return Ok(ServedModel::Keep);
    }
    let mut served = sel.backend.list_models().await?;
    if served.len() == 1 {
        let only = served.remove(0);
        sel.model = only.clone();
        sel.model_source = "the only model the server serves";
        return Ok(ServedModel::Only(only));
    }
    Ok(ServedModel::Choose(served))
}

/// The provider, and why. With `auto`: Ollama when it answers within [`PROBE_BUDGET`],
/// else OpenAI when `OPENAI_API_KEY` is set or a compatible server is configured, else an
/// error that explains both ways.
async fn choose_provider(config: &Config) -> Result<(Provider, String), LlmError> {
    let url = &config.llm.local.base_url;
    Ok(match config.llm.provider {
        Provider::Ollama => (Provider::Ollama, "llm.provider: ollama".to_string()),
        Provider::OpenAi => (Provider::OpenAi, "llm.provider: openai".to_string()),
        Provider::Auto if ollama::probe(url, PROBE_BUDGET).await => {
            (Provider::Ollama, format!("auto: Ollama answered at {url}"))
        }
        Provider::Auto if config.llm.openai.api_key.is_some() => (
            Provider::OpenAi,
            format!("auto: no Ollama at {url}, OPENAI_API_KEY is set"),
        ),
        Provider::Auto if config.llm.openai.server == OpenAiServer::Compatible => (
            Provider::OpenAi,
            format!("auto: no Ollama at {url}, an OpenAI-compatible server is configured"),
        ),
        Provider::Auto => return Err(no_provider(url)),
    })
}

fn no_provider(url: &str) -> LlmError {
    LlmError::new(
        ErrorKind::MissingCredentials,
        format!("no model provider is available: Ollama did not answer at {url} and OPENAI_API_KEY is not set"),
    )
    .with_hint(
        "either start Ollama (`ollama serve`, then `ollama pull llama3.1:8b`; set OLLAMA_HOST if it runs elsewhere), \
         or use OpenAI: export OPENAI_API_KEY=sk-... (https://platform.openai.com/api-keys); \
         an OpenAI-compatible server works with OPENAI_BASE_URL=http://HOST:PORT/v1",
    )
}

/// The configured model, else the provider's default (for OpenAI the current default, with a
/// notice when the former one has shut down).
fn model(config: &Config, provider: Provider, notify: &Notifier) -> (String, &'static str) {
    if let Some(m) = &config.llm.model {
        return (m.clone(), "configured");
    }
    if provider == Provider::Ollama {
        return (DEFAULT_OLLAMA_MODEL.to_string(), "default");
    }
    let (m, notice) = lifecycle::default_model(&lifecycle::today());
    if let Some(n) = notice {
        notify(&n);
    }
    (m, "default")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load, EnvVars, Overrides};

    fn config(yaml: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("goshi.yaml");
        std::fs::write(&file, yaml).unwrap();
        let overrides = Overrides {
            config: Some(file),
            ..Default::default()
        };
        load(&overrides, &EnvVars::default()).unwrap()
    }

    #[tokio::test]
    async fn a_configured_provider_is_used_without_probing_and_names_its_model() {
        let c = config("llm: {provider: openai, model: my-model}");
        let sel = select(&c, crate::llm::notice::quiet()).await.unwrap();
        assert_eq!(sel.provider, Provider::OpenAi);
        assert_eq!(sel.provider_name(), "OpenAI");
        assert_eq!(
            (sel.model.as_str(), sel.model_source),
            ("my-model", "configured")
        );
        assert_eq!(sel.why, "llm.provider: openai");
        // OpenAI model ids are compared as they are (no Ollama-style `:latest`).
        assert!(!sel.backend.is_same_model("my-model:latest", "my-model"));
        assert!(sel.backend.is_same_model("my-model", "my-model"));
        let c = config("llm: {provider: ollama}");
        let sel = select(&c, crate::llm::notice::quiet()).await.unwrap();
        assert_eq!(sel.provider, Provider::Ollama);
        assert_eq!(
            (sel.model.as_str(), sel.model_source),
            (DEFAULT_OLLAMA_MODEL, "default")
        );
        assert!(sel.backend.is_same_model("qwen2.5:latest", "qwen2.5"));
    }
}
