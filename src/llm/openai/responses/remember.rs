//! Which models goshi switched to the Responses API, remembered across sessions in the
//! user cache dir (`goshi/openai-protocols.json`), keyed by base URL and model.

use std::path::Path;

use crate::persist::json_cache::JsonCache;

/// The cache under a cache root such as `dirs::cache_dir()`.
pub fn cache(root: &Path) -> JsonCache {
    JsonCache::under(root, "openai-protocols.json")
}

fn key(base_url: &str, model: &str) -> String {
    format!("{base_url} {model}")
}

/// Whether `model` at `base_url` was switched to the Responses API in an earlier session.
/// A missing or damaged file only means nothing is remembered.
pub fn uses_responses(cache: &JsonCache, base_url: &str, model: &str) -> bool {
    cache
        .get::<String>(&key(base_url, model))
        .is_some_and(|p| p == "responses")
}

/// Records that `model` at `base_url` needs the Responses API. Failures to write are
/// ignored: the next session only has to ask Chat Completions once more.
pub fn store_responses(cache: &JsonCache, base_url: &str, model: &str) {
    let _ = cache.set(&key(base_url, model), &"responses");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_base_url_and_model() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        assert!(!uses_responses(&cache, "http://a/v1", "m"));
        store_responses(&cache, "http://a/v1", "m");
        store_responses(&cache, "http://a/v1", "n");
        assert!(uses_responses(&cache, "http://a/v1", "m"));
        assert!(uses_responses(&cache, "http://a/v1", "n"));
        assert!(!uses_responses(&cache, "http://b/v1", "m"));
        std::fs::write(cache.path(), "not json").unwrap();
        assert!(!uses_responses(&cache, "http://a/v1", "m"));
    }
}
