//! Running the built binary with its stdout on a pseudo-terminal, as a user's terminal is:
//! what it wrote there (with the terminal's `\r\n` line ends turned back into `\n`).

use std::io::Read;
use std::process::{Command, Stdio};

use nix::pty::{openpty, Winsize};

/// What a run on a pseudo-terminal printed.
pub struct PtyRun {
    /// The exit code.
    pub code: Option<i32>,
    /// Everything written to the terminal (stdout), `\r\n` as `\n`.
    pub screen: String,
    /// stderr (a pipe).
    pub stderr: String,
}

/// Runs `cmd` with stdout on a `cols` x `rows` pseudo-terminal, stdin empty, stderr a pipe.
pub fn run_on_pty(mut cmd: Command, cols: u16, rows: u16) -> PtyRun {
    let size = Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = openpty(Some(&size), None).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(pty.slave))
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // The child holds the only copy of the terminal's other end now: reading ends (EIO)
    // when it exits.
    drop(cmd);
    let mut master = std::fs::File::from(pty.master);
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
        bytes
    });
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    let bytes = reader.join().unwrap();
    PtyRun {
        code: status.code(),
        screen: String::from_utf8_lossy(&bytes).replace("\r\n", "\n"),
        stderr,
    }
}

/// The text a terminal of `width` columns shows after `out` was written to it: printable
/// text wrapping at the width, newline, carriage return, cursor up (`ESC[nA`) and erase
/// below (`ESC[J`); SGR and OSC 8 sequences stay in the text, taking no columns.
pub fn final_screen(out: &str, width: usize) -> String {
    let mut rows: Vec<String> = vec![String::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        let mut text = c.to_string();
        match c {
            '\n' => {
                row += 1;
                col = 0;
                text.clear();
            }
            '\r' => {
                col = 0;
                text.clear();
            }
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut params = String::new();
                let fin = loop {
                    let n = chars.next().unwrap();
                    if n.is_ascii_alphabetic() {
                        break n;
                    }
                    params.push(n);
                };
                text.clear();
                match fin {
                    'A' => row -= params.parse::<usize>().unwrap_or(1),
                    'J' => {
                        rows[row].clear();
                        rows.truncate(row + 1);
                    }
                    _ => text = format!("\u{1b}[{params}{fin}"),
                }
            }
            '\u{1b}' => {
                while let Some(n) = chars.next() {
                    text.push(n);
                    if n == '\u{1b}' && chars.peek() == Some(&'\\') {
                        text.push('\\');
                        chars.next();
                        break;
                    }
                }
            }
            _ => {
                // Wide characters are not in these tests' answers: one column each.
                if col + 1 > width {
                    row += 1;
                    col = 0;
                }
                col += 1;
            }
        }
        while rows.len() <= row {
            rows.push(String::new());
        }
        rows[row].push_str(&text);
    }
    rows.join("\n")
}

/// A run of the built binary on a pseudo-terminal that a test talks to as a user would:
/// stdin and stdout (and stderr, when asked) are the terminal; keys are written to it and
/// the screen is read back as it comes.
pub struct PtySession {
    child: std::process::Child,
    /// Readers of stdout and stderr when they are pipes.
    pipes: [Option<std::thread::JoinHandle<String>>; 2],
    master: std::fs::File,
    screen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    /// How far [`PtySession::wait_for`] has read.
    at: usize,
}

impl PtySession {
    /// Starts `cmd` with stdin on a 100x40 terminal, and stdout and stderr each on it or on a
    /// pipe (read by [`PtySession::finish`]).
    pub fn start_with(mut cmd: Command, stdout_on_it: bool, stderr_on_it: bool) -> PtySession {
        let size = Winsize {
            ws_row: 40,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).unwrap();
        cmd.env("TERM", "xterm")
            .stdin(Stdio::from(pty.slave.try_clone().unwrap()));
        let on_it = |yes: bool| {
            if yes {
                Stdio::from(pty.slave.try_clone().unwrap())
            } else {
                Stdio::piped()
            }
        };
        cmd.stderr(on_it(stderr_on_it)).stdout(on_it(stdout_on_it));
        drop(pty.slave);
        let mut child = cmd.spawn().unwrap();
        drop(cmd);
        let read_all = |r: Option<Box<dyn Read + Send>>| {
            r.map(|mut r| {
                std::thread::spawn(move || {
                    let mut s = String::new();
                    let _ = r.read_to_string(&mut s);
                    s
                })
            })
        };
        let pipes = [
            read_all(
                child
                    .stdout
                    .take()
                    .map(|o| Box::new(o) as Box<dyn Read + Send>),
            ),
            read_all(
                child
                    .stderr
                    .take()
                    .map(|e| Box::new(e) as Box<dyn Read + Send>),
            ),
        ];
        let master = std::fs::File::from(pty.master);
        let mut reader = master.try_clone().unwrap();
        let mut answerer = master.try_clone().unwrap();
        let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&screen);
        std::thread::spawn(move || {
            use std::io::Write;
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                // A line editor may ask where the cursor is: answer as a terminal would.
                if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                    let _ = answerer.write_all(b"\x1b[1;1R");
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        PtySession {
            child,
            pipes,
            master,
            screen,
            at: 0,
        }
    }

    /// Everything the terminal has shown so far.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits until the terminal shows `marker` after what earlier waits consumed, and returns
    /// what it showed up to the marker; fails after 30 s (never a bound on speed: a guard
    /// against a hang).
    pub fn wait_for(&mut self, marker: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let bytes = self.screen.lock().unwrap()[self.at..].to_vec();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Some(i) = text.find(marker) {
                let end = i + marker.len();
                self.at += text[..end].len();
                return text[..end].to_string();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the terminal never showed {marker:?}; it shows:\n{}",
                self.screen()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Types `keys` (`\r` is Enter, `\x03` Ctrl-C, `\x04` Ctrl-D).
    pub fn send(&mut self, keys: &[u8]) {
        use std::io::Write;
        self.master.write_all(keys).unwrap();
    }

    /// Waits for the program to exit (30 s guard) and returns its exit code and its stderr
    /// (empty when stderr was the terminal).
    pub fn finish(self) -> (Option<i32>, String) {
        let (code, _, stderr) = self.finish_all();
        (code, stderr)
    }

    /// Waits for the program to exit (30 s guard) and returns its exit code, stdout and stderr
    /// (each empty when it was the terminal).
    pub fn finish_all(mut self) -> (Option<i32>, String, String) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("goshi did not exit; the terminal shows:\n{}", self.screen());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let [out, err] = self.pipes;
        let text = |h: Option<std::thread::JoinHandle<String>>| {
            h.map(|h| h.join().unwrap()).unwrap_or_default()
        };
        (status.code(), text(out), text(err))
    }
}

impl PtySession {
    /// At the REPL's prompt: Ctrl-D, and goshi exits with 0.
    pub fn quit(mut self) {
        self.wait_for("> ");
        self.send(b"\x04");
        let (code, _) = self.finish();
        assert_eq!(code, Some(0));
    }
}

impl crate::support::cli_common::Chat {
    /// `goshi chat ... ARGS` (see [`Chat::std_chat`]) with stdin on a terminal, stdout and
    /// stderr each on it or a pipe, without colour (so the tests read plain text).
    pub fn on_terminal(&self, args: &[&str], stdout_on_it: bool, stderr_on_it: bool) -> PtySession {
        let mut cmd = self.std_chat(args);
        cmd.env("NO_COLOR", "1");
        PtySession::start_with(cmd, stdout_on_it, stderr_on_it)
    }
}
