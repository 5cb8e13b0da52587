//! `goshi models`: what the provider offers, the configured model marked.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::backend;
use super::hints;
use super::terminal::Screen;
use crate::config::Config;

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
        let sel = backend::select(config, hints::notifier(&Screen::stdio())).await?;
        let names = sel.backend.list_models().await?;
        Ok::<_, crate::llm::LlmError>((sel, names))
    });
    let (sel, names) = match result {
        Ok(r) => r,
        Err(e) => {
            Screen::stdio().line(&format!(
                "goshi: error: {}",
                crate::text::sanitize::text(&hints::error_text(&e))
            ));
            // No provider or no key is a setup problem, as for `goshi chat`.
            return if e.kind == crate::llm::ErrorKind::MissingCredentials {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            };
        }
    };
    let is_configured = |n: &str| sel.backend.is_same_model(n, &sel.model);
    if args.format == "json" {
        let v = json!({
            "provider": sel.provider_name(),
            "base_url": crate::config::display_url(&sel.base_url),
            "configured": sel.model,
            "models": names.iter().map(|n| json!({"name": n, "configured": is_configured(n)})).collect::<Vec<_>>(),
        });
        let _ =
            Screen::stdio().out_line(&format!("{}", crate::text::sanitize::json(&v.to_string())));
    } else {
        Screen::stdio().line(&format!(
            "{} models at {}:",
            sel.provider_name(),
            crate::config::display_url(&sel.base_url)
        ));
        for n in &names {
            // Model names come from the server.
            let shown = crate::text::sanitize::line(n);
            if is_configured(n) {
                let _ = Screen::stdio().out_line(&format!("* {shown}  (configured)"));
            } else {
                let _ = Screen::stdio().out_line(&format!("  {shown}"));
            }
        }
        if !names.iter().any(|n| is_configured(n)) {
            Screen::stdio().line(&format!(
                "note: the configured model {} is not in this list",
                sel.model
            ));
        }
    }
    ExitCode::SUCCESS
}
