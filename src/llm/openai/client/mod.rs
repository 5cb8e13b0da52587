//! The OpenAI backend: request building, model lifecycle warnings, and the hand-over to the
//! stream decoder. What it does when a server refuses part of a request (a parameter, the
//! token field, tools) is in `fallbacks.rs`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value};

use super::errors::{masked, OpenAiErrors};
use super::lifecycle;
use super::responses::{self, remember, ResponsesStreamDecoder};
use super::stream::{completion_events, ChatStreamDecoder};
use super::tools::tool_choice_json;
use super::{
    put_optional, put_sampling, shutdown, strict, MaxTokensField, OpenAiApi, OpenAiServer,
};
use crate::llm::advice::Advice;
use crate::llm::backend::{decode_stream, Backend, EventStream, ToolSupport};
use crate::llm::chat_wire::{messages_json, tools_json, Dialect};
use crate::llm::error::{ErrorKind, LlmError};
use crate::llm::http::Transport;
use crate::llm::notice::Notice;
use crate::llm::toolname::ToolNameMap;
use crate::llm::types::{ChatRequest, ToolDefinition};

mod fallbacks;

/// What the OpenAI backend needs to know. Its `Debug` output redacts the API key.
#[derive(Clone)]
pub struct OpenAiSettings {
    /// Base URL, e.g. `https://api.openai.com/v1` (no trailing slash).
    pub base_url: String,
    /// The API key; required when `server` is OpenAI.
    pub api_key: Option<String>,
    /// `OpenAI-Organization` header.
    pub organization: Option<String>,
    /// `OpenAI-Project` header.
    pub project: Option<String>,
    /// OpenAI itself or a compatible server.
    pub server: OpenAiServer,
    /// Which field carries the token limit.
    pub max_tokens_field: MaxTokensField,
    /// Which wire protocol.
    pub api: OpenAiApi,
}

impl std::fmt::Debug for OpenAiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiSettings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("server", &self.server)
            .field("max_tokens_field", &self.max_tokens_field)
            .field("api", &self.api)
            .finish()
    }
}

#[derive(Default)]
struct Session {
    /// Parameters this server refused; not sent again this session.
    dropped: HashSet<String>,
    /// The token field after a server refused the configured one.
    token_field: Option<&'static str>,
    /// Models already warned about.
    warned: HashSet<String>,
    /// Models switched to the Responses API this session (under `api: auto`).
    switched: HashSet<String>,
    /// Models whose server refused tools; they are sent without tools this session.
    no_tools: HashSet<String>,
}

/// The OpenAI (and OpenAI-compatible) backend.
pub struct OpenAiBackend {
    settings: OpenAiSettings,
    transport: Transport,
    session: Mutex<Session>,
    /// Stands in for the user cache dir (see [`OpenAiBackend::with_cache_dir`]).
    cache_root: Option<PathBuf>,
}

impl OpenAiBackend {
    /// A backend over `transport`.
    pub fn new(settings: OpenAiSettings, transport: Transport) -> Self {
        OpenAiBackend {
            settings,
            transport,
            session: Mutex::new(Session::default()),
            cache_root: dirs::cache_dir(),
        }
    }

    /// Uses `dir` instead of the user cache dir for what outlives the session (the models
    /// switched to the Responses API, in `DIR/goshi/openai-protocols.json`).
    pub fn with_cache_dir(mut self, dir: PathBuf) -> Self {
        self.cache_root = Some(dir);
        self
    }

    /// The protocol `model` is spoken in, and why: `"configured"` (llm.openai.api),
    /// `"remembered from an earlier switch"`, or `"default"`. Never [`OpenAiApi::Auto`].
    pub fn protocol_for(&self, model: &str) -> (OpenAiApi, &'static str) {
        match self.settings.api {
            OpenAiApi::Chat => (OpenAiApi::Chat, "configured"),
            OpenAiApi::Responses => (OpenAiApi::Responses, "configured"),
            OpenAiApi::Auto => {
                let remembered = self.session().switched.contains(model)
                    || self.cache_root.as_ref().is_some_and(|root| {
                        remember::uses_responses(
                            &remember::cache(root),
                            &self.settings.base_url,
                            model,
                        )
                    });
                if remembered {
                    (OpenAiApi::Responses, "remembered from an earlier switch")
                } else {
                    (OpenAiApi::Chat, "default")
                }
            }
        }
    }

    /// Moves `model` to the Responses API for this session and later ones; says so once.
    fn switch_to_responses(&self, model: &str) {
        if !self.session().switched.insert(model.to_string()) {
            return;
        }
        if let Some(root) = &self.cache_root {
            remember::store_responses(&remember::cache(root), &self.settings.base_url, model);
        }
        self.transport.notify(Notice::SwitchedToResponses {
            model: model.to_string(),
        });
    }

    /// The settings.
    pub fn settings(&self) -> &OpenAiSettings {
        &self.settings
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        // A poisoned lock only means another thread panicked mid-update of plain sets;
        // the data is still usable.
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_openai(&self) -> bool {
        self.settings.server == OpenAiServer::OpenAi
    }

    /// Whether function tools go out with `strict: true` on `api`: only when every tool's
    /// schema follows strict mode's rules (goshi's own always do, see `tools::schema`), and
    /// then on OpenAI itself always, so both protocols treat the tools alike and the model's
    /// arguments always parse. Compatible servers get it on the Responses API, whose
    /// `FunctionTool` requires the field (llama-server accepts it, checked 2026-11-30 with
    /// scripts/real-server-tests.sh); on Chat Completions the field is optional and left out,
    /// as not every server knows it.
    fn strict_tools(&self, api: OpenAiApi, tools: &[ToolDefinition]) -> bool {
        (self.is_openai() || api == OpenAiApi::Responses)
            && tools.iter().all(|t| strict::is_strict(&t.parameters))
    }

    /// Fails before any request when OpenAI itself is used without a key.
    pub fn check_credentials(&self) -> Result<(), LlmError> {
        if self.is_openai() && self.settings.api_key.is_none() {
            return Err(LlmError::new(
                ErrorKind::MissingCredentials,
                "OPENAI_API_KEY is not set, so goshi cannot talk to OpenAI",
            )
            .with_advice(Advice::MissingApiKey));
        }
        Ok(())
    }

    fn token_field(&self) -> &'static str {
        if let Some(f) = self.session().token_field {
            return f;
        }
        match self.settings.max_tokens_field {
            MaxTokensField::MaxTokens => "max_tokens",
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
            MaxTokensField::Auto if self.is_openai() => "max_completion_tokens",
            MaxTokensField::Auto => "max_tokens",
        }
    }

    /// The Chat Completions request body.
    pub fn chat_body(&self, req: &ChatRequest, names: &ToolNameMap) -> Value {
        let dropped = self.session().dropped.clone();
        let o = &req.options;
        let mut body = Map::new();
        body.insert("model".into(), json!(req.model));
        body.insert(
            "messages".into(),
            messages_json(&req.messages, names, Dialect::ChatCompletions),
        );
        body.insert(self.token_field().into(), json!(o.max_tokens));
        if !req.no_stream {
            body.insert("stream".into(), json!(true));
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
        put_sampling(&mut body, &dropped, o);
        let mut opt =
            |key: &str, value: Option<Value>| put_optional(&mut body, &dropped, key, value);
        opt(
            "reasoning_effort",
            o.reasoning_effort.as_ref().map(|t| json!(t)),
        );
        opt("seed", o.seed.map(|t| json!(t)));
        if self.is_openai() {
            opt(
                "prompt_cache_key",
                req.prompt_cache_key.as_ref().map(|k| json!(k)),
            );
        }
        if !req.tools.is_empty() {
            opt(
                "parallel_tool_calls",
                o.parallel_tool_calls.map(|t| json!(t)),
            );
            body.insert(
                "tools".into(),
                tools_json(
                    &req.tools,
                    names,
                    self.strict_tools(OpenAiApi::Chat, &req.tools),
                ),
            );
            body.insert(
                "tool_choice".into(),
                tool_choice_json(&o.tool_choice, names),
            );
        }
        Value::Object(body)
    }

    fn request(
        &self,
        url: &str,
        body: Vec<u8>,
    ) -> impl Fn() -> reqwest::RequestBuilder + Send + Sync {
        let client = self.transport.client().clone();
        let url = url.to_string();
        let s = self.settings.clone();
        move || {
            let mut rb = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(k) = &s.api_key {
                rb = rb.bearer_auth(k);
            }
            if let Some(o) = &s.organization {
                rb = rb.header("OpenAI-Organization", o);
            }
            if let Some(p) = &s.project {
                rb = rb.header("OpenAI-Project", p);
            }
            rb
        }
    }

    /// Says nothing about `model`'s coming shutdown: goshi chose it by itself (its default)
    /// and moves off it on its shutdown date, so a warning on every run would only nag.
    pub fn quiet_lifecycle(&self, model: &str) {
        self.session().warned.insert(model.to_string());
    }

    /// Warns once per session about a deprecated or retired OpenAI model, reading the
    /// live `shutdown_date` at most once a day.
    async fn lifecycle_warning(&self, model: &str) {
        if !self.is_openai() || !self.session().warned.insert(model.to_string()) {
            return;
        }
        let today = lifecycle::today();
        let live = match shutdown::cached(&self.settings.base_url, model, &today) {
            Some(d) => Some(d),
            None => self.fetch_shutdown_date(model, &today).await,
        };
        if let Some(n) = lifecycle::status(model, &today, live).notice(model) {
            self.transport.notify(n);
        }
    }

    async fn fetch_shutdown_date(&self, model: &str, today: &str) -> Option<Option<String>> {
        let url = format!("{}/models/{}", self.settings.base_url, model);
        let mut rb = self.transport.client().get(&url);
        if let Some(k) = &self.settings.api_key {
            rb = rb.bearer_auth(k);
        }
        // A best-effort look-up: it must never hold up or fail the chat.
        let resp = tokio::time::timeout(Duration::from_secs(3), rb.send())
            .await
            .ok()?
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let body = tokio::time::timeout(Duration::from_secs(3), resp.text())
            .await
            .ok()?
            .ok()?;
        let date = shutdown::parse_model_body(&body)?;
        shutdown::store(&self.settings.base_url, model, today, date.clone());
        Some(date)
    }

    /// The whole body of a non-streamed answer.
    async fn read_all(&self, resp: reqwest::Response) -> Result<String, LlmError> {
        self.transport.read_body(resp).await
    }

    async fn chat_stream(&self, req: &ChatRequest) -> Result<EventStream, LlmError> {
        let names = ToolNameMap::new(&req.tools);
        let url = format!("{}/chat/completions", self.settings.base_url);
        let resp = self
            .send_with_fallbacks(req, &url, false, || self.chat_body(req, &names))
            .await?;
        let kind = body_kind(&resp, &url)?;
        if req.no_stream || kind == BodyKind::Json {
            // Some servers ignore `stream: true` and answer with one JSON object.
            let events = completion_events(&self.read_all(resp).await?, &names)?;
            return Ok(Box::pin(futures_util::stream::iter(
                events.into_iter().map(Ok),
            )));
        }
        Ok(decode_stream(
            self.transport.body_stream(resp),
            ChatStreamDecoder::new(names),
        ))
    }

    /// The Responses API request body.
    pub fn responses_body(&self, req: &ChatRequest, names: &ToolNameMap) -> Value {
        let dropped = self.session().dropped.clone();
        let strict = self.strict_tools(OpenAiApi::Responses, &req.tools);
        let mut body = responses::responses_body(req, names, &dropped, strict);
        // Compatible servers may refuse what they do not know; only OpenAI gets the key.
        if let (true, Some(k), Some(map)) = (
            self.is_openai() && !dropped.contains("prompt_cache_key"),
            &req.prompt_cache_key,
            body.as_object_mut(),
        ) {
            map.insert("prompt_cache_key".into(), json!(k));
        }
        body
    }

    async fn responses_stream(&self, req: &ChatRequest) -> Result<EventStream, LlmError> {
        let names = ToolNameMap::new(&req.tools);
        let url = format!("{}/responses", self.settings.base_url);
        let resp = self
            .send_with_fallbacks(req, &url, true, || self.responses_body(req, &names))
            .await
            .map_err(|mut e| {
                if e.kind == ErrorKind::NotFound && !self.is_openai() {
                    e.set_advice(Advice::NoResponsesApi { url: url.clone() });
                }
                e
            })?;
        let kind = body_kind(&resp, &url)?;
        if req.no_stream || kind == BodyKind::Json {
            let events = responses::response_events(&self.read_all(resp).await?, &names)?;
            return Ok(Box::pin(futures_util::stream::iter(
                events.into_iter().map(Ok),
            )));
        }
        Ok(decode_stream(
            self.transport.body_stream(resp),
            ResponsesStreamDecoder::new(names),
        ))
    }

    /// Sends the turn in the model's protocol; under `auto`, a Chat Completions refusal
    /// that asks for the Responses API re-sends it there before anything was shown.
    async fn protocol_stream(&self, req: &ChatRequest) -> Result<EventStream, LlmError> {
        if self.protocol_for(&req.model).0 == OpenAiApi::Responses {
            return self.responses_stream(req).await;
        }
        match self.chat_stream(req).await {
            Err(e) if self.settings.api == OpenAiApi::Auto && responses::wants_responses(&e) => {
                self.switch_to_responses(&req.model);
                self.responses_stream(req).await
            }
            other => other,
        }
    }

    /// The model ids the server offers (`GET {base}/models`), sorted.
    pub async fn model_ids(&self) -> Result<Vec<String>, LlmError> {
        let key = self.settings.api_key.as_deref().unwrap_or_default();
        self.model_ids_unmasked()
            .await
            .map_err(|e| e.mask_secret(key))
    }

    async fn model_ids_unmasked(&self) -> Result<Vec<String>, LlmError> {
        self.check_credentials()?;
        let url = format!("{}/models", self.settings.base_url);
        let client = self.transport.client().clone();
        let s = self.settings.clone();
        let u = url.clone();
        let build = move || {
            let mut rb = client.get(&u);
            if let Some(k) = &s.api_key {
                rb = rb.bearer_auth(k);
            }
            rb
        };
        let mapper = OpenAiErrors {
            is_openai: self.is_openai(),
            model: String::new(),
        };
        let resp = self.transport.send(&url, &build, &mapper).await?;
        let text = self.transport.read_body(resp).await?;
        #[derive(serde::Deserialize)]
        struct List {
            #[serde(default)]
            data: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            id: String,
        }
        let list: List = serde_json::from_str(&text).map_err(|e| {
            LlmError::protocol(format!("{url} did not answer with a model list ({e})"))
                .with_advice(Advice::BaseUrlLacksV1)
        })?;
        let mut ids: Vec<String> = list.data.into_iter().map(|e| e.id).collect();
        ids.sort();
        Ok(ids)
    }
}

#[derive(PartialEq)]
enum BodyKind {
    EventStream,
    Json,
}

/// What a successful answer's body is, by its content type: an event stream (or no type
/// at all, which is decoded as one), JSON, or something else, which is an error: it is
/// usually a web page from a wrong base URL.
fn body_kind(resp: &reqwest::Response, url: &str) -> Result<BodyKind, LlmError> {
    let ct = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if ct.is_empty() || ct.starts_with("text/event-stream") {
        Ok(BodyKind::EventStream)
    } else if ct.contains("json") {
        Ok(BodyKind::Json)
    } else {
        Err(LlmError::protocol(format!(
            "{url} answered with {ct}, not an event stream or JSON: this does not look like an OpenAI-compatible API"
        ))
        .with_advice(Advice::CheckBaseUrl))
    }
}

impl Backend for OpenAiBackend {
    fn provider_name(&self) -> &'static str {
        "OpenAI"
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(self.model_ids())
    }

    /// OpenAI-compatible servers have no capability query: tools are offered until refused.
    fn tool_support<'a>(&'a self, model: &'a str) -> BoxFuture<'a, ToolSupport> {
        let refused = self.session().no_tools.contains(model);
        Box::pin(async move {
            if refused {
                ToolSupport::No
            } else {
                ToolSupport::OfferedUntilRefused
            }
        })
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> BoxFuture<'a, Result<EventStream, LlmError>> {
        Box::pin(async move {
            let key = self.settings.api_key.clone();
            masked(self.stream_unmasked(request).await, key)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_debug_never_shows_the_api_key() {
        let settings = OpenAiSettings {
            base_url: "https://api.openai.com/v1".into(),
            api_key: Some("sk-proj-verysecret".into()),
            organization: Some("org-1".into()),
            project: None,
            server: OpenAiServer::OpenAi,
            max_tokens_field: MaxTokensField::Auto,
            api: OpenAiApi::Auto,
        };
        let shown = format!("{settings:?} {settings:#?}");
        assert!(!shown.contains("verysecret"), "{shown}");
        assert!(
            shown.contains("api_key") && shown.contains("org-1"),
            "{shown}"
        );
    }
}
