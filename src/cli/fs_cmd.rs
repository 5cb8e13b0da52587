//! `goshi fs ...`: the user's side of the file tools: list, read, propose, review, apply.
//!
//! The same path guard and proposal store as the model's tools are used, so the CLI can do
//! nothing the tools could not, except applying a proposal, which needs the user's consent:
//! a y/N answer on a terminal, or both `--yes` and `--dry-run=false` (for scripts).

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::palette::Palette;
use super::terminal::Screen;
use crate::safety::proposals::{self, ApplyOptions, ApplyOutcome, Proposal, MAX_FILE_BYTES};
use crate::safety::{PathGuard, ToolError};
use crate::tools::fs as fs_tools;

/// The `goshi fs` subcommands.
#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum FsCommand {
    /// List a directory (default: the repository root)
    List {
        /// Directory, relative to the repository root
        path: Option<String>,
    },
    /// Print a text file
    Read {
        /// File, relative to the repository root
        path: String,
    },
    /// Create a proposal from stdin content (the file is not changed)
    Write {
        /// File to create or replace, relative to the repository root
        path: String,
    },
    /// List stored proposals
    Proposals,
    /// Show a proposal and its diff against the current file
    Show {
        /// Proposal id (a unique prefix is enough)
        id: String,
    },
    /// Apply a proposal: on a terminal shows the diff and asks y/N; elsewhere (or with --dry-run)
    /// only shows what would change unless given --yes --dry-run=false
    Apply {
        /// Proposal id (a unique prefix is enough)
        id: String,
        /// Confirm applying the proposal
        #[arg(long)]
        yes: bool,
        /// Apply a proposal that was not made by goshi on this machine (one that came with
        /// the repository); review it with `goshi fs show` first
        #[arg(long)]
        foreign: bool,
        /// Only show what would change (the default off a terminal; pass --dry-run=false
        /// with --yes to write without being asked)
        #[arg(
            long,
            action = clap::ArgAction::Set,
            num_args = 0..=1,
            default_missing_value = "true"
        )]
        dry_run: Option<bool>,
    },
    /// Delete a proposal without applying it (the file is not changed)
    Discard {
        /// Proposal id (a unique prefix is enough)
        id: String,
    },
}

/// What `goshi fs` needs from the configuration.
#[derive(Debug, Clone)]
pub struct FsEnv {
    /// The repository root (`behavior.repo_root`, or the current directory).
    pub repo_root: PathBuf,
    /// Back up files before applying proposals (`safety.auto_backup_on_write`).
    pub auto_backup: bool,
    /// Where proposals made and applied from the CLI are recorded (None: not recorded).
    pub audit: Option<crate::audit::AuditSettings>,
}

impl FsEnv {
    /// The settings of `config`.
    pub fn from_config(config: &crate::config::Config) -> Self {
        FsEnv {
            repo_root: config.repo_root.clone(),
            auto_backup: config.safety.auto_backup_on_write,
            audit: Some(super::chat::audit_settings(config)),
        }
    }
}

/// Records one event of this command in an audit file of its own. The audit trail is
/// best-effort here: a failure to open it is reported, never fatal.
fn record(env: &FsEnv, event: crate::audit::AuditEvent) {
    let Some(settings) = &env.audit else { return };
    let secrets: Vec<String> = std::env::var("OPENAI_API_KEY").ok().into_iter().collect();
    let warnings = crate::audit::Warnings::new(|w| Screen::stdio().warning(w));
    let id = crate::audit::new_session_id();
    match crate::audit::AuditLog::open(settings, &id, secrets, warnings) {
        Ok(log) => log.record(event),
        Err(e) => Screen::stdio().warning(&format!("could not write the audit trail: {e}")),
    }
}

/// Runs one fs command; prints results to stdout and errors to stderr as `goshi: error: ...`
/// with a hint; returns the exit code (0 ok, 1 failure, 2 usage).
pub fn run(cmd: &FsCommand, env: &FsEnv) -> ExitCode {
    let stdin = io::stdin();
    let stdin_tty = stdin.is_terminal();
    let screen = Screen::stdio();
    let asker = screen.clone();
    let mut ask = move |q: &str| super::terminal::confirm(&asker, q);
    // Only a person at a terminal is asked; a pipe never reads as consent.
    let interactive = stdin_tty && screen.stdout_is_terminal();
    let code = run_with(
        cmd,
        env,
        &mut Io {
            // Not locked for the whole command: `ask` may read the terminal too.
            stdin: &mut io::stdin(),
            stdin_tty,
            out: &mut screen.out_writer(),
            err: &mut screen.err_writer(),
            ask: if interactive { Some(&mut ask) } else { None },
            palette: screen.out_palette(),
        },
    );
    ExitCode::from(code)
}

/// Asks the user a y/N question; `true` only for an explicit yes.
pub(crate) type Ask<'a> = &'a mut dyn FnMut(&str) -> bool;

/// The streams a command uses (replaceable in tests).
pub(crate) struct Io<'a> {
    pub(crate) stdin: &'a mut dyn Read,
    pub(crate) stdin_tty: bool,
    pub(crate) out: &'a mut dyn Write,
    pub(crate) err: &'a mut dyn Write,
    /// Asks the user (None: no person to ask, e.g. on a pipe).
    pub(crate) ask: Option<Ask<'a>>,
    /// Colours for `out` (diffs).
    pub(crate) palette: Palette,
}

/// A failure: the message, a hint, and the exit code.
struct Failure {
    message: String,
    hint: String,
    code: u8,
}

impl From<ToolError> for Failure {
    fn from(e: ToolError) -> Self {
        let code = match e {
            ToolError::InvalidProposalId { .. } => 2,
            _ => 1,
        };
        Failure {
            hint: hint_for(&e),
            message: e.to_string(),
            code,
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure {
            message: format!("could not write the output: {e}"),
            hint: "check that the output is not a closed pipe or a full disk".into(),
            code: 1,
        }
    }
}

/// [`run`] with explicit streams; returns the exit code.
pub(crate) fn run_with(cmd: &FsCommand, env: &FsEnv, io: &mut Io<'_>) -> u8 {
    match dispatch(cmd, env, io) {
        Ok(()) => 0,
        Err(f) => {
            // Nothing more can be done if stderr itself fails.
            let _ = writeln!(io.err, "goshi: error: {}\nhint: {}", f.message, f.hint);
            f.code
        }
    }
}

fn dispatch(cmd: &FsCommand, env: &FsEnv, io: &mut Io<'_>) -> Result<(), Failure> {
    let root = &env.repo_root;
    match cmd {
        FsCommand::List { path } => {
            let guard = PathGuard::new(root)?;
            let listing = fs_tools::list(&guard, path.as_deref().unwrap_or("."))?;
            write!(io.out, "{}", listing.render())?;
        }
        FsCommand::Read { path } => {
            let guard = PathGuard::new(root)?;
            let file = fs_tools::read(&guard, path)?;
            io.out.write_all(file.text.as_bytes())?;
            for note in file.notes() {
                writeln!(io.err, "goshi: note: {note}")?;
            }
        }
        FsCommand::Write { path } => write_cmd(path, env, io)?,
        FsCommand::Proposals => proposals_cmd(env, io)?,
        FsCommand::Show { id } => show_cmd(id, env, io)?,
        FsCommand::Apply {
            id,
            yes,
            foreign,
            dry_run,
        } => {
            let opts = ApplyOptions {
                yes: *yes,
                dry_run: dry_run.unwrap_or(true),
                backup: env.auto_backup,
                foreign: *foreign,
            };
            // Asked only when no flag says what to do: --dry-run alone still only previews.
            if !*yes && dry_run.is_none() && io.ask.is_some() {
                apply_asking(id, opts, env, io)?;
            } else {
                apply_cmd(id, opts, env, io)?;
            }
        }
        FsCommand::Discard { id } => discard_cmd(id, env, io)?,
    }
    Ok(())
}

fn write_cmd(path: &str, env: &FsEnv, io: &mut Io<'_>) -> Result<(), Failure> {
    if io.stdin_tty {
        return Err(Failure {
            message: "`goshi fs write` reads the new content from stdin, but stdin is a terminal"
                .into(),
            hint: format!("pipe the content in, e.g. `cat new.txt | goshi fs write {path}`"),
            code: 2,
        });
    }
    let mut bytes = Vec::new();
    io.stdin
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure {
            message: format!("could not read the new content from stdin: {e}"),
            hint: "pipe the content in, e.g. `cat new.txt | goshi fs write PATH`".into(),
            code: 1,
        })?;
    let content = String::from_utf8(bytes).map_err(|_| Failure {
        message: "the content on stdin is not valid UTF-8 text; nothing was proposed".into(),
        hint: "proposals hold text files only; convert the content to UTF-8 first".into(),
        code: 1,
    })?;
    let created = proposals::create(&env.repo_root, path, &content)?;
    let p = &created.proposal;
    record(
        env,
        crate::audit::AuditEvent::new(crate::audit::EventType::ProposalCreated)
            .tool("fs.write")
            .args(serde_json::json!({"path": p.path}))
            .outcome(p.id.clone()),
    );
    writeln!(
        io.out,
        "Stored proposal {} for {:?} (the file has not been changed).",
        p.id, p.path
    )?;
    write_diff(io, &created.diff)?;
    writeln!(io.out, "Review it:  goshi fs show {}", p.short_id())?;
    writeln!(io.out, "Apply it:   {}", apply_command(p, true))?;
    Ok(())
}

fn proposals_cmd(env: &FsEnv, io: &mut Io<'_>) -> Result<(), Failure> {
    let all = proposals::list(&env.repo_root)?;
    if all.is_empty() {
        writeln!(
            io.out,
            "No proposals. `goshi fs write PATH` (or the model's fs.write tool) creates them."
        )?;
        return Ok(());
    }
    writeln!(
        io.out,
        "{:<12}  {:<16}  {:<20}  PATH",
        "ID", "STATUS", "CREATED"
    )?;
    let mut foreign = 0;
    for p in &all {
        let status = if proposals::made_here(&env.repo_root, p) {
            p.status().to_string()
        } else {
            foreign += 1;
            format!("{} FOREIGN", p.status())
        };
        writeln!(
            io.out,
            "{:<12}  {:<16}  {:<20}  {}",
            p.short_id(),
            status,
            crate::text::one_line(&p.created_at, 40),
            crate::text::one_line(&p.path, 200)
        )?;
    }
    if foreign > 0 {
        writeln!(
            io.out,
            "\nFOREIGN: not made by goshi on this machine (it may have come with the repository); \
             review it with `goshi fs show ID`; applying it needs --foreign."
        )?;
    }
    Ok(())
}

fn show_cmd(id: &str, env: &FsEnv, io: &mut Io<'_>) -> Result<(), Failure> {
    let root = &env.repo_root;
    let p = proposals::load(root, id)?;
    let diff = proposals::diff(root, &p)?;
    let made_here = proposals::made_here(root, &p);
    if !made_here {
        writeln!(io.out, "{}", super::fs_review::foreign_warning(&p))?;
    }
    writeln!(io.out, "proposal  {}", p.id)?;
    writeln!(io.out, "path      {}", crate::text::one_line(&p.path, 200))?;
    // The times are not covered by the id: shown escaped, like the path.
    writeln!(
        io.out,
        "created   {}",
        crate::text::one_line(&p.created_at, 40)
    )?;
    match &p.applied_at {
        Some(at) => writeln!(
            io.out,
            "status    applied at {}",
            crate::text::one_line(at, 40)
        )?,
        None => writeln!(io.out, "status    pending")?,
    }
    if p.base_sha256 == proposals::ABSENT {
        writeln!(io.out, "base      (the file did not exist)")?;
    } else {
        writeln!(io.out, "base      sha256 {}", p.base_sha256)?;
    }
    writeln!(io.out, "\nDiff against the current file:")?;
    write_diff(io, &diff)?;
    if p.applied_at.is_none() {
        writeln!(io.out, "Apply it:  {}", apply_command(&p, made_here))?;
    }
    Ok(())
}

fn apply_cmd(id: &str, opts: ApplyOptions, env: &FsEnv, io: &mut Io<'_>) -> Result<(), Failure> {
    apply_showing(id, opts, env, io, true)
}

/// [`apply_cmd`] without repeating the diff (the user has just seen it).
fn apply_cmd_quiet(
    id: &str,
    opts: ApplyOptions,
    env: &FsEnv,
    io: &mut Io<'_>,
) -> Result<(), Failure> {
    apply_showing(id, opts, env, io, false)
}

fn apply_showing(
    id: &str,
    opts: ApplyOptions,
    env: &FsEnv,
    io: &mut Io<'_>,
    show_diff: bool,
) -> Result<(), Failure> {
    match proposals::apply(&env.repo_root, id, opts)? {
        ApplyOutcome::Preview { proposal, diff } => {
            let made_here = proposals::made_here(&env.repo_root, &proposal);
            if !made_here {
                writeln!(io.out, "{}", super::fs_review::foreign_warning(&proposal))?;
            }
            write_diff(io, &diff)?;
            writeln!(
                io.out,
                "Dry run: nothing was written (missing: {}).\nTo apply proposal {} to {:?}, run:\n  {}",
                opts.missing_flags().join(" "),
                proposal.short_id(),
                proposal.path,
                apply_command(&proposal, made_here)
            )?;
        }
        ApplyOutcome::Applied {
            proposal,
            diff,
            backup,
        } => {
            record(
                env,
                crate::audit::AuditEvent::new(crate::audit::EventType::ProposalApplied)
                    .args(serde_json::json!({"path": proposal.path}))
                    .outcome(proposal.id.clone())
                    .detail(serde_json::json!({"backup": backup})),
            );
            if show_diff {
                write_diff(io, &diff)?;
            }
            writeln!(
                io.out,
                "Applied proposal {} to {:?}.",
                proposal.short_id(),
                proposal.path
            )?;
            if let Some(b) = backup {
                writeln!(io.out, "The previous version was saved to {b}")?;
            }
        }
    }
    Ok(())
}

/// Shows the diff, asks y/N, and applies only on yes.
fn apply_asking(id: &str, opts: ApplyOptions, env: &FsEnv, io: &mut Io<'_>) -> Result<(), Failure> {
    let preview = ApplyOptions {
        yes: false,
        dry_run: true,
        ..opts
    };
    let ApplyOutcome::Preview { proposal, diff } = proposals::apply(&env.repo_root, id, preview)?
    else {
        return Ok(());
    };
    if !proposals::made_here(&env.repo_root, &proposal) {
        writeln!(io.out, "{}", super::fs_review::foreign_warning(&proposal))?;
    }
    write_diff(io, &diff)?;
    io.out.flush()?;
    let question = format!(
        "Apply proposal {} to {}? [y/N] ",
        proposal.short_id(),
        crate::text::one_line(&proposal.path, 200)
    );
    let yes = io.ask.as_mut().is_some_and(|ask| ask(&question));
    if !yes {
        writeln!(io.out, "Not applied; nothing was written.")?;
        return Ok(());
    }
    let confirmed = ApplyOptions {
        yes: true,
        dry_run: false,
        ..opts
    };
    // The diff was just shown: the applied one is not repeated.
    apply_cmd_quiet(&proposal.id, confirmed, env, io)
}

fn discard_cmd(id: &str, env: &FsEnv, io: &mut Io<'_>) -> Result<(), Failure> {
    let p = proposals::discard(&env.repo_root, id)?;
    record(
        env,
        crate::audit::AuditEvent::new(crate::audit::EventType::ProposalDiscarded)
            .args(serde_json::json!({"path": p.path}))
            .outcome(p.id.clone()),
    );
    writeln!(
        io.out,
        "Discarded proposal {} for {:?} (the file was not changed).",
        p.short_id(),
        p.path
    )?;
    Ok(())
}

fn write_diff(io: &mut Io<'_>, diff: &str) -> io::Result<()> {
    super::fs_review::write_diff(&mut *io.out, diff, io.palette)
}

/// The exact command that applies `p` (with `--foreign` when it was not made here).
fn apply_command(p: &Proposal, made_here: bool) -> String {
    let foreign = if made_here { "" } else { " --foreign" };
    format!("goshi fs apply {} --yes --dry-run=false{foreign}", p.id)
}

/// What to do about an error, for the `hint:` line.
fn hint_for(e: &ToolError) -> String {
    match e {
        ToolError::PathRefused { .. } => {
            "paths are relative to the repository root and must stay inside it".into()
        }
        ToolError::NotFound { .. } => "run `goshi fs list` to see what is there".into(),
        ToolError::NotADirectory { path } => format!("run `goshi fs read {path}` to read it"),
        ToolError::IsADirectory { path } => format!("run `goshi fs list {path}` to list it"),
        ToolError::Binary { .. } | ToolError::NotARegularFile { .. } => {
            "open it with a program made for that kind of file".into()
        }
        ToolError::InvalidProposalId { .. }
        | ToolError::ProposalNotFound { .. }
        | ToolError::AmbiguousProposalId { .. } => "run `goshi fs proposals` to see the ids".into(),
        ToolError::Drift { path, .. } => {
            format!("run `goshi fs show ID` to compare, then propose the change to {path:?} again")
        }
        ToolError::ForeignProposal { id, .. } => format!(
            "review it with `goshi fs show {id}`; if you trust it, run \
             `goshi fs apply {id} --yes --dry-run=false --foreign`"
        ),
        ToolError::AlreadyApplied { .. } => {
            "nothing to do; `goshi fs proposals` lists the pending proposals".into()
        }
        ToolError::CorruptProposal { .. } => {
            "delete the damaged file under .goshi/proposals/ and propose the change again".into()
        }
        ToolError::Io { .. } => "check that the path exists and that you may access it".into(),
        ToolError::UnknownTool { .. } | ToolError::InvalidArguments { .. } => {
            "run `goshi fs --help` for usage".into()
        }
    }
}

#[cfg(test)]
#[path = "fs_cmd_tests.rs"]
mod tests;
