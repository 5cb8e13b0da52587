//! `goshi models`: what the provider offers, the configured model marked.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::hints;
use super::terminal::Screen;
use crate::config::Config;
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
        let sel = provider::select(config, hints::notifier(&Screen::stdio())).await?;
        let names: Vec<String> = match &sel.concrete {
            Concrete::OpenAi(b) => b.list_models().await?,
            Concrete::Ollama(b) => b.list_models().await?.into_iter().map(|m| m.name).collect(),
        };
        Ok::<_, crate::llm::LlmError>((sel, names))
    });
    let (sel, names) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "goshi: error: {}",
                crate::text::sanitize::text(&hints::error_text(&e))
            );
            // No provider or no key is a setup problem, as for `goshi chat`.
            return if e.kind == crate::llm::ErrorKind::MissingCredentials {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            };
        }
    };
    let ollama = matches!(sel.concrete, Concrete::Ollama(_));
    let is_configured = |n: &str| is_model(ollama, n, &sel.model);
    if args.format == "json" {
        let v = json!({
            "provider": sel.provider_name(),
            "base_url": crate::config::display_url(&sel.base_url),
            "configured": sel.model,
            "models": names.iter().map(|n| json!({"name": n, "configured": is_configured(n)})).collect::<Vec<_>>(),
        });
        println!("{}", crate::text::sanitize::json(&v.to_string()));
    } else {
        eprintln!(
            "{} models at {}:",
            sel.provider_name(),
            crate::config::display_url(&sel.base_url)
        );
        for n in &names {
            // Model names come from the server.
            let shown = crate::text::sanitize::line(n);
            if is_configured(n) {
                println!("* {shown}  (configured)");
            } else {
                println!("  {shown}");
            }
        }
        if !names.iter().any(|n| is_configured(n)) {
            eprintln!(
                "note: the configured model {} is not in this list",
                sel.model
            );
        }
    }
    ExitCode::SUCCESS
}

/// Whether `listed`, a name from the server's model list, is the configured `model`. For
/// Ollama a name without a tag means its `:latest` (`qwen2.5` is listed as `qwen2.5:latest`).
pub(super) fn is_model(ollama: bool, listed: &str, model: &str) -> bool {
    listed == model || (ollama && with_tag(listed) == with_tag(model))
}

/// An Ollama model name with its tag (`:latest` when it has none). The tag is in the last
/// path segment, so a registry's `host:port/` is not mistaken for one.
fn with_tag(name: &str) -> std::borrow::Cow<'_, str> {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(format!("{name}:latest"))
    }
}

#[cfg(test)]
mod tests {
    use super::is_model;

    #[test]
    fn ollama_names_without_a_tag_mean_latest() {
        assert!(is_model(true, "qwen2.5:latest", "qwen2.5"));
        assert!(is_model(true, "qwen2.5", "qwen2.5:latest"));
        assert!(!is_model(true, "qwen2.5:0.5b", "qwen2.5"));
        assert!(is_model(true, "host:5000/me/m:latest", "host:5000/me/m"));
        assert!(!is_model(true, "host:5000/me/m:v2", "host:5000/me/m"));
        // OpenAI model ids are compared as they are.
        assert!(!is_model(false, "gpt-x:latest", "gpt-x"));
        assert!(is_model(false, "gpt-x", "gpt-x"));
    }
}
