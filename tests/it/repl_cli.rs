//! The REPL as a user meets it, on a pseudo-terminal (stdin and stdout both a terminal):
//! `/model NAME` switches the model, `/save NAME` names the saved conversation, and the typed
//! lines are kept in the history file for the next run.

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::pty::{openpty, Winsize};

use crate::support::cli_common::*;

/// Waits until the terminal shows `marker` (after `from` bytes), or fails after 30 s.
fn wait_for(screen: &Arc<Mutex<Vec<u8>>>, from: usize, marker: &str) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = String::from_utf8_lossy(&screen.lock().unwrap()[from..]).into_owned();
        if let Some(i) = text.find(marker) {
            return from + i + marker.len();
        }
        assert!(
            Instant::now() < deadline,
            "the terminal never showed {marker:?}; it shows:\n{}",
            String::from_utf8_lossy(&screen.lock().unwrap())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn repl_model_save_and_history_work_on_a_terminal() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Hello."], (3, 1)));
    let size = Winsize {
        ws_row: 40,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pty = openpty(Some(&size), None).unwrap();
    let mut cmd = chat.std_chat(&[]);
    cmd.env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
        .stdout(Stdio::from(pty.slave))
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let mut master = std::fs::File::from(pty.master);
    let mut reader = master.try_clone().unwrap();
    let screen = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&screen);
    let mut answerer = master.try_clone().unwrap();
    std::thread::spawn(move || {
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

    let at = wait_for(&screen, 0, "> ");
    master.write_all(b"/model other-model\r").unwrap();
    let at = wait_for(
        &screen,
        at,
        "(model: other-model for the rest of this session)",
    );
    master.write_all(b"hi there\r").unwrap();
    let at = wait_for(&screen, at, "Hello.");
    master.write_all(b"/save mine\r").unwrap();
    let at = wait_for(&screen, at, "(saved as mine");
    wait_for(&screen, at, "> ");
    master.write_all(b"\x04").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the REPL did not exit on Ctrl-D");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));

    let reqs = chat.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["model"], "other-model");
    let list = chat.run(chat.goshi(&["sessions", "list", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(v["sessions"][0]["id"], "mine", "{v}");
    assert_eq!(v["sessions"][0]["messages"], 2, "{v}");
    let history =
        std::fs::read_to_string(chat.data.path().join("goshi").join("repl_history")).unwrap();
    assert!(history.contains("/model other-model"), "{history}");
    assert!(history.contains("hi there"), "{history}");
}
