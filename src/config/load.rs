//! Finding, reading, overriding and validating the configuration.

use std::fmt;
use std::path::{Path, PathBuf};

use super::check;
use super::file::FileConfig;
use super::resolve::resolve;
use super::*;

/// A configuration problem, naming the key, what is allowed and where to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key (`llm.temperature`) or source (`OPENAI_BASE_URL`) at fault.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// Further problems found in the same file (all are reported at once).
    pub more: Vec<ConfigError>,
}

impl ConfigError {
    /// This problem and every further one, each on its own.
    pub fn all(&self) -> impl Iterator<Item = &ConfigError> {
        std::iter::once(self).chain(self.more.iter())
    }

    /// One error carrying all of `problems` (the first leads); None when there are none.
    fn many(mut problems: Vec<ConfigError>) -> Option<ConfigError> {
        if problems.is_empty() {
            return None;
        }
        let mut first = problems.remove(0);
        first.more = problems;
        Some(first)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.key, self.message)?;
        for e in &self.more {
            write!(f, "; {}: {}", e.key, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

pub(super) fn bad(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_string(),
        message: message.into(),
        more: Vec::new(),
    }
}

/// The environment variables goshi reads, captured once (tests pass their own).
#[derive(Debug, Clone, Default)]
pub struct EnvVars {
    /// `OPENAI_API_KEY`
    pub openai_api_key: Option<String>,
    /// `OPENAI_BASE_URL`
    pub openai_base_url: Option<String>,
    /// `OPENAI_ORG_ID`
    pub openai_org_id: Option<String>,
    /// `OPENAI_PROJECT_ID`
    pub openai_project_id: Option<String>,
    /// `GOSHI_LLM_PROVIDER`
    pub provider: Option<String>,
    /// `GOSHI_MODEL`
    pub model: Option<String>,
    /// `OLLAMA_HOST`
    pub ollama_host: Option<String>,
    /// `GOSHI_CONFIG`
    pub config: Option<String>,
}

impl EnvVars {
    /// Reads the process environment; empty values count as unset.
    pub fn from_process() -> Self {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        EnvVars {
            openai_api_key: get("OPENAI_API_KEY").map(|k| k.trim().to_string()),
            openai_base_url: get("OPENAI_BASE_URL"),
            openai_org_id: get("OPENAI_ORG_ID"),
            openai_project_id: get("OPENAI_PROJECT_ID"),
            provider: get("GOSHI_LLM_PROVIDER"),
            model: get("GOSHI_MODEL"),
            ollama_host: get("OLLAMA_HOST"),
            config: get("GOSHI_CONFIG"),
        }
    }
}

/// Values from command-line flags, which override everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config FILE`
    pub config: Option<PathBuf>,
    /// `--provider P`
    pub provider: Option<String>,
    /// `--model M`
    pub model: Option<String>,
    /// `--base-url URL` (for whichever provider is used)
    pub base_url: Option<String>,
    /// `--api chat|responses|auto`
    pub api: Option<String>,
}

/// Where the configuration file is: `--config`, else `GOSHI_CONFIG`, else `./goshi.yaml`,
/// else `goshi/goshi.yaml` in the user config dir. `Ok(None)` when there is none.
pub fn find_config_file(
    overrides: &Overrides,
    env: &EnvVars,
) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(p) = &overrides.config {
        if !p.is_file() {
            return Err(bad(
                "--config",
                format!("{} does not exist or is not a file", p.display()),
            ));
        }
        return Ok(Some(p.clone()));
    }
    if let Some(p) = &env.config {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(bad(
                "GOSHI_CONFIG",
                format!("{} does not exist or is not a file", p.display()),
            ));
        }
        return Ok(Some(p));
    }
    let local = PathBuf::from("goshi.yaml");
    if local.is_file() {
        return Ok(Some(local));
    }
    Ok(user_config_file())
}

/// The configuration with nothing set: no file, no environment, no flags.
pub fn defaults() -> Result<Config, ConfigError> {
    resolve(
        FileConfig::default(),
        None,
        &Overrides::default(),
        &EnvVars::default(),
    )
}

/// Where goshi looks for its configuration file, in order, each with whether it exists:
/// `--config`, `GOSHI_CONFIG`, `./goshi.yaml`, then the user config dir. The first that
/// exists is used (a named one must exist).
pub fn search_path(overrides: &Overrides, env: &EnvVars) -> Vec<(String, PathBuf, bool)> {
    let mut places = Vec::new();
    if let Some(p) = &overrides.config {
        places.push(("--config".to_string(), p.clone(), p.is_file()));
    }
    if let Some(p) = &env.config {
        let p = PathBuf::from(p);
        let exists = p.is_file();
        places.push(("GOSHI_CONFIG".to_string(), p, exists));
    }
    let local = PathBuf::from("goshi.yaml");
    let exists = local.is_file();
    places.push((
        "the current directory (trusted less: it comes with the repository)".to_string(),
        std::env::current_dir()
            .map(|d| d.join(&local))
            .unwrap_or(local),
        exists,
    ));
    if let Some(d) = dirs::config_dir() {
        let p = d.join("goshi").join("goshi.yaml");
        let exists = p.is_file();
        places.push(("the user config dir".to_string(), p, exists));
    }
    places
}

/// Loads the effective configuration. Every problem in the file is reported at once: the
/// error's [`ConfigError::all`] lists them.
pub fn load(overrides: &Overrides, env: &EnvVars) -> Result<Config, ConfigError> {
    let source = find_config_file(overrides, env)?;
    let (tree, file, mut problems) = match &source {
        Some(path) => read_file(path)?,
        None => (
            serde_yaml_ng::Value::Null,
            FileConfig::default(),
            Vec::new(),
        ),
    };
    // A `./goshi.yaml` found in the working directory comes with whatever repository was
    // cloned there, so it is not trusted with what only the user may decide
    // (see [`super::trust`]); for those keys the user's own config applies.
    let repo_local = overrides.config.is_none()
        && env.config.is_none()
        && source.as_deref() == Some(Path::new("goshi.yaml"));
    // The user's own file, read once: its problems are reported with the others, and it is
    // read again from its tree for each check below.
    let user_tree = match user_config_file().filter(|_| repo_local) {
        Some(p) => {
            let (tree, _, user_problems) = read_file(&p)?;
            problems.extend(user_problems);
            Some(tree)
        }
        None => None,
    };
    let config = check::all_errors(tree, file, &mut problems, |mut file| {
        let root_from_file = file.behavior.repo_root.is_some();
        let mut ignored = Vec::new();
        if repo_local {
            let user = user_tree
                .as_ref()
                .and_then(|t| serde_yaml_ng::from_value::<FileConfig>(t.clone()).ok());
            ignored = super::trust::restrict(&mut file, user);
        }
        let mut config = resolve(file, source.clone(), overrides, env)?;
        if repo_local {
            config.warnings.extend(super::trust::warning(&ignored));
            // The root goshi finds by itself (the git work tree's top) may lie above the
            // current directory; only a root the file sets is held to it.
            if root_from_file {
                check_repo_local_root(&config)?;
            }
        }
        Ok(config)
    });
    match (config, ConfigError::many(problems)) {
        (_, Some(e)) => Err(e),
        (Some(c), None) => Ok(c),
        // all_errors gives up only after recording a problem.
        (None, None) => Err(bad("configuration", "could not be read")),
    }
}

/// The user's own `goshi/goshi.yaml` in the user config dir, when there is one.
fn user_config_file() -> Option<PathBuf> {
    dirs::config_dir()
        .map(|d| d.join("goshi").join("goshi.yaml"))
        .filter(|p| p.is_file())
}

/// A repository's own `goshi.yaml` may not point the tools outside the repository.
fn check_repo_local_root(config: &Config) -> Result<(), ConfigError> {
    let cwd = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .unwrap_or_else(|_| PathBuf::from("."));
    let root = config
        .repo_root
        .canonicalize()
        .unwrap_or_else(|_| config.repo_root.clone());
    if !root.starts_with(&cwd) {
        return Err(bad(
            "behavior.repo_root",
            format!(
                "{} is outside the current directory; a repository's own ./goshi.yaml may \
                 only narrow the tools to a folder inside it (use --config FILE to set another root)",
                root.display()
            ),
        ));
    }
    Ok(())
}

/// The file as a YAML tree and as [`FileConfig`], with the problems found reading it.
fn read_file(
    path: &Path,
) -> Result<(serde_yaml_ng::Value, FileConfig, Vec<ConfigError>), ConfigError> {
    let key = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| bad(&key, format!("cannot be read: {e}")))?;
    Ok(check::read(&text, &key))
}
