//! `goshi models`: what the provider offers, the configured model marked.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::config::Config;
use crate::llm::backend::stderr_notifier;
use crate::provider::{self, Concrete};

/// `goshi models` arguments.
#[derive(Args, Debug)]
pub struct ModelsArgs {
    /// Output format: text or json
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

/// Runs `goshi models`.
pub fn run(args: &ModelsArgs, config: &Config) -> ExitCode {
    let Some(rt) = super::runtime() else {
        return ExitCode::FAILURE;
    };
    let result = rt.block_on(async {
        let sel = provider::select(config, stderr_notifier()).await?;
        let names: Vec<String> = match &sel.concrete {
            Concrete::OpenAi(b) => b.list_models().await?,
            Concrete::Ollama(b) => b.list_models().await?.into_iter().map(|m| m.name).collect(),
        };
        Ok::<_, crate::llm::LlmError>((sel, names))
    });
    let (sel, names) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("goshi: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.format == "json" {
        let v = json!({
            "provider": sel.provider_name(),
            "base_url": sel.base_url,
            "configured": sel.model,
            "models": names.iter().map(|n| json!({"name": n, "configured": *n == sel.model})).collect::<Vec<_>>(),
        });
        println!("{v}");
    } else {
        eprintln!("{} models at {}:", sel.provider_name(), sel.base_url);
        for n in &names {
            if *n == sel.model {
                println!("* {n}  (configured)");
            } else {
                println!("  {n}");
            }
        }
        if !names.contains(&sel.model) {
            eprintln!("note: the configured model {} is not in this list", sel.model);
        }
    }
    ExitCode::SUCCESS
}
