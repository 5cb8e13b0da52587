//! Shaping tool arguments for the log ([`ArgumentsStyle`]).
//!
//! Object keys, numbers, booleans and `null` are always kept; only strings change, wherever
//! they are nested. Lengths count Unicode characters, except in summaries (bytes).
//!
//! - `full`: the arguments as given.
//! - `long`: strings over [`LONG_LIMIT`] (1,000) characters keep their first 1,000 followed
//!   by `…`.
//! - `short`: the same with [`SHORT_LIMIT`] (80).
//! - `summaries` (the default): strings of at most [`SUMMARY_LIMIT`] (80) characters are kept;
//!   longer ones become `<N bytes, sha256 1a2b3c4d…>` (the byte length and the first 8 hex
//!   digits of the SHA-256 of the text), so you can tell which content was written without
//!   storing it. Values under a key ending in `path` (`path`, `file_path`) are names, not
//!   content: they are kept up to [`LONG_LIMIT`] characters and cut like `long` beyond.
//!
//! Non-object arguments (e.g. a string the model sent that was not JSON) follow the same
//! rules.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::ArgumentsStyle;

/// The cut-off of the `long` style, in characters.
pub const LONG_LIMIT: usize = 1000;
/// The cut-off of the `short` style, in characters.
pub const SHORT_LIMIT: usize = 80;
/// Strings longer than this (in characters) are summarized by the `summaries` style.
pub const SUMMARY_LIMIT: usize = 80;

/// `args` shaped by `style` (see the module docs).
pub fn apply(style: ArgumentsStyle, args: Value) -> Value {
    match style {
        ArgumentsStyle::Full => args,
        ArgumentsStyle::Long => map_strings(args, None, &|_, s| truncate(s, LONG_LIMIT)),
        ArgumentsStyle::Short => map_strings(args, None, &|_, s| truncate(s, SHORT_LIMIT)),
        ArgumentsStyle::Summaries => map_strings(args, None, &|key, s| {
            if key.is_some_and(|k| k.to_ascii_lowercase().ends_with("path")) {
                truncate(s, LONG_LIMIT)
            } else if s.chars().count() > SUMMARY_LIMIT {
                summarize(&s)
            } else {
                s
            }
        }),
    }
}

/// The first `max` characters of `s` and `…`, or `s` itself when it is not longer.
pub fn truncate(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => {
            let mut t = s;
            t.truncate(cut);
            t.push('…');
            t
        }
        None => s,
    }
}

/// `<N bytes, sha256 1a2b3c4d…>` for `s`.
pub fn summarize(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    let hex = hex::encode(&digest[..4]);
    format!("<{} bytes, sha256 {hex}…>", s.len())
}

/// Applies `f(key, string)` to every string in `v`; `key` is the nearest object key.
fn map_strings(v: Value, key: Option<&str>, f: &dyn Fn(Option<&str>, String) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(key, s)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|i| map_strings(i, key, f)).collect())
        }
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let v = map_strings(v, Some(&k), f);
                out.insert(k, v);
            }
            Value::Object(out)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "path": "src/main.rs",
            "content": "x".repeat(1500),
            "mode": "append",
            "n": 3,
            "flag": true,
            "none": null,
            "list": ["é".repeat(100)],
        })
    }

    #[test]
    fn full_keeps_everything() {
        assert_eq!(apply(ArgumentsStyle::Full, sample()), sample());
    }

    #[test]
    fn long_cuts_strings_at_1000_chars() {
        let v = apply(ArgumentsStyle::Long, sample());
        assert_eq!(v["content"], json!(format!("{}…", "x".repeat(1000))));
        assert_eq!(v["list"][0], json!("é".repeat(100)));
        assert_eq!(v["path"], json!("src/main.rs"));
        assert_eq!(v["n"], json!(3));
    }

    #[test]
    fn short_cuts_strings_at_80_chars_on_char_boundaries() {
        let v = apply(ArgumentsStyle::Short, sample());
        assert_eq!(v["content"], json!(format!("{}…", "x".repeat(80))));
        assert_eq!(v["list"][0], json!(format!("{}…", "é".repeat(80))));
        assert_eq!(v["mode"], json!("append"));
        assert_eq!(v["flag"], json!(true));
        assert_eq!(v["none"], json!(null));
    }

    #[test]
    fn summaries_replace_long_strings_and_keep_paths() {
        let long_path = format!("src/{}/main.rs", "deep/".repeat(30));
        let mut args = sample();
        args["file_path"] = json!(long_path);
        let v = apply(ArgumentsStyle::Summaries, args);
        let content = "x".repeat(1500);
        let expect = format!(
            "<1500 bytes, sha256 {}…>",
            &hex::encode(Sha256::digest(content.as_bytes()))[..8]
        );
        assert_eq!(v["content"], json!(expect));
        assert_eq!(v["list"][0], json!(summarize(&"é".repeat(100))));
        assert!(v["list"][0]
            .as_str()
            .unwrap()
            .starts_with("<200 bytes, sha256 "));
        assert_eq!(v["path"], json!("src/main.rs"));
        assert_eq!(v["file_path"], json!(long_path));
        assert_eq!(v["mode"], json!("append"));
        assert_eq!(v["n"], json!(3));
    }

    #[test]
    fn summaries_handle_a_bare_string() {
        let s = "y".repeat(81);
        assert_eq!(
            apply(ArgumentsStyle::Summaries, json!(s)),
            json!(summarize(&s))
        );
        assert_eq!(
            apply(ArgumentsStyle::Summaries, json!("short")),
            json!("short")
        );
    }

    #[test]
    fn truncate_keeps_short_strings() {
        assert_eq!(truncate("abc".into(), 3), "abc");
        assert_eq!(truncate("abcd".into(), 3), "abc…");
        assert_eq!(truncate(String::new(), 0), "");
    }
}
