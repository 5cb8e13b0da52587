//! [`TerminalUi`]: the chat loop's [`Ui`] on the [`Screen`].

use super::Screen;
use crate::agent::Ui;
use crate::cli::palette::Role;
use crate::cli::render::{MarkdownStream, RenderOptions};
use crate::text::sanitize::{self, Mode, StreamEscaper};

/// The chat loop's output on the screen: answer text on stdout, everything else on stderr.
/// Everything it shows came from the model or a server, so anything that could drive the
/// terminal (escape sequences, C0/C1 controls) is shown escaped ([`sanitize`]), also when a
/// sequence is split across streamed pieces.
pub struct TerminalUi {
    screen: Screen,
    escaper: StreamEscaper,
    /// Answer text appended since the last flush, shown in one write.
    buf: String,
    /// Renders the answer as markdown (a terminal); None: the answer's text as it came.
    markdown: Option<MarkdownStream>,
    /// What the renderer gives to write.
    rendered: String,
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
}

impl Ui for TerminalUi {
    fn text(&mut self, s: &str) {
        let safe = self.escaper.push(s);
        self.buf.push_str(&safe);
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.write_answer(false);
        }
    }

    fn end_answer(&mut self) {
        let rest = self.escaper.finish();
        self.buf.push_str(&rest);
        self.write_answer(true);
        self.screen.end_answer();
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
}
