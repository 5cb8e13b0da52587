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

use crate::cli::palette::{Palette, Role};
use crate::text::sanitize;

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
}

impl State {
    /// The one place every byte shown passes through: writes `text` to `stream` and flushes
    /// it, so stdout and stderr interleave in the order they were written.
    fn write(&mut self, stream: Stream, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
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
                Screen::with_writers(
                    Box::new(io::stdout()),
                    Box::new(io::stderr()),
                    out_tty,
                    err_tty,
                )
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

    /// The colours for stdout: by `--color`, the environment, and whether it is a terminal.
    pub fn out_palette(&self) -> Palette {
        Palette::for_stream(self.stdout_is_terminal())
    }

    /// The colours for stderr: by `--color`, the environment, and whether it is a terminal.
    pub fn err_palette(&self) -> Palette {
        Palette::for_stream(self.stderr_is_terminal())
    }

    /// Gets the screen ready for a line editor or a prompt that writes to the terminal
    /// itself: ends the answer's line.
    pub fn before_input(&self) {
        self.end_answer();
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
mod tests {
    use super::*;

    /// A writer that always fails, like a closed pipe.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn end_answer_adds_a_newline_only_mid_line() {
        let (s, c) = Screen::captured();
        s.end_answer();
        assert_eq!(c.stdout(), "");
        s.answer("hello");
        s.answer(" world");
        s.end_answer();
        s.end_answer();
        assert_eq!(c.stdout(), "hello world\n");
        s.answer("done\n");
        s.end_answer();
        assert_eq!(c.stdout(), "hello world\ndone\n");
    }

    #[test]
    fn messages_have_the_goshi_prefix_and_hint() {
        let (s, c) = Screen::captured();
        s.error("no model", Some("set llm.model"));
        s.warning("w");
        s.notice("interrupted");
        s.error("bare", None);
        assert_eq!(
            c.stderr(),
            "goshi: error: no model\n  hint: set llm.model\ngoshi: warning: w\n\
             goshi: interrupted\ngoshi: error: bare\n"
        );
        assert_eq!(c.stdout(), "");
    }

    #[test]
    fn clones_and_writers_share_the_streams() {
        let (s, c) = Screen::captured();
        let t = s.clone();
        s.answer("a");
        t.end_answer();
        write!(s.out_writer(), "b{}", 1).unwrap();
        writeln!(t.err_writer(), "e").unwrap();
        s.out_line("c").unwrap();
        s.err("→ x … ").unwrap();
        s.line("✓");
        assert_eq!(c.stdout(), "a\nb1c\n");
        assert_eq!(c.stderr(), "e\n→ x … ✓\n");
        assert!(!s.stdout_is_terminal() && !s.stderr_is_terminal());
    }

    #[test]
    fn a_closed_stdout_stops_the_answer_quietly() {
        let (err, c) = Screen::captured();
        drop(err);
        let s = Screen::with_writers(
            Box::new(Closed),
            Box::new(SharedBuf(Arc::clone(&c.err))),
            false,
            false,
        );
        s.answer("lost");
        s.end_answer();
        assert!(s.out("x").is_err());
        s.warning("still shown");
        assert_eq!(c.stderr(), "goshi: warning: still shown\n");
    }
}
