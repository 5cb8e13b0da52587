//! Syntax highlighting of code lines with syntect's bundled syntaxes and themes, one line at a
//! time (syntect keeps the parse state between lines, so a line is final once it is complete).
//!
//! The assets are decompressed once per process, on a background thread started by
//! [`warm_up`] when an answer may be rendered, so neither `goshi --version` nor the first code
//! block pays for it on the critical path.
//!
//! syntect compiles a language's regexes on their first use, which costs the first line of a
//! language 30 to 80 ms (2026-11-30, `cargo bench --bench render`, `render/cold`). So when a
//! fence opens in a language not met before, a background thread highlights a sample line in
//! it, compiling its main regexes while the model writes the block's first line (the regexes
//! are `OnceCell`s: a line that needs one being compiled waits for it, never compiles twice).

use std::sync::{Mutex, OnceLock};

use syntect::easy::HighlightLines;
use syntect::highlighting::{Color, FontStyle, Style, Theme, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};

use super::escape_text;

/// The bundled theme: readable on dark backgrounds; its default foreground is never painted,
/// so plain code keeps the terminal's own colour on light backgrounds too.
const THEME: &str = "base16-ocean.dark";

struct Assets {
    syntaxes: SyntaxSet,
    theme: Theme,
}

static ASSETS: OnceLock<Option<Assets>> = OnceLock::new();

fn assets() -> Option<&'static Assets> {
    ASSETS
        .get_or_init(|| {
            let syntaxes = SyntaxSet::load_defaults_newlines();
            let mut themes = ThemeSet::load_defaults();
            let theme = themes.themes.remove(THEME)?;
            Some(Assets { syntaxes, theme })
        })
        .as_ref()
}

/// The languages (syntax names) whose regexes are compiled or being compiled.
static WARMED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Starts compiling the regexes of `syntax` on a background thread, once per process.
fn warm_syntax(assets: &'static Assets, syntax: &'static SyntaxReference) {
    let Ok(mut warmed) = WARMED.lock() else {
        return;
    };
    if warmed.contains(&syntax.name) {
        return;
    }
    warmed.push(syntax.name.clone());
    drop(warmed);
    let _ = std::thread::Builder::new()
        .name("goshi-syntax".into())
        .spawn(move || {
            // Any line will do: the first position tries every pattern of the main context.
            let _ =
                HighlightLines::new(syntax, &assets.theme).highlight_line("x\n", &assets.syntaxes);
        });
}

/// Loads the syntaxes and theme on a background thread (if not loaded yet).
pub fn warm_up() {
    if ASSETS.get().is_none() {
        let _ = std::thread::Builder::new()
            .name("goshi-syntax".into())
            .spawn(|| {
                let _ = assets();
            });
    }
}

/// Longer code lines are shown plain: syntect takes about 5 µs a byte here (2026-11-30,
/// `bench/highlighters`), so a minified file's one line of a megabyte would hold the answer
/// for seconds. Lines this long are not read by people line by line anyway. The highlighter's
/// state goes on from the line before, as if the long line were not there.
const MAX_HIGHLIGHTED_LINE: usize = 4096;

/// Highlights the lines of one code block.
pub struct CodeLines {
    inner: Option<(HighlightLines<'static>, &'static Assets)>,
    truecolor: bool,
    /// The line with its newline, as syntect wants it (a buffer kept between lines).
    src: String,
}

impl CodeLines {
    /// A highlighter for code in `lang` (a fence's first info word, such as `rust` or `py`);
    /// unknown or empty languages are shown plain.
    pub fn new(lang: &str, truecolor: bool) -> CodeLines {
        let inner = (!lang.is_empty()).then(assets).flatten().and_then(|a| {
            let syntax = a
                .syntaxes
                .find_syntax_by_token(lang)
                .or_else(|| a.syntaxes.find_syntax_by_extension(lang))?;
            warm_syntax(a, syntax);
            Some((HighlightLines::new(syntax, &a.theme), a))
        });
        CodeLines {
            inner,
            truecolor,
            src: String::new(),
        }
    }

    /// Appends `line` (ending in `\n`, or the last line without one) highlighted to `out`,
    /// always ending with a reset and a newline.
    pub fn line(&mut self, line: &str, out: &mut String) {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let body = body.strip_suffix('\r').unwrap_or(body);
        let Some((hl, assets)) = self
            .inner
            .as_mut()
            .filter(|_| body.len() <= MAX_HIGHLIGHTED_LINE)
        else {
            out.push_str(&escape_text(body));
            out.push('\n');
            return;
        };
        // syntect's newline syntaxes want the line with its newline.
        let src = &mut self.src;
        src.clear();
        src.push_str(body);
        src.push('\n');
        let plain_fg = assets.theme.settings.foreground;
        match hl.highlight_line(src, &assets.syntaxes) {
            Ok(ranges) => {
                for (style, piece) in ranges {
                    let piece = piece.strip_suffix('\n').unwrap_or(piece);
                    if piece.is_empty() {
                        continue;
                    }
                    if push_sgr(out, style, plain_fg, self.truecolor) {
                        out.push_str(&escape_text(piece));
                        out.push_str("\x1b[0m");
                    } else {
                        out.push_str(&escape_text(piece));
                    }
                }
            }
            // A syntax that fails on this line: show it plain rather than lose it.
            Err(_) => out.push_str(&escape_text(body)),
        }
        out.push('\n');
    }
}

/// Appends the SGR sequence for a highlighted piece (`ESC[...m`), unless it is plain text;
/// returns whether it did. Written in place: this runs for every piece of every code line.
fn push_sgr(out: &mut String, style: Style, plain_fg: Option<Color>, truecolor: bool) -> bool {
    use std::fmt::Write as _;
    let start = out.len();
    let sep = |out: &mut String| out.push_str(if out.len() == start { "\x1b[" } else { ";" });
    for (flag, code) in [
        (FontStyle::BOLD, "1"),
        (FontStyle::ITALIC, "3"),
        (FontStyle::UNDERLINE, "4"),
    ] {
        if style.font_style.contains(flag) {
            sep(out);
            out.push_str(code);
        }
    }
    let c = style.foreground;
    if Some(c) != plain_fg {
        sep(out);
        // Writing to a String cannot fail.
        let _ = if truecolor {
            write!(out, "38;2;{};{};{}", c.r, c.g, c.b)
        } else {
            write!(out, "38;5;{}", xterm256(c))
        };
    }
    if out.len() == start {
        return false;
    }
    out.push('m');
    true
}

/// The nearest colour of the xterm 6x6x6 colour cube (indices 16-231).
fn xterm256(c: Color) -> u16 {
    let level = |v: u8| (u16::from(v) * 5 + 127) / 255;
    16 + 36 * level(c.r) + 6 * level(c.g) + level(c.b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_are_coloured_and_unknown_ones_plain() {
        let mut out = String::new();
        CodeLines::new("rust", false).line("fn main() {}\n", &mut out);
        assert!(out.contains("\x1b[38;5;"), "{out:?}");
        assert!(out.ends_with('\n'));
        let mut plain = String::new();
        CodeLines::new("no-such-language", false).line("fn main() {}", &mut plain);
        assert_eq!(plain, "fn main() {}\n");
    }

    #[test]
    fn code_cannot_smuggle_escape_sequences() {
        let mut out = String::new();
        CodeLines::new("python", true).line("print('\x1b]52;c;AAAA\x07')\n", &mut out);
        assert!(!out.contains("\x1b]"), "{out:?}");
        assert!(!out.contains('\x07'));
    }

    #[test]
    fn a_line_too_long_to_highlight_is_shown_plain_and_the_next_is_highlighted() {
        let mut code = CodeLines::new("rust", false);
        let long = format!("let x = \"{}\";", "a".repeat(MAX_HIGHLIGHTED_LINE));
        let mut out = String::new();
        code.line(&format!("{long}\n"), &mut out);
        assert_eq!(out, format!("{long}\n"));
        out.clear();
        code.line("fn main() {}\n", &mut out);
        assert!(out.contains("\x1b[38;5;"), "{out:?}");
    }

    #[test]
    fn the_colour_cube_maps_corners() {
        assert_eq!(xterm256(Color::BLACK), 16);
        assert_eq!(xterm256(Color::WHITE), 231);
    }
}
