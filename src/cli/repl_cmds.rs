//! The REPL's proposal commands, closing the loop on what the model proposed without leaving
//! the chat: `/proposals`, `/show ID`, `/apply ID` (shows the diff, asks y/N), `/discard ID`.
//! They run the same code as `goshi fs proposals|show|apply|discard`, audited the same way.

use std::io::IsTerminal;

use super::fs_cmd::{self, FsCommand, FsEnv, Io};
use super::terminal::{self, Screen};

/// The help lines for these commands.
pub(crate) const HELP: &str =
    "/proposals (list write proposals)  /show ID (a proposal and its diff)  \
/apply ID (asks y/N)  /discard ID";

/// Runs `input` if it is one of these commands; returns false when it is not.
pub(crate) fn try_run(input: &str, env: &FsEnv, screen: &Screen) -> bool {
    let mut words = input.split_whitespace();
    let name = words.next().unwrap_or_default();
    let id = words.next();
    let cmd = match (name, id) {
        ("/proposals", _) => FsCommand::Proposals,
        ("/show", Some(id)) => FsCommand::Show { id: id.into() },
        ("/apply", Some(id)) => FsCommand::Apply {
            id: id.into(),
            yes: false,
            foreign: false,
            dry_run: None,
        },
        ("/discard", Some(id)) => FsCommand::Discard { id: id.into() },
        ("/show" | "/apply" | "/discard", None) => {
            screen.line(&format!(
                "usage: {name} ID (a unique prefix is enough; /proposals lists them)"
            ));
            return true;
        }
        _ => return false,
    };
    run(&cmd, env, screen);
    true
}

fn run(cmd: &FsCommand, env: &FsEnv, screen: &Screen) {
    let stdin_tty = std::io::stdin().is_terminal();
    let asker = screen.clone();
    let mut ask = move |q: &str| terminal::confirm(&asker, q);
    let interactive = stdin_tty && screen.stdout_is_terminal();
    // The exit code is for `goshi fs`; in the REPL the message on stderr says it all.
    let _ = fs_cmd::run_with(
        cmd,
        env,
        &mut Io {
            // No REPL command reads content from stdin; the y/N answer is read by `ask`.
            stdin: &mut std::io::empty(),
            stdin_tty,
            out: &mut screen.out_writer(),
            err: &mut screen.err_writer(),
            ask: if interactive { Some(&mut ask) } else { None },
            palette: screen.out_palette(),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_input_is_left_to_the_chat() {
        let (screen, c) = Screen::captured();
        let env = FsEnv {
            repo_root: std::env::temp_dir(),
            auto_backup: false,
            audit: None,
        };
        assert!(!try_run("/tokens", &env, &screen));
        assert!(!try_run("/showx 12", &env, &screen));
        assert!(try_run("/apply", &env, &screen));
        assert!(c.stderr().contains("usage: /apply ID"), "{}", c.stderr());
    }
}
