//! Syntax highlighting of code lines with syntect's bundled syntaxes and themes, one line at a
//! time (syntect keeps the parse state between lines, so a line is final once it is complete).
//!
//! Each code block is highlighted on a thread of its own (a *worker*), started when the block
//! opens, with a deadline per line. Three reasons:
//! - syntect can loop forever on some lines: its loop guards miss some non-consuming `set`s and
//!   multi-context pushes (trishume/syntect issues 460, 650 and 656, open as of 2026-12-01). A
//!   model could write such a line; a line late past [`LINE_DEADLINE`] is shown plain, and so is
//!   the rest of its block, so the answer goes on.
//! - Oniguruma (syntect's `regex-onig`, 2.5x faster than fancy-regex here) keeps match regions
//!   that are not `Send`, so syntect's parse state may not leave the thread that made it; the
//!   chat loop's `Ui` is `Send`. The state lives on the worker; lines and their rendering cross
//!   in two buffers that go back and forth (no allocation per line).
//! - syntect compiles a language's regexes on their first use (3 to 5 ms with Oniguruma, 33 to
//!   44 ms with fancy-regex, 2026-12-01). The worker compiles them as the fence opens, while the
//!   model writes the block's first line.
//!
//! The assets are decompressed once per process, on a background thread started by
//! [`warm_up`] when an answer may be rendered, so neither `goshi --version` nor the first code
//! block pays for it on the critical path.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use syntect::easy::HighlightLines;
use syntect::highlighting::{Color, FontStyle, Style, Theme, ThemeSet};
use syntect::parsing::SyntaxSet;

use super::escape_text;

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
/// one, no worker is started: code is shown plain, and a looping syntax costs at most one core.
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

/// Highlights the lines of one code block.
pub struct CodeLines {
    worker: Option<Worker>,
}

impl CodeLines {
    /// A highlighter for code in `lang` (a fence's first info word, such as `rust` or `py`);
    /// unknown or empty languages are shown plain.
    pub fn new(lang: &str, truecolor: bool) -> CodeLines {
        let lang = lang.to_owned();
        let worker = (!lang.is_empty())
            .then(|| {
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
                if w.line(body, out) {
                    out.push('\n');
                    return;
                }
                // Late, ended or unknown language: the rest of the block is plain.
                self.worker = None;
            }
        }
        out.push_str(&escape_text(body));
        out.push('\n');
    }
}

/// A line and what it renders to: the two buffers that go to the worker and back.
#[derive(Default)]
struct Job {
    line: String,
    out: String,
}

/// The UI's side of a block's highlighting thread (see the module docs).
struct Worker {
    jobs: SyncSender<Job>,
    done: Receiver<Job>,
    /// The buffers, while no line is on the worker; `None` until the worker is ready.
    spare: Option<Job>,
    /// How long the worker may take to be ready, and then each line.
    startup: Duration,
    deadline: Duration,
    /// [`RUNNING`], [`LATE_MARK`] or [`ENDED`]: whether the UI counted the worker as late, and
    /// whether its thread ended, decided once by whichever comes first.
    state: Arc<AtomicU8>,
    late: &'static AtomicUsize,
}

const RUNNING: u8 = 0;
const LATE_MARK: u8 = 1;
const ENDED: u8 = 2;

impl Worker {
    /// Starts a worker that runs `make` on its thread (what it makes may not be `Send`) and
    /// then renders each line with what it made. `None` while a worker counted in `late` is
    /// still running, or if no thread can be started.
    fn start<M, F>(
        make: M,
        startup: Duration,
        deadline: Duration,
        late: &'static AtomicUsize,
    ) -> Option<Worker>
    where
        M: FnOnce() -> Option<F> + Send + 'static,
        F: FnMut(&str, &mut String),
    {
        if late.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let (jobs, inbox) = mpsc::sync_channel::<Job>(1);
        let (outbox, done) = mpsc::sync_channel::<Job>(1);
        let state = Arc::new(AtomicU8::new(RUNNING));
        let uncount = Uncount {
            state: state.clone(),
            late,
        };
        std::thread::Builder::new()
            .name("goshi-highlight".into())
            .spawn(move || {
                // Dropped however the thread ends.
                let _uncount = uncount;
                let Some(mut render) = make() else {
                    return;
                };
                // Ready: the buffers come back empty.
                if outbox.send(Job::default()).is_err() {
                    return;
                }
                for mut job in inbox {
                    job.out.clear();
                    render(&job.line, &mut job.out);
                    if outbox.send(job).is_err() {
                        return;
                    }
                }
            })
            .ok()?;
        Some(Worker {
            jobs,
            done,
            spare: None,
            startup,
            deadline,
            state,
            late,
        })
    }

    /// Has the worker render `body` onto `out`; false if it did not in time or has ended.
    fn line(&mut self, body: &str, out: &mut String) -> bool {
        let mut job = match self.spare.take() {
            Some(job) => job,
            None => match self.done.recv_timeout(self.startup) {
                Ok(job) => job,
                // Not ready in time (counted as late) or ended: plain.
                Err(e) => return self.failed(e),
            },
        };
        job.line.clear();
        job.line.push_str(body);
        if self.jobs.send(job).is_err() {
            return false;
        }
        match self.done.recv_timeout(self.deadline) {
            Ok(job) => {
                out.push_str(&job.out);
                self.spare = Some(job);
                true
            }
            Err(e) => self.failed(e),
        }
    }

    /// Counts a worker that did not answer in time as late; false either way.
    fn failed(&self, e: RecvTimeoutError) -> bool {
        let marked = e == RecvTimeoutError::Timeout
            && self
                .state
                .compare_exchange(RUNNING, LATE_MARK, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok();
        if marked {
            // The thread may end (and uncount) before this: the count wraps and comes back.
            self.late.fetch_add(1, Ordering::SeqCst);
        }
        false
    }
}

/// Marks the worker ended when its thread ends, uncounting it if it was counted late.
struct Uncount {
    state: Arc<AtomicU8>,
    late: &'static AtomicUsize,
}

impl Drop for Uncount {
    fn drop(&mut self) {
        if self.state.swap(ENDED, Ordering::SeqCst) == LATE_MARK {
            self.late.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// What a worker makes for `lang`: syntect's highlighter of that language, its regexes
/// compiled, rendering a line to terminal colours. `None` for a language syntect does not know.
fn syntect_lines(lang: &str, truecolor: bool) -> Option<impl FnMut(&str, &mut String)> {
    let assets = assets()?;
    let syntax = assets
        .syntaxes
        .find_syntax_by_token(lang)
        .or_else(|| assets.syntaxes.find_syntax_by_extension(lang))?;
    // Any line will do: the first position tries every pattern of the main context.
    let _ = HighlightLines::new(syntax, &assets.theme).highlight_line("x\n", &assets.syntaxes);
    let mut hl = HighlightLines::new(syntax, &assets.theme);
    // syntect's newline syntaxes want the line with its newline (a buffer kept between lines).
    let mut src = String::new();
    Some(move |body: &str, out: &mut String| {
        src.clear();
        src.push_str(body);
        src.push('\n');
        render_line(&mut hl, assets, truecolor, &src, out);
    })
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

    /// A worker whose lines render as `<line>`, but that waits on the returned sender for a
    /// line `hang` (until it is dropped: what a looping syntax would do).
    fn hanging_worker(
        deadline: Duration,
        late: &'static AtomicUsize,
    ) -> (CodeLines, mpsc::Sender<()>) {
        let (release, wait) = mpsc::channel::<()>();
        let make = move || {
            Some(move |line: &str, out: &mut String| {
                if line == "hang" {
                    let _ = wait.recv();
                }
                out.push_str(&format!("<{line}>"));
            })
        };
        let worker = Worker::start(make, deadline, deadline, late);
        assert!(worker.is_some());
        (CodeLines { worker }, release)
    }

    #[test]
    fn a_line_past_its_deadline_is_shown_plain_as_is_the_rest_of_its_block_and_new_blocks() {
        static LATE: AtomicUsize = AtomicUsize::new(0);
        let (mut code, release) = hanging_worker(Duration::from_secs(2), &LATE);
        let mut out = String::new();
        code.line("a\n", &mut out);
        code.line("hang\n", &mut out);
        code.line("b\n", &mut out);
        assert_eq!(out, "<a>\nhang\nb\n");
        assert_eq!(LATE.load(Ordering::SeqCst), 1);
        // While the late worker runs, no other starts: its looping costs one core, no more.
        let idle = || Some(|_: &str, _: &mut String| {});
        assert!(Worker::start(idle, Duration::ZERO, Duration::ZERO, &LATE).is_none());
        // Once it ends, blocks are highlighted again.
        drop(release);
        let start = std::time::Instant::now();
        while LATE.load(Ordering::SeqCst) > 0 && start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            LATE.load(Ordering::SeqCst),
            0,
            "the late worker was uncounted"
        );
        let (mut code, _release) = hanging_worker(Duration::from_secs(2), &LATE);
        out.clear();
        code.line("c", &mut out);
        assert_eq!(out, "<c>\n");
    }

    #[test]
    fn a_worker_that_knows_no_language_leaves_its_lines_plain() {
        static LATE: AtomicUsize = AtomicUsize::new(0);
        let mut out = String::new();
        let long = Duration::from_secs(30);
        let none = Worker::start(|| None::<fn(&str, &mut String)>, long, long, &LATE);
        let mut code = CodeLines { worker: none };
        code.line("x\n", &mut out);
        assert_eq!(out, "x\n");
        assert_eq!(LATE.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_worker_not_ready_in_time_leaves_its_lines_plain_and_counts_as_late() {
        static LATE: AtomicUsize = AtomicUsize::new(0);
        let (release, wait) = mpsc::channel::<()>();
        let make = move || {
            let _ = wait.recv();
            Some(|_: &str, out: &mut String| out.push_str("never"))
        };
        let worker = Worker::start(make, Duration::from_millis(50), Duration::ZERO, &LATE);
        let mut code = CodeLines { worker };
        let mut out = String::new();
        code.line("x\n", &mut out);
        code.line("y\n", &mut out);
        assert_eq!(out, "x\ny\n");
        assert_eq!(LATE.load(Ordering::SeqCst), 1);
        drop(release);
    }

    #[test]
    fn the_colour_cube_maps_corners() {
        assert_eq!(xterm256(Color::BLACK), 16);
        assert_eq!(xterm256(Color::WHITE), 231);
    }
}
