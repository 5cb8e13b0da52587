//! Which models goshi switched to the Responses API, remembered across sessions in the
//! user cache dir (`goshi/openai-protocols.json`), keyed by base URL and model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    /// `"{base_url} {model}"` -> protocol (`"responses"`).
    #[serde(default)]
    models: BTreeMap<String, String>,
}

/// The cache file under a cache root such as `dirs::cache_dir()`.
pub fn cache_file(root: &Path) -> PathBuf {
    root.join("goshi").join("openai-protocols.json")
}

fn key(base_url: &str, model: &str) -> String {
    format!("{base_url} {model}")
}

fn read(file: &Path) -> Cache {
    // A missing or damaged file only means nothing is remembered.
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Whether `model` at `base_url` was switched to the Responses API in an earlier session.
pub fn uses_responses(file: &Path, base_url: &str, model: &str) -> bool {
    read(file)
        .models
        .get(&key(base_url, model))
        .is_some_and(|p| p == "responses")
}

/// Records that `model` at `base_url` needs the Responses API. Failures to write are
/// ignored: the next session only has to ask Chat Completions once more.
pub fn store_responses(file: &Path, base_url: &str, model: &str) {
    let mut cache = read(file);
    cache
        .models
        .insert(key(base_url, model), "responses".to_string());
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(text) = serde_json::to_string_pretty(&cache) {
        // Write then rename, so a concurrent reader never sees half a file.
        let tmp = file.with_extension(format!("json.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, file).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_base_url_and_model() {
        let dir = std::env::temp_dir().join(format!("goshi-remember-{}", std::process::id()));
        let file = cache_file(&dir);
        assert!(!uses_responses(&file, "http://a/v1", "m"));
        store_responses(&file, "http://a/v1", "m");
        store_responses(&file, "http://a/v1", "n");
        assert!(uses_responses(&file, "http://a/v1", "m"));
        assert!(uses_responses(&file, "http://a/v1", "n"));
        assert!(!uses_responses(&file, "http://b/v1", "m"));
        std::fs::write(&file, "not json").unwrap();
        assert!(!uses_responses(&file, "http://a/v1", "m"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
