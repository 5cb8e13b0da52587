//! `goshi config show` and `goshi config path`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{Config, EnvVars, OpenAiApi, Overrides};
use crate::llm::openai::lifecycle;

/// `goshi config` subcommands.
#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the effective configuration as a valid goshi.yaml (file, environment and flags applied; where each value came from as comments; the API key never shown)
    Show,
    /// Print where goshi looks for its configuration file, in order, and which one it uses
    Path,
}

/// Runs a config command.
pub fn run(cmd: &ConfigCommand, config: &Config) -> ExitCode {
    match cmd {
        ConfigCommand::Show => write(&render(config)),
        // Answered before the configuration is loaded (see `path`).
        ConfigCommand::Path => write(""),
    }
}

/// `goshi config path`: where goshi looks, in order, which exist, and which it uses. Needs no
/// valid configuration (it is how one finds the broken file).
pub fn path(overrides: &Overrides, env: &EnvVars) -> ExitCode {
    let places = crate::config::search_path(overrides, env);
    let used = places.iter().position(|(_, _, exists)| *exists);
    let mut out = String::from("goshi looks for its configuration in this order:\n");
    for (i, (what, path, exists)) in places.iter().enumerate() {
        let state = match (Some(i) == used, exists) {
            (true, _) => "used",
            (false, true) => "exists, not used",
            (false, false) => "not found",
        };
        out.push_str(&format!(
            "  {}. {}  ({what}; {state})\n",
            i + 1,
            crate::text::sanitize::line(&path.display().to_string())
        ));
    }
    if used.is_none() {
        out.push_str("none found: the defaults apply (see README, section Configuration)\n");
    }
    write(&out)
}

fn write(text: &str) -> ExitCode {
    match super::terminal::Screen::stdio().out(text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            super::error(&format!("could not write the output: {e}"), None);
            ExitCode::FAILURE
        }
    }
}

/// The API key as shown to people: its `sk-` marker (if any) and length, never the key.
pub fn redact_key(key: Option<&str>) -> String {
    match key {
        None => "(not set; export OPENAI_API_KEY=sk-... to use OpenAI)".to_string(),
        Some(k) => {
            // Only OpenAI's public `sk-` marker: the first characters of a short key for a
            // compatible server would be much (or all) of it.
            let prefix = if k.starts_with("sk-") { "sk-" } else { "" };
            format!(
                "{prefix}… (set from OPENAI_API_KEY, {} characters)",
                k.chars().count()
            )
        }
    }
}

/// Which protocol the OpenAI backend uses for the configured model, and why.
pub fn protocol_line(config: &Config) -> String {
    let model = config
        .llm
        .model
        .clone()
        .unwrap_or_else(|| lifecycle::default_model(&lifecycle::today()).0);
    let backend = match super::backend::transport(config, crate::llm::notice::quiet()) {
        Ok(t) => super::backend::openai_backend(config, t),
        Err(e) => return format!("unknown ({e})"),
    };
    let (api, why) = backend.protocol_for(&model);
    let name = match api {
        crate::llm::openai::OpenAiApi::Responses => "responses",
        _ => "chat completions",
    };
    let why = match (config.llm.openai.api, why) {
        (OpenAiApi::Auto, "default") => {
            "llm.openai.api: auto; switches to the Responses API if the server asks for it"
                .to_string()
        }
        (_, "configured") => "set by llm.openai.api or --api".to_string(),
        (_, other) => other.to_string(),
    };
    format!("{name} for model {model} ({why})")
}

fn render(config: &Config) -> String {
    let defaults = crate::config::defaults().unwrap_or_else(|_| config.clone());
    let mut out = crate::config::file_yaml(config, &defaults);
    out.push_str(&format!(
        "# openai api key: {}\n",
        redact_key(config.llm.openai.api_key.as_deref())
    ));
    out.push_str(&format!("# openai protocol: {}\n", protocol_line(config)));
    if config.llm.model.is_none() {
        if let Some(note) = lifecycle::default_model_note(&lifecycle::today()) {
            out.push_str(&format!("# {note}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_key;

    #[test]
    fn redact_key_never_shows_any_of_a_short_key() {
        for key in ["abc", "secret", "local-key-1"] {
            let shown = redact_key(Some(key));
            assert!(!shown.contains(&key[..3]), "{key}: {shown}");
        }
        assert_eq!(
            redact_key(Some("sk-proj-0123456789")),
            "sk-… (set from OPENAI_API_KEY, 18 characters)"
        );
    }
}
