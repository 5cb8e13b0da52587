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
        // The whole file goes to the model: a link out of the repository (a cloned
        // repository's `goshi.self.model.yaml -> ~/.config/...`) must not send that file.
        let inside = match (
            std::fs::canonicalize(repo_root),
            std::fs::canonicalize(&path),
        ) {
            (Ok(root), Ok(real)) => real.starts_with(root),
            _ => false,
        };
        if !inside {
            return Err(format!(
                "the self-model {} resolves to a file outside the repository; goshi only \
                 sends a self-model that lies inside the repository. Replace the link with \
                 a real file, or delete it to use goshi's default",
                path.display()
            ));
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

    #[cfg(unix)]
    #[test]
    fn a_self_model_linked_from_outside_the_repository_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("hosts.yml");
        std::fs::write(&secret, "github.com:\n  oauth_token: gho_SECRET\n").unwrap();
        let repo = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&secret, repo.path().join(FILE_NAME)).unwrap();
        let err = SelfModel::load(repo.path()).unwrap_err();
        assert!(err.contains("outside the repository"), "{err}");
        assert!(!err.contains("gho_SECRET"), "{err}");

        // A link that stays inside the repository is fine.
        std::fs::write(repo.path().join("model.yaml"), "human_greeting: hi\n").unwrap();
        std::fs::remove_file(repo.path().join(FILE_NAME)).unwrap();
        std::os::unix::fs::symlink("model.yaml", repo.path().join(FILE_NAME)).unwrap();
        assert_eq!(
            SelfModel::load(repo.path()).unwrap().greeting.as_deref(),
            Some("hi")
        );
    }
}
