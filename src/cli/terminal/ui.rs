//! [`TerminalUi`]: the chat loop's [`Ui`] on the [`Screen`].

use std::time::Instant;

use super::status::Activity;
use super::Screen;
use crate::agent::{Ui, Waiting};
use crate::cli::palette::Role;
use crate::cli::render::{MarkdownStream, RenderOptions};
use crate::text::sanitize::{self, Mode, StreamEscaper};
use crate::text::{human_size, one_line};
use crate::tools::ProposalNote;

/// How much of the reasoning the folded status line keeps (its newest characters).
const THOUGHT_TAIL: usize = 400;

/// How much reasoning that comes after answer text is kept for `--show-thinking` until the
/// answer's line ends (beyond it, only its size is told).
const LATE_THOUGHT_CAP: usize = 256 * 1024;

/// Where the user reviews a proposal a tool call stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewHint {
    /// `goshi fs show ID` (a one-shot run).
    Command,
    /// `/show ID` (the REPL).
    Repl,
}

/// The reasoning being streamed now.
struct Thought {
    since: Instant,
    bytes: usize,
    /// Its newest characters, for the folded status line.
    tail: String,
    /// Reasoning that came after answer text of the same round, held (up to
    /// [`LATE_THOUGHT_CAP`]) so that it is not written into the middle of the answer's line.
    late: String,
    /// Some of the late reasoning was left out (past the cap).
    late_cut: bool,
}

/// The chat loop's output on the screen: answer text on stdout, everything else on stderr.
/// Everything it shows came from the model or a server, so anything that could drive the
/// terminal (escape sequences, C0/C1 controls) is shown escaped ([`sanitize`]), also when a
/// sequence is split across streamed pieces.
///
/// While goshi waits (for the model, for a tool call being streamed, for a retry) a status line
/// on stderr says so, on a terminal only. The model's reasoning is folded into that line, or
/// shown whole and dimmed on stderr with [`TerminalUi::show_thinking`]; it never reaches stdout.
pub struct TerminalUi {
    screen: Screen,
    escaper: StreamEscaper,
    /// Answer text appended since the last flush, shown in one write.
    buf: String,
    /// Renders the answer as markdown (a terminal); None: the answer's text as it came.
    markdown: Option<MarkdownStream>,
    /// What the renderer gives to write.
    rendered: String,
    /// Show the reasoning whole (`--show-thinking`) instead of folded into the status line.
    show_thinking: bool,
    /// Escapes the reasoning shown whole (a sequence may be split across pieces).
    thought_escaper: StreamEscaper,
    thought: Option<Thought>,
    /// A tool call is being streamed (the answer's line has been ended for the status line).
    preparing: bool,
    /// Answer text was shown in this round: reasoning now waits until its line ends.
    answering: bool,
    review: ReviewHint,
}

impl TerminalUi {
    /// A UI writing through `screen`.
    pub fn new(screen: Screen) -> Self {
        TerminalUi {
            screen,
            escaper: StreamEscaper::new(Mode::Text),
            buf: String::with_capacity(8192),
            markdown: None,
            rendered: String::new(),
            show_thinking: false,
            thought_escaper: StreamEscaper::new(Mode::Text),
            thought: None,
            preparing: false,
            answering: false,
            review: ReviewHint::Command,
        }
    }

    /// A UI that renders answers as live markdown with `opts` (for a terminal).
    pub fn with_markdown(screen: Screen, opts: RenderOptions) -> Self {
        crate::cli::render::warm_up();
        TerminalUi {
            markdown: Some(MarkdownStream::new(opts)),
            ..TerminalUi::new(screen)
        }
    }

    /// Shows the model's reasoning whole (dimmed, on stderr) instead of folded to one line.
    pub fn show_thinking(mut self, whole: bool) -> Self {
        self.show_thinking = whole;
        self
    }

    /// Says how the user reviews a stored proposal: `/show ID` in the REPL, else the command.
    pub fn set_review_hint(&mut self, review: ReviewHint) {
        self.review = review;
    }

    /// Writes the answer text buffered so far: rendered, or as it came.
    fn write_answer(&mut self, finish: bool) {
        match &mut self.markdown {
            Some(md) => {
                md.push(&self.buf, &mut self.rendered);
                if finish {
                    md.finish(&mut self.rendered);
                }
                self.screen.answer(&self.rendered);
                self.rendered.clear();
            }
            None => self.screen.answer(&self.buf),
        }
        self.buf.clear();
    }

    /// Shows all of the answer so far and ends its line (markdown: its last block).
    fn end_answer_line(&mut self) {
        let rest = self.escaper.finish();
        self.buf.push_str(&rest);
        self.write_answer(true);
        self.screen.end_answer();
        self.answering = false;
    }

    /// Ends the round's output: the answer's line, then the reasoning (which may have come
    /// after answer text and waited for that line to end).
    fn end_round(&mut self) {
        self.end_answer_line();
        self.end_thought();
    }

    /// Ends the reasoning being shown: its whole text's line, or the folded status line,
    /// which leaves one dimmed line saying how long the model thought.
    fn end_thought(&mut self) {
        let Some(t) = self.thought.take() else {
            return;
        };
        let p = self.screen.err_palette();
        if self.show_thinking {
            let late = self.thought_escaper.push(&t.late).into_owned();
            let rest = self.thought_escaper.finish();
            let _ = self.screen.err(&p.paint(Role::Dim, &(late + &rest)));
            if t.late_cut {
                let _ = self.screen.err(&p.paint(Role::Dim, " […]"));
            }
            self.screen.err_end_line();
        } else if self.screen.stderr_is_terminal() {
            self.screen.clear_status();
            let secs = t.since.elapsed().as_secs_f64();
            self.screen.line(&p.paint(
                Role::Dim,
                &format!(
                    "thought for {secs:.1}s ({}; --show-thinking shows it)",
                    human_size(t.bytes as u64)
                ),
            ));
        }
    }
}

impl Ui for TerminalUi {
    fn text(&mut self, s: &str) {
        if self.thought.is_some() && !self.answering {
            self.end_thought();
        }
        self.answering = true;
        let safe = self.escaper.push(s);
        self.buf.push_str(&safe);
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.write_answer(false);
        }
    }

    fn end_answer(&mut self) {
        self.preparing = false;
        self.end_round();
        self.screen.clear_status();
    }

    fn info(&mut self, line: &str) {
        self.flush();
        self.screen.line(&sanitize::text(line));
    }

    fn tool_start(&mut self, name: &str, summary: &str) {
        self.end_answer();
        let p = self.screen.err_palette();
        let name = sanitize::line(name);
        let name = p.paint(Role::Tool, &name);
        let summary = sanitize::line(summary.trim());
        let _ = if summary.is_empty() {
            self.screen.err(&format!("→ {name} … "))
        } else {
            self.screen.err(&format!("→ {name} {summary} … "))
        };
    }

    fn tool_end(&mut self, ok: bool, detail: &str) {
        let p = self.screen.err_palette();
        if ok {
            self.screen.line(&p.paint(Role::Ok, "✓"));
        } else {
            let mark = p.paint(Role::Error, "✗");
            self.screen
                .line(&format!("{mark} {}", sanitize::line(detail)));
        }
    }

    fn waiting(&mut self, what: Waiting<'_>) {
        let activity = match what {
            Waiting::Model { model } => Activity::Waiting {
                model: model.to_string(),
            },
            Waiting::ToolCall { name, bytes } => {
                if !self.preparing {
                    // The status line needs a line of its own.
                    self.end_round();
                    self.preparing = true;
                }
                Activity::Preparing {
                    tool: name.to_string(),
                    bytes,
                }
            }
        };
        self.screen.set_status(activity);
    }

    fn tick(&mut self) {
        self.screen.tick_status();
    }

    fn thinking(&mut self, s: &str) {
        let t = self.thought.get_or_insert_with(|| Thought {
            since: Instant::now(),
            bytes: 0,
            tail: String::new(),
            late: String::new(),
            late_cut: false,
        });
        t.bytes = t.bytes.saturating_add(s.len());
        if self.answering {
            // Not into the middle of the answer's line: shown when that line ends.
            if self.show_thinking {
                let room = LATE_THOUGHT_CAP.saturating_sub(t.late.len());
                let mut take = room.min(s.len());
                while !s.is_char_boundary(take) {
                    take -= 1;
                }
                t.late.push_str(&s[..take]);
                t.late_cut |= take < s.len();
            }
            return;
        }
        if self.show_thinking {
            let safe = self.thought_escaper.push(s);
            let p = self.screen.err_palette();
            let _ = self.screen.err(&p.paint(Role::Dim, &safe));
            return;
        }
        t.tail.push_str(s);
        if t.tail.len() > 2 * THOUGHT_TAIL {
            let mut cut = t.tail.len() - THOUGHT_TAIL;
            while !t.tail.is_char_boundary(cut) {
                cut += 1;
            }
            t.tail.drain(..cut);
        }
        let tail = t.tail.clone();
        self.screen.set_status(Activity::Thinking { tail });
    }

    fn proposal(&mut self, note: &ProposalNote) {
        let p = self.screen.err_palette();
        let id = sanitize::line(&note.short_id);
        let review = match self.review {
            ReviewHint::Repl => format!("/show {id}"),
            ReviewHint::Command => format!("goshi fs show {id}"),
        };
        self.screen.line(&format!(
            "  proposal {} {} (+{} -{}) · {}",
            p.paint(Role::Tool, &id),
            one_line(&note.path, 120),
            note.added,
            note.removed,
            p.paint(Role::Dim, &review)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_is_shown_at_flush_and_ends_its_line() {
        let (screen, c) = Screen::captured();
        let mut ui = TerminalUi::new(screen);
        ui.text("Hel");
        ui.text("lo");
        assert_eq!(c.stdout(), "");
        ui.flush();
        assert_eq!(c.stdout(), "Hello");
        ui.info("tokens: 3");
        ui.tool_start("fs.read", " a.txt ");
        ui.tool_end(false, "no such file");
        ui.tool_start("fs.list", "");
        ui.tool_end(true, "");
        assert_eq!(c.stdout(), "Hello\n");
        assert_eq!(
            c.stderr(),
            "tokens: 3\n→ fs.read a.txt … ✗ no such file\n→ fs.list … ✓\n"
        );
    }

    #[test]
    fn reasoning_after_answer_text_waits_for_the_answers_line_to_end() {
        for whole in [false, true] {
            let (screen, c) = Screen::captured_terminal();
            let mut ui = TerminalUi::new(screen).show_thinking(whole);
            ui.text("Hel");
            ui.flush();
            ui.thinking("on second \x1b[2Jthought");
            ui.text("lo");
            ui.flush();
            assert_eq!(c.stdout(), "Hello");
            assert_eq!(
                c.stderr(),
                "",
                "whole={whole}: nothing inside the answer's line"
            );
            ui.end_answer();
            assert_eq!(c.stdout(), "Hello\n");
            let err = c.stderr();
            if whole {
                assert!(err.contains("on second \\x1b[2Jthought"), "{err:?}");
            } else {
                assert!(err.contains("thought for "), "{err:?}");
            }
            assert!(err.ends_with('\n'), "{err:?}");
        }
    }

    #[test]
    fn late_reasoning_kept_for_show_thinking_is_bounded() {
        let (screen, c) = Screen::captured_terminal();
        let mut ui = TerminalUi::new(screen).show_thinking(true);
        ui.text("a");
        let piece = "é".repeat(1000);
        for _ in 0..200 {
            ui.thinking(&piece);
        }
        ui.end_answer();
        let err = c.stderr();
        assert!(err.len() < LATE_THOUGHT_CAP + 1024, "{}", err.len());
        assert!(err.contains("[…]"), "the cut is told");
    }
}
