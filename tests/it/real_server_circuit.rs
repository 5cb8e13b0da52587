//! The circuit breaker against a REAL llama-server that this test starts, kills and
//! restarts itself (with `../shared/real-server/start.sh`, on a free port): the circuit
//! opens after the server dies and closes once it is back. The cooldown's end is simulated
//! by moving the stored reopening time into the past, so nothing waits for a clock.

use crate::support::real_server_common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use real_server_common::*;
use serde_json::Value;

/// The real-server kit: `GOSHI_REAL_SERVER_DIR`, else `../shared/real-server`.
fn kit() -> PathBuf {
    match std::env::var("GOSHI_REAL_SERVER_DIR") {
        Ok(d) if !d.trim().is_empty() => PathBuf::from(d),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/real-server"),
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A llama-server of this test's own; stopped when dropped.
struct OwnServer {
    pid: Option<String>,
}

impl OwnServer {
    fn start(port: u16) -> OwnServer {
        let out = Command::new(kit().join("start.sh"))
            .arg(port.to_string())
            .env("THREADS", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "start.sh {port} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(pid.chars().all(|c| c.is_ascii_digit()), "pid {pid:?}");
        OwnServer { pid: Some(pid) }
    }

    /// Kills the server and waits until it is gone.
    fn stop(&mut self) {
        let Some(pid) = self.pid.take() else { return };
        let _ = Command::new("kill").arg(&pid).status();
        for _ in 0..300 {
            let alive = Command::new("kill")
                .args(["-0", &pid])
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !alive {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-9", &pid]).status();
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn state_path(p: &Project) -> PathBuf {
    p.home().join("goshi").join("circuits.json")
}

fn end_cooldown(p: &Project) {
    let path = state_path(p);
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (_, entry) in s["circuits"].as_object_mut().unwrap() {
        entry["open_until"] = Value::from(1_000u64);
    }
    std::fs::write(&path, s.to_string()).unwrap();
}

#[test]
#[ignore = "needs the real llama-server kit: run scripts/real-server-tests.sh"]
fn the_circuit_opens_when_the_server_dies_and_closes_when_it_is_back() {
    let port = free_port();
    let root = format!("http://127.0.0.1:{port}");
    let mut server = OwnServer::start(port);
    let p = Project::new();
    p.config(
        "llm:\n  temperature: 0\n  max_tokens: 8\n  circuit: {failures: 2, window: 10m, cooldown: 10m}\n",
    );
    let out = p.run(&root, &["chat", "Say ok."]);
    assert_eq!(out.code, Some(0), "{out}");

    server.stop();
    for _ in 0..2 {
        let out = p.run(&root, &["chat", "Say ok."]);
        assert_eq!(out.code, Some(1), "{out}");
        assert!(out.stderr.contains("connection refused"), "{out}");
    }
    let out = p.run(&root, &["chat", "Say ok."]);
    assert_eq!(out.code, Some(3), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "goshi: error: not sent: OpenAI at {root}/v1 failed 2 times within 600s"
        )),
        "{out}"
    );
    assert!(out.stderr.contains("connection refused"), "{out}");

    // The server comes back; once the cooldown is over, one probe finds it and the
    // circuit closes.
    let _server = OwnServer::start(port);
    end_cooldown(&p);
    let out = p.run(&root, &["chat", "Say ok."]);
    assert_eq!(out.code, Some(0), "{out}");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(state_path(&p)).unwrap()).unwrap();
    assert_eq!(s["circuits"], serde_json::json!({}), "closed: nothing kept");
    let out = p.run(&root, &["chat", "Say ok."]);
    assert_eq!(out.code, Some(0), "{out}");
}
