//! Conversations that last: each chat is saved as it happens, one JSONL file per
//! conversation in the user data dir (`goshi/conversations/ID.jsonl`), so that
//! `goshi chat --continue` or `--session NAME` can resume it, with any model or provider (the
//! history is provider-neutral [`Message`]s).
//!
//! The first line describes the conversation (`kind: meta`); each later line is one message
//! (`kind: message`), written as soon as the chat loop adds it, so a crash of goshi loses at
//! most the message in flight. A torn last line (a crash mid-write) is skipped on reading.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::llm::Message;

/// The longest conversation name accepted.
const MAX_NAME: usize = 64;

/// What the first line of a conversation file says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Always `meta`.
    pub kind: String,
    /// The repository the conversation belongs to.
    pub repo: PathBuf,
    /// The name given with `--session` or `/save`, if any.
    pub name: Option<String>,
    /// When it started (RFC 3339, UTC).
    pub created: String,
    /// The provider and model it started with.
    pub provider: String,
    /// The model it started with.
    pub model: String,
}

/// One saved message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Line {
    kind: String,
    model: String,
    message: Message,
}

/// A conversation read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// Its id (the file name without `.jsonl`).
    pub id: String,
    /// Its first line.
    pub meta: Meta,
    /// The messages, oldest first (no system message: the current self-model is used).
    pub messages: Vec<Message>,
    /// The model of the last message.
    pub last_model: String,
    /// Lines that could not be read (a torn last line after a crash).
    pub skipped: usize,
}

/// A conversation as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Its id (the name when it has one).
    pub id: String,
    /// Its name, if any.
    pub name: Option<String>,
    /// The repository it belongs to.
    pub repo: PathBuf,
    /// When it started.
    pub created: String,
    /// When it last changed (seconds since the epoch).
    #[serde(skip)]
    pub modified: u64,
    /// The model of its last message.
    pub model: String,
    /// How many messages it has.
    pub messages: usize,
    /// Its first user message, on one line, cut short.
    pub title: String,
}

/// Problems with saved conversations, worded for people.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No conversation has this id or name.
    #[error("no saved conversation is named {0:?}")]
    NotFound(String),
    /// A name that cannot be a file name.
    #[error("{0:?} cannot name a conversation: use letters, digits, '.', '-' and '_' (at most 64, not starting with '.')")]
    BadName(String),
    /// The name is taken.
    #[error("a conversation named {0:?} exists already")]
    Exists(String),
    /// The file is not a conversation.
    #[error("{0} is not a goshi conversation (its first line is not one)")]
    Corrupt(PathBuf),
    /// Reading or writing failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What goshi was doing.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

fn io_err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> SessionError + 'a {
    move |source| SessionError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `name` can name a conversation (and so a file in the store).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The directory of saved conversations.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in the user data dir (`~/.local/share/goshi/conversations` on Linux).
    pub fn user() -> Option<Store> {
        dirs::data_dir().map(|d| Store::at(d.join("goshi").join("conversations")))
    }

    /// A store in `dir` (tests, embedding).
    pub fn at(dir: PathBuf) -> Store {
        Store { dir }
    }

    /// Where the store is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.jsonl"))
    }

    /// Starts a conversation: named `name`, else a new id from the time. Nothing is written
    /// until the first message is recorded.
    pub fn create(&self, name: Option<&str>, mut meta: Meta) -> Result<Recorder, SessionError> {
        meta.name = name.map(str::to_owned);
        let id = match name {
            Some(n) if !valid_name(n) => return Err(SessionError::BadName(n.to_string())),
            Some(n) if self.path(n).exists() => return Err(SessionError::Exists(n.to_string())),
            Some(n) => n.to_string(),
            None => new_id(),
        };
        Ok(Recorder {
            path: self.path(&id),
            id,
            meta,
            pending_meta: true,
            file: None,
        })
    }

    /// Continues the conversation `id`: new messages are appended to it.
    pub fn resume(&self, id: &str) -> Result<Recorder, SessionError> {
        let meta = self.load(id)?.meta;
        Ok(Recorder {
            id: id.to_string(),
            path: self.path(id),
            meta,
            pending_meta: false,
            file: None,
        })
    }

    /// Reads the conversation `id` (or named `id`).
    pub fn load(&self, id: &str) -> Result<Conversation, SessionError> {
        if !valid_name(id) {
            return Err(SessionError::NotFound(id.to_string()));
        }
        let path = self.path(id);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SessionError::NotFound(id.to_string()))
            }
            Err(e) => return Err(io_err("could not read", &path)(e)),
        };
        read_conversation(id, &path, BufReader::new(file))
    }

    /// Deletes the conversation `id`.
    pub fn remove(&self, id: &str) -> Result<(), SessionError> {
        if !valid_name(id) {
            return Err(SessionError::NotFound(id.to_string()));
        }
        let path = self.path(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(SessionError::NotFound(id.to_string()))
            }
            Err(e) => Err(io_err("could not delete", &path)(e)),
        }
    }

    /// Every readable conversation, the most recently changed first (unreadable files are
    /// left out).
    pub fn list(&self) -> Result<Vec<Summary>, SessionError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("could not list", &self.dir)(e)),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".jsonl"))
                .filter(|id| valid_name(id))
            else {
                continue;
            };
            let Ok(c) = self.load(id) else { continue };
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            out.push(summary(c, modified));
        }
        out.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    /// The most recently changed conversation of `repo`.
    pub fn latest_for(&self, repo: &Path) -> Result<Option<Summary>, SessionError> {
        Ok(self.list()?.into_iter().find(|s| s.repo == repo))
    }

    /// Gives the conversation `id` the name `name`: its file is written anew under the name
    /// (atomically, with the name in its meta line too), then the old one is removed.
    pub fn rename(&self, id: &str, name: &str) -> Result<(), SessionError> {
        if !valid_name(name) {
            return Err(SessionError::BadName(name.to_string()));
        }
        let (from, to) = (self.path(id), self.path(name));
        if to.exists() {
            return Err(SessionError::Exists(name.to_string()));
        }
        let text = match fs::read_to_string(&from) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SessionError::NotFound(id.to_string()))
            }
            Err(e) => return Err(io_err("could not read", &from)(e)),
        };
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let mut meta: Meta =
            serde_json::from_str(first).map_err(|_| SessionError::Corrupt(from.clone()))?;
        meta.name = Some(name.to_string());
        let mut renamed = json_line(&meta);
        renamed.push_str(rest);
        crate::persist::atomic::write_atomic(&to, renamed.as_bytes(), None)
            .map_err(io_err("could not write", &to))?;
        fs::remove_file(&from).map_err(io_err("could not remove", &from))
    }
}

fn summary(c: Conversation, modified: u64) -> Summary {
    let title = c
        .messages
        .iter()
        .find_map(|m| match m {
            Message::User { content } => Some(crate::text::one_line(content, 60)),
            _ => None,
        })
        .unwrap_or_default();
    Summary {
        id: c.id,
        name: c.meta.name,
        repo: c.meta.repo,
        created: c.meta.created,
        modified,
        model: c.last_model,
        messages: c.messages.len(),
        title,
    }
}

fn read_conversation(
    id: &str,
    path: &Path,
    reader: impl BufRead,
) -> Result<Conversation, SessionError> {
    let mut lines = reader.lines();
    let meta: Meta = match lines.next() {
        Some(Ok(l)) => serde_json::from_str(&l).map_err(|_| SessionError::Corrupt(path.into()))?,
        _ => return Err(SessionError::Corrupt(path.into())),
    };
    if meta.kind != "meta" {
        return Err(SessionError::Corrupt(path.into()));
    }
    let mut messages = Vec::new();
    let mut skipped = 0;
    let mut last_model = meta.model.clone();
    for line in lines {
        match line
            .ok()
            .and_then(|l| serde_json::from_str::<Line>(&l).ok())
        {
            Some(l) if l.kind == "message" => {
                last_model = l.model;
                messages.push(l.message);
            }
            _ => skipped += 1,
        }
    }
    Ok(Conversation {
        id: id.to_string(),
        meta,
        messages,
        last_model,
        skipped,
    })
}

/// The current time as RFC 3339 (UTC, whole seconds).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// A new id: the time it started and a random suffix (`20261130-181500-3fa2`).
fn new_id() -> String {
    let now = now_rfc3339();
    let digits: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
    let (date, time) = digits.split_at(digits.len().min(8));
    format!("{date}-{time}-{:04x}", fastrand::u16(..))
}

/// Appends a conversation's messages to its file as they happen.
#[derive(Debug)]
pub struct Recorder {
    id: String,
    path: PathBuf,
    meta: Meta,
    /// The meta line is still to be written (nothing is on disk yet).
    pending_meta: bool,
    file: Option<File>,
}

impl Recorder {
    /// The conversation's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Appends `message` (sent or answered by `model`) and syncs it to disk.
    pub fn record(&mut self, message: &Message, model: &str) -> Result<(), SessionError> {
        if matches!(message, Message::System { .. }) {
            return Ok(());
        }
        let mut text = String::new();
        if self.pending_meta {
            text.push_str(&json_line(&self.meta));
        }
        text.push_str(&json_line(&Line {
            kind: "message".into(),
            model: model.into(),
            message: message.clone(),
        }));
        let path = self.path.clone();
        let file = self.file()?;
        // One write per message, straight to the kernel (the file is unbuffered): if goshi
        // dies, nothing written is lost. No fsync: it cost ~1.6 ms per one-shot chat
        // (bench/e2e.sh), and only a power loss could undo a write.
        file.write_all(text.as_bytes())
            .map_err(io_err("could not save the conversation to", &path))?;
        self.pending_meta = false;
        Ok(())
    }

    /// Starts a new, unnamed conversation with the same repository and provider (`/clear`):
    /// later messages go there, the earlier conversation stays as it was.
    pub fn restart(&mut self, store: &Store, model: &str) {
        self.id = new_id();
        self.path = store.path(&self.id);
        self.meta.name = None;
        self.meta.created = now_rfc3339();
        self.meta.model = model.to_string();
        self.pending_meta = true;
        self.file = None;
    }

    /// Renames the conversation to `name` (`/save NAME`); later messages go there.
    pub fn rename(&mut self, store: &Store, name: &str) -> Result<(), SessionError> {
        if !valid_name(name) {
            return Err(SessionError::BadName(name.to_string()));
        }
        if self.pending_meta {
            // Nothing written yet: only the name changes.
            if store.path(name).exists() {
                return Err(SessionError::Exists(name.to_string()));
            }
        } else {
            store.rename(&self.id, name)?;
        }
        self.meta.name = Some(name.to_string());
        self.file = None;
        self.id = name.to_string();
        self.path = store.path(name);
        Ok(())
    }

    fn file(&mut self) -> Result<&mut File, SessionError> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent() {
                fs::create_dir_all(dir).map_err(io_err("could not create", dir))?;
            }
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(io_err("could not open", &self.path))?;
            self.file = Some(f);
        }
        match self.file.as_mut() {
            Some(f) => Ok(f),
            None => Err(io_err("could not open", &self.path)(
                io::ErrorKind::Other.into(),
            )),
        }
    }
}

fn json_line<T: Serialize>(v: &T) -> String {
    // Serializing plain data to a String cannot fail; an empty object keeps the file valid.
    let mut s = serde_json::to_string(v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests;
