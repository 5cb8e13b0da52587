//! `goshi config show`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{Config, OpenAiApi};
use crate::llm::openai::lifecycle;

/// `goshi config` subcommands.
#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the effective configuration (file, environment and flags applied; the API key redacted)
    Show,
}

/// Runs a config command.
pub fn run(cmd: &ConfigCommand, config: &Config) -> ExitCode {
    match cmd {
        ConfigCommand::Show => match super::terminal::Screen::stdio().out(&render(config)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                super::error(&format!("could not write the output: {e}"), None);
                ExitCode::FAILURE
            }
        },
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
    let backend = match crate::provider::transport(config, crate::llm::notice::quiet()) {
        Ok(t) => crate::provider::openai_backend(config, t),
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
    let mut out = String::new();
    out.push_str(&format!(
        "# effective configuration (file: {})\n",
        config
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "none, defaults".into())
    ));
    let mut shown = config.clone();
    shown.llm.openai.base_url = crate::config::display_url(&shown.llm.openai.base_url);
    shown.llm.local.base_url = crate::config::display_url(&shown.llm.local.base_url);
    match serde_yaml_ng::to_string(&shown) {
        Ok(y) => out.push_str(&y),
        Err(e) => out.push_str(&format!("# could not render: {e}\n")),
    }
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
