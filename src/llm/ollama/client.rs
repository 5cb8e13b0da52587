//! The Ollama backend: request building, the tools fallback, and the hand-over to the
//! stream decoder.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use futures_util::future::BoxFuture;

use super::errors::OllamaErrors;
use super::stream::{response_events, OllamaStreamDecoder};
use super::wire::chat_body;
use crate::llm::backend::{decode_stream, Backend, EventStream, ToolSupport};
use crate::llm::error::{ErrorKind, LlmError};
use crate::llm::http::Transport;
use crate::llm::notice::Notice;
use crate::llm::toolname::ToolNameMap;
use crate::llm::types::{ChatRequest, ToolChoice};

/// What this session learned about the server's models.
#[derive(Default)]
pub(super) struct Session {
    /// Model -> whether it can call tools (None: the server does not say).
    pub(super) tools: HashMap<String, Option<bool>>,
    /// Models the user was already told cannot call tools.
    told: HashSet<String>,
}

/// The backend for Ollama's native API (`/api/chat`, `/api/tags`, `/api/show`).
pub struct OllamaBackend {
    /// e.g. `http://127.0.0.1:11434`, no trailing slash.
    pub(super) base_url: String,
    /// Shared retries, timeouts and notices.
    pub(super) transport: Transport,
    /// What this session learned about the models.
    session: Mutex<Session>,
}

impl OllamaBackend {
    /// A backend for the server at `base_url` (e.g. `http://127.0.0.1:11434`, no trailing
    /// slash) over `transport`.
    pub fn new(base_url: String, transport: Transport) -> Self {
        OllamaBackend {
            base_url,
            transport,
            session: Mutex::new(Session::default()),
        }
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The session state, locked.
    pub(super) fn session(&self) -> MutexGuard<'_, Session> {
        // A poisoned lock only means another thread panicked mid-update of plain maps;
        // the data is still usable.
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that `model` cannot call tools and tells the user, once per model.
    fn without_tools(&self, model: &str) {
        let first = {
            let mut s = self.session();
            s.tools.insert(model.to_string(), Some(false));
            s.told.insert(model.to_string())
        };
        if first {
            self.transport.notify(Notice::OllamaToolless {
                model: model.to_string(),
            });
        }
    }

    async fn chat(&self, req: &ChatRequest) -> Result<EventStream, LlmError> {
        let names = ToolNameMap::new(&req.tools);
        // Ollama has no tool_choice; `none` is honoured by not offering the tools.
        let mut with_tools = !req.tools.is_empty() && req.options.tool_choice != ToolChoice::None;
        if with_tools && self.supports_tools(&req.model).await == Some(false) {
            self.without_tools(&req.model);
            with_tools = false;
        }
        match self.send_chat(req, &names, with_tools).await {
            // The server knows better than /api/show (or /api/show said nothing): resend
            // once without tools; that request cannot fail this way again.
            Err(e) if with_tools && e.kind == ErrorKind::ToolsUnsupported => {
                self.without_tools(&req.model);
                self.send_chat(req, &names, false).await
            }
            other => other,
        }
    }

    async fn send_chat(
        &self,
        req: &ChatRequest,
        names: &ToolNameMap,
        with_tools: bool,
    ) -> Result<EventStream, LlmError> {
        let url = format!("{}/api/chat", self.base_url);
        let body = serde_json::to_vec(&chat_body(req, names, with_tools))
            .map_err(|e| LlmError::protocol(format!("could not encode the request: {e}")))?;
        let client = self.transport.client().clone();
        let target = url.clone();
        let build = move || {
            client
                .post(&target)
                .header("content-type", "application/json")
                .body(body.clone())
        };
        let mapper = OllamaErrors {
            model: Some(req.model.clone()),
        };
        let resp = self.transport.send(&url, &build, &mapper).await?;
        if req.no_stream {
            let text = read_text(&self.transport, resp).await?;
            let events = response_events(&text, names.clone());
            return Ok(Box::pin(futures_util::stream::iter(events)));
        }
        let bytes = self.transport.body_stream(resp);
        Ok(decode_stream(
            bytes,
            OllamaStreamDecoder::new(names.clone()),
        ))
    }
}

/// Reads a whole response body; the transport's timeout bounds each wait for the next read.
pub(super) async fn read_text(
    transport: &Transport,
    resp: reqwest::Response,
) -> Result<String, LlmError> {
    transport.read_body(resp).await.map_err(|e| match e.kind {
        ErrorKind::StreamInterrupted => {
            e.with_hint("try again; check that Ollama is still running (`ollama ps`)")
        }
        _ => e,
    })
}

impl Backend for OllamaBackend {
    fn provider_name(&self) -> &'static str {
        "Ollama"
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, LlmError>> {
        Box::pin(self.chat(request))
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(async move {
            let models = self.installed_models().await?;
            Ok(models.into_iter().map(|m| m.name).collect())
        })
    }

    fn tool_support<'a>(&'a self, model: &'a str) -> BoxFuture<'a, ToolSupport> {
        Box::pin(async move {
            match self.supports_tools(model).await {
                Some(true) => ToolSupport::Yes,
                Some(false) => ToolSupport::No,
                None => ToolSupport::Unknown,
            }
        })
    }

    /// A name without a tag means its `:latest` (`qwen2.5` is listed as `qwen2.5:latest`).
    fn is_same_model(&self, listed: &str, model: &str) -> bool {
        listed == model || with_tag(listed) == with_tag(model)
    }
}

/// An Ollama model name with its tag (`:latest` when it has none). The tag is in the last
/// path segment, so a registry's `host:port/` is not mistaken for one.
fn with_tag(name: &str) -> std::borrow::Cow<'_, str> {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(format!("{name}:latest"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::notice;

    #[test]
    fn names_without_a_tag_mean_latest() {
        let transport = Transport::new(std::time::Duration::from_secs(1), 0, notice::quiet())
            .expect("a transport");
        let b = OllamaBackend::new("http://127.0.0.1:1".into(), transport);
        assert!(b.is_same_model("qwen2.5:latest", "qwen2.5"));
        assert!(b.is_same_model("qwen2.5", "qwen2.5:latest"));
        assert!(!b.is_same_model("qwen2.5:0.5b", "qwen2.5"));
        assert!(b.is_same_model("host:5000/me/m:latest", "host:5000/me/m"));
        assert!(!b.is_same_model("host:5000/me/m:v2", "host:5000/me/m"));
    }
}
