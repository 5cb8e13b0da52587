//! `goshi doctor`: checks the setup, each check with pass/warn/fail and a fix.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::palette::{Palette, Role};
use super::GlobalArgs;
use crate::config::{self, Config, EnvVars, OpenAiServer};
use crate::provider::{self, Concrete, Selection};
use crate::selfmodel::SelfModel;

/// `goshi doctor` arguments.
#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// Output format: text or json
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
struct Check {
    check: &'static str,
    status: Level,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

fn check(
    check: &'static str,
    status: Level,
    detail: impl Into<String>,
    hint: Option<&str>,
) -> Check {
    Check {
        check,
        status,
        detail: detail.into(),
        hint: hint.map(str::to_string),
    }
}

/// Runs `goshi doctor`; exit 0 when nothing fails, 1 otherwise.
pub fn run(args: &DoctorArgs, global: &GlobalArgs) -> ExitCode {
    let mut checks = Vec::new();
    let env = EnvVars::from_process();
    let config = match config::load(&super::overrides(global), &env) {
        Ok(c) => {
            checks.push(match &c.source {
                Some(p) => check(
                    "config",
                    Level::Pass,
                    format!("{} is valid", p.display()),
                    None,
                ),
                None => check(
                    "config",
                    Level::Warn,
                    "no goshi.yaml found; using defaults",
                    Some(
                        "create ./goshi.yaml (see README, Configuration) to pin provider and model",
                    ),
                ),
            });
            Some(c)
        }
        Err(e) => {
            checks.push(check(
                "config",
                Level::Fail,
                e.to_string(),
                Some("fix the key named above in goshi.yaml"),
            ));
            None
        }
    };
    if let Some(c) = &config {
        diagnose(c, &mut checks);
    }
    print(&checks, &args.format);
    if checks.iter().any(|c| c.status == Level::Fail) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn diagnose(c: &Config, checks: &mut Vec<Check>) {
    checks.push(match SelfModel::load(&c.repo_root) {
        Ok(m) => match &m.source {
            Some(p) => check(
                "self-model",
                Level::Pass,
                format!("{} parses", p.display()),
                None,
            ),
            None => check(
                "self-model",
                Level::Pass,
                "using goshi's built-in self-model",
                None,
            ),
        },
        Err(e) => check(
            "self-model",
            Level::Fail,
            e,
            Some("fix goshi.self.model.yaml or delete it to use the default"),
        ),
    });
    checks.push(audit_dir(c));

    let Some(rt) = super::runtime() else { return };
    // Notices during the checks (retries) would interleave with the report: collect nothing.
    let quiet = crate::llm::notice::quiet();
    // A check should answer at once: no retries with backoff for an unreachable server.
    let mut c = c.clone();
    c.llm.max_retries = 0;
    let c = &c;
    let sel = match rt.block_on(provider::select(c, quiet)) {
        Ok(s) => s,
        Err(e) => {
            checks.push(check(
                "provider",
                Level::Fail,
                e.message.clone(),
                super::hints::hint(&e).as_deref(),
            ));
            return;
        }
    };
    if matches!(sel.concrete, Concrete::OpenAi(_)) {
        checks.push(api_key(c));
    }
    let listed = rt.block_on(list(&sel));
    match listed {
        Ok(models) => {
            checks.push(check(
                "provider",
                Level::Pass,
                format!(
                    "{} answers at {} ({})",
                    sel.provider_name(),
                    crate::config::display_url(&sel.base_url),
                    sel.why
                ),
                None,
            ));
            let ollama = matches!(sel.concrete, Concrete::Ollama(_));
            let available = models
                .iter()
                .any(|m| super::models_cmd::is_model(ollama, m, &sel.model));
            checks.push(if available {
                check(
                    "model",
                    Level::Pass,
                    format!("{} is available", sel.model),
                    None,
                )
            } else if matches!(sel.concrete, Concrete::Ollama(_)) {
                check(
                    "model",
                    Level::Fail,
                    format!("{} is not on the server", sel.model),
                    Some(&format!(
                        "pull it with `ollama pull {}`, or pick one from `goshi models`",
                        sel.model
                    )),
                )
            } else {
                check(
                    "model",
                    Level::Warn,
                    format!("{} is not in the server's model list", sel.model),
                    Some("pick one from `goshi models` (set llm.model, GOSHI_MODEL or --model)"),
                )
            });
        }
        Err(e) => {
            checks.push(check(
                "provider",
                Level::Fail,
                format!(
                    "{} at {}: {}",
                    sel.provider_name(),
                    crate::config::display_url(&sel.base_url),
                    e.message
                ),
                super::hints::hint(&e).as_deref(),
            ));
            return;
        }
    }
    checks.push(tools(&rt, &sel));
    if matches!(sel.concrete, Concrete::OpenAi(_)) {
        checks.push(check(
            "protocol",
            Level::Pass,
            super::config_cmd::protocol_line(c),
            None,
        ));
    }
}

async fn list(sel: &Selection) -> Result<Vec<String>, crate::llm::LlmError> {
    match &sel.concrete {
        Concrete::OpenAi(b) => b.list_models().await,
        Concrete::Ollama(b) => Ok(b.list_models().await?.into_iter().map(|m| m.name).collect()),
    }
}

fn tools(rt: &tokio::runtime::Runtime, sel: &Selection) -> Check {
    match &sel.concrete {
        Concrete::Ollama(b) => match rt.block_on(b.supports_tools(&sel.model)) {
            Some(true) => check("tools", Level::Pass, format!("{} can call tools", sel.model), None),
            Some(false) => check(
                "tools",
                Level::Warn,
                format!("{} cannot call tools; goshi will chat without them", sel.model),
                Some("pick a model with tool support (e.g. llama3.1:8b, qwen2.5); see `ollama show MODEL`"),
            ),
            None => check("tools", Level::Warn, format!("could not tell whether {} can call tools", sel.model), None),
        },
        Concrete::OpenAi(_) => check(
            "tools",
            Level::Pass,
            format!("{} is offered tools; if the server refuses them, goshi says so and continues without", sel.model),
            None,
        ),
    }
}

fn api_key(c: &Config) -> Check {
    match (&c.llm.openai.api_key, c.llm.openai.server) {
        (Some(_), _) => check("api key", Level::Pass, "OPENAI_API_KEY is set", None),
        (None, OpenAiServer::OpenAi) => check(
            "api key",
            Level::Fail,
            "OPENAI_API_KEY is not set",
            Some("export OPENAI_API_KEY=sk-... (https://platform.openai.com/api-keys)"),
        ),
        (None, OpenAiServer::Compatible) => check(
            "api key",
            Level::Pass,
            "OPENAI_API_KEY is not set (most local OpenAI-compatible servers need none)",
            None,
        ),
    }
}

fn audit_dir(c: &Config) -> Check {
    let dir = &c.audit.dir;
    match writable_without_creating(dir) {
        Ok(()) => check(
            "audit dir",
            Level::Pass,
            format!("{} is writable", dir.display()),
            None,
        ),
        Err(why) => check(
            "audit dir",
            Level::Fail,
            format!("{} is not writable: {why}", dir.display()),
            Some("fix the directory's permissions or set audit.dir in goshi.yaml"),
        ),
    }
}

/// Whether `dir` is, or could be created as, a writable directory, decided from metadata
/// alone: doctor is read-only and creates nothing (the first chat creates the directory).
fn writable_without_creating(dir: &std::path::Path) -> Result<(), String> {
    for existing in dir.ancestors() {
        let Ok(meta) = std::fs::metadata(existing) else {
            continue;
        };
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", existing.display()));
        }
        if meta.permissions().readonly() {
            return Err(format!("{} is read-only", existing.display()));
        }
        return Ok(());
    }
    Err("none of its parent directories exists".to_string())
}

fn print(checks: &[Check], format: &str) {
    use crate::text::sanitize;
    if format == "json" {
        let fails = checks.iter().filter(|c| c.status == Level::Fail).count();
        let v = serde_json::json!({"ok": fails == 0, "checks": checks});
        println!("{}", sanitize::json(&v.to_string()));
        return;
    }
    let palette = Palette::stdout();
    for c in checks {
        let (tag, role) = match c.status {
            Level::Pass => ("pass", Role::Pass),
            Level::Warn => ("warn", Role::Warn),
            Level::Fail => ("FAIL", Role::Fail),
        };
        let tag = palette.paint(role, tag);
        // Details and fixes may quote a server: shown escaped.
        println!("[{tag}] {:<10} {}", c.check, sanitize::text(&c.detail));
        if let Some(h) = &c.hint {
            if c.status != Level::Pass {
                println!("       {:<10} fix: {}", "", sanitize::text(h));
            }
        }
    }
}
