//! What the server has: installed models (`/api/tags`), a model's capabilities
//! (`/api/show`), and whether an Ollama answers at all (to choose a provider automatically,
//! and for setup checks).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::client::{read_text, OllamaBackend};
use super::errors::OllamaErrors;
use crate::llm::advice::Advice;
use crate::llm::error::LlmError;

/// The longest wait for `/api/show`: it is a look-up that must not hold up the chat.
const SHOW_TIMEOUT: Duration = Duration::from_secs(10);

/// One installed model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The model's name, e.g. `llama3.1:8b`.
    pub name: String,
    /// Its size on disk in bytes, when the server says.
    pub size: Option<u64>,
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    models: Option<Vec<Tag>>,
}

#[derive(Deserialize)]
struct Tag {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    size: Option<u64>,
}

/// Parses a `/api/tags` body; the error says what is wrong with it.
pub fn parse_tags(body: &str) -> Result<Vec<ModelInfo>, String> {
    let tags: Tags = serde_json::from_str(body).map_err(|e| e.to_string())?;
    tags.models
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let name = t.name.or(t.model).filter(|n| !n.is_empty());
            let name = name.ok_or_else(|| "an entry has no name".to_string())?;
            Ok(ModelInfo { name, size: t.size })
        })
        .collect()
}

/// Reads a `/api/show` body: whether its `capabilities` include `tools`; None when the
/// server does not say (older Ollama versions have no `capabilities`).
pub fn parse_capabilities(body: &str) -> Option<bool> {
    let v: Value = serde_json::from_str(body).ok()?;
    let caps = v.get("capabilities")?.as_array()?;
    Some(caps.iter().any(|c| c.as_str() == Some("tools")))
}

impl OllamaBackend {
    /// The installed models (`GET /api/tags`), in the server's order.
    pub async fn installed_models(&self) -> Result<Vec<ModelInfo>, LlmError> {
        let url = format!("{}/api/tags", self.base_url);
        let client = self.transport.client().clone();
        let target = url.clone();
        let build = move || client.get(&target);
        let mapper = OllamaErrors { model: None };
        let resp = self.transport.send(&url, &build, &mapper).await?;
        parse_tags(&read_text(&self.transport, resp).await?).map_err(|why| {
            LlmError::protocol(format!("Ollama's model list is malformed ({why})"))
                .with_advice(Advice::OllamaModelList)
        })
    }

    /// Whether `model` can call tools, from `POST /api/show`; None when unknown. A server's
    /// answer is remembered for the session; a failed look-up is tried again next time.
    pub async fn supports_tools(&self, model: &str) -> Option<bool> {
        if let Some(known) = self.session().tools.get(model) {
            return *known;
        }
        let answer = self.show_capabilities(model).await?;
        self.session().tools.insert(model.to_string(), answer);
        answer
    }

    /// Outer None: no usable answer from the server; inner: what it said.
    async fn show_capabilities(&self, model: &str) -> Option<Option<bool>> {
        let url = format!("{}/api/show", self.base_url);
        let wait = self.transport.timeout.min(SHOW_TIMEOUT);
        let request = self
            .transport
            .client()
            .post(&url)
            .header("content-type", "application/json")
            .body(json!({ "model": model }).to_string());
        // Best effort: any failure leaves the answer unknown, and the chat request itself
        // reports the real problem.
        let resp = tokio::time::timeout(wait, request.send())
            .await
            .ok()?
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let body = tokio::time::timeout(wait, resp.text()).await.ok()?.ok()?;
        Some(parse_capabilities(&body))
    }
}

/// Whether an Ollama server answers at `base_url`: `GET /api/tags` returns 200 within
/// `budget`. Uses its own client so the budget bounds everything, connecting included.
pub async fn probe(base_url: &str, budget: Duration) -> bool {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(budget)
        .timeout(budget);
    if crate::llm::http::is_loopback(base_url) {
        // A proxy meant for the internet must not capture the local Ollama.
        builder = builder.no_proxy();
    }
    let Ok(client) = builder.build() else {
        return false;
    };
    let url = format!("{base_url}/api/tags");
    matches!(
        tokio::time::timeout(budget, client.get(&url).send()).await,
        Ok(Ok(resp)) if resp.status() == reqwest::StatusCode::OK
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_capabilities() {
        let body = r#"{"models":[{"name":"llama3.1:8b","model":"llama3.1:8b","size":4920753328,
            "modified_at":"2024-08-01T00:00:00Z","details":{"family":"llama"}},{"model":"qwen2.5"}]}"#;
        assert_eq!(
            parse_tags(body).unwrap(),
            vec![
                ModelInfo {
                    name: "llama3.1:8b".into(),
                    size: Some(4920753328)
                },
                ModelInfo {
                    name: "qwen2.5".into(),
                    size: None
                },
            ]
        );
        assert_eq!(parse_tags(r#"{"models":null}"#).unwrap(), vec![]);
        assert!(parse_tags("<html>").is_err());
        assert!(parse_tags(r#"{"models":[{"size":1}]}"#).is_err());
        assert_eq!(
            parse_capabilities(r#"{"capabilities":["completion","tools"]}"#),
            Some(true)
        );
        assert_eq!(
            parse_capabilities(r#"{"capabilities":["completion"]}"#),
            Some(false)
        );
        assert_eq!(parse_capabilities(r#"{"modelfile":"x"}"#), None);
        assert_eq!(parse_capabilities("nope"), None);
    }
}
