//! Ctrl-C during a one-shot answer: the partial text stays on stdout and goshi exits 130.

use crate::support;
use crate::support::hermetic;

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hermetic::std_goshi_cmd;
use support::*;

#[test]
fn ctrl_c_during_a_stream_keeps_the_partial_answer_and_exits_130() {
    let server = FakeServer::start();
    let chunk = |text: &str| {
        format!(
            "data: {}\n\n",
            serde_json::json!({"choices":[{"index":0,"delta":{"content":text},"finish_reason":null}]})
        )
    };
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::new(200)
            .header("content-type", "text/event-stream")
            .chunk(chunk("partial "))
            .chunk(chunk("answer"))
            .stall(),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut child = std_goshi_cmd(dir.path())
        .args([
            "chat",
            "--provider",
            "openai",
            "--base-url",
            &format!("{}/v1", server.url()),
            "--model",
            "m",
            "hello",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    seen.extend_from_slice(&buf[..n]);
                    let _ = tx.send(String::from_utf8_lossy(&seen).to_string());
                }
            }
        }
    });
    // Wait (generously) until the partial answer has been shown, then press Ctrl-C.
    let mut shown = String::new();
    while !shown.contains("partial answer") {
        shown = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the partial answer never reached stdout");
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}
