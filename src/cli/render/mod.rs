//! Live markdown: an answer rendered on the terminal while it streams.
//!
//! The answer is cut into complete lines; the lines are grouped into top-level blocks by
//! pulldown-cmark. A block is rendered and written once it is complete (a paragraph at the
//! blank line after it, a heading at its newline, a list or quote when the next block starts)
//! and is never rewritten. A top-level fenced code block streams line by line, each line
//! highlighted once it is complete (syntect keeps state between lines, so this is exact).
//!
//! What is not yet complete is shown as plain text in a *live preview* below the written
//! output. The preview is the only thing ever erased (carriage return, cursor up over the
//! preview's own rows, erase below), and it is kept shorter than the screen, so earlier output
//! is never touched and scrollback stays clean. Whatever the chunking, the written blocks are
//! the same: decisions are made on complete lines only.
//!
//! Limits: a link reference definition applies only to links after it within the same pending
//! text. Text is wrapped at word boundaries to the terminal's width, under its indent or bar in
//! a list or quote (see `writer`); a table too wide is fitted (see `table`); code is not
//! wrapped.

mod blocks;
mod highlight;
mod open;
mod preview;
mod table;
mod worker;
mod writer;

use std::borrow::Cow;

use pulldown_cmark::{Event, Options, Parser, Tag};

use crate::cli::palette::Role;
use highlight::CodeLines;
use open::Open;
use preview::Preview;

pub use highlight::warm_up;

/// How answers are rendered on this terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Terminal columns (for the preview's row count and rules).
    pub width: usize,
    /// Terminal rows (the preview stays shorter than this).
    pub height: usize,
    /// Links as OSC 8 hyperlinks.
    pub hyperlinks: bool,
    /// 24-bit colour for highlighted code (else the xterm 256-colour cube).
    pub truecolor: bool,
    /// Show the block being written as a live plain-text preview.
    pub preview: bool,
}

impl RenderOptions {
    /// The options for this process's terminal: its size, and what its environment says it
    /// supports (`COLORTERM`, the hyperlink-capable terminals of [`hyperlinks_supported`]).
    pub fn for_terminal() -> RenderOptions {
        let size = terminal_size::terminal_size();
        let (width, height) = size.map_or((0, 0), |(w, h)| (usize::from(w.0), usize::from(h.0)));
        let env = |k: &str| std::env::var(k).unwrap_or_default();
        RenderOptions {
            width,
            height,
            hyperlinks: hyperlinks_supported(&env),
            truecolor: matches!(env("COLORTERM").as_str(), "truecolor" | "24bit"),
            // Without a known size the preview's rows cannot be counted, so it stays off.
            preview: width > 0 && height > 2,
        }
    }
}

/// Whether the terminal is known to show OSC 8 hyperlinks (there is no way to ask it). As
/// of 2026-11-30: iTerm2, WezTerm, VS Code, Ghostty, Windows Terminal, kitty, Konsole and
/// VTE-based terminals (GNOME Terminal, Tilix) 0.50+; `FORCE_HYPERLINK=1`/`0` decides.
pub fn hyperlinks_supported(env: &dyn Fn(&str) -> String) -> bool {
    match env("FORCE_HYPERLINK").as_str() {
        "" => {}
        "0" => return false,
        _ => return true,
    }
    let program = env("TERM_PROGRAM");
    matches!(
        program.as_str(),
        "iTerm.app" | "WezTerm" | "vscode" | "ghostty"
    ) || !env("WT_SESSION").is_empty()
        || !env("KONSOLE_VERSION").is_empty()
        || env("TERM") == "xterm-kitty"
        || env("VTE_VERSION").parse::<u32>().is_ok_and(|v| v >= 5000)
}

/// Model text made terminal-safe: every control character (but newline and tab) shown
/// escaped, so no escape sequence from the model reaches the terminal.
pub(crate) fn escape_text(s: &str) -> Cow<'_, str> {
    crate::text::sanitize::text(s)
}

/// A top-level fenced code block being streamed.
struct Fence {
    marker: char,
    len: usize,
    lines: CodeLines,
}

/// An answer being rendered (see the module docs). Feed it the answer's chunks with
/// [`MarkdownStream::push`] and end it with [`MarkdownStream::finish`]; both append the bytes
/// to write to the terminal.
pub struct MarkdownStream {
    opts: RenderOptions,
    /// The incomplete last line.
    partial: String,
    /// Complete lines whose blocks are not written yet.
    pending: String,
    /// What the current line writes (a buffer kept between lines).
    written: String,
    prev_blank: bool,
    /// The list or table that `pending` holds, unfinished (see [`Open`]).
    open: Option<Open>,
    fence: Option<Fence>,
    /// A block was written: the next one is separated by a blank line.
    wrote_block: bool,
    preview: Preview,
    /// The length of `pending` at its last parse, which left a block unfinished (see
    /// [`PARSE_BACKOFF_FROM`]).
    parsed_len: usize,
    /// A line that surely ends every pending block ([`ends_blocks`]) was parsed while backing
    /// off and ended none (an HTML block or an indented fence holds it); until the pending text
    /// is written, such lines back off too.
    end_missed: bool,
    /// Parses of the pending text so far (for the tests of the backoff).
    #[cfg(test)]
    parses: usize,
}

/// Past this many pending bytes, the pending text is parsed again only once it has doubled
/// since its last parse. Every line that may end a block costs a parse of the block so far
/// ([`Open`] spares the lines that surely continue a list or table); a block of many other
/// such lines (a paragraph of lines that start with `*x` or a digit, nested list items) would
/// make that quadratic: 8,000 such lines took 7 s. With the backoff the parsing is linear up
/// to a constant (8,000 such lines: 7 s before, 0.21 s now). A line that surely ends the
/// pending blocks ([`ends_blocks`]: a heading, a line at the margin after a blank line) is
/// still parsed, so a long block is written when the next one starts, not one doubling late.
const PARSE_BACKOFF_FROM: usize = 8 * 1024;

impl MarkdownStream {
    /// A renderer for one answer.
    pub fn new(opts: RenderOptions) -> MarkdownStream {
        let preview = Preview::new(opts.preview, opts.width, opts.height);
        MarkdownStream {
            opts,
            partial: String::new(),
            pending: String::new(),
            written: String::new(),
            prev_blank: false,
            open: None,
            fence: None,
            wrote_block: false,
            preview,
            parsed_len: 0,
            end_missed: false,
            #[cfg(test)]
            parses: 0,
        }
    }

    /// Takes the next chunk of the answer; appends what to write to `out`.
    pub fn push(&mut self, chunk: &str, out: &mut String) {
        for piece in chunk.split_inclusive('\n') {
            self.partial.push_str(piece);
            // A new block after a written one is written after a blank line; its preview
            // too. Code lines follow each other.
            self.preview
                .set_gap(self.wrote_block && self.fence.is_none());
            if !piece.ends_with('\n') {
                self.preview.add(piece, out);
                continue;
            }
            // Both buffers are reused from line to line: no allocation per line.
            let mut line = std::mem::take(&mut self.partial);
            let mut written = std::mem::take(&mut self.written);
            self.line(&line, &mut written);
            if written.is_empty() {
                if !self.pending.is_empty() {
                    self.preview.add(piece, out);
                }
            } else {
                self.preview.clear(out);
                out.push_str(&written);
                self.preview
                    .set_gap(self.wrote_block && self.fence.is_none());
                self.preview.add(&self.pending, out);
            }
            line.clear();
            written.clear();
            self.partial = line;
            self.written = written;
        }
    }

    /// Ends the answer: writes whatever is left, complete or not, and leaves the terminal at
    /// the start of a line with no style active. The stream is ready for another answer.
    pub fn finish(&mut self, out: &mut String) {
        self.preview.clear(out);
        let rest = std::mem::take(&mut self.partial);
        if let Some(mut f) = self.fence.take() {
            if !rest.is_empty() {
                f.lines.line(&rest, out);
            }
        } else {
            self.pending.push_str(&rest);
            if !self.pending.is_empty() && !self.pending.ends_with('\n') {
                self.pending.push('\n');
            }
            self.commit(true, out);
        }
        self.pending.clear();
        self.parsed_len = 0;
        self.end_missed = false;
        self.prev_blank = false;
        self.open = None;
        self.wrote_block = false;
    }

    /// One complete line (with its `\n`).
    fn line(&mut self, line: &str, out: &mut String) {
        if let Some(f) = &mut self.fence {
            if closes_fence(line, f.marker, f.len) {
                out.push_str(&format!("\x1b[{}m```\x1b[0m\n", Role::Dim.sgr()));
                self.fence = None;
                self.prev_blank = false;
            } else {
                f.lines.line(line, out);
            }
            return;
        }
        if let Some((marker, len, info)) = opens_fence(line) {
            // A fence at the left margin ends every open block (CommonMark: it interrupts a
            // paragraph and is not indented enough to belong to a list item).
            self.commit(true, out);
            if self.wrote_block {
                out.push('\n');
            }
            let lang = info.split_whitespace().next().unwrap_or("");
            out.push_str(&format!(
                "\x1b[{}m```{}\x1b[0m\n",
                Role::Dim.sgr(),
                escape_text(lang)
            ));
            self.fence = Some(Fence {
                marker,
                len,
                lines: CodeLines::new(lang, self.opts.truecolor),
            });
            self.wrote_block = true;
            return;
        }
        let blank = line.trim().is_empty();
        let after_blank = self.prev_blank;
        let trigger = blank || after_blank || starts_block(line);
        self.prev_blank = blank;
        // The next item of an open list or row of an open table completes nothing, nor does a
        // blank line in a list (only a block after it can end the list, and an item after it
        // continues it): no parse.
        let in_list = matches!(self.open, Some(Open::List(_)));
        let continues = if blank {
            in_list
        } else {
            (!after_blank || in_list) && self.open.is_some_and(|o| o.continued_by(line))
        };
        self.pending.push_str(line);
        let len = self.pending.len();
        let backing_off = len > PARSE_BACKOFF_FROM && len < self.parsed_len.saturating_mul(2);
        if !trigger || continues {
            return;
        }
        if !backing_off {
            self.commit(false, out);
        } else if !self.end_missed && ends_blocks(line, after_blank) {
            self.commit(false, out);
            // Nothing written: the line did not end the block after all.
            self.end_missed = self.pending.len() == len;
        }
    }

    /// Renders the complete blocks of `pending` (all of them when `all`) and drops their text.
    fn commit(&mut self, all: bool, out: &mut String) {
        self.open = None;
        if self.pending.trim().is_empty() {
            // Blank lines between blocks: nothing to continue, nothing to show.
            self.pending.clear();
            self.parsed_len = 0;
            self.end_missed = false;
            return;
        }
        #[cfg(test)]
        {
            self.parses += 1;
        }
        // What is left after this commit was parsed and found unfinished.
        self.parsed_len = self.pending.len();
        let opts =
            Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
        let events: Vec<(Event<'_>, std::ops::Range<usize>)> = Parser::new_ext(&self.pending, opts)
            .into_offset_iter()
            .collect();
        let tops = top_level_blocks(&events);
        let Some(last) = tops.last() else {
            return;
        };
        let last_closed =
            all || (last.closed_by_blank && ends_with_blank_line(&self.pending)) || last.closed;
        let n = if last_closed {
            tops.len()
        } else {
            tops.len() - 1
        };
        let cut = if n == tops.len() {
            self.pending.len()
        } else {
            let start = tops[n].start_byte;
            let cut = self.pending[..start].rfind('\n').map_or(0, |i| i + 1);
            // The one block left, unfinished: a list or table at the left margin is `open`.
            if n + 1 == tops.len() && cut == start && (tops[n].list || tops[n].table) {
                let first = self.pending[start..].split_inclusive('\n').next();
                self.open = first.and_then(|l| Open::of(tops[n].list, l));
            }
            cut
        };
        if n == 0 {
            return;
        }
        let end_event = tops[n - 1].end_event;
        let mut rendered = String::new();
        blocks::render(
            events.into_iter().take(end_event + 1).map(|(e, _)| e),
            &self.opts,
            self.wrote_block,
            &mut rendered,
        );
        self.pending.drain(..cut);
        self.parsed_len = self.pending.len();
        self.end_missed = false;
        if !rendered.is_empty() {
            out.push_str(&rendered);
            self.wrote_block = true;
        }
    }
}

/// A top-level block in a parse of the pending text.
struct TopBlock {
    start_byte: usize,
    /// Index of its last event.
    end_event: usize,
    /// Nothing that follows can extend it (a heading, a rule).
    closed: bool,
    /// A blank line after it ends it (a paragraph, a table, an HTML block).
    closed_by_blank: bool,
    /// A list.
    list: bool,
    /// A table.
    table: bool,
}

fn top_level_blocks(events: &[(Event<'_>, std::ops::Range<usize>)]) -> Vec<TopBlock> {
    let mut tops = Vec::new();
    let mut depth = 0usize;
    let mut block = None;
    for (i, (ev, range)) in events.iter().enumerate() {
        match ev {
            Event::Start(tag) => {
                if depth == 0 {
                    block = Some(TopBlock {
                        start_byte: range.start,
                        end_event: i,
                        closed: matches!(tag, Tag::Heading { .. }),
                        closed_by_blank: matches!(
                            tag,
                            Tag::Paragraph | Tag::Table(_) | Tag::HtmlBlock
                        ),
                        list: matches!(tag, Tag::List(_)),
                        table: matches!(tag, Tag::Table(_)),
                    });
                }
                depth += 1;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some(mut b) = block.take() {
                        b.end_event = i;
                        tops.push(b);
                    }
                }
            }
            _ if depth == 0 => tops.push(TopBlock {
                start_byte: range.start,
                end_event: i,
                closed: matches!(ev, Event::Rule),
                closed_by_blank: true,
                list: false,
                table: false,
            }),
            _ => {}
        }
    }
    tops
}

/// Whether the last line of `s` is blank.
fn ends_with_blank_line(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    let last = body.rsplit('\n').next().unwrap_or("");
    body.contains('\n') && last.trim().is_empty()
}

/// Whether a line may start a new block (so the blocks before it may be complete). A false
/// positive only costs a parse; a false negative only delays a block until the next one.
fn starts_block(line: &str) -> bool {
    let t = line.trim_start();
    matches!(
        t.as_bytes().first(),
        Some(b'#' | b'`' | b'~' | b'-' | b'*' | b'+' | b'>' | b'|' | b'<' | b'=' | b'_' | b':')
            | Some(b'0'..=b'9')
    )
}

/// Whether a complete line surely ends every block before it, unless an HTML block or a fence
/// that is not at the margin holds it: an ATX heading at the margin (it interrupts a
/// paragraph and is not indented into a list item), or after a blank line any line at the
/// margin but a list item (which may continue a loose list).
fn ends_blocks(line: &str, after_blank: bool) -> bool {
    let atx = {
        let hashes = line.bytes().take_while(|b| *b == b'#').count();
        (1..=6).contains(&hashes)
            && matches!(
                line.as_bytes().get(hashes),
                Some(b' ' | b'\t' | b'\n' | b'\r')
            )
    };
    let at_margin = !matches!(
        line.as_bytes().first(),
        None | Some(b' ' | b'\t' | b'\n' | b'\r')
    );
    atx || (after_blank && at_margin && open::list_marker(line).is_none())
}

/// A fence opening at the left margin: its marker, length and info string.
fn opens_fence(line: &str) -> Option<(char, usize, &str)> {
    let t = line.trim_end_matches(['\n', '\r']);
    let marker = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = t.chars().take_while(|c| *c == marker).count();
    let info = t[len..].trim();
    (len >= 3 && !(marker == '`' && info.contains('`'))).then_some((marker, len, info))
}

/// Whether `line` closes a fence of `len` `marker`s (up to three spaces before it).
fn closes_fence(line: &str, marker: char, len: usize) -> bool {
    let t = line.trim_end_matches(['\n', '\r']);
    let s = t.trim_start_matches(' ');
    if t.len() - s.len() > 3 {
        return false;
    }
    let n = s.chars().take_while(|c| *c == marker).count();
    n >= len && s[n..].trim().is_empty()
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
