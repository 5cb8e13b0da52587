//! The command line: flags, subcommands, and exit codes.
//!
//! Exit codes: 0 success, 1 failure, 2 usage or configuration error, 3 refused before
//! sending ([`EXIT_REFUSED`]), 130 interrupted.

pub mod audit_cmd;
pub mod backend;
mod chat;
mod config_cmd;
mod conversation;
mod doctor;
pub mod fs_cmd;
mod fs_review;
pub mod hints;
mod models_cmd;
pub mod palette;
pub mod reliability;
pub mod render;
mod repl_cmds;
mod repl_input;
mod sessions_cmd;
mod shell;
pub mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter};

use crate::config::{self, Config, EnvVars, Overrides};
use terminal::Screen;

/// Exit code: the request was refused before anything was sent (an open circuit breaker,
/// or a budget that the request could exceed).
pub const EXIT_REFUSED: u8 = 3;

/// goshi: a local-first, safety-minded AI assistant for the terminal.
#[derive(Parser, Debug)]
#[command(name = "goshi", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command accepts, before or after the subcommand. Listed under their own
/// heading in every `--help`, after the command's own options.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Configuration file (default: ./goshi.yaml, then the user config dir)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Model provider: ollama, openai or auto
    #[arg(long, global = true, value_name = "P", add = ArgValueCandidates::new(|| candidates(&["ollama", "openai", "auto"])))]
    pub provider: Option<String>,
    /// Model name (overrides llm.model and GOSHI_MODEL)
    #[arg(long, global = true, value_name = "M", add = ArgValueCompleter::new(shell::complete_model))]
    pub model: Option<String>,
    /// Server base URL for the chosen provider (e.g. http://127.0.0.1:8080/v1)
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// OpenAI wire protocol: chat, responses or auto
    #[arg(long, global = true, value_name = "API", add = ArgValueCandidates::new(|| candidates(&["chat", "responses", "auto"])))]
    pub api: Option<String>,
    /// More diagnostics on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Colour: auto (on a terminal; NO_COLOR, CLICOLOR_FORCE and TERM=dumb are honoured), always or never
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: palette::ColorChoice,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Chat with the model: one-shot with a prompt (or stdin), else an interactive REPL
    Chat(chat::ChatArgs),
    /// Files: list, read, propose writes, review and apply proposals
    Fs {
        #[command(subcommand)]
        cmd: fs_cmd::FsCommand,
    },
    /// Read the audit trail
    Audit(audit_cmd::AuditArgs),
    /// List the models the provider offers
    Models(models_cmd::ModelsArgs),
    /// Check the setup: config, self-model, provider, key, model, audit dir
    Doctor(doctor::DoctorArgs),
    /// Show the configuration
    Config {
        #[command(subcommand)]
        cmd: config_cmd::ConfigCommand,
    },
    /// Print goshi's version
    Version,
    /// Saved conversations: list, show, rm
    Sessions {
        #[command(subcommand)]
        cmd: sessions_cmd::SessionsCommand,
    },
    /// Print a shell's completion script (bash, zsh, fish, powershell)
    Completions(shell::CompletionsArgs),
    /// Print goshi's manual page (roff; e.g. goshi man > goshi.1)
    Man,
}

/// Completion candidates for a flag with a fixed set of values.
fn candidates(values: &[&str]) -> Vec<clap_complete::engine::CompletionCandidate> {
    values
        .iter()
        .map(|v| clap_complete::engine::CompletionCandidate::new(*v))
        .collect()
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    shell::complete_if_asked();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    palette::set_choice(cli.global.color);
    init_tracing(cli.global.verbose);
    match &cli.command {
        Command::Version => {
            match Screen::stdio().out_line(&format!("goshi {}", env!("CARGO_PKG_VERSION"))) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            }
        }
        Command::Completions(args) => shell::completions(args),
        Command::Sessions { cmd } => sessions_cmd::run(cmd),
        Command::Man => shell::man(),
        Command::Chat(args) => with_config(&cli.global, |c| chat::run(args, c)),
        Command::Fs { cmd } => with_config(&cli.global, |c| {
            fs_cmd::run(cmd, &fs_cmd::FsEnv::from_config(c))
        }),
        Command::Audit(args) => with_config(&cli.global, |c| audit_cmd::run(args, &c.audit.dir)),
        Command::Models(args) => with_config(&cli.global, |c| models_cmd::run(args, c)),
        Command::Doctor(args) => doctor::run(args, &cli.global),
        Command::Config {
            cmd: config_cmd::ConfigCommand::Path,
        } => config_cmd::path(&overrides(&cli.global), &EnvVars::from_process()),
        Command::Config { cmd } => with_config(&cli.global, |c| config_cmd::run(cmd, c)),
    }
}

/// The overrides from the global flags.
pub fn overrides(g: &GlobalArgs) -> Overrides {
    Overrides {
        config: g.config.clone(),
        provider: g.provider.clone(),
        model: g.model.clone(),
        base_url: g.base_url.clone(),
        api: g.api.clone(),
    }
}

fn with_config(g: &GlobalArgs, f: impl FnOnce(&Config) -> ExitCode) -> ExitCode {
    match config::load(&overrides(g), &EnvVars::from_process()) {
        Ok(c) => {
            let screen = Screen::stdio();
            for w in &c.warnings {
                screen.warning(w);
            }
            f(&c)
        }
        Err(e) => {
            config_error(&e);
            ExitCode::from(2)
        }
    }
}

/// Prints each problem of a configuration error on its own line, then one hint.
fn config_error(e: &config::ConfigError) {
    let screen = Screen::stdio();
    let problems: Vec<_> = e.all().collect();
    let last = problems.len().saturating_sub(1);
    for (i, p) in problems.iter().enumerate() {
        let line = format!("invalid configuration: {}: {}", p.key, p.message);
        let hint = (i == last).then_some(
            "see README, section Configuration; `goshi config path` shows where goshi looks",
        );
        screen.error(&line, hint);
    }
}

/// Prints `goshi: error: ...` (and a hint) on stderr, through the process's [`Screen`].
pub fn error(message: &str, hint: Option<&str>) {
    Screen::stdio().error(message, hint);
}

/// A single-threaded runtime, built only by the commands that talk to a server.
pub fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            error(&format!("could not start the async runtime: {e}"), None);
            None
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "goshi=info",
        _ => "goshi=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GOSHI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
