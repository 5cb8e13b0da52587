//! The live `shutdown_date` OpenAI reports for a model (`GET /v1/models/{id}`), read at
//! most once a day and cached in the user cache dir (`goshi/openai-shutdown-dates.json`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::persist::json_cache::JsonCache;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    checked: String,
    shutdown_date: Option<String>,
}

/// The cache (None when the platform has no cache dir).
fn cache() -> Option<JsonCache> {
    JsonCache::user("openai-shutdown-dates.json")
}

/// The cache file (None when the platform has no cache dir).
pub fn cache_path() -> Option<PathBuf> {
    cache().map(|c| c.path().to_path_buf())
}

fn key(base_url: &str, model: &str) -> String {
    format!("{base_url} {model}")
}

/// The cached date for `model` if it was checked `today`: `Some(None)` means "checked,
/// no shutdown announced".
pub fn cached(base_url: &str, model: &str, today: &str) -> Option<Option<String>> {
    cache()?
        .get::<Entry>(&key(base_url, model))
        .filter(|e| e.checked == today)
        .map(|e| e.shutdown_date)
}

/// Records what the server said today. Failures to write are ignored: the cache only
/// saves a request.
pub fn store(base_url: &str, model: &str, today: &str, shutdown_date: Option<String>) {
    if let Some(cache) = cache() {
        let entry = Entry {
            checked: today.to_string(),
            shutdown_date,
        };
        let _ = cache.set(&key(base_url, model), &entry);
    }
}

/// Reads `shutdown_date` from a `GET /v1/models/{id}` body: `Some(None)` when the field is
/// null or absent, None when the body is not a model object.
pub fn parse_model_body(body: &str) -> Option<Option<String>> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("id")?;
    Some(
        v.get("shutdown_date")
            .and_then(|d| d.as_str())
            .filter(|d| d.len() == 10)
            .map(str::to_string),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_nulls() {
        assert_eq!(
            parse_model_body(r#"{"id":"gpt-4o","shutdown_date":"2027-01-14"}"#),
            Some(Some("2027-01-14".into()))
        );
        assert_eq!(
            parse_model_body(r#"{"id":"x","shutdown_date":null}"#),
            Some(None)
        );
        assert_eq!(parse_model_body(r#"{"id":"x"}"#), Some(None));
        assert_eq!(parse_model_body("nope"), None);
    }
}
