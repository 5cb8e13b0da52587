//! `goshi chat --format json|jsonl`: the scripting contract. `json` prints exactly one JSON
//! object on stdout whatever happens (the answer, model, provider, usage, the tool calls made,
//! the proposals created, or the error with its kind and message); `jsonl` prints one JSON
//! event per line as they happen (`text`, `thinking`, `info`, `tool_start`, `tool_end`,
//! `proposal`), the same object last (`"type": "end"`). Diagnostics stay
//! on stderr; nothing else is written to stdout.

use std::process::ExitCode;

use serde_json::{json, Value};

use super::terminal::Screen;
use crate::agent::{TurnEnd, Ui};
use crate::tools::ProposalNote;

/// How `goshi chat` writes its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The answer as text (rendered on a terminal).
    Text,
    /// One JSON object at the end.
    Json,
    /// One JSON event per line, as they happen.
    Jsonl,
}

/// A [`Ui`] that keeps the answer and the tool calls for the final object (and, for `jsonl`,
/// writes each as an event).
pub struct JsonUi {
    screen: Screen,
    stream: bool,
    answer: String,
    tools: Vec<Value>,
    current: Option<(String, String)>,
}

impl JsonUi {
    /// A UI for `format` (`Json` or `Jsonl`) writing through `screen`.
    pub fn new(screen: Screen, format: Format) -> JsonUi {
        JsonUi {
            screen,
            stream: format == Format::Jsonl,
            answer: String::new(),
            tools: Vec::new(),
            current: None,
        }
    }

    fn event(&self, v: Value) {
        if self.stream {
            let _ = self.screen.out(&format!("{v}\n"));
        }
    }

    /// Writes the final object: the turn's outcome (`end`, with the exit code and the
    /// message the text format would print) and what the session knows.
    pub fn finish(&self, end: Outcome, facts: Value) -> ExitCode {
        let mut v = facts;
        v["ok"] = json!(end.error.is_none());
        v["exit_code"] = json!(end.code);
        v["answer"] = json!(self.answer);
        v["tool_calls"] = json!(self.tools);
        v["error"] = end.error.map_or(
            Value::Null,
            |(kind, message)| json!({"kind": kind, "message": message}),
        );
        if self.stream {
            v["type"] = json!("end");
        }
        let _ = self.screen.out(&format!("{v}\n"));
        ExitCode::from(end.code)
    }
}

impl Ui for JsonUi {
    fn text(&mut self, s: &str) {
        self.answer.push_str(s);
        self.event(json!({"type": "text", "text": s}));
    }

    fn flush(&mut self) {}

    fn end_answer(&mut self) {}

    fn info(&mut self, line: &str) {
        self.screen.line(line);
        self.event(json!({"type": "info", "line": line}));
    }

    fn tool_start(&mut self, name: &str, summary: &str) {
        self.event(json!({"type": "tool_start", "tool": name, "summary": summary}));
        self.current = Some((name.to_string(), summary.to_string()));
    }

    fn tool_end(&mut self, ok: bool, detail: &str) {
        let (tool, summary) = self.current.take().unwrap_or_default();
        let call = json!({"tool": tool, "summary": summary, "ok": ok, "detail": detail});
        self.event(json!({"type": "tool_end", "tool": tool, "ok": ok, "detail": detail}));
        self.tools.push(call);
    }

    /// `jsonl` only: the model's reasoning as it streams, typed apart from the answer (it is
    /// never part of `answer`).
    fn thinking(&mut self, s: &str) {
        self.event(json!({"type": "thinking", "text": s}));
    }

    /// `jsonl` only: a write proposal stored by the call that just ended (its id is also in
    /// the final object's `proposals`).
    fn proposal(&mut self, note: &ProposalNote) {
        self.event(
            json!({"type": "proposal", "id": note.id, "short_id": note.short_id,
            "path": note.path, "added": note.added, "removed": note.removed}),
        );
    }
}

/// How a run ended, for the final object.
pub struct Outcome {
    /// The process exit code.
    pub code: u8,
    /// The error's kind and message, when it failed.
    pub error: Option<(String, String)>,
}

impl Outcome {
    /// A failure before any turn ran (setup, configuration): the last error shown.
    pub fn setup(code: u8, screen: &Screen) -> Outcome {
        Outcome {
            code,
            error: Some((
                if code == 2 { "usage" } else { "setup" }.to_string(),
                screen.last_error().unwrap_or_else(|| "see stderr".into()),
            )),
        }
    }

    /// The outcome of a turn; `code` and `message` are what the text format reports.
    pub fn of_turn(end: &TurnEnd, code: u8, message: Option<String>) -> Outcome {
        let kind = match end {
            TurnEnd::Done => return Outcome { code, error: None },
            TurnEnd::Cancelled => "interrupted".to_string(),
            TurnEnd::Failed(e) => snake(&format!("{:?}", e.kind)),
            other => snake(
                format!("{other:?}")
                    .split(['(', ' ', '{'])
                    .next()
                    .unwrap_or("failed"),
            ),
        };
        Outcome {
            code,
            error: Some((kind, message.unwrap_or_default())),
        }
    }
}

/// `RateLimited` → `rate_limited`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A [`Ui`] that only keeps the diagnostic lines (to learn what the text format would say).
#[derive(Default)]
pub struct Lines(pub Vec<String>);

impl Ui for Lines {
    fn text(&mut self, _: &str) {}
    fn flush(&mut self) {}
    fn end_answer(&mut self) {}
    fn info(&mut self, line: &str) {
        self.0.push(line.to_string());
    }
    fn tool_start(&mut self, _: &str, _: &str) {}
    fn tool_end(&mut self, _: bool, _: &str) {}
}

#[cfg(test)]
mod tests {
    #[test]
    fn kinds_are_snake_case() {
        assert_eq!(super::snake("RateLimited"), "rate_limited");
        assert_eq!(super::snake("RoundLimit"), "round_limit");
        assert_eq!(super::snake("server"), "server");
    }
}
