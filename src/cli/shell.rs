//! Shell integration: `goshi completions SHELL` and `goshi man`.
//!
//! Completions are clap_complete's dynamic ones: the script a shell sources only registers
//! goshi, and each Tab runs `GOSHI_COMPLETE=SHELL goshi -- WORDS…`, which answers from the
//! same clap definition the parser uses (so completions never drift from the flags) and can
//! complete values no static script knows, such as the models the configured provider serves.

use std::ffi::OsStr;
use std::io::Read;
use std::process::{Command as Process, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, CommandFactory};
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::Shells;

use super::terminal::Screen;
use super::Cli;

/// The environment variable that turns a goshi run into a completion request.
pub const COMPLETE_VAR: &str = "GOSHI_COMPLETE";

/// How long completing `--model` waits for the provider's model list before offering none.
const MODEL_LIST_BUDGET: Duration = Duration::from_secs(3);

/// `goshi completions` arguments.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell (or elvish)
    #[arg(value_name = "SHELL")]
    pub shell: String,
}

/// Answers a completion request (`GOSHI_COMPLETE=SHELL goshi -- …`) and exits; returns at once
/// on an ordinary run. Must run before anything is written to stdout.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(COMPLETE_VAR)
        .complete();
}

/// `goshi completions SHELL`: prints the script that registers goshi's completions.
pub fn completions(args: &CompletionsArgs) -> ExitCode {
    let shells = Shells::builtins();
    let Some(shell) = shells.completer(&args.shell) else {
        let known: Vec<&str> = shells.names().collect();
        super::error(
            &format!("no completions for the shell {:?}", args.shell),
            Some(&format!("use one of: {}", known.join(", "))),
        );
        return ExitCode::from(2);
    };
    let mut script = Vec::new();
    if let Err(e) = shell.write_registration(COMPLETE_VAR, "goshi", "goshi", "goshi", &mut script) {
        super::error(&format!("could not write the completion script: {e}"), None);
        return ExitCode::FAILURE;
    }
    write_stdout(&script)
}

/// `goshi man`: prints goshi's manual page (roff) to stdout.
pub fn man() -> ExitCode {
    let mut page = Vec::new();
    if let Err(e) = clap_mangen::Man::new(Cli::command()).render(&mut page) {
        super::error(&format!("could not render the manual page: {e}"), None);
        return ExitCode::FAILURE;
    }
    write_stdout(&page)
}

fn write_stdout(bytes: &[u8]) -> ExitCode {
    match Screen::stdio().out(&String::from_utf8_lossy(bytes)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            super::error(&format!("could not write to stdout: {e}"), None);
            ExitCode::FAILURE
        }
    }
}

/// Completes `--model` with the names the configured provider serves: runs
/// `goshi models --format json` (this same binary, so the user's config, environment and
/// provider choice apply) and offers the names that start with what was typed. A provider that
/// is down or slow yields no candidates rather than a hanging Tab.
pub fn complete_model(current: &OsStr) -> Vec<CompletionCandidate> {
    let Some(typed) = current.to_str() else {
        return Vec::new();
    };
    model_names()
        .into_iter()
        .filter(|name| name.starts_with(typed))
        .map(CompletionCandidate::new)
        .collect()
}

/// The model names of `goshi models --format json`, or none within [`MODEL_LIST_BUDGET`].
fn model_names() -> Vec<String> {
    let Ok(exe) = std::env::current_exe() else {
        return Vec::new();
    };
    let Ok(mut child) = Process::new(exe)
        .args(["models", "--format", "json"])
        .env_remove(COMPLETE_VAR)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return Vec::new();
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < MODEL_LIST_BUDGET => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Vec::new();
            }
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        // The list of a provider's models is small; cap it so a broken one cannot flood us.
        let _ = stdout.by_ref().take(4 << 20).read_to_string(&mut out);
    }
    names_from_models_json(&out)
}

/// The `name` of each entry of `goshi models --format json`'s `models` array.
fn names_from_models_json(json: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    value
        .get("models")
        .and_then(|m| m.as_array())
        .map(|models| {
            models
                .iter()
                .filter_map(|m| m.get("name").and_then(|n| n.as_str()))
                // A name with control characters or spaces would break the shell's list.
                .filter(|n| !n.is_empty() && !n.chars().any(|c| c.is_control() || c == ' '))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_come_from_the_models_json_and_odd_names_are_dropped() {
        let json = r#"{"provider":"openai","models":[{"name":"gpt-a","configured":true},
            {"name":"gpt-b"},{"name":"bad\u001b[2Jname"},{"name":"has space"},{"name":""},{"x":1}]}"#;
        assert_eq!(names_from_models_json(json), vec!["gpt-a", "gpt-b"]);
        assert!(names_from_models_json("not json").is_empty());
        assert!(names_from_models_json(r#"{"models":"x"}"#).is_empty());
    }

    #[test]
    fn every_shell_the_docs_name_has_a_completer() {
        for shell in ["bash", "zsh", "fish", "powershell"] {
            assert!(Shells::builtins().completer(shell).is_some(), "{shell}");
        }
    }
}
