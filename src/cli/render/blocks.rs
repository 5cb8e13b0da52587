//! Complete markdown blocks (pulldown-cmark events) to styled terminal text.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, LinkType, Tag, TagEnd};

use super::highlight::CodeLines;
use super::table::Table;
use super::writer::Writer;
use super::RenderOptions;
use crate::cli::palette::Role;

/// A list being written: its next number (ordered lists) and whether it is loose.
struct List {
    next: Option<u64>,
    items: usize,
    loose: bool,
}

/// A link being written.
struct Link {
    url: String,
    show_url: bool,
    osc8: bool,
    image: bool,
}

/// Renders the events of whole blocks into `out`. `need_blank`: blocks were written before,
/// so the first one is separated by a blank line.
pub(super) fn render<'a>(
    events: impl Iterator<Item = Event<'a>>,
    opts: &RenderOptions,
    need_blank: bool,
    out: &mut String,
) {
    let mut r = Renderer {
        w: Writer::new(need_blank, opts.width),
        opts,
        lists: Vec::new(),
        links: Vec::new(),
        code: None,
        table: None,
    };
    for ev in events {
        r.event(ev);
    }
    r.w.end_line();
    out.push_str(&r.w.take());
}

struct Renderer<'o> {
    w: Writer,
    opts: &'o RenderOptions,
    lists: Vec<List>,
    links: Vec<Link>,
    /// Inside a code block: its language and text so far.
    code: Option<(String, String)>,
    table: Option<Table>,
}

impl Renderer<'_> {
    fn event(&mut self, ev: Event<'_>) {
        if let Some((_, text)) = &mut self.code {
            match ev {
                Event::Text(t) => text.push_str(&t),
                Event::End(TagEnd::CodeBlock) => self.end_code(),
                _ => {}
            }
            return;
        }
        match ev {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.w.text(&t),
            Event::Code(t) => self.w.styled(Role::Code, &t),
            Event::InlineMath(t) | Event::DisplayMath(t) => self.w.text(&t),
            Event::Html(t) | Event::InlineHtml(t) => self.w.text(&t),
            Event::FootnoteReference(t) => self.w.text(&format!("[^{t}]")),
            Event::SoftBreak | Event::HardBreak => self.w.newline(),
            Event::Rule => {
                self.w.start_block();
                let n = self.opts.width.clamp(3, 40);
                self.w.styled(Role::Dim, &"─".repeat(n));
                self.w.end_block();
            }
            Event::TaskListMarker(done) => {
                self.w
                    .styled(Role::Bullet, if done { "[x] " } else { "[ ] " });
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {
                if let Some(l) = self.lists.last_mut() {
                    l.loose = true;
                }
                self.w.start_block();
            }
            Tag::Heading { level, .. } => {
                self.w.start_block();
                let role = if level == HeadingLevel::H1 {
                    Role::Heading1
                } else {
                    Role::Heading
                };
                self.w.push_style(role);
            }
            Tag::BlockQuote(_) => {
                self.w.start_block();
                let bar = format!("\x1b[{}m│\x1b[0m ", Role::Dim.sgr());
                self.w.push_indent(bar.clone(), bar);
            }
            Tag::CodeBlock(kind) => {
                self.w.start_block();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new()));
            }
            Tag::HtmlBlock => self.w.start_block(),
            Tag::List(start) => {
                if self.lists.is_empty() {
                    self.w.start_block();
                } else {
                    self.w.end_line();
                }
                self.lists.push(List {
                    next: start,
                    items: 0,
                    loose: false,
                });
            }
            Tag::Item => self.start_item(),
            Tag::Table(aligns) => {
                self.w.start_block();
                self.table = Some(Table::new(aligns));
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.start_row();
                }
            }
            Tag::TableCell => self.w.start_cell(),
            Tag::Emphasis => self.w.push_style(Role::Emphasis),
            Tag::Strong => self.w.push_style(Role::Strong),
            Tag::Strikethrough => self.w.push_style(Role::Strike),
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => self.start_link(link_type, &dest_url, false),
            Tag::Image { dest_url, .. } => self.start_link(LinkType::Inline, &dest_url, true),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::HtmlBlock => self.w.end_block(),
            TagEnd::Heading(_) => {
                self.w.pop_style();
                self.w.end_block();
            }
            TagEnd::BlockQuote(_) => {
                self.w.pop_indent();
                self.w.end_block();
            }
            TagEnd::List(_) => {
                self.lists.pop();
                self.w.end_block();
            }
            TagEnd::Item => self.w.pop_indent(),
            TagEnd::TableCell => {
                let cell = self.w.end_cell();
                if let Some(t) = &mut self.table {
                    t.push_cell(cell);
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    let mut s = String::new();
                    t.render(self.w.room(), &mut s);
                    for line in s.lines() {
                        self.w.raw(line);
                        self.w.newline();
                    }
                }
                self.w.end_block();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => self.w.pop_style(),
            TagEnd::Link | TagEnd::Image => self.end_link(),
            _ => {}
        }
    }

    fn start_item(&mut self) {
        self.w.end_line();
        let depth = self.lists.len();
        let Some(list) = self.lists.last_mut() else {
            return;
        };
        self.w.need_blank = list.loose && list.items > 0;
        if self.w.need_blank {
            self.w.newline();
            self.w.need_blank = false;
        }
        list.items += 1;
        let marker = match &mut list.next {
            Some(n) => {
                let m = format!("{n}.");
                *n = n.saturating_add(1);
                m
            }
            None => ["•", "◦", "▪"][(depth - 1) % 3].to_string(),
        };
        let width = unicode_width::UnicodeWidthStr::width(marker.as_str()) + 1;
        let first = format!("\x1b[{}m{marker}\x1b[0m ", Role::Bullet.sgr());
        self.w.push_indent(first, " ".repeat(width));
    }

    fn start_link(&mut self, link_type: LinkType, url: &str, image: bool) {
        let safe = is_safe_url(url);
        let osc8 = self.opts.hyperlinks && safe && !image;
        let show_url = !osc8
            && !url.is_empty()
            && (image || !matches!(link_type, LinkType::Autolink | LinkType::Email));
        if image {
            self.w.styled(Role::Dim, "[image: ");
        }
        if osc8 {
            self.w.open_hyperlink(url);
        }
        self.w.push_style(Role::Link);
        self.w.link_text = Some(String::new());
        self.links.push(Link {
            url: url.to_string(),
            show_url,
            osc8,
            image,
        });
    }

    fn end_link(&mut self) {
        self.w.pop_style();
        let text = self.w.link_text.take().unwrap_or_default();
        let Some(link) = self.links.pop() else {
            return;
        };
        if link.osc8 {
            self.w.close_hyperlink();
        }
        if link.image {
            self.w.styled(Role::Dim, "]");
        }
        if link.show_url && text != link.url {
            self.w.styled(Role::Dim, &format!(" ({})", link.url));
        }
    }

    fn end_code(&mut self) {
        let Some((lang, text)) = self.code.take() else {
            return;
        };
        let fence = format!("```{lang}");
        self.w.styled(Role::Dim, &fence);
        self.w.newline();
        let mut hl = CodeLines::new(&lang, self.opts.truecolor);
        for line in text.split_inclusive('\n') {
            let mut s = String::new();
            hl.line(line, &mut s);
            self.w.raw(s.trim_end_matches('\n'));
            self.w.newline();
        }
        self.w.styled(Role::Dim, "```");
        self.w.end_block();
    }
}

/// Whether a model-chosen URL may go into an OSC 8 hyperlink: http(s) or mailto, and nothing
/// that could end the sequence early or hide in it (controls, spaces, `ESC`, `BEL`).
fn is_safe_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"))
        && url.len() <= 2048
        && url.chars().all(|c| !c.is_control() && !c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_web_urls_become_hyperlinks() {
        assert!(is_safe_url("https://example.com/a?b=c"));
        assert!(is_safe_url("HTTP://x"));
        assert!(is_safe_url("mailto:a@b"));
        assert!(!is_safe_url("javascript:alert(1)"));
        assert!(!is_safe_url("file:///etc/passwd"));
        assert!(!is_safe_url("https://x\x1b\\evil"));
        assert!(!is_safe_url("https://x\u{9c}"));
        assert!(!is_safe_url("https://x y"));
    }
}
