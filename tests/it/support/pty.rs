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
