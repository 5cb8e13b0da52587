//! `goshi chat`: one-shot or interactive.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::Args;

use super::backend::Selection;
use super::conversation;
use super::hints;
use super::json_out;
use super::palette;
use super::render::RenderOptions;
use super::repl_cmds;
use super::repl_input::{Input, LineReader};
use super::terminal::{self, Screen, TerminalPrompter, TerminalUi};
use crate::agent::{self, ChatSession, SessionConfig, TurnEnd, Ui};
use crate::audit::{AuditLog, AuditSettings, Warnings};
use crate::config::{Config, OpenAiServer, Provider, ToolChoice};
use crate::cost::{Ledger, Meter};
use crate::llm::{ErrorKind, LlmError, RequestOptions};
use crate::safety::permissions::{Capability, Permissions, Prompter};
use crate::selfmodel::SelfModel;
use crate::tools::{Registry, ToolContext};

/// `goshi chat` arguments.
#[derive(Args, Debug)]
pub struct ChatArgs {
    /// Ask for the whole answer at once instead of streaming it
    #[arg(long)]
    pub no_stream: bool,
    /// Send even when the server's circuit breaker is open (for this run only)
    #[arg(long)]
    pub no_circuit: bool,
    /// Print the answer as the model wrote it, without rendering markdown on a terminal
    #[arg(long)]
    pub raw: bool,
    /// Show the model's reasoning whole (dimmed, on stderr) instead of folded into one line
    #[arg(long)]
    pub show_thinking: bool,
    /// Grant a capability for this session without asking: fs.read (FS_READ) or fs.write (FS_WRITE); repeatable
    #[arg(long = "allow", value_name = "TOOL")]
    pub allow: Vec<String>,
    /// The prompt (one-shot). Piped stdin is read too: alone it is the prompt; with a prompt it is the context the prompt is about. Neither: the REPL starts
    pub prompt: Vec<String>,
    /// Continue the latest saved conversation of this repository
    #[arg(short = 'c', long = "continue", conflicts_with = "session")]
    pub continue_latest: bool,
    /// Continue the conversation named NAME, or start one with that name
    #[arg(long, value_name = "NAME")]
    pub session: Option<String>,
    /// Do not save this conversation (see sessions.save)
    #[arg(long)]
    pub no_save: bool,
    /// Output: text, json (one object at the end, whatever happens) or jsonl (events as they happen)
    #[arg(long, value_enum, default_value = "text")]
    pub format: json_out::Format,
}

/// A step of [`run`] that failed: it has told the user; this is the exit code.
type Step<T> = Result<T, ExitCode>;

/// Runs `goshi chat`.
pub fn run(args: &ChatArgs, config: &Config) -> ExitCode {
    let screen = Screen::stdio();
    match chat(args, config, &screen) {
        Ok(code) => code,
        Err(code) if args.format == json_out::Format::Text => code,
        Err(code) => setup_failed_json(args.format, code, &screen),
    }
}

/// The one JSON object of `--format json|jsonl` when goshi stopped before any turn ran.
pub fn setup_failed_json(format: json_out::Format, code: ExitCode, screen: &Screen) -> ExitCode {
    let ui = json_out::JsonUi::new(screen.clone(), format);
    let outcome = json_out::Outcome::setup(exit_number(code), screen);
    ui.finish(outcome, serde_json::json!({}))
}

/// The number of an [`ExitCode`]: std has no stable accessor, so it is read from `Debug`
/// (`ExitCode(unix_exit_status(N))`); 1 if that ever changes.
fn exit_number(code: ExitCode) -> u8 {
    let text = format!("{code:?}");
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(1)
}

/// Checks the setup, picks the provider, then runs one turn or the REPL.
fn chat(args: &ChatArgs, config: &Config, screen: &Screen) -> Step<ExitCode> {
    let allowed = allowed_capabilities(&args.allow, screen)?;
    let registry = Registry::builtin();
    check_tool_choice(config, &registry, screen)?;
    let self_model = SelfModel::load(&config.repo_root).map_err(|e| {
        screen.error(&e, None);
        ExitCode::from(2)
    })?;
    let stdin_tty = std::io::stdin().is_terminal();
    let prompt = read_prompt(args, stdin_tty, screen)?;
    let rt = super::runtime().ok_or(ExitCode::FAILURE)?;
    let mut selection = rt
        .block_on(super::backend::select(config, hints::notifier(screen)))
        .map_err(|e| {
            screen.error(&hints::error_text(&e), None);
            exit_code_for(&e)
        })?;
    pick_model(&rt, &mut selection, config, screen)?;
    screen.notice(&selection.describe());

    // Asking needs a person at a terminal; otherwise only --allow and
    // safety.auto_confirm_permissions grant anything.
    let prompter: Option<Box<dyn Prompter>> = if stdin_tty {
        Some(Box::new(TerminalPrompter::new(screen.clone())))
    } else {
        None
    };
    let permissions = Permissions::new(allowed, config.safety.auto_confirm_permissions, prompter);
    // One id for the audit file and the spend ledger's lines.
    let session_id = crate::audit::new_session_id();
    let mut session = ChatSession::new(
        super::reliability::guard(&selection, config, args.no_circuit),
        session_config(config, &selection.model, args.no_stream),
        self_model.text.clone(),
        registry,
        ToolContext {
            repo_root: config.repo_root.clone(),
        },
        permissions,
        open_audit(config, screen, &session_id),
    )
    .with_meter(meter_for(config, &selection, &session_id));
    let wanted = conversation::Wanted {
        resume_latest: args.continue_latest,
        name: args.session.as_deref(),
        no_save: args.no_save,
    };
    let saving = conversation::attach(
        &wanted,
        config,
        selection.provider_name(),
        &mut session,
        screen,
    )?;
    let mut ui = answer_ui(args, screen);
    let mut interrupt = terminal::ctrl_c_interrupt();
    Ok(match prompt {
        Some(p) if args.format != json_out::Format::Text => {
            let before = proposal_ids(config);
            let mut json_ui = json_out::JsonUi::new(screen.clone(), args.format);
            let end = rt.block_on(session.run_turn(&p, &mut json_ui, &mut interrupt));
            let mut lines = json_out::Lines::default();
            let code = exit_number(report_end(&end, &mut lines));
            let message = lines.0.last().map(|l| {
                l.trim_start_matches("goshi: error: ")
                    .trim_start_matches("goshi: ")
                    .to_string()
            });
            let created: Vec<String> = proposal_ids(config)
                .into_iter()
                .filter(|id| !before.contains(id))
                .collect();
            let u = session.usage();
            let facts = serde_json::json!({
                "provider": selection.provider_name(),
                "model": session.model(),
                "usage": {
                    "prompt_tokens": u.total.prompt_tokens,
                    "completion_tokens": u.total.completion_tokens,
                    "total_tokens": u.total.total_tokens,
                    "responses": u.responses,
                },
                "proposals": created,
            });
            json_ui.finish(json_out::Outcome::of_turn(&end, code, message), facts)
        }
        None if args.format != json_out::Format::Text => {
            screen.error(
                "--format json and jsonl need a prompt (one-shot); the REPL is for people",
                Some("pass a prompt, or pipe one in"),
            );
            return Err(ExitCode::from(2));
        }
        Some(p) => {
            let end = rt.block_on(session.run_turn(&p, &mut ui, &mut interrupt));
            report_end(&end, &mut ui)
        }
        None => {
            ui.set_review_hint(terminal::ReviewHint::Repl);
            repl(
                &rt,
                &mut session,
                screen,
                &mut ui,
                &mut interrupt,
                self_model.greeting.as_deref(),
                &super::fs_cmd::FsEnv::from_config(config),
                saving.as_ref(),
            )
        }
    })
}

/// On a compatible server with no model configured: its only model, or stop before sending
/// and list what it serves.
fn pick_model(
    rt: &tokio::runtime::Runtime,
    selection: &mut super::backend::Selection,
    config: &Config,
    screen: &Screen,
) -> Step<()> {
    use super::backend::ServedModel;
    let picked = rt.block_on(super::backend::pick_served_model(selection, config));
    match picked {
        Ok(ServedModel::Keep) => Ok(()),
        Ok(ServedModel::Only(m)) => {
            screen.notice(&format!(
                "no model configured: using {}, the only model the server serves",
                crate::text::sanitize::line(&m)
            ));
            Ok(())
        }
        Ok(ServedModel::Choose(served)) => {
            let list: Vec<String> = served
                .iter()
                .map(|m| crate::text::sanitize::line(m).into_owned())
                .collect();
            let what = if list.is_empty() {
                "the server lists no models".to_string()
            } else {
                format!("the server serves {}", list.join(", "))
            };
            screen.error(
                &format!("no model configured, and {what}"),
                Some("choose one with --model NAME (or llm.model in goshi.yaml, or GOSHI_MODEL)"),
            );
            Err(ExitCode::from(2))
        }
        Err(e) => {
            screen.error(
                &format!(
                    "no model configured, and the server's model list could not be read: {}",
                    hints::error_text(&e)
                ),
                Some("choose one with --model NAME (or llm.model in goshi.yaml, or GOSHI_MODEL)"),
            );
            Err(ExitCode::from(2))
        }
    }
}

/// The ids of the stored proposals (none when they cannot be listed).
fn proposal_ids(config: &Config) -> Vec<String> {
    crate::safety::proposals::list(&config.repo_root)
        .map(|all| all.into_iter().map(|p| p.id).collect())
        .unwrap_or_default()
}

/// The capabilities named by `--allow`.
fn allowed_capabilities(allow: &[String], screen: &Screen) -> Step<Vec<Capability>> {
    let mut allowed = Vec::new();
    for a in allow {
        match Capability::parse_allow(a) {
            Some(c) => allowed.push(c),
            None => {
                screen.error(
                    &format!("--allow {a:?} names no capability"),
                    Some("use --allow fs.read (reading and listing files) or --allow fs.write (proposing writes)"),
                );
                return Err(ExitCode::from(2));
            }
        }
    }
    Ok(allowed)
}

/// A tool named by `llm.tool_choice` must be one that is offered.
fn check_tool_choice(config: &Config, registry: &Registry, screen: &Screen) -> Step<()> {
    if let ToolChoice::Tool(name) = &config.llm.tool_choice {
        if registry.capability_of(name).is_none() {
            screen.error(
                &format!("invalid configuration: llm.tool_choice: there is no tool named {name:?}"),
                Some(&format!(
                    "use auto, required, none, or one of: {}",
                    registry.names().join(", ")
                )),
            );
            return Err(ExitCode::from(2));
        }
    }
    Ok(())
}

/// The most piped input goshi sends (as the prompt, or as context for the prompt argument).
pub const MAX_STDIN_BYTES: usize = 1024 * 1024;

/// The one-shot prompt: the arguments, stdin when it is not a terminal, or both (stdin is
/// the context and the arguments the instruction, as `cat main.rs | goshi chat "explain"`
/// means); `None` starts the REPL.
fn read_prompt(args: &ChatArgs, stdin_tty: bool, screen: &Screen) -> Step<Option<String>> {
    let instruction = (!args.prompt.is_empty()).then(|| args.prompt.join(" "));
    if stdin_tty {
        return Ok(instruction);
    }
    let piped = read_stdin(screen)?;
    match (instruction, piped.trim().is_empty()) {
        (Some(instruction), true) => Ok(Some(instruction)),
        (Some(instruction), false) => Ok(Some(with_context(&piped, &instruction))),
        (None, false) => Ok(Some(piped)),
        (None, true) => {
            screen.error(
                "no prompt: stdin was empty",
                Some("pass a prompt: goshi chat \"your question\", or pipe one in"),
            );
            Err(ExitCode::from(2))
        }
    }
}

/// Piped stdin, at most [`MAX_STDIN_BYTES`] of UTF-8 text.
fn read_stdin(screen: &Screen) -> Step<String> {
    let mut bytes = Vec::new();
    let limit = MAX_STDIN_BYTES as u64 + 1;
    if let Err(e) = std::io::stdin().take(limit).read_to_end(&mut bytes) {
        screen.error(&format!("could not read stdin: {e}"), None);
        return Err(ExitCode::from(2));
    }
    if bytes.len() > MAX_STDIN_BYTES {
        screen.error(
            &format!(
                "stdin is larger than {}; goshi sends at most that much piped input",
                crate::text::human_size(MAX_STDIN_BYTES as u64)
            ),
            Some("pipe in the part that matters (head -c, sed -n 'A,Bp'), or ask goshi to read the file itself with fs.read"),
        );
        return Err(ExitCode::from(2));
    }
    String::from_utf8(bytes).map_err(|_| {
        screen.error(
            "stdin is not UTF-8 text",
            Some("pipe in text; goshi does not send binary data to the model"),
        );
        ExitCode::from(2)
    })
}

/// The message for piped `context` and an `instruction` about it: the context first, the
/// instruction last, where models attend to it best.
fn with_context(context: &str, instruction: &str) -> String {
    format!("{}\n\n{instruction}", context.trim_end())
}

/// The session settings from the configuration.
fn session_config(config: &Config, model: &str, no_stream: bool) -> SessionConfig {
    SessionConfig {
        model: model.to_string(),
        options: RequestOptions {
            temperature: config.llm.temperature,
            max_tokens: config.llm.max_tokens,
            frequency_penalty: config.llm.frequency_penalty,
            presence_penalty: config.llm.presence_penalty,
            tool_choice: (&config.llm.tool_choice).into(),
            parallel_tool_calls: config.llm.parallel_tool_calls,
            reasoning_effort: config.llm.reasoning_effort.clone(),
            reasoning_summary: config.llm.reasoning_summary.clone(),
            seed: None,
        },
        max_tool_rounds: config.llm.max_tool_rounds,
        no_stream,
        tools_enabled: true,
        max_identical_tool_calls: config.llm.max_identical_tool_calls,
        limits: agent::Limits {
            max_response_bytes: config.llm.max_response_bytes,
            max_calls_per_round: config.llm.max_tool_calls_per_answer as usize,
            max_calls_per_turn: config.llm.max_tool_calls_per_turn as usize,
            max_result_bytes_per_round: config.llm.max_tool_results_bytes,
        },
    }
}

/// The cost meter: OpenAI itself is priced; Ollama and compatible servers are local.
fn meter_for(config: &Config, selection: &Selection, session_id: &str) -> Meter {
    let local = match selection.provider {
        Provider::OpenAi => config.llm.openai.server == OpenAiServer::Compatible,
        // Selection never yields Auto.
        Provider::Ollama | Provider::Auto => true,
    };
    Meter::new(
        selection.provider_name(),
        local,
        config.cost.clone(),
        Ledger::user(),
        session_id,
    )
}

/// Missing credentials are a setup problem (2); nothing sent because the circuit is open is
/// a refusal (3); anything else a failure (1).
fn exit_code_for(e: &LlmError) -> ExitCode {
    match e.kind {
        ErrorKind::MissingCredentials => ExitCode::from(2),
        // Nothing was sent: the server's circuit breaker is open.
        ErrorKind::CircuitOpen => ExitCode::from(super::EXIT_REFUSED),
        _ => ExitCode::FAILURE,
    }
}

/// The chat's output: live markdown on a terminal that takes colour, unless `--raw`; the
/// answer's text as it came everywhere else (pipes and files always).
fn answer_ui(args: &ChatArgs, screen: &Screen) -> TerminalUi {
    let ui = if !args.raw && renders_markdown(screen) {
        TerminalUi::with_markdown(screen.clone(), RenderOptions::for_terminal())
    } else {
        TerminalUi::new(screen.clone())
    };
    ui.show_thinking(args.show_thinking)
}

/// Whether model text goes to stdout rendered as markdown: a terminal that takes colour
/// (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`) and can move the cursor (not `TERM=dumb`, even
/// with `--color always`).
pub(super) fn renders_markdown(screen: &Screen) -> bool {
    let env = palette::ColorEnv::from_process();
    screen.stdout_is_terminal()
        && palette::use_color(palette::choice(), env, true)
        && !env.term_dumb
}

/// The audit settings of the configuration.
pub fn audit_settings(config: &Config) -> AuditSettings {
    AuditSettings {
        dir: config.audit.dir.clone(),
        redact: config.audit.redact,
        tool_arguments_style: config.audit.tool_arguments_style.into(),
        retention_days: config.audit.retention_days,
        max_sessions: config.audit.max_sessions,
        repo_root: Some(config.repo_root.clone()),
    }
}

fn open_audit(config: &Config, screen: &Screen, session_id: &str) -> Option<AuditLog> {
    let settings = audit_settings(config);
    let secrets: Vec<String> = config.llm.openai.api_key.iter().cloned().collect();
    let shown = screen.clone();
    let warnings = Warnings::new(move |w| shown.warning(w));
    match AuditLog::open(&settings, session_id, secrets, warnings) {
        Ok(log) => Some(log),
        Err(e) => {
            screen.warning(&format!("the audit trail is off for this session: {e}"));
            None
        }
    }
}

/// Says how a turn ended; returns the one-shot exit code.
fn report_end(end: &TurnEnd, ui: &mut dyn Ui) -> ExitCode {
    match end {
        TurnEnd::Done => ExitCode::SUCCESS,
        TurnEnd::Cancelled => {
            ui.info("goshi: interrupted");
            ExitCode::from(130)
        }
        TurnEnd::RoundLimit(n) => {
            ui.info(&format!(
                "goshi: error: stopped after {n} tool rounds in one turn (llm.max_tool_rounds); the model kept calling tools\n  hint: ask more specifically, or raise llm.max_tool_rounds in goshi.yaml"
            ));
            ExitCode::FAILURE
        }
        TurnEnd::Refused(r) => {
            ui.info(&format!("goshi: error: {}\n  hint: {}", r.message, r.hint));
            ExitCode::from(super::EXIT_REFUSED)
        }
        TurnEnd::LoopStopped { tool, limit } => {
            ui.info(&format!(
                "goshi: error: stopped the turn: the model called {} with the same arguments more than {limit} times (llm.max_identical_tool_calls)\n  hint: ask differently, or raise llm.max_identical_tool_calls in goshi.yaml",
                crate::text::one_line(tool, 80)
            ));
            ExitCode::FAILURE
        }
        TurnEnd::LimitReached(hit) => {
            ui.info(&format!("goshi: error: {hit}"));
            ExitCode::FAILURE
        }
        TurnEnd::Failed(e) => {
            ui.info(&format!("goshi: error: {}", hints::error_text(e)));
            exit_code_for(e)
        }
    }
}

const HELP: &str =
    "commands: /help  /tokens (session token totals)  /cost (session cost by model)  /clear (forget the conversation)\n\
/model NAME (switch model)  /save NAME (name this conversation)  /quit\n\
Ctrl-C stops an answer or clears the line; Ctrl-C twice on an empty line, or Ctrl-D, quits.";

/// Where typed REPL lines are kept across runs (per user).
fn repl_history_file() -> Option<std::path::PathBuf> {
    let dir = dirs::data_dir()?.join("goshi");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("repl_history"))
}

/// `/model NAME`: switches the model for the rest of the session (no name: shows it).
fn switch_model(session: &mut ChatSession, name: &str, screen: &Screen) {
    if name.is_empty() {
        let _ = screen.out_line(&format!(
            "(model: {}; /model NAME switches)",
            crate::text::sanitize::line(session.model())
        ));
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        screen.error(
            &format!("{:?} is not a model name", name),
            Some("/model NAME"),
        );
    } else {
        session.set_model(name);
        let _ = screen.out_line(&format!("(model: {name} for the rest of this session)"));
    }
}

// The REPL's whole context, each argument a different part of it.
#[allow(clippy::too_many_arguments)]
fn repl(
    rt: &tokio::runtime::Runtime,
    session: &mut ChatSession,
    screen: &Screen,
    ui: &mut TerminalUi,
    interrupt: &mut agent::Interrupt,
    greeting: Option<&str>,
    fs_env: &super::fs_cmd::FsEnv,
    saving: Option<&(crate::sessions::Store, conversation::Shared)>,
) -> ExitCode {
    let mut reader = match LineReader::new(repl_history_file()) {
        Ok(r) => r,
        Err(e) => {
            screen.error(&format!("could not start line editing: {e}"), None);
            return ExitCode::FAILURE;
        }
    };
    if let Some(g) = greeting {
        let _ = screen.out_line(g);
    }
    loop {
        let line = match reader.read(screen, "> ") {
            Ok(Input::Line(l)) => l,
            Ok(Input::Quit) => return ExitCode::SUCCESS,
            Err(e) => {
                screen.error(&e, None);
                return ExitCode::FAILURE;
            }
        };
        let input = line.as_str();
        if repl_cmds::try_run(input, fs_env, screen) {
            continue;
        }
        if let Some(rest) = input.strip_prefix("/model") {
            if rest.is_empty() || rest.starts_with(' ') {
                switch_model(session, rest.trim(), screen);
                continue;
            }
        }
        if let Some(rest) = input.strip_prefix("/save") {
            if rest.is_empty() || rest.starts_with(' ') {
                match rest.trim() {
                    "" => screen.error("/save needs a name", Some("/save NAME")),
                    name => conversation::save_as(saving, name, screen),
                }
                continue;
            }
        }
        match input {
            "/quit" | "/exit" | "/q" => return ExitCode::SUCCESS,
            "/help" | "/?" => {
                let _ = screen.out_line(&format!("{HELP}\n{}", repl_cmds::HELP));
                continue;
            }
            "/tokens" => {
                let u = session.usage();
                let _ = screen.out_line(&format!(
                    "session tokens: prompt={}, completion={}, total={} over {} responses (model: {})",
                    u.total.prompt_tokens,
                    u.total.completion_tokens,
                    u.total.total_tokens,
                    u.responses,
                    session.model()
                ));
                continue;
            }
            "/cost" => {
                let report = session
                    .meter()
                    .map_or_else(|| "cost tracking is off".to_string(), |m| m.report());
                let _ = screen.out_line(&report);
                continue;
            }
            "/clear" => {
                session.clear();
                conversation::restart(saving, session.model());
                let _ = screen.out_line("(conversation cleared)");
                continue;
            }
            s if s.starts_with('/') => {
                let _ = screen.out_line(&format!("unknown command {s}; {HELP}"));
                continue;
            }
            _ => {}
        }
        let end = rt.block_on(session.run_turn(input, ui, interrupt));
        if !matches!(end, TurnEnd::Done) {
            let _ = report_end(&end, ui);
        }
    }
}
