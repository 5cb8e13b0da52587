//! The effective configuration written back as a valid `goshi.yaml`, each value that is not a
//! default preceded by a comment saying where it came from.

use std::path::Path;

use serde_yaml_ng::{Mapping, Value};

use super::{check, display_url, Config};

/// Where a shown value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Default,
    File,
    EnvOrFlag,
    /// The file sets it, and the environment or a flag overrides it.
    OverFile,
}

/// `config` as goshi.yaml text that goshi reads back unchanged (secrets are never in it;
/// passwords in URLs are masked). `defaults` is the configuration with nothing set, to tell
/// defaults from chosen values.
pub fn file_yaml(config: &Config, defaults: &Config) -> String {
    let shown = file_tree(config);
    let default_tree = file_tree(defaults);
    let file_tree = config
        .source
        .as_deref()
        .and_then(read_tree)
        .unwrap_or(Value::Null);
    // Whatever the file shape does not accept (a key added to Config but not to the file)
    // is left out rather than printed as a file goshi would refuse.
    let (valid, _, left_out) = check::read(
        &serde_yaml_ng::to_string(&shown).unwrap_or_default(),
        "config",
    );
    let body = serde_yaml_ng::to_string(&valid).unwrap_or_default();
    let source = config
        .source
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "none".into());
    let mut out = format!(
        "# goshi.yaml: the effective configuration (file: {source}; then the environment and\n\
         # flags). Valid as a goshi.yaml; values without a comment are the defaults.\n"
    );
    for e in &left_out {
        out.push_str(&format!("# ({} is not settable in goshi.yaml)\n", e.key));
    }
    annotate(
        &body,
        &mut out,
        |path, value| {
            if let Some(in_file) = lookup(&file_tree, path) {
                if in_file == value {
                    Origin::File
                } else {
                    Origin::OverFile
                }
            } else if lookup(&default_tree, path) == Some(value) {
                Origin::Default
            } else {
                Origin::EnvOrFlag
            }
        },
        &source,
    );
    out
}

/// Copies `body` to `out`, putting an origin comment above each leaf that is not a default.
fn annotate(
    body: &str,
    out: &mut String,
    origin_of: impl Fn(&[String], &Value) -> Origin,
    source: &str,
) {
    let tree: Value = serde_yaml_ng::from_str(body).unwrap_or(Value::Null);
    let mut stack: Vec<(usize, String)> = Vec::new();
    for line in body.lines() {
        let indent = line.len() - line.trim_start().len();
        let Some((key, rest)) = line.trim_start().split_once(':') else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, key.to_string()));
        let path: Vec<String> = stack.iter().map(|(_, k)| k.clone()).collect();
        if !rest.trim().is_empty() {
            if let Some(value) = lookup(&tree, &path) {
                let pad = " ".repeat(indent);
                match origin_of(&path, value) {
                    Origin::Default => {}
                    Origin::File => out.push_str(&format!("{pad}# from {source}\n")),
                    Origin::EnvOrFlag => {
                        out.push_str(&format!("{pad}# from the environment or a flag\n"))
                    }
                    Origin::OverFile => out.push_str(&format!(
                        "{pad}# from the environment or a flag (overriding {source})\n"
                    )),
                }
            }
        }
        out.push_str(line);
        out.push('\n');
    }
}

fn lookup<'a>(tree: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(tree, |node, key| node.get(key.as_str()))
}

fn read_tree(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_yaml_ng::from_str(&text).ok()
}

/// The effective config in goshi.yaml's shape.
fn file_tree(config: &Config) -> Value {
    let mut shown = config.clone();
    shown.llm.openai.base_url = display_url(&shown.llm.openai.base_url);
    let mut tree = serde_yaml_ng::to_value(&shown).unwrap_or(Value::Null);
    let Some(root) = tree.as_mapping_mut() else {
        return Value::Null;
    };
    root.shift_remove("source");
    if let Some(repo_root) = root.shift_remove("repo_root") {
        let mut behavior = Mapping::new();
        behavior.insert("repo_root".into(), repo_root);
        root.insert("behavior".into(), Value::Mapping(behavior));
    }
    // The README's order: llm, behavior, safety, audit, then any other section.
    let mut ordered = Mapping::new();
    for key in ["llm", "behavior", "safety", "audit"] {
        if let Some(v) = root.shift_remove(key) {
            ordered.insert(key.into(), v);
        }
    }
    for (k, v) in std::mem::take(root) {
        ordered.insert(k, v);
    }
    *root = ordered;
    if let Some(llm) = root.get_mut("llm").and_then(Value::as_mapping_mut) {
        if let Some(openai) = llm.get_mut("openai").and_then(Value::as_mapping_mut) {
            // The server kind goshi inferred is shown as the setting that infers it.
            if openai
                .shift_remove("server_source")
                .and_then(|s| s.as_str().map(str::to_owned))
                == Some("auto".into())
            {
                openai.insert("server".into(), "auto".into());
            }
        }
        if let Some(local) = llm.get_mut("local").and_then(Value::as_mapping_mut) {
            if let Some((url, port)) = local
                .shift_remove("base_url")
                .and_then(|u| u.as_str().map(split_url))
                .flatten()
            {
                local.insert("url".into(), display_url(&url).into());
                local.insert("port".into(), port.into());
            }
        }
    }
    tree
}

/// `http://host:port` as (`http://host`, port).
fn split_url(base: &str) -> Option<(String, u16)> {
    let u = url::Url::parse(base).ok()?;
    let port = u.port_or_known_default()?;
    let host = u.host_str()?;
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let auth = match (u.username(), u.password()) {
        ("", _) => String::new(),
        (user, Some(pw)) => format!("{user}:{pw}@"),
        (user, None) => format!("{user}@"),
    };
    Some((format!("{}://{auth}{host}", u.scheme()), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_url_and_port() {
        assert_eq!(
            split_url("http://127.0.0.1:11434"),
            Some(("http://127.0.0.1".into(), 11434))
        );
        assert_eq!(
            split_url("https://ollama.example.test"),
            Some(("https://ollama.example.test".into(), 443))
        );
        assert_eq!(
            split_url("http://[::1]:8080"),
            Some(("http://[::1]".into(), 8080))
        );
    }
}
