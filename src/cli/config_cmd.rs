//! `goshi config show`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{Config, OpenAiApi};
use crate::llm::backend::Notifier;
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
        ConfigCommand::Show => {
            print!("{}", render(config));
            ExitCode::SUCCESS
        }
    }
}

/// The API key as shown to people: its first characters and length, never the key.
pub fn redact_key(key: Option<&str>) -> String {
    match key {
        None => "(not set; export OPENAI_API_KEY=sk-... to use OpenAI)".to_string(),
        Some(k) => {
            let prefix: String = k.chars().take(3).collect();
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
    let quiet: Notifier = std::sync::Arc::new(|_: &str| {});
    let backend = match crate::provider::transport(config, quiet) {
        Ok(t) => crate::provider::openai_backend(config, t),
        Err(e) => return format!("unknown ({e})"),
    };
    let (api, why) = backend.protocol_for(&model);
    let name = match api {
        OpenAiApi::Responses => "responses",
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
    match serde_yaml_ng::to_string(config) {
        Ok(y) => out.push_str(&y),
        Err(e) => out.push_str(&format!("# could not render: {e}\n")),
    }
    out.push_str(&format!(
        "# openai api key: {}\n",
        redact_key(config.llm.openai.api_key.as_deref())
    ));
    out.push_str(&format!("# openai protocol: {}\n", protocol_line(config)));
    out
}
