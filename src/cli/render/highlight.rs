//! Syntax highlighting of code lines with syntect's bundled syntaxes and themes, one line at a
//! time (syntect keeps the parse state between lines, so a line is final once it is complete).
//!
//! Each code block is highlighted on a thread of its own (a *worker*, see `worker`), started
//! when the block opens, with a deadline per line. Three reasons:
//! - syntect can loop forever on some lines: its loop guards miss some non-consuming `set`s and
//!   multi-context pushes (trishume/syntect issues 460, 650 and 656, open as of 2026-12-01; a
//!   test here loops syntect 5.3 with a two-context `set` cycle). A model could write such a
//!   line; a line late past [`LINE_DEADLINE`] is shown plain, and so is the rest of its block,
//!   so the answer goes on.
//! - Oniguruma (syntect's `regex-onig`, 2 to 5 times faster than fancy-regex here) keeps
//!   match regions that are not `Send`, so syntect's parse state may not leave the thread that
//!   made it; the chat loop's `Ui` is `Send`. The state lives on the worker; lines and their
//!   rendering cross in two buffers that go back and forth (no allocation per line).
//! - syntect compiles a language's regexes on their first use (1 to 5 ms with Oniguruma, 19 to
//!   44 ms with fancy-regex, 2026-12-01, `bench/highlighters`). The worker compiles them as the
//!   fence opens, while the model writes the block's first line.
//!
//! The assets are decompressed once per process, on a background thread started by
//! [`warm_up`] when an answer may be rendered, so neither `goshi --version` nor the first code
//! block pays for it on the critical path.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use syntect::easy::HighlightLines;
use syntect::highlighting::{Color, FontStyle, Style, Theme, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};

use super::escape_text;
use super::worker::{Outcome, Worker};

/// The bundled theme: readable on dark backgrounds; its default foreground is never painted,
/// so plain code keeps the terminal's own colour on light backgrounds too.
const THEME: &str = "base16-ocean.dark";

/// How long a worker may take to load the syntaxes and compile its language's regexes before
/// its block is shown plain: bounded work on goshi's own data (milliseconds in a release
/// build), given room for a debug build on a busy machine.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// How long a code line may take to highlight. syntect takes about 2 µs a byte with
/// Oniguruma (2026-12-01, `bench/highlighters`), so a line of [`MAX_HIGHLIGHTED_LINE`] takes
/// under 10 ms; a second is far past anything but a loop, and short enough not to look hung.
const LINE_DEADLINE: Duration = Duration::from_secs(1);

/// Longer code lines are shown plain: a minified file's one line of a megabyte would hold the
/// answer for seconds. Lines this long are not read by people line by line anyway. The
/// highlighter's state goes on from the line before, as if the long line were not there.
const MAX_HIGHLIGHTED_LINE: usize = 4096;

/// Workers whose line went past its deadline and that have not ended since. While there is
/// one, no worker is started: code is shown plain, and a looping syntax costs one core at most.
static LATE: AtomicUsize = AtomicUsize::new(0);

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

/// Highlights the lines of one code block (on a worker, see the module docs).
pub struct CodeLines {
    worker: Option<Worker>,
}

impl CodeLines {
    /// A highlighter for code in `lang` (a fence's first info word, such as `rust` or `py`);
    /// unknown or empty languages are shown plain.
    pub fn new(lang: &str, truecolor: bool) -> CodeLines {
        // While a late worker may be looping, no other starts: that costs one core at most.
        let worker = (!lang.is_empty() && LATE.load(Ordering::SeqCst) == 0)
            .then(|| {
                let lang = lang.to_owned();
                let make = move || syntect_lines(&lang, truecolor);
                Worker::start(make, STARTUP_DEADLINE, LINE_DEADLINE, &LATE)
            })
            .flatten();
        CodeLines { worker }
    }

    /// Appends `line` (ending in `\n`, or the last line without one) highlighted to `out`,
    /// always ending with a reset and a newline.
    pub fn line(&mut self, line: &str, out: &mut String) {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let body = body.strip_suffix('\r').unwrap_or(body);
        if body.len() <= MAX_HIGHLIGHTED_LINE {
            if let Some(w) = &mut self.worker {
                match w.line(body, out) {
                    Outcome::Rendered => {
                        out.push('\n');
                        return;
                    }
                    Outcome::Plain => {}
                    // Late or ended: the rest of the block is plain.
                    Outcome::Failed => self.worker = None,
                }
            }
        }
        out.push_str(&escape_text(body));
        out.push('\n');
    }
}

/// What a worker makes for a block: syntect's highlighter of its language, the regexes
/// compiled, rendering a line to terminal colours. `None` for a language syntect does not know.
fn syntect_lines(lang: &str, truecolor: bool) -> Option<impl FnMut(&str, &mut String)> {
    let assets = assets()?;
    let syntax = assets
        .syntaxes
        .find_syntax_by_token(lang)
        .or_else(|| assets.syntaxes.find_syntax_by_extension(lang))?;
    // Before the block's first line is here, once per language: any line will do, the first
    // position tries every pattern of the main context.
    if warm(&syntax.name) {
        let _ = HighlightLines::new(syntax, &assets.theme).highlight_line("x\n", &assets.syntaxes);
    }
    Some(line_renderer(assets, syntax, truecolor))
}

/// Renders the lines of a block in `syntax`, one after the other.
fn line_renderer(
    assets: &'static Assets,
    syntax: &'static SyntaxReference,
    truecolor: bool,
) -> impl FnMut(&str, &mut String) {
    let mut hl = HighlightLines::new(syntax, &assets.theme);
    // syntect's newline syntaxes want the line with its newline (a buffer kept between lines).
    let mut src = String::new();
    move |body: &str, out: &mut String| {
        src.clear();
        src.push_str(body);
        src.push('\n');
        render_line(&mut hl, assets, truecolor, &src, out);
    }
}

/// Whether the regexes of the language `name` are to be compiled now: true once per process.
fn warm(name: &str) -> bool {
    static WARMED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let Ok(mut warmed) = WARMED.lock() else {
        return false;
    };
    let first = !warmed.iter().any(|w| w == name);
    if first {
        warmed.push(name.to_owned());
    }
    first
}

/// Appends `src` (a line with its newline) highlighted, without the newline.
fn render_line(
    hl: &mut HighlightLines<'static>,
    assets: &Assets,
    truecolor: bool,
    src: &str,
    out: &mut String,
) {
    let plain_fg = assets.theme.settings.foreground;
    match hl.highlight_line(src, &assets.syntaxes) {
        Ok(ranges) => {
            for (style, piece) in ranges {
                let piece = piece.strip_suffix('\n').unwrap_or(piece);
                if piece.is_empty() {
                    continue;
                }
                if push_sgr(out, style, plain_fg, truecolor) {
                    out.push_str(&escape_text(piece));
                    out.push_str("\x1b[0m");
                } else {
                    out.push_str(&escape_text(piece));
                }
            }
        }
        // A syntax that fails on this line: show it plain rather than lose it.
        Err(_) => out.push_str(&escape_text(src.strip_suffix('\n').unwrap_or(src))),
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
    fn a_block_whose_worker_failed_goes_on_plain() {
        static LATE: AtomicUsize = AtomicUsize::new(0);
        let (worker, release) = super::super::worker::tests::hanging(Duration::from_secs(2), &LATE);
        let mut code = CodeLines {
            worker: Some(worker),
        };
        let mut out = String::new();
        for line in ["a\n", "hang\n", "b\n"] {
            code.line(line, &mut out);
        }
        assert_eq!(out, "<a>\nhang\nb\n");
        drop(release);
    }

    /// A syntax whose two contexts `set` each other at the same position: syntect 5.3.0 loops
    /// forever on a line with an `@` (checked 2026-12-01; the case of sublimehq/sublime_text
    /// issue 1516; trishume/syntect PR 706, which would guard it, is open).
    const LOOPING_SYNTAX: &str = "%YAML 1.2\n---\nname: Loop\nscope: source.loop\ncontexts:\n  \
        main:\n    - match: (?=@)\n      set:\n        - match: '(?=\\S)'\n          set: main\n";

    #[test]
    fn a_line_that_loops_syntect_is_shown_plain_and_the_block_goes_on() {
        // The looping thread cannot be stopped: the check runs in a child process, whose end
        // ends it.
        let exe = std::env::current_exe().expect("the test binary");
        let child = "cli::render::highlight::tests::looping_syntax_child";
        let mut run = std::process::Command::new(exe)
            .args([child, "--exact", "--ignored", "--nocapture"])
            .env("GOSHI_LOOPING_CHILD", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the child runs");
        // Without the deadline the child would loop forever: it fails instead of hanging.
        let start = std::time::Instant::now();
        while run.try_wait().expect("the child").is_none() {
            if start.elapsed() > Duration::from_secs(120) {
                let _ = run.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let run = run.wait_with_output().expect("the child's output");
        let said = String::from_utf8_lossy(&run.stdout).into_owned()
            + &String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{said}");
        assert!(said.contains("1 passed"), "{said}");
    }

    #[test]
    #[ignore = "run in a child process by a_line_that_loops_syntect_is_shown_plain_..."]
    fn looping_syntax_child() {
        if std::env::var_os("GOSHI_LOOPING_CHILD").is_none() {
            return;
        }
        let def = syntect::parsing::SyntaxDefinition::load_from_str(LOOPING_SYNTAX, true, None)
            .expect("the syntax loads");
        let mut builder = syntect::parsing::SyntaxSetBuilder::new();
        builder.add(def);
        let theme = assets().expect("the bundled theme").theme.clone();
        let looping: &'static Assets = Box::leak(Box::new(Assets {
            syntaxes: builder.build(),
            theme,
        }));
        let make = move || {
            let syntax = looping.syntaxes.find_syntax_by_name("Loop")?;
            Some(line_renderer(looping, syntax, false))
        };
        static LATE: AtomicUsize = AtomicUsize::new(0);
        let worker = Worker::start(make, STARTUP_DEADLINE, LINE_DEADLINE, &LATE);
        assert!(worker.is_some());
        let mut code = CodeLines { worker };
        let mut out = String::new();
        for line in ["before\n", "x = @y\n", "after\n"] {
            code.line(line, &mut out);
        }
        assert_eq!(out, "before\nx = @y\nafter\n");
        assert_eq!(LATE.load(Ordering::SeqCst), 1, "the worker still loops");
    }

    #[test]
    fn the_colour_cube_maps_corners() {
        assert_eq!(xterm256(Color::BLACK), 16);
        assert_eq!(xterm256(Color::WHITE), 231);
    }
}
