//! Writing a session's audit file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use serde::Serialize;
use serde_json::{json, Value};

use super::redact::Redactor;
use super::retention::apply_retention;
use super::{
    format_time, is_valid_session_id, session_file_name, style, ArgumentsStyle, AuditError,
    AuditEvent, AuditSettings, EventType, Warnings,
};

/// The audit file of one chat session. `Send + Sync`: share it behind an `Arc` or a reference.
///
/// Each event is serialized, masked ([`super::redact`]) and written as one line with a single
/// `write_all` on an unbuffered append-mode file, so when [`AuditLog::record`] returns the
/// line is with the operating system: a crash or kill of goshi loses nothing already
/// recorded. (Lines are not fsynced one by one; a power cut may lose the last few.)
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    session_id: String,
    redactor: Redactor,
    style: ArgumentsStyle,
    warnings: Warnings,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: File,
    /// A write error was already shown; later ones stay quiet.
    reported: bool,
    /// The last write failed and may have left half a line; start the next on a new line.
    torn: bool,
}

#[derive(Serialize)]
struct Line<'a> {
    ts: String,
    session: &'a str,
    #[serde(rename = "type")]
    kind: EventType,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<Value>,
}

impl AuditLog {
    /// Creates `settings.dir` and this session's file, applies retention (files not written
    /// for `retention_days`, then all but the `max_sessions` newest; never the new file) and
    /// writes `session_start`.
    ///
    /// `secrets` (the API key) are masked in every line even when `settings.redact` is false.
    /// A session id that cannot be part of a file name is refused. Problems that do not stop
    /// the log (an old file that could not be deleted, a failed write later) go to `warnings`.
    pub fn open(
        settings: &AuditSettings,
        session_id: &str,
        secrets: Vec<String>,
        warnings: Warnings,
    ) -> Result<AuditLog, AuditError> {
        if !is_valid_session_id(session_id) {
            return Err(AuditError::BadSessionId(session_id.to_string()));
        }
        let dir = &settings.dir;
        create_dir(dir, settings.repo_root.as_deref()).map_err(|source| AuditError::CreateDir {
            dir: dir.clone(),
            source,
        })?;
        let now = SystemTime::now();
        let path = dir.join(session_file_name(now, session_id));
        let file = open_append(&path).map_err(|source| AuditError::WriteFile {
            path: path.clone(),
            source,
        })?;
        let report = apply_retention(
            dir,
            settings.retention_days,
            settings.max_sessions,
            &path,
            now,
        );
        for (old, why) in &report.failed {
            warnings.send(&format!(
                "could not delete the old audit file {old:?}: {why}"
            ));
        }
        let log = AuditLog {
            path,
            session_id: session_id.to_string(),
            redactor: Redactor::new(secrets, settings.redact),
            style: settings.tool_arguments_style,
            warnings,
            state: Mutex::new(State {
                file,
                reported: false,
                torn: false,
            }),
        };
        let start = AuditEvent::new(EventType::SessionStart).detail(json!({
            "version": env!("CARGO_PKG_VERSION"),
            "pid": std::process::id(),
            "redact": settings.redact,
            "tool_arguments_style": settings.tool_arguments_style.as_str(),
            "old_sessions_deleted": report.deleted.len(),
        }));
        // Failing here, not silently later, tells the user the trail is not being kept.
        log.write(start).map_err(|source| AuditError::WriteFile {
            path: log.path.clone(),
            source,
        })?;
        Ok(log)
    }

    /// Appends one event. Never panics and never fails the caller: the first I/O error is
    /// shown on stderr, and later events are still attempted.
    pub fn record(&self, event: AuditEvent) {
        let _ = self.write(event);
    }

    /// The session file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The session id written on every line.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Writes one line, reporting the first failure on stderr.
    fn write(&self, event: AuditEvent) -> io::Result<()> {
        // One lock for the time stamp and the write keeps lines in time order.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(mut line) = self.line(event, SystemTime::now()) else {
            return Ok(());
        };
        if state.torn {
            line.insert(0, '\n');
        }
        let result = state
            .file
            .write_all(line.as_bytes())
            .and_then(|()| state.file.flush());
        state.torn = result.is_err();
        if let Err(e) = &result {
            if !state.reported {
                state.reported = true;
                self.warnings.send(&format!(
                    "could not write to the audit log {:?}: {e}; \
                     events may be missing from it (goshi keeps trying)",
                    self.path
                ));
            }
        }
        result
    }

    /// The masked, shaped JSON line with its newline; `None` when even a bare line would
    /// contain a secret (it is then not written at all).
    fn line(&self, event: AuditEvent, ts: SystemTime) -> Option<String> {
        let r = &self.redactor;
        let full = Line {
            ts: format_time(ts, true),
            session: &self.session_id,
            kind: event.kind,
            tool: event.tool.map(|t| r.text(&t)),
            args: event.args.map(|a| style::apply(self.style, r.value(a))),
            outcome: event.outcome.map(|o| r.text(&o)),
            detail: event.detail.map(|d| r.value(d)),
        };
        if let Some(text) = serde_json::to_string(&full).ok().filter(|t| !r.leaks(t)) {
            return Some(text + "\n");
        }
        // A secret survived masking (e.g. inside a number): keep only that the event happened.
        let bare = Line {
            ts: full.ts,
            session: full.session,
            kind: full.kind,
            tool: None,
            args: None,
            outcome: Some("event details withheld: they contained a secret".into()),
            detail: None,
        };
        serde_json::to_string(&bare)
            .ok()
            .filter(|t| !r.leaks(t))
            .map(|t| t + "\n")
    }
}

/// Creates the trail's directory, readable by the user alone (it holds what the model read
/// and wrote). Inside the repository no symbolic link is followed on the way.
fn create_dir(dir: &Path, repo_root: Option<&Path>) -> io::Result<()> {
    let inside = repo_root.and_then(|r| Some((r, dir.strip_prefix(r).ok()?)));
    if let Some((root, rel)) = inside.filter(|(_, rel)| {
        rel.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
    }) {
        return crate::persist::real_dirs::create_real_dirs(root, rel, 0o700).map(|_| ());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{read_events, Filter, MASK};
    use serde_json::json;
    use std::sync::Arc;

    const KEY: &str = "sk-proj-TopSecretKey0123456789abcdef";

    fn settings(dir: &Path) -> AuditSettings {
        AuditSettings {
            dir: dir.join("nested/audit"),
            ..AuditSettings::default()
        }
    }

    fn lines(log: &AuditLog) -> Vec<Value> {
        std::fs::read_to_string(log.path())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn open_creates_the_file_and_writes_session_start() {
        let d = tempfile::tempdir().unwrap();
        let log =
            AuditLog::open(&settings(d.path()), "abc123", vec![], Warnings::ignore()).unwrap();
        assert_eq!(log.session_id(), "abc123");
        let name = log
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(crate::audit::is_session_file_name(&name), "{name}");
        assert!(name.ends_with("-abc123.jsonl"));
        let l = lines(&log);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0]["type"], "session_start");
        assert_eq!(l[0]["session"], "abc123");
        assert_eq!(l[0]["detail"]["tool_arguments_style"], "summaries");
        let ts = l[0]["ts"].as_str().unwrap();
        assert!(
            humantime::parse_rfc3339(ts).is_ok() && ts.len() == 24,
            "{ts}"
        );
        assert!(l[0].get("tool").is_none() && l[0].get("args").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(log.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn events_are_readable_while_the_log_is_open() {
        let d = tempfile::tempdir().unwrap();
        let s = settings(d.path());
        let log = AuditLog::open(&s, "live1", vec![], Warnings::ignore()).unwrap();
        log.record(
            AuditEvent::new(EventType::ToolCall)
                .tool("fs.read")
                .args(json!({"path": "src/lib.rs"})),
        );
        log.record(
            AuditEvent::new(EventType::ToolResult)
                .tool("fs.read")
                .outcome("ok"),
        );
        let events = read_events(&s.dir, &Filter::default()).unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EventType::SessionStart,
                EventType::ToolCall,
                EventType::ToolResult
            ]
        );
        assert_eq!(events[1].args, Some(json!({"path": "src/lib.rs"})));
        assert_eq!(events[2].outcome.as_deref(), Some("ok"));
        drop(log);
    }

    fn secret_event() -> AuditEvent {
        AuditEvent::new(EventType::ToolCall)
            .tool("shell")
            .args(
                json!({"cmd": format!("curl -H 'x: {KEY}'"), "other": "sk-abcdefghijklmnopqrstuv"}),
            )
            .outcome(format!("used {KEY}"))
            .detail(json!({"key": KEY, "nested": [KEY]}))
    }

    #[test]
    fn redact_on_masks_patterns_and_the_exact_secret() {
        let d = tempfile::tempdir().unwrap();
        let s = AuditSettings {
            tool_arguments_style: ArgumentsStyle::Full,
            ..settings(d.path())
        };
        let log = AuditLog::open(&s, "red1", vec![KEY.into()], Warnings::ignore()).unwrap();
        log.record(secret_event());
        let raw = std::fs::read_to_string(log.path()).unwrap();
        assert!(!raw.contains("TopSecretKey"), "{raw}");
        assert!(!raw.contains("sk-abcdefghijklmnopqrstuv"), "{raw}");
        let l = lines(&log);
        assert_eq!(l[1]["args"]["cmd"], format!("curl -H 'x: {MASK}'"));
        assert_eq!(l[1]["args"]["other"], MASK);
        assert_eq!(l[1]["outcome"], format!("used {MASK}"));
        assert_eq!(l[1]["detail"], json!({"key": MASK, "nested": [MASK]}));
    }

    #[test]
    fn redact_off_still_masks_the_exact_secret() {
        let d = tempfile::tempdir().unwrap();
        let s = AuditSettings {
            redact: false,
            tool_arguments_style: ArgumentsStyle::Full,
            ..settings(d.path())
        };
        let log = AuditLog::open(&s, "red2", vec![KEY.into()], Warnings::ignore()).unwrap();
        log.record(secret_event());
        let raw = std::fs::read_to_string(log.path()).unwrap();
        assert!(!raw.contains("TopSecretKey"), "{raw}");
        // Only the exact secret is masked; other key-like text is kept as asked.
        assert!(raw.contains("sk-abcdefghijklmnopqrstuv"), "{raw}");
        assert_eq!(lines(&log)[1]["outcome"], format!("used {MASK}"));
    }

    #[test]
    fn a_secret_that_cannot_be_masked_withholds_the_details() {
        let d = tempfile::tempdir().unwrap();
        let log = AuditLog::open(
            &settings(d.path()),
            "num1",
            vec!["987654321".into()],
            Warnings::ignore(),
        )
        .unwrap();
        log.record(AuditEvent::new(EventType::LlmRequest).detail(json!({"n": 987_654_321})));
        let raw = std::fs::read_to_string(log.path()).unwrap();
        assert!(!raw.contains("987654321"), "{raw}");
        let l = lines(&log);
        assert_eq!(l[1]["type"], "llm_request");
        assert!(l[1].get("detail").is_none());
    }

    #[test]
    fn argument_style_is_applied_after_redaction() {
        let d = tempfile::tempdir().unwrap();
        let log = AuditLog::open(
            &settings(d.path()),
            "sty1",
            vec![KEY.into()],
            Warnings::ignore(),
        )
        .unwrap();
        let content = format!("{}{KEY}", "a".repeat(100));
        log.record(
            AuditEvent::new(EventType::ToolCall)
                .tool("fs.write")
                .args(json!({"path": "a.txt", "content": content})),
        );
        let l = lines(&log);
        assert_eq!(l[1]["args"]["path"], "a.txt");
        let masked = format!("{}{MASK}", "a".repeat(100));
        assert_eq!(l[1]["args"]["content"], style::summarize(&masked));
    }

    #[test]
    fn concurrent_records_each_get_a_whole_line() {
        let d = tempfile::tempdir().unwrap();
        let log = Arc::new(
            AuditLog::open(&settings(d.path()), "conc1", vec![], Warnings::ignore()).unwrap(),
        );
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        log.record(
                            AuditEvent::new(EventType::ToolResult).outcome(format!("{t}-{i}")),
                        );
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(lines(&log).len(), 1 + 4 * 50);
    }

    #[test]
    fn open_applies_retention() {
        let d = tempfile::tempdir().unwrap();
        let s = AuditSettings {
            max_sessions: Some(2),
            ..settings(d.path())
        };
        std::fs::create_dir_all(&s.dir).unwrap();
        for n in 1..=3 {
            std::fs::write(
                s.dir.join(format!("2020-01-0{n}T00-00-00Z-old{n}.jsonl")),
                "",
            )
            .unwrap();
        }
        let log = AuditLog::open(&s, "ret1", vec![], Warnings::ignore()).unwrap();
        let mut left: Vec<_> = std::fs::read_dir(&s.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                s.dir.join("2020-01-03T00-00-00Z-old3.jsonl"),
                log.path().to_path_buf()
            ]
        );
        assert_eq!(lines(&log)[0]["detail"]["old_sessions_deleted"], 2);
    }

    #[test]
    fn bad_session_ids_and_unusable_dirs_are_refused_with_advice() {
        let d = tempfile::tempdir().unwrap();
        let e =
            AuditLog::open(&settings(d.path()), "../evil", vec![], Warnings::ignore()).unwrap_err();
        assert!(matches!(e, AuditError::BadSessionId(_)));
        let blocker = d.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let s = AuditSettings {
            dir: blocker.join("audit"),
            ..AuditSettings::default()
        };
        let e = AuditLog::open(&s, "ok1", vec![], Warnings::ignore())
            .unwrap_err()
            .to_string();
        assert!(e.contains("could not create the audit directory"), "{e}");
        assert!(e.contains("audit.dir"), "{e}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn write_errors_are_reported_once_and_never_panic() {
        let Ok(file) = OpenOptions::new().write(true).open("/dev/full") else {
            return;
        };
        let shown = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = Arc::clone(&shown);
        let log = AuditLog {
            path: PathBuf::from("/dev/full"),
            session_id: "full1".into(),
            redactor: Redactor::default(),
            style: ArgumentsStyle::Full,
            warnings: Warnings::new(move |w| sink.lock().unwrap().push(w.to_string())),
            state: Mutex::new(State {
                file,
                reported: false,
                torn: false,
            }),
        };
        assert!(log.write(AuditEvent::new(EventType::ToolCall)).is_err());
        log.record(AuditEvent::new(EventType::ToolCall));
        let state = log.state.lock().unwrap();
        assert!(state.reported && state.torn);
        let shown = shown.lock().unwrap();
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert!(
            shown[0].contains("could not write to the audit log"),
            "{shown:?}"
        );
    }
}
