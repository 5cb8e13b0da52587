//! Reading the audit trail back, for `goshi audit` and tests.
//!
//! Every `*.jsonl` file in the directory is read in name order (which is start-time order).
//! Lines that are not valid events (half-written by a crash, edited by hand, from a newer
//! goshi with unknown types) are skipped and listed in [`ReadReport::skipped`]; reading never
//! fails because of a file's content, only when the directory cannot be listed.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::Value;

use super::{AuditError, EventType};

/// Which events to return. The default returns all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only events at or after this time.
    pub since: Option<SystemTime>,
    /// Only events of this type.
    pub kind: Option<EventType>,
    /// Only the newest this many (after the other filters), still oldest first.
    pub limit: Option<usize>,
    /// Only events whose session id starts with this (a full id or a prefix of one).
    pub session: Option<String>,
}

impl Filter {
    /// Whether `e` passes every filter except `limit`.
    pub fn matches(&self, e: &StoredEvent) -> bool {
        self.since.is_none_or(|t| e.ts >= t)
            && self.kind.is_none_or(|k| e.kind == k)
            && self
                .session
                .as_deref()
                .is_none_or(|s| e.session.starts_with(s))
    }
}

/// One event as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// When it happened.
    pub ts: SystemTime,
    /// The session id.
    pub session: String,
    /// What happened.
    pub kind: EventType,
    /// The tool involved, if any.
    pub tool: Option<String>,
    /// The arguments as stored (already masked and shaped).
    pub args: Option<Value>,
    /// The outcome, if any.
    pub outcome: Option<String>,
    /// The detail, if any.
    pub detail: Option<Value>,
    /// The line exactly as stored, without its line ending.
    pub raw: String,
}

/// A line (or a whole file) that was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line number; `None` when the whole file could not be read.
    pub line: Option<usize>,
    /// Why it was skipped.
    pub reason: String,
}

/// The result of reading a directory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadReport {
    /// The matching events, oldest first.
    pub events: Vec<StoredEvent>,
    /// How many valid events there were before filtering.
    pub total: usize,
    /// How many `*.jsonl` files were read.
    pub files: usize,
    /// What could not be read.
    pub skipped: Vec<SkippedLine>,
}

impl ReadReport {
    /// A one-line warning about the skipped lines (naming the first), if there were any.
    pub fn warning(&self) -> Option<String> {
        let first = self.skipped.first()?;
        let n = self.skipped.len();
        let place = match first.line {
            Some(l) => format!("{:?} line {l}", first.path),
            None => format!("{:?}", first.path),
        };
        let more = if n > 1 {
            format!(" (and {} more)", n - 1)
        } else {
            String::new()
        };
        Some(format!(
            "skipped {n} unreadable audit {}: {place}: {}{more}",
            if n == 1 { "entry" } else { "entries" },
            first.reason
        ))
    }
}

/// The events in `dir` that pass `filter`, oldest first; unreadable lines are left out
/// ([`read_report`] counts them and says where). A missing directory has no events.
pub fn read_events(dir: &Path, filter: &Filter) -> Result<Vec<StoredEvent>, AuditError> {
    Ok(read_report(dir, filter)?.events)
}

/// Like [`read_events`], but also returns the counts and the skipped lines.
pub fn read_report(dir: &Path, filter: &Filter) -> Result<ReadReport, AuditError> {
    let mut report = ReadReport::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(source) => {
            return Err(AuditError::ReadDir {
                dir: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl") && p.is_file())
        .collect();
    paths.sort();
    for path in paths {
        report.files += 1;
        read_file(&path, filter, &mut report);
    }
    // Stable: events with equal times keep their file order.
    report.events.sort_by_key(|e| e.ts);
    if let Some(n) = filter.limit {
        let extra = report.events.len().saturating_sub(n);
        report.events.drain(..extra);
    }
    Ok(report)
}

#[derive(Deserialize)]
struct RawLine {
    ts: String,
    session: String,
    #[serde(rename = "type")]
    kind: EventType,
    tool: Option<String>,
    args: Option<Value>,
    outcome: Option<String>,
    detail: Option<Value>,
}

fn read_file(path: &Path, filter: &Filter, report: &mut ReadReport) {
    let skip = |line: Option<usize>, reason: String| SkippedLine {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut reader = match File::open(path) {
        Ok(f) => BufReader::new(f),
        Err(e) => {
            report.skipped.push(skip(None, e.to_string()));
            return;
        }
    };
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return,
            Ok(_) => number += 1,
            Err(e) => {
                report.skipped.push(skip(Some(number + 1), e.to_string()));
                return;
            }
        }
        match parse_line(&buf) {
            Ok(None) => {}
            Ok(Some(event)) => {
                report.total += 1;
                if filter.matches(&event) {
                    report.events.push(event);
                }
            }
            Err(reason) => report.skipped.push(skip(Some(number), reason)),
        }
    }
}

/// The event on one line; `Ok(None)` for a blank line.
fn parse_line(bytes: &[u8]) -> Result<Option<StoredEvent>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return Ok(None);
    }
    let raw: RawLine = serde_json::from_str(text).map_err(|e| format!("not a valid event: {e}"))?;
    let ts =
        humantime::parse_rfc3339(&raw.ts).map_err(|e| format!("bad time {:?}: {e}", raw.ts))?;
    Ok(Some(StoredEvent {
        ts,
        session: raw.session,
        kind: raw.kind,
        tool: raw.tool,
        args: raw.args,
        outcome: raw.outcome,
        detail: raw.detail,
        raw: text.to_string(),
    }))
}

/// Parses a `--since` value: a duration meaning "that long before `now`" (`30m`, `1h`, `2d`,
/// `1h30m`) or a UTC time (`2026-11-27T10:15:00Z`, `2026-11-27 10:15:00`).
pub fn parse_since(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let t = text.trim();
    if let Ok(d) = humantime::parse_duration(t) {
        // Before 1970 (or further back than the clock can go) means "everything".
        let at = now.checked_sub(d).unwrap_or(SystemTime::UNIX_EPOCH);
        return Ok(at.max(SystemTime::UNIX_EPOCH));
    }
    // The RFC 3339 parser indexes bytes; only hand it ASCII.
    if t.is_ascii() {
        if let Ok(at) = humantime::parse_rfc3339_weak(t) {
            return Ok(at);
        }
    }
    Err(format!(
        "{text:?} is neither a duration nor a time; use a duration such as 30m, 1h or 2d \
         (meaning that long ago) or a UTC time such as 2026-11-27T10:15:00Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn line(ts: &str, session: &str, kind: &str, tool: &str) -> String {
        format!(
            r#"{{"ts":"{ts}","session":"{session}","type":"{kind}","tool":"{tool}","args":{{"path":"a"}},"outcome":"ok"}}"#
        )
    }

    /// Two sessions, interleaved in time, with junk lines in between.
    fn fixture() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let a = [
            line("2026-11-27T10:00:00.000Z", "aaaa01", "session_start", "-"),
            "{not json".to_string(),
            line("2026-11-27T10:02:00.000Z", "aaaa01", "tool_call", "fs.read"),
            String::new(),
            r#"{"ts":"yesterday","session":"aaaa01","type":"tool_call"}"#.to_string(),
            r#"{"ts":"2026-11-27T10:03:00Z","session":"aaaa01","type":"warp_drive"}"#.to_string(),
            line(
                "2026-11-27T10:04:00.000Z",
                "aaaa01",
                "tool_result",
                "fs.read",
            ),
        ];
        let b = [
            line("2026-11-27T10:01:00.000Z", "bbbb02", "session_start", "-"),
            line("2026-11-27T10:03:30.500Z", "bbbb02", "tool_call", "fs.list"),
        ];
        std::fs::write(
            d.path().join("2026-11-27T10-00-00Z-aaaa01.jsonl"),
            a.join("\n"),
        )
        .unwrap();
        // CRLF endings and a half-written last line, as after a crash.
        let mut text = b.join("\r\n");
        text.push_str("\r\n{\"ts\":\"2026-11-27T10:05");
        std::fs::write(d.path().join("2026-11-27T10-01-00Z-bbbb02.jsonl"), text).unwrap();
        std::fs::write(d.path().join("README.txt"), "not an audit file").unwrap();
        std::fs::write(d.path().join("binary.jsonl"), [0xff, 0xfe, b'\n']).unwrap();
        d
    }

    /// An audit line as goshi writes it, mutated in one of many ways, and whether the
    /// reader must accept it (odd unicode, unknown fields and huge numbers are fine; wrong
    /// types, missing fields, bad times, unknown types, truncation and invalid UTF-8 are not).
    fn audit_line() -> impl proptest::strategy::Strategy<Value = (Vec<u8>, bool)> {
        use proptest::prelude::*;
        let text = "\\PC{0,16}";
        (
            0..14usize,
            text,
            text,
            any::<u64>(),
            any::<prop::sample::Index>(),
        )
            .prop_map(|(how, odd, other, n, at)| {
                let mut v = serde_json::json!({
                    "ts": "2026-11-27T10:00:00.000Z",
                    "session": "aaaa01",
                    "type": "tool_call",
                    "tool": "fs.read",
                    "args": {"path": "a", "n": n},
                    "outcome": "ok",
                });
                match how {
                    0 => {}
                    1 => v["session"] = odd.into(),
                    2 => v["detail"] = serde_json::json!({ other: odd }),
                    3 => v["tool"] = serde_json::Value::Null,
                    4 => v["ts"] = serde_json::json!(n),
                    5 => v["session"] = serde_json::json!([odd]),
                    6 => v["outcome"] = serde_json::json!({"x": n}),
                    7 => v["type"] = format!("{odd}_x").into(),
                    8 => v["ts"] = format!("{odd}2026-13-45T99:00:00Z").into(),
                    9 => {
                        let field = ["ts", "session", "type"][at.index(3)];
                        v.as_object_mut().unwrap().remove(field);
                    }
                    _ => {}
                }
                let mut line = v.to_string();
                match how {
                    // Numbers too big for a u64 are read as floats; beyond f64, not at all.
                    10 => line = line.replacen("\"n\":", "\"n\":123456789012345678901234567890", 1),
                    11 => line = line.replacen("\"n\":", "\"n\":1e999", 1),
                    // Cut anywhere short of the end (as a crash mid-write would).
                    12 => {
                        let cuts: Vec<usize> =
                            line.char_indices().map(|(i, _)| i).skip(1).collect();
                        line.truncate(cuts[at.index(cuts.len())]);
                    }
                    _ => {}
                }
                let mut bytes = line.into_bytes();
                if how == 13 {
                    let i = at.index(bytes.len() + 1);
                    bytes.insert(i, 0xff);
                }
                (bytes, matches!(how, 0..=3 | 10))
            })
    }

    fn at(s: &str) -> SystemTime {
        humantime::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn reads_everything_in_time_order_and_skips_corrupt_lines() {
        let d = fixture();
        let r = read_report(d.path(), &Filter::default()).unwrap();
        let order: Vec<_> = r
            .events
            .iter()
            .map(|e| (e.session.as_str(), e.kind))
            .collect();
        assert_eq!(
            order,
            [
                ("aaaa01", EventType::SessionStart),
                ("bbbb02", EventType::SessionStart),
                ("aaaa01", EventType::ToolCall),
                ("bbbb02", EventType::ToolCall),
                ("aaaa01", EventType::ToolResult),
            ]
        );
        assert_eq!(r.total, 5);
        assert_eq!(r.files, 3);
        let lines: Vec<_> = r.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, [Some(2), Some(5), Some(6), Some(3), Some(1)]);
        assert!(r.skipped[0].reason.contains("not a valid event"));
        assert!(r.skipped[4].reason.contains("not UTF-8"));
        let w = r.warning().unwrap();
        assert!(w.starts_with("skipped 5 unreadable audit entries"), "{w}");
        assert!(w.contains("(and 4 more)"), "{w}");
        // The raw line is kept exactly, without the line ending.
        assert_eq!(
            r.events[3].raw,
            line("2026-11-27T10:03:30.500Z", "bbbb02", "tool_call", "fs.list")
        );
        assert_eq!(r.events[3].ts, at("2026-11-27T10:03:30.500Z"));
    }

    #[test]
    fn filters_by_type_session_since_and_limit() {
        let d = fixture();
        let get = |f: Filter| -> Vec<(String, EventType)> {
            read_events(d.path(), &f)
                .unwrap()
                .into_iter()
                .map(|e| (e.session, e.kind))
                .collect()
        };
        let calls = get(Filter {
            kind: Some(EventType::ToolCall),
            ..Filter::default()
        });
        assert_eq!(calls.len(), 2);
        let b = get(Filter {
            session: Some("bbbb".into()),
            ..Filter::default()
        });
        assert_eq!(b.len(), 2);
        assert!(b.iter().all(|(s, _)| s == "bbbb02"));
        let late = get(Filter {
            since: Some(at("2026-11-27T10:03:00Z")),
            ..Filter::default()
        });
        assert_eq!(
            late,
            [
                ("bbbb02".to_string(), EventType::ToolCall),
                ("aaaa01".to_string(), EventType::ToolResult)
            ]
        );
        let newest = get(Filter {
            limit: Some(2),
            ..Filter::default()
        });
        assert_eq!(newest, late);
        let combined = get(Filter {
            kind: Some(EventType::SessionStart),
            limit: Some(1),
            session: Some("aaaa01".into()),
            since: None,
        });
        assert_eq!(combined, [("aaaa01".to_string(), EventType::SessionStart)]);
        assert!(get(Filter {
            limit: Some(0),
            ..Filter::default()
        })
        .is_empty());
    }

    #[test]
    fn a_missing_dir_is_empty_and_a_file_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let r = read_report(&d.path().join("nope"), &Filter::default()).unwrap();
        assert_eq!(r, ReadReport::default());
        assert_eq!(r.warning(), None);
        let f = d.path().join("file");
        std::fs::write(&f, "").unwrap();
        let e = read_report(&f, &Filter::default()).unwrap_err().to_string();
        assert!(e.contains("could not read the audit directory"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn any_line_parses_or_is_rejected_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_line(&bytes);
        }

        /// Files of real audit lines, some broken in one way each: every good line is read,
        /// every bad one is reported with its own line number, and nothing panics.
        #[test]
        fn each_bad_line_is_reported_by_number(lines in proptest::collection::vec(audit_line(), 1..12)) {
            let d = tempfile::tempdir().unwrap();
            let path = d.path().join("2026-11-27T10-00-00Z-aaaa01.jsonl");
            let mut file = Vec::new();
            for (bytes, _) in &lines {
                file.extend_from_slice(bytes);
                file.push(b'\n');
            }
            std::fs::write(&path, &file).unwrap();
            let r = read_report(d.path(), &Filter::default()).unwrap();
            let bad: Vec<_> = (1..).zip(&lines).filter(|(_, (_, good))| !good).map(|(n, _)| Some(n)).collect();
            let reported: Vec<_> = r.skipped.iter().map(|s| s.line).collect();
            proptest::prop_assert_eq!(reported, bad, "{:?}", r.skipped);
            proptest::prop_assert!(r.skipped.iter().all(|s| s.path == path && !s.reason.is_empty()));
            let good = lines.iter().filter(|(_, good)| *good).count();
            proptest::prop_assert_eq!((r.total, r.events.len()), (good, good));
        }

        #[test]
        fn any_time_text_is_handled(ts in "[0-9T:. Z+é-]{0,40}") {
            let line = serde_json::json!({"ts": ts, "session": "s", "type": "tool_call"});
            let _ = parse_line(line.to_string().as_bytes());
        }

        #[test]
        fn any_since_text_is_handled(text in ".{0,40}") {
            let _ = parse_since(&text, SystemTime::now());
        }
    }

    #[test]
    fn since_accepts_durations_and_times() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            parse_since("1h", now).unwrap(),
            now - Duration::from_secs(3600)
        );
        assert_eq!(
            parse_since("30m", now).unwrap(),
            now - Duration::from_secs(1800)
        );
        assert_eq!(
            parse_since(" 2d ", now).unwrap(),
            now - Duration::from_secs(172_800)
        );
        assert_eq!(parse_since("100y", now).unwrap(), UNIX_EPOCH);
        assert_eq!(
            parse_since("2026-11-27T10:15:00Z", now).unwrap(),
            at("2026-11-27T10:15:00Z")
        );
        assert_eq!(
            parse_since("2026-11-27 10:15:00", now).unwrap(),
            at("2026-11-27T10:15:00Z")
        );
        for bad in [
            "",
            "soon",
            "-1h",
            "2026-13-01T00:00:00Z",
            "ééééééééééééééééééééé",
            "1h!",
        ] {
            let e = parse_since(bad, now).unwrap_err();
            assert!(e.contains("30m, 1h or 2d"), "{e}");
        }
    }
}
