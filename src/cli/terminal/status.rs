//! The status line: one line on stderr, on a terminal only, that says what goshi is waiting
//! for and for how long (`⠹ waiting for gpt-4o · 3s`, `⠹ preparing fs.write · 1.2 KiB`), with
//! a retry's countdown on the same line. [`Screen`](super::Screen) draws it and erases it
//! before anything else is written, so it never lands in the answer, a pipe or a log.
//!
//! This module only decides what the line says; it does no I/O.

use std::time::{Duration, Instant};

use unicode_width::UnicodeWidthChar;

use crate::text::{human_size, one_line};

/// What goshi is doing while the status line is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// Waiting for the model's first event.
    Waiting {
        /// The model asked.
        model: String,
    },
    /// The model is streaming a tool call's arguments.
    Preparing {
        /// The tool's name (model-chosen; escaped when drawn).
        tool: String,
        /// Argument bytes received so far.
        bytes: usize,
    },
    /// The model is reasoning (its thinking folded to one line).
    Thinking {
        /// The end of the reasoning so far (escaped when drawn).
        tail: String,
    },
}

impl Activity {
    /// Whether `other` continues this activity (so its clock keeps running).
    fn continues(&self, other: &Activity) -> bool {
        match (self, other) {
            (Activity::Waiting { model: a }, Activity::Waiting { model: b }) => a == b,
            (Activity::Preparing { tool: a, .. }, Activity::Preparing { tool: b, .. }) => a == b,
            (Activity::Thinking { .. }, Activity::Thinking { .. }) => true,
            _ => false,
        }
    }
}

/// A retry the LLM layer is waiting out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// What failed (`HTTP 503`, a connection error).
    pub why: String,
    /// When the next attempt goes out.
    pub at: Instant,
    /// This retry's number, from 1.
    pub attempt: u32,
    /// The most retries allowed.
    pub max: u32,
}

/// How long a status waits before it is first drawn: a quick answer never flashes one.
pub const FIRST_DRAW_AFTER: Duration = Duration::from_millis(200);

/// The spinner's frames, one per [`FRAME`].
const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME: Duration = Duration::from_millis(100);

/// The status line's state: what goshi does, since when, and any retry being waited out.
#[derive(Debug, Clone)]
pub struct Status {
    activity: Activity,
    since: Instant,
    retry: Option<Retry>,
}

impl Status {
    /// A status for `activity`, starting `now`.
    pub fn new(activity: Activity, now: Instant) -> Self {
        Status {
            activity,
            since: now,
            retry: None,
        }
    }

    /// Moves to `activity`: the clock keeps running when it continues the current one (more
    /// bytes of the same tool call); a new activity restarts it and forgets any retry.
    pub fn update(&mut self, activity: Activity, now: Instant) {
        if !self.activity.continues(&activity) {
            self.since = now;
            self.retry = None;
        }
        self.activity = activity;
    }

    /// Shows `retry`'s countdown on the line.
    pub fn retry(&mut self, retry: Retry) {
        self.retry = Some(retry);
    }

    /// Whether the line is due to be drawn at `now` (see [`FIRST_DRAW_AFTER`]); a retry or
    /// thinking is shown at once.
    pub fn due(&self, now: Instant) -> bool {
        self.retry.is_some()
            || matches!(self.activity, Activity::Thinking { .. })
            || now.saturating_duration_since(self.since) >= FIRST_DRAW_AFTER
    }

    /// The line at `now`, at most `width - 1` columns (so it never wraps), without a newline.
    /// Anything model- or server-chosen in it is escaped.
    pub fn render(&self, now: Instant, width: usize) -> String {
        let elapsed = now.saturating_duration_since(self.since);
        let frame = FRAMES[(elapsed.as_millis() / FRAME.as_millis()) as usize % FRAMES.len()];
        let secs = elapsed.as_secs();
        let mut line = match &self.activity {
            Activity::Waiting { model } => {
                format!("{frame} waiting for {} · {secs}s", one_line(model, 60))
            }
            Activity::Preparing { tool, bytes } => format!(
                "{frame} preparing {} · {}",
                one_line(tool, 60),
                human_size(*bytes as u64)
            ),
            Activity::Thinking { tail } => {
                format!(
                    "{frame} thinking · {secs}s · {}",
                    one_line(tail.trim(), 400)
                )
            }
        };
        if let Some(r) = &self.retry {
            let left = r.at.saturating_duration_since(now);
            // Round up: "in 0s" while a wait is still running would read as stuck.
            let left = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            line.push_str(&format!(
                " · {}, retry {}/{} in {left}s",
                one_line(&r.why, 60),
                r.attempt,
                r.max
            ));
        }
        fit(
            &line,
            width.saturating_sub(1),
            matches!(self.activity, Activity::Thinking { .. }),
        )
    }
}

/// `line` cut to `cols` columns; thinking keeps its end (the newest words), everything else
/// its start.
fn fit(line: &str, cols: usize, keep_end: bool) -> String {
    let width = |c: char| c.width().unwrap_or(0);
    let total: usize = line.chars().map(width).sum();
    if total <= cols {
        return line.to_string();
    }
    if !keep_end {
        let mut out = String::new();
        let mut used = 0;
        for c in line.chars() {
            if used + width(c) + 1 > cols {
                break;
            }
            used += width(c);
            out.push(c);
        }
        out.push('…');
        return out;
    }
    // Keep the head up to the second " · " (spinner, "thinking", the clock), then the
    // newest words of the reasoning.
    let head_end = line
        .match_indices(" · ")
        .nth(1)
        .map_or(0, |(i, sep)| i + sep.len());
    let head = &line[..head_end];
    let head_cols: usize = head.chars().map(width).sum();
    let room = cols.saturating_sub(head_cols + 1);
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in line[head_end..].chars().rev() {
        if used + width(c) > room {
            break;
        }
        used += width(c);
        tail.push(c);
    }
    let tail: String = tail.into_iter().rev().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[test]
    fn waiting_counts_seconds_and_spins() {
        let t0 = Instant::now();
        let s = Status::new(
            Activity::Waiting {
                model: "gpt-4o".into(),
            },
            t0,
        );
        assert!(!s.due(at(t0, 100)));
        assert!(s.due(at(t0, 250)));
        assert_eq!(s.render(at(t0, 3050), 80), "⠋ waiting for gpt-4o · 3s");
        assert_eq!(s.render(at(t0, 3150), 80), "⠙ waiting for gpt-4o · 3s");
    }

    #[test]
    fn preparing_shows_bytes_and_keeps_its_clock_for_the_same_tool() {
        let t0 = Instant::now();
        let mut s = Status::new(
            Activity::Preparing {
                tool: "fs.write".into(),
                bytes: 0,
            },
            t0,
        );
        s.update(
            Activity::Preparing {
                tool: "fs.write".into(),
                bytes: 1229,
            },
            at(t0, 500),
        );
        assert!(s.due(at(t0, 500)), "the clock kept running");
        assert_eq!(s.render(at(t0, 500), 80), "⠴ preparing fs.write · 1.2 KiB");
        s.update(Activity::Waiting { model: "m".into() }, at(t0, 600));
        assert!(!s.due(at(t0, 700)), "a new activity restarts the clock");
    }

    #[test]
    fn a_retry_counts_down_on_the_same_line_until_the_activity_changes() {
        let t0 = Instant::now();
        let mut s = Status::new(Activity::Waiting { model: "m".into() }, t0);
        s.retry(Retry {
            why: "HTTP 503".into(),
            at: at(t0, 3000),
            attempt: 1,
            max: 3,
        });
        assert!(s.due(t0), "a retry is shown at once");
        assert_eq!(
            s.render(at(t0, 1200), 80),
            "⠹ waiting for m · 1s · HTTP 503, retry 1/3 in 2s"
        );
        assert!(s.render(at(t0, 3500), 80).ends_with("retry 1/3 in 0s"));
        s.update(Activity::Waiting { model: "m".into() }, at(t0, 3600));
        assert!(s.render(at(t0, 3600), 80).contains("retry"), "same wait");
        s.update(Activity::Thinking { tail: "x".into() }, at(t0, 3700));
        assert!(!s.render(at(t0, 3700), 80).contains("retry"));
    }

    #[test]
    fn the_line_never_wraps_and_cannot_drive_the_terminal() {
        let t0 = Instant::now();
        let s = Status::new(
            Activity::Waiting {
                model: format!("evil\x1b[2J{}", "x".repeat(200)),
            },
            t0,
        );
        let line = s.render(at(t0, 300), 40);
        assert!(!line.contains('\x1b'), "{line:?}");
        assert_eq!(line.chars().count(), 39, "{line:?}");
        assert!(line.ends_with('…'));
        // Thinking keeps its newest words.
        let s = Status::new(
            Activity::Thinking {
                tail: format!("{} the last words", "old ".repeat(50)),
            },
            t0,
        );
        let line = s.render(at(t0, 1000), 40);
        assert!(line.starts_with("⠋ thinking · 1s · …"), "{line:?}");
        assert!(line.ends_with("the last words"), "{line:?}");
        assert!(line.chars().count() <= 39, "{line:?}");
        // Wide characters count as two columns.
        let s = Status::new(
            Activity::Waiting {
                model: "日本語".repeat(20),
            },
            t0,
        );
        let line = s.render(at(t0, 300), 30);
        let cols: usize = line.chars().map(|c| c.width().unwrap_or(0)).sum();
        assert!(cols <= 29, "{line:?} is {cols} columns");
    }
}
