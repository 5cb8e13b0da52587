//! Reading `goshi.yaml` so that every problem in it is reported at once, each with its key,
//! what was found and what is allowed, in plain words ("did you mean" for a misspelt key).
//!
//! serde stops at the first error, so the file is read as a YAML tree, and each failure of the
//! typed reading (or of validation) removes the key at fault from the tree and tries again. This
//! needs no second description of the keys: whatever `FileConfig` accepts is what is checked,
//! including keys added later.

use serde_yaml_ng::Value;

use super::file::FileConfig;
use super::load::{bad, ConfigError};

/// More problems than this in one file are not worth listing one by one.
const MAX_PROBLEMS: usize = 32;

/// The file's text read into [`FileConfig`], with every problem found on the way. The
/// returned config lacks the keys at fault (their defaults apply), so later checks can run.
pub(super) fn read(text: &str, file: &str) -> (Value, FileConfig, Vec<ConfigError>) {
    let tree: Value = match serde_yaml_ng::from_str(text) {
        Ok(Value::Null) => Value::Mapping(Default::default()),
        Ok(v) => v,
        Err(e) => {
            return (
                Value::Null,
                FileConfig::default(),
                vec![bad(file, format!("is not valid YAML: {e}"))],
            )
        }
    };
    let mut tree = tree;
    let mut problems = Vec::new();
    loop {
        match serde_path_to_error::deserialize::<_, FileConfig>(tree.clone()) {
            Ok(config) => return (tree, config, problems),
            Err(e) => {
                let key = e.path().to_string();
                let message = plain(&e.inner().to_string(), &key);
                let removed = problems.len() < MAX_PROBLEMS && remove(&mut tree, &key);
                problems.push(bad(&key_or_file(&key, file), message));
                if !removed {
                    return (tree, FileConfig::default(), problems);
                }
            }
        }
    }
}

/// Runs `check` on the config read from `tree`; each error that names a key of the tree
/// removes that key and checks again, so that every such problem is found.
pub(super) fn all_errors<T>(
    mut tree: Value,
    mut config: FileConfig,
    problems: &mut Vec<ConfigError>,
    mut check: impl FnMut(FileConfig) -> Result<T, ConfigError>,
) -> Option<T> {
    loop {
        match check(config) {
            Ok(v) => return Some(v),
            Err(e) => {
                let removed = problems.len() < MAX_PROBLEMS && remove(&mut tree, &e.key);
                problems.push(e);
                if !removed {
                    return None;
                }
                match serde_yaml_ng::from_value::<FileConfig>(tree.clone()) {
                    Ok(c) => config = c,
                    Err(_) => return None,
                }
            }
        }
    }
}

fn key_or_file(key: &str, file: &str) -> String {
    if key.is_empty() || key == "." {
        file.to_string()
    } else {
        key.to_string()
    }
}

/// Removes the dotted `key` (`llm.openai.base_url`) from the tree; false if it is not there.
fn remove(tree: &mut Value, key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    let Some((last, parents)) = parts.split_last() else {
        return false;
    };
    let mut node = tree;
    for p in parents {
        match node.get_mut(*p) {
            Some(n) => node = n,
            None => return false,
        }
    }
    match node.as_mapping_mut() {
        Some(m) => m.shift_remove(*last).is_some(),
        None => false,
    }
}

/// serde's message, in words for people.
fn plain(message: &str, key: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        return unknown_key(rest, key);
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!(
                "expected {}, found {}",
                expected_words(expected),
                found_words(found)
            );
        }
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!(
                "expected {}, found {}",
                expected_words(expected),
                found_words(found)
            );
        }
    }
    message.to_string()
}

/// "unknown field `x`, expected one of `a`, `b`" → unknown key, did you mean, allowed keys.
fn unknown_key(rest: &str, key: &str) -> String {
    let (name, tail) = rest.split_once('`').unwrap_or((rest, ""));
    let allowed: Vec<&str> = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect();
    let section = key
        .rsplit_once('.')
        .map(|(s, _)| format!("{s}."))
        .unwrap_or_default();
    let mut msg = format!("unknown key {name:?}");
    if let Some(best) = closest(name, &allowed) {
        msg.push_str(&format!("; did you mean {section}{best}?"));
    }
    if !allowed.is_empty() {
        msg.push_str(&format!(" (keys here: {})", allowed.join(", ")));
    }
    msg
}

/// The allowed name nearest to `name`, if it is near enough to be a typo of it.
fn closest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (strsim::damerau_levenshtein(name, a), *a))
        .filter(|(d, a)| *d <= (a.len().max(name.len()) / 3).max(1) + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn expected_words(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".into(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a string" => "text".into(),
        _ if e.starts_with("struct ") => "a section of keys (key: value lines)".into(),
        _ => e.to_string(),
    }
}

fn found_words(found: &str) -> String {
    let f = found.trim();
    if let Some(s) = f.strip_prefix("string ") {
        return format!("the text {s}");
    }
    for (prefix, words) in [
        ("integer ", "the number "),
        ("floating point ", "the number "),
        ("boolean ", ""),
    ] {
        if let Some(v) = f.strip_prefix(prefix) {
            return format!("{words}{}", v.trim_matches('`'));
        }
    }
    match f {
        "map" => "a section of keys".into(),
        "sequence" => "a list".into(),
        "unit value" => "nothing (null)".into(),
        _ => f.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<(String, String)> {
        read(yaml, "goshi.yaml")
            .2
            .into_iter()
            .map(|e| (e.key, e.message))
            .collect()
    }

    #[test]
    fn every_structural_problem_is_reported_with_its_key() {
        let p = problems(
            "llm:\n  temprature: 0.5\n  max_retries: lots\n  openai:\n    base_ulr: x\naudit:\n  redact: maybe\n",
        );
        assert_eq!(p.len(), 4, "{p:?}");
        assert_eq!(p[0].0, "llm.temprature");
        assert!(p[0].1.contains("did you mean llm.temperature?"), "{p:?}");
        assert_eq!(p[1].0, "llm.max_retries");
        assert_eq!(p[1].1, "expected a whole number, found the text \"lots\"");
        assert_eq!(p[2].0, "llm.openai.base_ulr");
        assert!(
            p[2].1.contains("did you mean llm.openai.base_url?"),
            "{p:?}"
        );
        assert_eq!(p[3].0, "audit.redact");
        assert_eq!(p[3].1, "expected true or false, found the text \"maybe\"");
    }

    #[test]
    fn a_key_far_from_every_allowed_one_gets_no_guess() {
        let p = problems("zzzzzz: 1\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(!p[0].1.contains("did you mean"), "{p:?}");
        assert!(p[0].1.contains("keys here: llm"), "{p:?}");
    }

    #[test]
    fn a_good_file_and_an_empty_one_have_no_problems() {
        assert!(problems("llm:\n  model: m\n").is_empty());
        assert!(problems("").is_empty());
        assert!(problems("# only a comment\n").is_empty());
    }

    #[test]
    fn broken_yaml_is_one_problem_naming_the_file() {
        let p = problems("llm: [\n");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, "goshi.yaml");
        assert!(p[0].1.starts_with("is not valid YAML"), "{p:?}");
    }

    #[test]
    fn a_section_that_is_not_a_mapping_is_named() {
        let p = problems("llm: 3\n");
        assert_eq!(p[0].0, "llm");
        assert!(p[0].1.starts_with("expected a section of keys"), "{p:?}");
    }

    #[test]
    fn validation_errors_are_all_collected() {
        let mut problems = Vec::new();
        // A check that rejects whichever of llm.model / llm.provider is still there.
        let tree: Value = serde_yaml_ng::from_str("llm:\n  model: m\n  provider: p\n").unwrap();
        let config: FileConfig = serde_yaml_ng::from_value(tree.clone()).unwrap();
        let out = all_errors(tree, config, &mut problems, |c| {
            if c.llm.model.is_some() {
                return Err(bad("llm.model", "bad model"));
            }
            if c.llm.provider.is_some() {
                return Err(bad("llm.provider", "bad provider"));
            }
            Ok(())
        });
        assert_eq!(out, Some(()));
        let keys: Vec<_> = problems.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["llm.model", "llm.provider"]);
    }
}
