//! Saving and resuming conversations from `goshi chat`: `--continue`, `--session NAME`,
//! `--no-save` and `sessions.save` (the store itself is [`crate::sessions`]).

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use crate::agent::ChatSession;
use crate::config::Config;
use crate::sessions::{self, Meta, Recorder, Store};

use super::terminal::Screen;

/// What `goshi chat` was asked to do with saved conversations.
#[derive(Debug, Clone, Default)]
pub struct Wanted<'a> {
    /// `--continue`: the latest conversation of this repository.
    pub resume_latest: bool,
    /// `--session NAME`: that conversation, created when new.
    pub name: Option<&'a str>,
    /// `--no-save`.
    pub no_save: bool,
}

/// The conversation being saved, shared with the chat loop's recorder.
pub type Shared = Arc<Mutex<Recorder>>;

/// Loads the conversation asked for into `session` and starts saving it (unless saving is
/// off). `Err` has told the user; it is the exit code.
pub fn attach(
    wanted: &Wanted,
    config: &Config,
    provider: &str,
    session: &mut ChatSession,
    screen: &Screen,
) -> Result<Option<(Store, Shared)>, ExitCode> {
    let save = config.sessions.save && !wanted.no_save;
    let Some(store) = Store::user() else {
        if save {
            screen.warning("no user data dir: this conversation is not saved");
        }
        return Ok(None);
    };
    let repo = &config.repo_root;
    let resumed = match (wanted.name, wanted.resume_latest) {
        (Some(name), _) => match store.load(name) {
            Ok(c) => Some(c),
            Err(sessions::SessionError::NotFound(_)) => None,
            Err(e) => return Err(fail(&e.to_string(), None, screen)),
        },
        (None, true) => Some(latest(&store, repo, screen)?),
        (None, false) => None,
    };
    if let Some(c) = &resumed {
        if c.skipped > 0 {
            screen.warning(&format!(
                "{} line(s) of conversation {} could not be read (a crash mid-write?) and were left out",
                c.skipped, c.id
            ));
        }
        screen.notice(&format!(
            "continuing conversation {} ({} messages, last model {})",
            crate::text::sanitize::line(&c.id),
            c.messages.len(),
            crate::text::sanitize::line(&c.last_model)
        ));
        session.resume(c.messages.clone());
    }
    if !save {
        return Ok(None);
    }
    let recorder = match &resumed {
        Some(c) => store.resume(&c.id),
        None => store.create(
            wanted.name,
            Meta {
                kind: "meta".into(),
                repo: repo.clone(),
                name: None,
                created: sessions::now_rfc3339(),
                provider: provider.into(),
                model: session.model().into(),
            },
        ),
    }
    .map_err(|e| fail(&e.to_string(), None, screen))?;
    let shared = Arc::new(Mutex::new(recorder));
    let for_session = shared.clone();
    let warn = screen.clone();
    let mut warned = false;
    session.set_recorder(Box::new(move |message, model| {
        let result = match for_session.lock() {
            Ok(mut r) => r.record(message, model),
            Err(_) => return,
        };
        if let Err(e) = result {
            if !warned {
                warned = true;
                warn.warning(&format!("{e}; the rest of this conversation is not saved"));
            }
        }
    }));
    Ok(Some((store, shared)))
}

fn latest(store: &Store, repo: &Path, screen: &Screen) -> Result<sessions::Conversation, ExitCode> {
    let found = store
        .latest_for(repo)
        .map_err(|e| fail(&e.to_string(), None, screen))?;
    let Some(summary) = found else {
        return Err(fail(
            &format!(
                "no saved conversation for this repository ({})",
                repo.display()
            ),
            Some("start one with goshi chat; `goshi sessions list` shows the saved ones"),
            screen,
        ));
    };
    store
        .load(&summary.id)
        .map_err(|e| fail(&e.to_string(), None, screen))
}

fn fail(message: &str, hint: Option<&str>, screen: &Screen) -> ExitCode {
    screen.error(message, hint);
    ExitCode::from(2)
}

/// `/save NAME` in the REPL: names the conversation being saved.
pub fn save_as(saving: Option<&(Store, Shared)>, name: &str, screen: &Screen) {
    let Some((store, shared)) = saving else {
        screen.warning("saving is off for this session (--no-save or sessions.save: false)");
        return;
    };
    let result = match shared.lock() {
        Ok(mut r) => r.rename(store, name),
        Err(_) => return,
    };
    match result {
        Ok(()) => {
            let _ = screen.out_line(&format!(
                "(saved as {name}; resume it with goshi chat --session {name})"
            ));
        }
        Err(e) => screen.error(&e.to_string(), None),
    }
}

/// `/clear` in the REPL: later messages start a new saved conversation.
pub fn restart(saving: Option<&(Store, Shared)>, model: &str) {
    if let Some((store, shared)) = saving {
        if let Ok(mut r) = shared.lock() {
            r.restart(store, model);
        }
    }
}
