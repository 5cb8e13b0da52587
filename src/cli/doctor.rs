//! `goshi doctor`: checks the setup, each check with pass/warn/fail and a fix.

use super::terminal::Screen;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::backend::{self, Selection};
use super::hints;
use super::palette::{Palette, Role};
use super::GlobalArgs;
use crate::config::{self, Config, EnvVars, OpenAiServer, Provider};
use crate::llm::ToolSupport;
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

/// The checks after the configuration: self-model, audit dir, then the provider's.
fn diagnose(c: &Config, checks: &mut Vec<Check>) {
    checks.push(self_model(c));
    checks.push(audit_dir(c));
    circuits(c, checks);
    if let Some(rt) = super::runtime() {
        provider_checks(&rt, c, checks);
    }
}

fn self_model(c: &Config) -> Check {
    match SelfModel::load(&c.repo_root) {
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
    }
}

/// Provider, key, model, tools and protocol; each needs the one before it to pass.
fn provider_checks(rt: &tokio::runtime::Runtime, c: &Config, checks: &mut Vec<Check>) {
    // A check should answer at once: no retries with backoff for an unreachable server.
    let mut c = c.clone();
    c.llm.retry.max_retries = 0;
    let c = &c;
    // Notices during the checks (retries) would interleave with the report: drop them.
    let sel = match rt.block_on(backend::select(c, crate::llm::notice::quiet())) {
        Ok(s) => s,
        Err(e) => {
            let hint = hints::hint(&e);
            checks.push(check("provider", Level::Fail, e.message, hint.as_deref()));
            return;
        }
    };
    let openai = sel.provider == Provider::OpenAi;
    if openai {
        checks.push(api_key(c));
    }
    let models = match rt.block_on(sel.backend.list_models()) {
        Ok(models) => models,
        Err(e) => {
            let detail = format!("{}: {}", where_(&sel), e.message);
            checks.push(check(
                "provider",
                Level::Fail,
                detail,
                hints::hint(&e).as_deref(),
            ));
            return;
        }
    };
    let detail = format!(
        "{} answers at {} ({})",
        sel.provider_name(),
        url(&sel),
        sel.why
    );
    checks.push(check("provider", Level::Pass, detail, None));
    checks.push(model(&sel, &models));
    checks.push(tools(rt, &sel));
    if openai {
        let line = super::config_cmd::protocol_line(c);
        checks.push(check("protocol", Level::Pass, line, None));
        if sel.model_source == "default" {
            let today = crate::llm::openai::lifecycle::today();
            if let Some(note) = crate::llm::openai::lifecycle::default_model_note(&today) {
                checks.push(check("lifecycle", Level::Pass, note, None));
            }
        }
    }
}

/// One check per circuit with recent failures (a healthy server has none recorded).
fn circuits(c: &Config, checks: &mut Vec<Check>) {
    for (open, line) in super::reliability::circuit_lines(c) {
        checks.push(if open {
            check(
                "circuit",
                Level::Warn,
                line,
                Some("requests to this server fail at once until it recovers; pass --no-circuit to goshi chat to send anyway"),
            )
        } else {
            check("circuit", Level::Pass, line, None)
        });
    }
}

fn url(sel: &Selection) -> String {
    crate::config::display_url(&sel.base_url)
}

fn where_(sel: &Selection) -> String {
    format!("{} at {}", sel.provider_name(), url(sel))
}

/// Whether the configured model is among the server's `models`.
fn model(sel: &Selection, models: &[String]) -> Check {
    let m = &sel.model;
    if models.iter().any(|l| sel.backend.is_same_model(l, m)) {
        check("model", Level::Pass, format!("{m} is available"), None)
    } else if sel.provider == Provider::Ollama {
        check(
            "model",
            Level::Fail,
            format!("{m} is not on the server"),
            Some(&format!(
                "pull it with `ollama pull {m}`, or pick one from `goshi models`"
            )),
        )
    } else {
        check(
            "model",
            Level::Warn,
            format!("{m} is not in the server's model list"),
            Some("pick one from `goshi models` (set llm.model, GOSHI_MODEL or --model)"),
        )
    }
}

fn tools(rt: &tokio::runtime::Runtime, sel: &Selection) -> Check {
    let m = &sel.model;
    match rt.block_on(sel.backend.tool_support(m)) {
        ToolSupport::Yes => check("tools", Level::Pass, format!("{m} can call tools"), None),
        ToolSupport::No => check(
            "tools",
            Level::Warn,
            format!("{m} cannot call tools; goshi will chat without them"),
            Some("pick a model with tool support (e.g. llama3.1:8b, qwen2.5); see `ollama show MODEL`"),
        ),
        ToolSupport::Unknown => check(
            "tools",
            Level::Warn,
            format!("could not tell whether {m} can call tools"),
            None,
        ),
        ToolSupport::OfferedUntilRefused => check(
            "tools",
            Level::Pass,
            format!("{m} is offered tools; if the server refuses them, goshi says so and continues without"),
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
        let _ = Screen::stdio().out_line(&format!("{}", sanitize::json(&v.to_string())));
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
        let _ = Screen::stdio().out_line(&format!(
            "[{tag}] {:<10} {}",
            c.check,
            sanitize::text(&c.detail)
        ));
        if let Some(h) = &c.hint {
            if c.status != Level::Pass {
                let _ = Screen::stdio().out_line(&format!(
                    "       {:<10} fix: {}",
                    "",
                    sanitize::text(h)
                ));
            }
        }
    }
}
