//! The audit trail: one append-only JSONL file per chat session.
//!
//! Files live in `audit.dir` (default `.goshi/audit/`) and are named
//! `<UTC start time>-<session>.jsonl`, e.g. `2026-11-27T10-15-00Z-3f9a2b7c01de.jsonl`, so a
//! plain name sort is a time sort. Each line is one event:
//!
//! ```json
//! {"ts":"2026-11-27T10:15:00.123Z","session":"3f9a2b7c01de","type":"tool_call",
//!  "tool":"fs.read","args":{"path":"src/main.rs"},"outcome":null,"detail":{"call_id":"c1"}}
//! ```
//!
//! (`tool`, `args`, `outcome` and `detail` are left out when empty.) Before a line is written,
//! secrets are masked ([`redact`]) and tool arguments are shaped by
//! [`ArgumentsStyle`] ([`style`]). [`AuditLog`] writes, [`read_events`] reads back, and
//! [`retention`] prunes old sessions when a new one opens.

pub mod reader;
pub use crate::text::redact;
pub mod retention;
pub mod style;
mod writer;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

pub use reader::{
    parse_since, read_events, read_report, Filter, ReadReport, SkippedLine, StoredEvent,
};
pub use redact::{Redactor, MASK};
pub use retention::{apply_retention, RetentionReport};
pub use writer::AuditLog;

/// What happened. Serialized in snake_case (`tool_call`), which is also what `--type` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A chat session began (always the first line of a file).
    SessionStart,
    /// The user or config allowed a tool to use a capability.
    PermissionGranted,
    /// The user or config refused a capability; the tool did not run.
    PermissionDenied,
    /// The model asked for a tool.
    ToolCall,
    /// A tool finished (outcome `ok` or the first line of the error).
    ToolResult,
    /// A write proposal was saved for review.
    ProposalCreated,
    /// A proposal was applied to the working tree.
    ProposalApplied,
    /// A proposal was discarded (deleted from the store) without being applied.
    ProposalDiscarded,
    /// A request went to the model.
    LlmRequest,
    /// The model could not be reached or its answer broke.
    LlmError,
}

impl EventType {
    /// Every type, in the order they are documented.
    pub const ALL: [EventType; 10] = [
        EventType::SessionStart,
        EventType::PermissionGranted,
        EventType::PermissionDenied,
        EventType::ToolCall,
        EventType::ToolResult,
        EventType::ProposalCreated,
        EventType::ProposalApplied,
        EventType::ProposalDiscarded,
        EventType::LlmRequest,
        EventType::LlmError,
    ];

    /// The name as stored and as `--type` takes it, e.g. `tool_call`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::SessionStart => "session_start",
            EventType::PermissionGranted => "permission_granted",
            EventType::PermissionDenied => "permission_denied",
            EventType::ToolCall => "tool_call",
            EventType::ToolResult => "tool_result",
            EventType::ProposalCreated => "proposal_created",
            EventType::ProposalApplied => "proposal_applied",
            EventType::ProposalDiscarded => "proposal_discarded",
            EventType::LlmRequest => "llm_request",
            EventType::LlmError => "llm_error",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = UnknownValue;

    /// Accepts the stored names; `-` may stand for `_` and case is ignored (`Tool-Call`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted)
            .ok_or_else(|| UnknownValue {
                what: "event type",
                got: s.to_string(),
                allowed: EventType::ALL.iter().map(|t| t.as_str()).collect(),
            })
    }
}

/// How much of a tool call's arguments goes into the log (config `audit.tool_arguments_style`).
///
/// Secrets are masked before the style is applied, so truncation never leaves part of a key.
/// See [`style::apply`] for the exact rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArgumentsStyle {
    /// The arguments exactly as the model gave them.
    Full,
    /// Every string cut to [`style::LONG_LIMIT`] (1,000) characters.
    Long,
    /// Every string cut to [`style::SHORT_LIMIT`] (80) characters.
    Short,
    /// Short strings kept; longer ones replaced by their size and a SHA-256 prefix.
    #[default]
    Summaries,
}

impl ArgumentsStyle {
    /// Every style, as the config names them.
    pub const ALL: [ArgumentsStyle; 4] = [
        ArgumentsStyle::Full,
        ArgumentsStyle::Long,
        ArgumentsStyle::Short,
        ArgumentsStyle::Summaries,
    ];

    /// The config name, e.g. `summaries`.
    pub fn as_str(self) -> &'static str {
        match self {
            ArgumentsStyle::Full => "full",
            ArgumentsStyle::Long => "long",
            ArgumentsStyle::Short => "short",
            ArgumentsStyle::Summaries => "summaries",
        }
    }
}

impl fmt::Display for ArgumentsStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ArgumentsStyle {
    type Err = UnknownValue;

    /// Accepts the config names, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        ArgumentsStyle::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted)
            .ok_or_else(|| UnknownValue {
                what: "tool arguments style",
                got: s.to_string(),
                allowed: ArgumentsStyle::ALL.iter().map(|t| t.as_str()).collect(),
            })
    }
}

/// A name that is not one of the allowed values; the message lists them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {what} {got:?}; allowed: {}", allowed.join(", "))]
pub struct UnknownValue {
    /// What kind of value was expected, e.g. `event type`.
    pub what: &'static str,
    /// The text as given.
    pub got: String,
    /// The accepted names.
    pub allowed: Vec<&'static str>,
}

/// Where the audit log's warnings go (a failed write, an old file that could not be deleted).
/// The log never prints; the CLI shows them on its screen.
#[derive(Clone)]
pub struct Warnings(std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl Warnings {
    /// Warnings handed to `f`, one sentence each, without a `warning:` prefix.
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Warnings(std::sync::Arc::new(f))
    }

    /// Warnings dropped (tests, or an embedder that does not want them).
    pub fn ignore() -> Self {
        Warnings::new(|_| {})
    }

    pub(crate) fn send(&self, message: &str) {
        (self.0)(message)
    }
}

impl fmt::Debug for Warnings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Warnings")
    }
}

/// The `audit:` settings the log needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// Where session files go (created if missing).
    pub dir: PathBuf,
    /// Mask things that look like secrets. The exact `secrets` given to [`AuditLog::open`]
    /// are masked even when this is false.
    pub redact: bool,
    /// How much of tool arguments to keep.
    pub tool_arguments_style: ArgumentsStyle,
    /// Delete session files not written to for this many days (checked at open).
    pub retention_days: Option<u64>,
    /// Keep at most this many session files, the new one included (checked at open).
    pub max_sessions: Option<usize>,
    /// The repository: a `dir` inside it is created without following symbolic links, so a
    /// `.goshi` link shipped in the repository cannot move the trail elsewhere.
    pub repo_root: Option<PathBuf>,
}

impl Default for AuditSettings {
    /// `.goshi/audit`, redaction on, summaries, no retention limits.
    fn default() -> Self {
        AuditSettings {
            dir: PathBuf::from(".goshi/audit"),
            redact: true,
            tool_arguments_style: ArgumentsStyle::Summaries,
            retention_days: None,
            max_sessions: None,
            repo_root: None,
        }
    }
}

/// One event to record; the log adds the time and the session id.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// What happened.
    pub kind: EventType,
    /// The tool involved, if any.
    pub tool: Option<String>,
    /// The tool's arguments (shaped by [`ArgumentsStyle`] when written).
    pub args: Option<Value>,
    /// A short result: `ok`, an error's first line, a proposal id, how a permission was given.
    pub outcome: Option<String>,
    /// Anything else worth keeping, as a JSON object.
    pub detail: Option<Value>,
}

impl AuditEvent {
    /// An event of `kind` with nothing else set.
    pub fn new(kind: EventType) -> Self {
        AuditEvent {
            kind,
            tool: None,
            args: None,
            outcome: None,
            detail: None,
        }
    }

    /// Sets the tool name.
    #[must_use]
    pub fn tool(mut self, name: impl Into<String>) -> Self {
        self.tool = Some(name.into());
        self
    }

    /// Sets the arguments (a JSON value; a plain string is fine too).
    #[must_use]
    pub fn args(mut self, args: Value) -> Self {
        self.args = Some(args);
        self
    }

    /// Sets the outcome.
    #[must_use]
    pub fn outcome(mut self, outcome: impl Into<String>) -> Self {
        self.outcome = Some(outcome.into());
        self
    }

    /// Sets the detail object.
    #[must_use]
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// Why the audit log could not be opened or read.
#[derive(Debug, Error)]
pub enum AuditError {
    /// The directory could not be created.
    #[error(
        "could not create the audit directory {dir:?}: {source}; \
         make it writable or point audit.dir somewhere else"
    )]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// The session file could not be created or its first line written.
    #[error(
        "could not write the audit file {path:?}: {source}; \
         check the permissions and free space of audit.dir"
    )]
    WriteFile {
        /// The session file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// The session id cannot be used in a file name.
    #[error(
        "invalid session id {0:?}: use 1 to 64 letters, digits, '-' or '_' \
         (new_session_id() makes one)"
    )]
    BadSessionId(String),

    /// The directory exists but could not be listed.
    #[error("could not read the audit directory {dir:?}: {source}; check its permissions")]
    ReadDir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// A session file could not be read.
    #[error("could not read the audit file {path:?}: {source}; check its permissions")]
    ReadFile {
        /// The session file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A new session id: 12 lowercase hex characters from the clock mixed with randomness.
pub fn new_session_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // The random part makes two sessions started in the same nanosecond differ.
    let mixed = nanos.rotate_left(17) ^ fastrand::u64(..);
    format!("{:012x}", mixed & 0xffff_ffff_ffff)
}

/// Whether `id` can be part of a file name: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn is_valid_session_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The file name of a session started at `start`, e.g. `2026-11-27T10-15-00Z-abc.jsonl`.
pub fn session_file_name(start: SystemTime, session_id: &str) -> String {
    // ':' is not allowed in Windows file names.
    let stamp = format_time(start, false).replace(':', "-");
    format!("{stamp}-{session_id}.jsonl")
}

/// Whether `name` looks like a file [`session_file_name`] made (only those are ever deleted).
pub fn is_session_file_name(name: &str) -> bool {
    const STAMP: &[u8] = b"0000-00-00T00-00-00Z-";
    let b = name.as_bytes();
    let Some(id) = name
        .strip_suffix(".jsonl")
        .and_then(|n| n.get(STAMP.len()..))
    else {
        return false;
    };
    let stamp_ok = STAMP.iter().zip(b).all(|(want, got)| {
        if *want == b'0' {
            got.is_ascii_digit()
        } else {
            want == got
        }
    });
    stamp_ok && is_valid_session_id(id)
}

/// RFC 3339 UTC text (`2026-11-27T10:15:00Z`, or `.123Z` with `millis`); never panics, even
/// for times before 1970 or after 9999, which the formatter cannot show.
pub fn format_time(t: SystemTime, millis: bool) -> String {
    use std::fmt::Write as _;
    const MAX_SECS: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let clamped = match t.duration_since(UNIX_EPOCH) {
        Err(_) => UNIX_EPOCH,
        Ok(d) if d.as_secs() > MAX_SECS => UNIX_EPOCH + Duration::from_secs(MAX_SECS),
        Ok(_) => t,
    };
    let mut out = String::new();
    let written = if millis {
        write!(out, "{}", humantime::format_rfc3339_millis(clamped))
    } else {
        write!(out, "{}", humantime::format_rfc3339_seconds(clamped))
    };
    if written.is_err() {
        out = "1970-01-01T00:00:00Z".to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_type_names_round_trip_through_serde_and_from_str() {
        for t in EventType::ALL {
            let s = serde_json::to_value(t).unwrap();
            assert_eq!(s, json!(t.as_str()));
            assert_eq!(t.as_str().parse::<EventType>().unwrap(), t);
            assert_eq!(serde_json::from_value::<EventType>(s).unwrap(), t);
        }
        assert_eq!(
            "Tool-Call".parse::<EventType>().unwrap(),
            EventType::ToolCall
        );
    }

    #[test]
    fn unknown_type_lists_allowed_values() {
        let e = "tool".parse::<EventType>().unwrap_err().to_string();
        assert!(e.contains("unknown event type \"tool\""), "{e}");
        assert!(e.contains("tool_call") && e.contains("llm_error"), "{e}");
    }

    #[test]
    fn arguments_style_parses_and_defaults_to_summaries() {
        assert_eq!(ArgumentsStyle::default(), ArgumentsStyle::Summaries);
        for s in ArgumentsStyle::ALL {
            assert_eq!(s.as_str().parse::<ArgumentsStyle>().unwrap(), s);
        }
        assert_eq!(
            " LONG ".parse::<ArgumentsStyle>().unwrap(),
            ArgumentsStyle::Long
        );
        let e = "tiny".parse::<ArgumentsStyle>().unwrap_err().to_string();
        assert!(e.contains("allowed: full, long, short, summaries"), "{e}");
    }

    #[test]
    fn builder_sets_fields() {
        let e = AuditEvent::new(EventType::ToolResult)
            .tool("fs.read")
            .args(json!({"path": "a"}))
            .outcome("ok")
            .detail(json!({"n": 1}));
        assert_eq!(e.kind, EventType::ToolResult);
        assert_eq!(e.tool.as_deref(), Some("fs.read"));
        assert_eq!(e.outcome.as_deref(), Some("ok"));
        assert_eq!(e.args, Some(json!({"path": "a"})));
        assert_eq!(e.detail, Some(json!({"n": 1})));
    }

    #[test]
    fn session_ids_are_12_hex_and_differ() {
        let a = new_session_id();
        let b = new_session_id();
        assert_eq!(a.len(), 12);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(is_valid_session_id(&a));
        assert!(!is_valid_session_id(""));
        assert!(!is_valid_session_id("../x"));
        assert!(!is_valid_session_id(&"a".repeat(65)));
    }

    #[test]
    fn file_names_sort_by_time_and_are_recognised() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_774_500); // 2026-11-27T10:15:00Z
        let name = session_file_name(t, "abc123");
        assert_eq!(name, "2026-11-27T10-15-00Z-abc123.jsonl");
        assert!(is_session_file_name(&name));
        let later = session_file_name(t + Duration::from_secs(61), "000000");
        assert!(later > name);
        for bad in [
            "notes.jsonl",
            "2026-11-27T10-15-00Z-.jsonl",
            "2026-11-27T10-15-00Z-abc.json",
            "2026-11-27X10-15-00Z-abc.jsonl",
            "2026-11-27T10-15-00Z-a b.jsonl",
            "",
            "é",
        ] {
            assert!(!is_session_file_name(bad), "{bad}");
        }
    }

    #[test]
    fn format_time_never_panics() {
        assert_eq!(
            format_time(UNIX_EPOCH - Duration::from_secs(5), false),
            "1970-01-01T00:00:00Z"
        );
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(format_time(far, false), "9999-12-31T23:59:59Z");
        assert_eq!(
            format_time(UNIX_EPOCH + Duration::from_millis(1_500), true),
            "1970-01-01T00:00:01.500Z"
        );
    }

    #[test]
    fn audit_log_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<AuditLog>();
    }
}
