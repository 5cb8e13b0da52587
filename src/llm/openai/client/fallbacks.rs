//! What the OpenAI backend does when a server refuses part of a request: drops a parameter
//! goshi added on its own (once each), switches the token-limit field, sends the turn without
//! tools to a server that cannot call them, and explains a 404 of a retired model.

use serde_json::Value;

use super::OpenAiBackend;
use crate::llm::advice::Advice;
use crate::llm::backend::EventStream;
use crate::llm::error::{ErrorKind, LlmError};
use crate::llm::notice::Notice;
use crate::llm::openai::errors::OpenAiErrors;
use crate::llm::openai::lifecycle::{self, Status};
use crate::llm::openai::{responses, shutdown, OpenAiApi};
use crate::llm::types::ChatRequest;

/// Parameters goshi adds on its own, which it may drop when a server refuses them.
pub(super) const DROPPABLE: [&str; 7] = [
    "prompt_cache_key",
    "temperature",
    "frequency_penalty",
    "presence_penalty",
    "parallel_tool_calls",
    "reasoning_effort",
    "reasoning_summary",
];

impl OpenAiBackend {
    /// Adjusts the session after a 400 that names a parameter goshi added; true when the
    /// request should be sent again. `responses` says which protocol was refused.
    pub(super) fn fallback(&self, err: &LlmError, model: &str, responses: bool) -> bool {
        if err.status != Some(400) {
            return false;
        }
        // Under `auto` this refusal moves the model to the Responses API instead, which
        // keeps reasoning_effort.
        if !responses && self.settings.api == OpenAiApi::Auto && responses::wants_responses(err) {
            return false;
        }
        let code = err.code.as_deref().unwrap_or_default();
        if !matches!(
            code,
            "unsupported_parameter" | "unsupported_value" | "unknown_parameter"
        ) {
            return false;
        }
        let Some(param) = err.param.as_deref() else {
            return false;
        };
        // The Responses API names the nested field; the session knows it by its Chat name.
        let param = match param {
            "reasoning" | "reasoning.effort" if responses => "reasoning_effort",
            "reasoning.summary" if responses => "reasoning_summary",
            p => p,
        };
        let current = self.token_field();
        let mut s = self.session();
        if !responses && param == current && s.token_field.is_none() {
            let other = if current == "max_tokens" {
                "max_completion_tokens"
            } else {
                "max_tokens"
            };
            s.token_field = Some(other);
            drop(s);
            self.transport.notify(Notice::TokenFieldSwitched {
                model: model.to_string(),
                refused: current,
                instead: other,
            });
            return true;
        }
        if DROPPABLE.contains(&param) && s.dropped.insert(param.to_string()) {
            drop(s);
            self.transport.notify(Notice::ParamDropped {
                model: model.to_string(),
                param: param.to_string(),
            });
            return true;
        }
        false
    }

    /// Posts the body that `body` builds to `url`, through the shared transport (retries,
    /// backoff, timeouts), rebuilding it after each parameter the server refuses.
    pub(super) async fn send_with_fallbacks(
        &self,
        req: &ChatRequest,
        url: &str,
        responses: bool,
        body: impl Fn() -> Value,
    ) -> Result<reqwest::Response, LlmError> {
        let mapper = OpenAiErrors {
            is_openai: self.is_openai(),
            model: req.model.clone(),
        };
        // Each refused parameter can be dropped once, so this ends.
        for _ in 0..=DROPPABLE.len() + 1 {
            let bytes = serde_json::to_vec(&body())
                .map_err(|e| LlmError::protocol(format!("could not encode the request: {e}")))?;
            let build = self.request(url, bytes);
            match self.transport.send(url, &build, &mapper).await {
                Ok(resp) => return Ok(resp),
                Err(e) if self.fallback(&e, &req.model, responses) => continue,
                Err(e) => return Err(self.explain(e, &req.model)),
            }
        }
        Err(LlmError::new(
            ErrorKind::BadRequest,
            "the server kept refusing the request's parameters",
        ))
    }

    /// Adds lifecycle knowledge to a 404, and the way out when `api: chat` meets a model
    /// that wants the Responses API.
    fn explain(&self, mut err: LlmError, model: &str) -> LlmError {
        if self.settings.api == OpenAiApi::Chat && responses::wants_responses(&err) {
            err.set_advice(Advice::ResponsesOnly {
                model: model.to_string(),
            });
        }
        if err.kind == ErrorKind::NotFound && self.is_openai() {
            let today = lifecycle::today();
            // The live date (cached by the warning before the request) wins over the table.
            let live = shutdown::cached(&self.settings.base_url, model, &today);
            if let Status::Gone {
                date,
                replacement: Some(r),
            } = lifecycle::status(model, &today, live)
            {
                err.set_advice(Advice::ModelShutDown {
                    model: model.to_string(),
                    date,
                    replacement: r,
                });
            }
        }
        err
    }
}

impl OpenAiBackend {
    /// Sends the turn, and once more without tools when the server refuses them.
    pub(super) async fn stream_unmasked(
        &self,
        request: &ChatRequest,
    ) -> Result<EventStream, LlmError> {
        {
            self.check_credentials()?;
            self.lifecycle_warning(&request.model).await;
            if request.tools.is_empty() {
                return self.protocol_stream(request).await;
            }
            if self.session().no_tools.contains(&request.model) {
                return self.protocol_stream(&without_tools(request)).await;
            }
            match self.protocol_stream(request).await {
                Err(e) if rejects_tools(&e) => {
                    self.session().no_tools.insert(request.model.clone());
                    self.transport.notify(Notice::ToolsRejected {
                        model: request.model.clone(),
                        reason: e
                            .server_message
                            .clone()
                            .unwrap_or_else(|| e.message.clone()),
                    });
                    self.protocol_stream(&without_tools(request)).await
                }
                other => other,
            }
        }
    }
}

/// The same request without tools.
fn without_tools(req: &ChatRequest) -> ChatRequest {
    ChatRequest {
        tools: Vec::new(),
        ..req.clone()
    }
}

/// Whether the server refused the request because of its tools (a model or server without
/// tool calling), as opposed to any other problem with it.
fn rejects_tools(e: &LlmError) -> bool {
    if !matches!(e.status, Some(400 | 422 | 500 | 501)) || responses::wants_responses(e) {
        return false;
    }
    let text = e
        .server_message
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    text.contains("tool")
        && [
            "not support",
            "unsupported",
            "does not support",
            "requires",
            "not enabled",
            "not allowed",
            "jinja",
        ]
        .iter()
        .any(|p| text.contains(p))
}
