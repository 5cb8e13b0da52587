//! `goshi chat`: one-shot or interactive.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::Args;

use super::terminal::{self, Screen, TerminalPrompter, TerminalUi};
use crate::agent::{self, ChatSession, SessionConfig, TurnEnd, Ui};
use crate::audit::{AuditLog, AuditSettings};
use crate::config::Config;
use crate::llm::backend::stderr_notifier;
use crate::llm::{ErrorKind, RequestOptions, ToolChoice};
use crate::safety::permissions::{Capability, Permissions, Prompter};
use crate::selfmodel::SelfModel;
use crate::tools::{Registry, ToolContext};

/// `goshi chat` arguments.
#[derive(Args, Debug)]
pub struct ChatArgs {
    /// Ask for the whole answer at once instead of streaming it
    #[arg(long)]
    pub no_stream: bool,
    /// Grant a capability for this session without asking: fs.read (FS_READ) or fs.write (FS_WRITE); repeatable
    #[arg(long = "allow", value_name = "TOOL")]
    pub allow: Vec<String>,
    /// Send even when the server's circuit breaker is open (for this run only)
    #[arg(long)]
    pub no_circuit: bool,
    /// The prompt (one-shot); without it, stdin is read when it is not a terminal, else the REPL starts
    pub prompt: Vec<String>,
}

/// Runs `goshi chat`.
pub fn run(args: &ChatArgs, config: &Config) -> ExitCode {
    let screen = Screen::stdio();
    let mut allowed = Vec::new();
    for a in &args.allow {
        match Capability::parse_allow(a) {
            Some(c) => allowed.push(c),
            None => {
                screen.error(
                    &format!("--allow {a:?} names no capability"),
                    Some("use --allow fs.read (reading and listing files) or --allow fs.write (proposing writes)"),
                );
                return ExitCode::from(2);
            }
        }
    }
    let registry = Registry::builtin();
    if let ToolChoice::Named(name) = ToolChoice::parse(&config.llm.tool_choice) {
        if registry.capability_of(&name).is_none() {
            screen.error(
                &format!("invalid configuration: llm.tool_choice: there is no tool named {name:?}"),
                Some(&format!(
                    "use auto, required, none, or one of: {}",
                    registry.names().join(", ")
                )),
            );
            return ExitCode::from(2);
        }
    }
    let self_model = match SelfModel::load(&config.repo_root) {
        Ok(m) => m,
        Err(e) => {
            screen.error(&e, None);
            return ExitCode::from(2);
        }
    };
    let stdin_tty = std::io::stdin().is_terminal();
    let prompt = if !args.prompt.is_empty() {
        Some(args.prompt.join(" "))
    } else if !stdin_tty {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            screen.error(&format!("could not read the prompt from stdin: {e}"), None);
            return ExitCode::from(2);
        }
        if text.trim().is_empty() {
            screen.error(
                "no prompt: stdin was empty",
                Some("pass a prompt: goshi chat \"your question\", or pipe one in"),
            );
            return ExitCode::from(2);
        }
        Some(text)
    } else {
        None
    };
    let Some(rt) = super::runtime() else {
        return ExitCode::FAILURE;
    };
    let notify = stderr_notifier();
    let selection = match rt.block_on(crate::provider::select(config, notify)) {
        Ok(s) => s,
        Err(e) => {
            screen.error(&super::reliability::error_text(&e), None);
            return exit_code(&e);
        }
    };
    screen.notice(&selection.describe());

    // Asking needs a person at a terminal; otherwise only --allow and
    // safety.auto_confirm_permissions grant anything.
    let prompter: Option<Box<dyn Prompter>> = if stdin_tty {
        Some(Box::new(TerminalPrompter::new(screen.clone())))
    } else {
        None
    };
    let permissions = Permissions::new(allowed, config.safety.auto_confirm_permissions, prompter);
    let audit = open_audit(config, &screen);
    let session_config = SessionConfig {
        model: selection.model.clone(),
        options: RequestOptions {
            temperature: config.llm.temperature,
            max_tokens: config.llm.max_tokens,
            frequency_penalty: config.llm.frequency_penalty,
            presence_penalty: config.llm.presence_penalty,
            tool_choice: ToolChoice::parse(&config.llm.tool_choice),
            parallel_tool_calls: config.llm.parallel_tool_calls,
            reasoning_effort: config.llm.reasoning_effort.clone(),
            seed: None,
        },
        max_tool_rounds: config.llm.max_tool_rounds,
        no_stream: args.no_stream,
        tools_enabled: true,
    };
    let mut session = ChatSession::new(
        super::reliability::guard(&selection, config, args.no_circuit),
        session_config,
        self_model.text.clone(),
        registry,
        ToolContext {
            repo_root: config.repo_root.clone(),
        },
        permissions,
        audit,
    );
    let mut ui = TerminalUi::new(screen.clone());
    let mut interrupt = terminal::ctrl_c_interrupt();
    match prompt {
        Some(p) => {
            let end = rt.block_on(session.run_turn(&p, &mut ui, &mut interrupt));
            report_end(&end, &mut ui)
        }
        None => repl(
            &rt,
            &mut session,
            &screen,
            &mut ui,
            &mut interrupt,
            self_model.greeting.as_deref(),
        ),
    }
}

/// The audit settings of the configuration.
pub fn audit_settings(config: &Config) -> AuditSettings {
    AuditSettings {
        dir: config.audit.dir.clone(),
        redact: config.audit.redact,
        tool_arguments_style: config
            .audit
            .tool_arguments_style
            .parse()
            .unwrap_or_default(),
        retention_days: config.audit.retention_days,
        max_sessions: config.audit.max_sessions,
    }
}

fn open_audit(config: &Config, screen: &Screen) -> Option<AuditLog> {
    let settings = audit_settings(config);
    let secrets: Vec<String> = config.llm.openai.api_key.iter().cloned().collect();
    match AuditLog::open(&settings, &crate::audit::new_session_id(), secrets) {
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
        TurnEnd::Failed(e) => {
            ui.info(&format!(
                "goshi: error: {}",
                super::reliability::error_text(e)
            ));
            exit_code(e)
        }
    }
}

/// The exit code of a failed request: 2 without credentials, 3 when nothing was sent
/// because the circuit is open, else 1.
fn exit_code(e: &crate::llm::LlmError) -> ExitCode {
    match e.kind {
        ErrorKind::MissingCredentials => ExitCode::from(2),
        ErrorKind::CircuitOpen => ExitCode::from(super::EXIT_REFUSED),
        _ => ExitCode::FAILURE,
    }
}

const HELP: &str =
    "commands: /help  /tokens (session token totals)  /clear (forget the conversation)  /quit\n\
Ctrl-C stops an answer; Ctrl-C or Ctrl-D at the prompt quits.";

fn repl(
    rt: &tokio::runtime::Runtime,
    session: &mut ChatSession,
    screen: &Screen,
    ui: &mut TerminalUi,
    interrupt: &mut agent::Interrupt,
    greeting: Option<&str>,
) -> ExitCode {
    let mut editor = match rustyline::DefaultEditor::new() {
        Ok(e) => e,
        Err(e) => {
            screen.error(&format!("could not start line editing: {e}"), None);
            return ExitCode::FAILURE;
        }
    };
    if let Some(g) = greeting {
        let _ = screen.out_line(g);
    }
    loop {
        screen.before_input();
        let line = match editor.readline("> ") {
            Ok(l) => l,
            Err(
                rustyline::error::ReadlineError::Interrupted | rustyline::error::ReadlineError::Eof,
            ) => return ExitCode::SUCCESS,
            Err(e) => {
                screen.error(&format!("reading input failed: {e}"), None);
                return ExitCode::FAILURE;
            }
        };
        let input = line.trim();
        if input.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(input);
        match input {
            "/quit" | "/exit" | "/q" => return ExitCode::SUCCESS,
            "/help" | "/?" => {
                let _ = screen.out_line(HELP);
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
            "/clear" => {
                session.clear();
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
