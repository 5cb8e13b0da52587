//! The one screen writer: line ends, prefixes, shared handles, a closed stdout, and the
//! status line.

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

/// What a terminal shows of `s`, SGR colour sequences removed.
fn plain(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find(|c: char| c.is_ascii_alphabetic()) {
            Some(j) if after.as_bytes()[j] == b'm' => rest = &after[j + 1..],
            _ => {
                out.push_str("\x1b[");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn the_status_line_is_drawn_on_a_terminal_and_erased_before_any_output() {
    let (s, c) = Screen::captured_terminal();
    s.set_status(Activity::Waiting { model: "m".into() });
    s.tick_status();
    assert_eq!(c.stderr(), "", "not drawn before it is due");
    std::thread::sleep(super::super::status::FIRST_DRAW_AFTER);
    s.tick_status();
    let drawn = plain(&c.stderr());
    assert!(
        drawn.starts_with("\r\x1b[2K⠋ waiting for m · 0s") || drawn.contains("waiting for m"),
        "{drawn:?}"
    );
    s.line("goshi: a notice");
    assert!(
        plain(&c.stderr()).ends_with("\r\x1b[2Kgoshi: a notice\n"),
        "{:?}",
        c.stderr()
    );
    // Still waiting: drawn again on the next tick, then the answer takes it down for good.
    s.tick_status();
    assert!(
        plain(&c.stderr()).ends_with("waiting for m · 0s"),
        "{:?}",
        c.stderr()
    );
    s.answer("Hello");
    assert!(c.stderr().ends_with("\r\x1b[2K"), "{:?}", c.stderr());
    let before = c.stderr();
    s.tick_status();
    assert_eq!(c.stderr(), before, "no status once the answer began");
    assert_eq!(c.stdout(), "Hello", "nothing of the status reaches stdout");
    // A retry needs a status line to count down on.
    assert!(!s.status_retry(Retry {
        why: "HTTP 503".into(),
        at: Instant::now(),
        attempt: 1,
        max: 2
    }));
}

#[test]
fn the_status_line_waits_for_the_start_of_a_line_and_never_reaches_a_pipe() {
    let (s, c) = Screen::captured_terminal();
    s.err("→ fs.read a … ").unwrap();
    s.set_status(Activity::Waiting { model: "m".into() });
    assert!(s.status_retry(Retry {
        why: "HTTP 503".into(),
        at: Instant::now(),
        attempt: 1,
        max: 2
    }));
    assert_eq!(c.stderr(), "→ fs.read a … ", "not drawn mid-line");
    s.clear_status();
    let (p, pc) = Screen::captured();
    p.set_status(Activity::Waiting { model: "m".into() });
    std::thread::sleep(super::super::status::FIRST_DRAW_AFTER);
    p.tick_status();
    assert!(!p.status_retry(Retry {
        why: "x".into(),
        at: Instant::now(),
        attempt: 1,
        max: 2
    }));
    p.answer("a");
    assert_eq!(pc.stderr(), "");
    assert_eq!(pc.stdout(), "a");
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
