//! [`Screen`]: the one writer that owns the user's screen.
//!
//! Every byte the CLI shows goes through a `Screen`: the model's answer and command output on
//! stdout, notices, warnings, errors and tool status on stderr. Because there is one writer,
//! it can keep track of where the cursor is (mid-answer or at the start of a line), and a
//! status line or a live markdown renderer can coordinate with the rest of the output in one
//! place: [`State::write`], the single point every write passes through.
//!
//! A `Screen` is a cheap handle (`Clone`); all clones write to the same streams, one write at a
//! time. Write errors on stderr are ignored (there is nowhere left to report them); a failed
//! answer write (a closed pipe: `goshi chat | head`) stops the answer quietly.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use super::status::{Activity, Retry, Status};
use crate::cli::palette::{Palette, Role};
use crate::text::sanitize;

/// Moves to the start of the line and erases it (the status line's row).
const ERASE_LINE: &[u8] = b"\r\x1b[2K";

/// Which of the two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

/// One output stream and what is known about it.
struct Sink {
    w: Box<dyn Write + Send>,
    terminal: bool,
    /// A write failed (closed pipe): answer text is no longer written.
    failed: bool,
    /// Something was written and it did not end with a newline.
    mid_line: bool,
}

impl Sink {
    fn new(w: Box<dyn Write + Send>, terminal: bool) -> Self {
        Sink {
            w,
            terminal,
            failed: false,
            mid_line: false,
        }
    }
}

/// The streams behind a [`Screen`].
struct State {
    out: Sink,
    err: Sink,
    /// The last error shown (for `--format json`, which reports it on stdout too).
    last_error: Option<String>,
    /// Whether a status line may be drawn: stderr is a terminal that understands escapes.
    status_enabled: bool,
    /// The status line, while goshi waits (see [`super::status`]).
    status: Option<Status>,
    /// The status line is on the screen now (and must be erased before anything else).
    status_drawn: bool,
    /// The terminal's width, for a status line that must never wrap (None: ask stderr).
    width: Option<usize>,
}

impl State {
    /// The one place every byte shown passes through: writes `text` to `stream` and flushes
    /// it, so stdout and stderr interleave in the order they were written.
    fn write(&mut self, stream: Stream, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.erase_status();
        if stream == Stream::Out {
            // The answer has begun: whatever goshi waited for has come.
            self.status = None;
        }
        let sink = match stream {
            Stream::Out => &mut self.out,
            Stream::Err => &mut self.err,
        };
        let result = sink.w.write_all(bytes).and_then(|()| sink.w.flush());
        match &result {
            Ok(()) => sink.mid_line = !bytes.ends_with(b"\n"),
            Err(_) => sink.failed = true,
        }
        result
    }

    /// Erases the status line if it is on the screen.
    fn erase_status(&mut self) {
        if self.status_drawn {
            self.status_drawn = false;
            let _ = self
                .err
                .w
                .write_all(ERASE_LINE)
                .and_then(|()| self.err.w.flush());
        }
    }

    /// Draws the status line (replacing the one on the screen) when it is due and the cursor
    /// is at the start of a line on both streams, so it never splits an answer or a tool line.
    fn draw_status(&mut self, now: Instant) {
        let Some(status) = &self.status else {
            return;
        };
        let mid_line = self.err.mid_line || (self.out.terminal && self.out.mid_line);
        if !self.status_enabled || mid_line || !status.due(now) {
            return;
        }
        let width = self.width.unwrap_or_else(|| {
            terminal_size::terminal_size_of(io::stderr()).map_or(80, |(w, _)| usize::from(w.0))
        });
        let line = status.render(now, width);
        let mut bytes = ERASE_LINE.to_vec();
        let dim = Palette::for_stream(true);
        bytes.extend_from_slice(dim.paint(Role::Dim, &line).as_bytes());
        if self
            .err
            .w
            .write_all(&bytes)
            .and_then(|()| self.err.w.flush())
            .is_ok()
        {
            self.status_drawn = true;
        }
    }
}

/// The one writer that owns the user's screen (see the module docs).
#[derive(Clone)]
pub struct Screen {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("Screen")
            .field("stdout_terminal", &s.out.terminal)
            .field("stderr_terminal", &s.err.terminal)
            .finish()
    }
}

impl Screen {
    /// The screen of this process: its stdout and stderr. Every call returns a handle to the
    /// same screen, so there is one writer however many parts of the CLI ask for it.
    pub fn stdio() -> Screen {
        static STDIO: OnceLock<Screen> = OnceLock::new();
        STDIO
            .get_or_init(|| {
                let out_tty = io::stdout().is_terminal();
                let err_tty = io::stderr().is_terminal();
                let screen = Screen::with_writers(
                    Box::new(io::stdout()),
                    Box::new(io::stderr()),
                    out_tty,
                    err_tty,
                );
                // TERM=dumb cannot erase a line: no status line there.
                if std::env::var_os("TERM").is_some_and(|t| t == "dumb") {
                    screen.lock().status_enabled = false;
                }
                screen.lock().width = None;
                screen
            })
            .clone()
    }

    /// A screen on other writers (tests, embedding); `*_terminal` say whether each one is to
    /// be treated as a terminal.
    pub fn with_writers(
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
        out_terminal: bool,
        err_terminal: bool,
    ) -> Screen {
        Screen {
            state: Arc::new(Mutex::new(State {
                out: Sink::new(out, out_terminal),
                err: Sink::new(err, err_terminal),
                last_error: None,
                status_enabled: err_terminal,
                status: None,
                status_drawn: false,
                width: Some(80),
            })),
        }
    }

    /// A screen that records what is written, for tests; neither stream is a terminal.
    pub fn captured() -> (Screen, Captured) {
        let captured = Captured::default();
        let screen = Screen::with_writers(
            Box::new(SharedBuf(Arc::clone(&captured.out))),
            Box::new(SharedBuf(Arc::clone(&captured.err))),
            false,
            false,
        );
        (screen, captured)
    }

    /// Like [`Screen::captured`], but both streams are treated as terminals (status line on,
    /// 80 columns).
    #[cfg(test)]
    pub fn captured_terminal() -> (Screen, Captured) {
        let (screen, captured) = Screen::captured();
        {
            let mut s = screen.lock();
            s.out.terminal = true;
            s.err.terminal = true;
            s.status_enabled = true;
        }
        (screen, captured)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the streams usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether stdout is a terminal (answers may be styled; prompts may use line editing).
    pub fn stdout_is_terminal(&self) -> bool {
        self.lock().out.terminal
    }

    /// Whether stderr is a terminal (a status line may be drawn there).
    pub fn stderr_is_terminal(&self) -> bool {
        self.lock().err.terminal
    }

    /// Writes answer text to stdout as it comes. After a failed write (a closed pipe) the rest
    /// of the answer is dropped quietly.
    pub fn answer(&self, text: &str) {
        let mut s = self.lock();
        if !s.out.failed {
            let _ = s.write(Stream::Out, text.as_bytes());
        }
    }

    /// Ends the answer's line on stdout if it did not end with a newline.
    pub fn end_answer(&self) {
        let mut s = self.lock();
        if s.out.mid_line && !s.out.failed {
            let _ = s.write(Stream::Out, b"\n");
        }
    }

    /// Writes command output to stdout as it is; the caller decides what a failure means.
    pub fn out(&self, text: &str) -> io::Result<()> {
        self.lock().write(Stream::Out, text.as_bytes())
    }

    /// Writes one line of command output to stdout.
    pub fn out_line(&self, line: &str) -> io::Result<()> {
        self.lock()
            .write(Stream::Out, format!("{line}\n").as_bytes())
    }

    /// Writes text to stderr as it is (e.g. a tool's status before its outcome is known).
    pub fn err(&self, text: &str) -> io::Result<()> {
        self.lock().write(Stream::Err, text.as_bytes())
    }

    /// Ends stderr's line if something was written there without a newline.
    pub fn err_end_line(&self) {
        let mut s = self.lock();
        if s.err.mid_line {
            let _ = s.write(Stream::Err, b"\n");
        }
    }

    /// Writes one diagnostic line to stderr.
    pub fn line(&self, line: &str) {
        let _ = self
            .lock()
            .write(Stream::Err, format!("{line}\n").as_bytes());
    }

    /// `goshi: {message}` on stderr: what goshi is doing (provider chosen, interrupted).
    /// Notices, warnings and errors may quote a server, a file or the model: anything in them
    /// that could drive the terminal is shown escaped ([`sanitize`]).
    pub fn notice(&self, message: &str) {
        self.line(&format!("goshi: {}", sanitize::text(message)));
    }

    /// `goshi: warning: {message}` on stderr (escaped, as for [`Screen::notice`]).
    pub fn warning(&self, message: &str) {
        let p = self.err_palette();
        self.line(&format!(
            "goshi: {} {}",
            p.paint(Role::Warning, "warning:"),
            sanitize::text(message)
        ));
    }

    /// `goshi: error: {message}` on stderr, and the hint (what to do) under it (escaped, as
    /// for [`Screen::notice`]).
    pub fn error(&self, message: &str, hint: Option<&str>) {
        self.lock().last_error = Some(message.to_string());
        let p = self.err_palette();
        let label = p.paint(Role::Error, "error:");
        let message = sanitize::text(message);
        match hint {
            Some(h) => self.line(&format!(
                "goshi: {label} {message}\n  {} {}",
                p.paint(Role::Hint, "hint:"),
                sanitize::text(h)
            )),
            None => self.line(&format!("goshi: {label} {message}")),
        }
    }

    /// The message of the last [`Screen::error`], if any.
    pub fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }

    /// The colours for stdout: by `--color`, the environment, and whether it is a terminal.
    pub fn out_palette(&self) -> Palette {
        Palette::for_stream(self.stdout_is_terminal())
    }

    /// The colours for stderr: by `--color`, the environment, and whether it is a terminal.
    pub fn err_palette(&self) -> Palette {
        Palette::for_stream(self.stderr_is_terminal())
    }

    /// Gets the screen ready for a line editor or a prompt that writes to the terminal
    /// itself: takes the status line down and ends the answer's line.
    pub fn before_input(&self) {
        self.clear_status();
        self.end_answer();
    }

    /// Puts `activity` on the status line (stderr, a terminal only; drawn by
    /// [`Screen::tick_status`] once due). More of the same activity keeps its clock.
    pub fn set_status(&self, activity: Activity) {
        let now = Instant::now();
        let mut s = self.lock();
        match &mut s.status {
            Some(status) => status.update(activity, now),
            None => s.status = Some(Status::new(activity, now)),
        }
    }

    /// Shows a retry's countdown on the status line. Returns false when no status line is up
    /// (a pipe, or nothing is being waited for): the caller then says it in words.
    pub fn status_retry(&self, retry: Retry) -> bool {
        let mut s = self.lock();
        if !s.status_enabled {
            return false;
        }
        let Some(status) = s.status.as_mut() else {
            return false;
        };
        status.retry(retry);
        s.draw_status(Instant::now());
        true
    }

    /// Redraws the status line (its clock and spinner), if one is up and due.
    pub fn tick_status(&self) {
        self.lock().draw_status(Instant::now());
    }

    /// Takes the status line down.
    pub fn clear_status(&self) {
        let mut s = self.lock();
        s.erase_status();
        s.status = None;
    }

    /// A writer to stdout through this screen, for code written against [`io::Write`].
    pub fn out_writer(&self) -> ScreenWriter {
        ScreenWriter {
            screen: self.clone(),
            stream: Stream::Out,
        }
    }

    /// A writer to stderr through this screen, for code written against [`io::Write`].
    pub fn err_writer(&self) -> ScreenWriter {
        ScreenWriter {
            screen: self.clone(),
            stream: Stream::Err,
        }
    }
}

/// An [`io::Write`] to one of a [`Screen`]'s streams; each write goes through the screen.
pub struct ScreenWriter {
    screen: Screen,
    stream: Stream,
}

impl Write for ScreenWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.screen.lock().write(self.stream, buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Every write through the screen is already flushed.
        Ok(())
    }
}

/// What a [`Screen::captured`] screen was given.
#[derive(Debug, Default, Clone)]
pub struct Captured {
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
}

impl Captured {
    /// Everything written to stdout so far.
    pub fn stdout(&self) -> String {
        let b = self.out.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&b).into_owned()
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        let b = self.err.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&b).into_owned()
    }
}

/// A writer into a shared buffer.
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut b = self.0.lock().unwrap_or_else(|p| p.into_inner());
        b.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "screen_tests.rs"]
mod tests;
