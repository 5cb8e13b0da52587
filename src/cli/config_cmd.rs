//! `goshi config show`.

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::{Config, OpenAiApi};

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
            format!("{prefix}… (set from OPENAI_API_KEY, {} characters)", k.chars().count())
        }
    }
}

/// Which protocol the OpenAI backend uses for the model, and why.
pub fn protocol_line(config: &Config) -> String {
    match config.llm.openai.api {
        OpenAiApi::Chat => "chat completions (llm.openai.api or --api: chat)".into(),
        OpenAiApi::Responses => "responses (llm.openai.api or --api: responses)".into(),
        OpenAiApi::Auto => "auto: chat completions, switching a model to the Responses API when the server asks for it".into(),
    }
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
