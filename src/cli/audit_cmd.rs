//! `goshi audit`: show the audit trail, filtered, as aligned text or as the stored JSONL.

use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use serde_json::Value;

use super::terminal::Screen;
use crate::audit::{format_time, parse_since, read_report, EventType, Filter, StoredEvent};

/// `goshi audit` flags.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Only events since this long ago (30m, 1h, 2d) or this UTC time (2026-11-27T10:15:00Z)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only events of this type: session_start, permission_granted, permission_denied,
    /// tool_call, tool_result, proposal_created, proposal_applied, proposal_discarded, llm_request,
    /// llm_error
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Only the newest N events (after the other filters)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output: human (one aligned line per event) or json (the lines exactly as stored)
    #[arg(long, default_value = "human", value_name = "FORMAT")]
    pub format: String,
    /// Only this session (its id, or the start of it)
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Human,
    Json,
}

/// A bad flag: the message and a hint, for exit code 2.
#[derive(Debug, PartialEq, Eq)]
struct Usage {
    message: String,
    hint: &'static str,
}

/// Prints the events in `dir` that match `args` on stdout, oldest first.
///
/// `human`: a header, then one aligned line per event (time, session, type, tool, args,
/// outcome; long cells are cut with `…` and control characters escaped). `json`: each
/// matching line exactly as stored, nothing else on stdout. Errors go to stderr as
/// `goshi: error: ...` with a hint. Exit codes: 0 (also when there are no events yet),
/// 1 when the directory cannot be read, 2 for a bad `--type`, `--since` or `--format`.
pub fn run(args: &AuditArgs, dir: &Path) -> ExitCode {
    let (filter, format) = match parse_args(args, SystemTime::now()) {
        Ok(v) => v,
        Err(u) => {
            super::error(&u.message, Some(u.hint));
            return ExitCode::from(2);
        }
    };
    let report = match read_report(dir, &filter) {
        Ok(r) => r,
        Err(e) => {
            super::error(
                &e.to_string(),
                Some("audit.dir in goshi.yaml chooses the directory (relative to the repository root)"),
            );
            return ExitCode::FAILURE;
        }
    };
    if let Some(w) = report.warning() {
        Screen::stdio().warning(&w);
    }
    if report.events.is_empty() {
        let note = if report.total == 0 {
            format!("no audit events yet in {}", dir.display())
        } else {
            format!(
                "no audit events match the filters ({} in {})",
                report.total,
                dir.display()
            )
        };
        // Keep stdout valid JSONL (empty) for scripts.
        match format {
            Format::Human => println_safe(&note),
            Format::Json => Screen::stdio().line(&note),
        }
        return ExitCode::SUCCESS;
    }
    let lines = match format {
        Format::Human => render_human(&report.events),
        // As stored, with C1 controls and bidi characters as JSON escapes (same meaning).
        Format::Json => report
            .events
            .iter()
            .map(|e| crate::text::sanitize::json(&e.raw).into_owned())
            .collect(),
    };
    // One write for the whole listing: the lines are in memory already.
    let mut text = lines.join("\n");
    text.push('\n');
    match Screen::stdio().out(&text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => write_failed(&e),
    }
}

fn parse_args(args: &AuditArgs, now: SystemTime) -> Result<(Filter, Format), Usage> {
    let format = match args.format.trim().to_ascii_lowercase().as_str() {
        "human" => Format::Human,
        "json" => Format::Json,
        _ => {
            return Err(Usage {
                message: format!(
                    "--format: unknown output format {:?}; allowed: human, json",
                    args.format
                ),
                hint: "--format json prints the events exactly as stored, one per line",
            })
        }
    };
    let kind = match &args.kind {
        None => None,
        Some(k) => Some(k.parse::<EventType>().map_err(|e| Usage {
            message: format!("--type: {e}"),
            hint: "for example: goshi audit --type tool_call",
        })?),
    };
    let since = match &args.since {
        None => None,
        Some(s) => Some(parse_since(s, now).map_err(|e| Usage {
            message: format!("--since: {e}"),
            hint: "for example: goshi audit --since 1h",
        })?),
    };
    let filter = Filter {
        since,
        kind,
        limit: args.limit,
        session: args.session.clone(),
    };
    Ok((filter, format))
}

/// Widest a cell may be, per column; the last column (outcome) is cut but not padded.
const SESSION_MAX: usize = 16;
const TOOL_MAX: usize = 24;
const ARGS_MAX: usize = 60;
const OUTCOME_MAX: usize = 100;

/// A header and one aligned line per event.
fn render_human(events: &[StoredEvent]) -> Vec<String> {
    let rows: Vec<[String; 6]> = events
        .iter()
        .map(|e| {
            [
                format_time(e.ts, false),
                cell(Some(&e.session), SESSION_MAX),
                e.kind.as_str().to_string(),
                cell(e.tool.as_deref(), TOOL_MAX),
                cell(e.args.as_ref().map(one_line).as_deref(), ARGS_MAX),
                cell(e.outcome.as_deref(), OUTCOME_MAX),
            ]
        })
        .collect();
    let header = ["TIME", "SESSION", "TYPE", "TOOL", "ARGS", "OUTCOME"].map(String::from);
    let mut widths = [0usize; 6];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    std::iter::once(&header)
        .chain(&rows)
        .map(|row| {
            let mut line = String::new();
            for (i, (c, w)) in row.iter().zip(widths).enumerate() {
                if i + 1 == row.len() {
                    line.push_str(c);
                } else {
                    line.push_str(&format!("{c:<w$}  "));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

/// Arguments on one line: a string as itself, anything else as compact JSON.
fn one_line(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `-` for nothing; control characters escaped (the text may come from the model, and must
/// not move the cursor or recolour the terminal); cut to `max` characters with `…`.
fn cell(text: Option<&str>, max: usize) -> String {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return "-".to_string();
    };
    let clean = crate::text::sanitize::line(text);
    if clean.chars().count() > max {
        let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        clean.into_owned()
    }
}

fn println_safe(text: &str) {
    let _ = Screen::stdio().out_line(text);
}

/// A closed pipe (`goshi audit | head`) is a normal end; anything else is reported.
fn write_failed(e: &io::Error) -> ExitCode {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::SUCCESS;
    }
    super::error(&format!("could not write the output: {e}"), None);
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args() -> AuditArgs {
        AuditArgs {
            since: None,
            kind: None,
            limit: None,
            format: "human".into(),
            session: None,
        }
    }

    fn event(
        kind: EventType,
        tool: Option<&str>,
        args: Option<Value>,
        outcome: Option<&str>,
    ) -> StoredEvent {
        StoredEvent {
            ts: humantime::parse_rfc3339("2026-11-27T10:15:00.250Z").unwrap(),
            session: "3f9a2b7c01de".into(),
            kind,
            tool: tool.map(String::from),
            args,
            outcome: outcome.map(String::from),
            detail: None,
            raw: String::new(),
        }
    }

    #[test]
    fn parses_flags_into_a_filter() {
        let now = SystemTime::now();
        let a = AuditArgs {
            since: Some("1h".into()),
            kind: Some("tool_call".into()),
            limit: Some(3),
            format: "JSON".into(),
            session: Some("3f9a".into()),
        };
        let (f, fmt) = parse_args(&a, now).unwrap();
        assert_eq!(fmt, Format::Json);
        assert_eq!(f.kind, Some(EventType::ToolCall));
        assert_eq!(f.limit, Some(3));
        assert_eq!(f.session.as_deref(), Some("3f9a"));
        assert_eq!(f.since, Some(now - std::time::Duration::from_secs(3600)));
    }

    #[test]
    fn bad_flags_name_the_allowed_values() {
        let now = SystemTime::now();
        let bad_type = AuditArgs {
            kind: Some("tools".into()),
            ..args()
        };
        let u = parse_args(&bad_type, now).unwrap_err();
        assert!(
            u.message
                .starts_with("--type: unknown event type \"tools\""),
            "{}",
            u.message
        );
        assert!(u.message.contains("session_start") && u.message.contains("llm_error"));
        let bad_since = AuditArgs {
            since: Some("yesterday".into()),
            ..args()
        };
        let u = parse_args(&bad_since, now).unwrap_err();
        assert!(
            u.message.contains("--since") && u.message.contains("30m, 1h or 2d"),
            "{}",
            u.message
        );
        let bad_format = AuditArgs {
            format: "xml".into(),
            ..args()
        };
        let u = parse_args(&bad_format, now).unwrap_err();
        assert!(u.message.contains("allowed: human, json"), "{}", u.message);
    }

    #[test]
    fn human_lines_are_aligned_and_safe() {
        let events = [
            event(EventType::SessionStart, None, None, None),
            event(
                EventType::ToolCall,
                Some("fs.read"),
                Some(json!({"path": "src/main.rs"})),
                Some("ok\x1b[31m\nred"),
            ),
            event(
                EventType::ToolCall,
                Some("fs.write"),
                Some(json!("x".repeat(200))),
                None,
            ),
        ];
        let lines = render_human(&events);
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("TIME"));
        assert!(
            lines[1].starts_with("2026-11-27T10:15:00Z  3f9a2b7c01de  session_start  -  "),
            "{}",
            lines[1]
        );
        assert!(lines[1].ends_with("  -"), "{}", lines[1]);
        // The ARGS column starts at the same place on every line.
        let col = lines[0].find("ARGS").unwrap();
        assert_eq!(&lines[2][col..col + 24], r#"{"path":"src/main.rs"}  "#);
        assert!(lines[2].ends_with(r"ok\x1b[31m\nred"), "{}", lines[2]);
        assert!(!lines.iter().any(|l| l.contains('\x1b') || l.contains('\n')));
        let cut = format!("{}…", "x".repeat(ARGS_MAX - 1));
        assert!(lines[3].contains(&cut), "{}", lines[3]);
    }

    #[test]
    fn cells_show_a_dash_for_nothing() {
        assert_eq!(cell(None, 5), "-");
        assert_eq!(cell(Some(""), 5), "-");
        assert_eq!(cell(Some("abcdef"), 5), "abcd…");
        assert_eq!(cell(Some("ééééé"), 5), "ééééé");
    }
}
