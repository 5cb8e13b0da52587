//! The self-model: `goshi.self.model.yaml`, whose whole text is the first system message
//! of every request. A repository may ship its own; otherwise the default embedded in the
//! binary is used.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The default self-model, compiled into the binary.
pub const DEFAULT_SELF_MODEL: &str = include_str!("../goshi.self.model.yaml");

/// The file name looked for in the repository root.
pub const FILE_NAME: &str = "goshi.self.model.yaml";

/// A loaded self-model.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfModel {
    /// The text sent as the system message.
    pub text: String,
    /// Where it came from (None: the embedded default).
    pub source: Option<PathBuf>,
    /// The greeting shown when the REPL starts.
    pub greeting: Option<String>,
}

#[derive(Deserialize)]
struct Fields {
    #[serde(default)]
    human_greeting: Option<String>,
}

impl SelfModel {
    /// The embedded default.
    pub fn embedded() -> Self {
        // The embedded file is checked by a test, so parsing cannot fail in practice; fall
        // back to no greeting rather than panicking.
        let greeting = serde_yaml_ng::from_str::<Fields>(DEFAULT_SELF_MODEL)
            .ok()
            .and_then(|f| f.human_greeting);
        SelfModel {
            text: DEFAULT_SELF_MODEL.to_string(),
            source: None,
            greeting,
        }
    }

    /// Loads `goshi.self.model.yaml` from `repo_root`, or the embedded default when the
    /// repository has none. A file that exists but is not valid YAML is an error.
    pub fn load(repo_root: &Path) -> Result<Self, String> {
        let path = repo_root.join(FILE_NAME);
        if !path.is_file() {
            return Ok(Self::embedded());
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read the self-model {}: {e}", path.display()))?;
        Self::parse(text, Some(path))
    }

    /// Checks `text` and builds the self-model.
    pub fn parse(text: String, source: Option<PathBuf>) -> Result<Self, String> {
        let where_ = source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the self-model".into());
        if text.trim().is_empty() {
            return Err(format!(
                "{where_} is empty; delete it to use goshi's default"
            ));
        }
        let fields: Fields = serde_yaml_ng::from_str(&text).map_err(|e| {
            format!("{where_} is not valid YAML: {e}; fix it or delete it to use goshi's default")
        })?;
        Ok(SelfModel {
            text,
            source,
            greeting: fields.human_greeting,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses_and_greets() {
        let m = SelfModel::parse(DEFAULT_SELF_MODEL.to_string(), None).unwrap();
        assert!(m.greeting.unwrap().contains("goshi"));
    }

    #[test]
    fn repo_file_wins_and_bad_yaml_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(SelfModel::load(dir.path()).unwrap().source, None);
        std::fs::write(
            dir.path().join(FILE_NAME),
            "name: custom\nhuman_greeting: hi\n",
        )
        .unwrap();
        let m = SelfModel::load(dir.path()).unwrap();
        assert_eq!(m.greeting.as_deref(), Some("hi"));
        assert!(m.text.contains("custom"));
        std::fs::write(dir.path().join(FILE_NAME), "a: [unclosed\n").unwrap();
        assert!(SelfModel::load(dir.path())
            .unwrap_err()
            .contains("not valid YAML"));
    }
}
