//! The circuit breaker as a user meets it: separate `goshi chat` processes against the
//! fake server share one circuit per provider and base URL (a locked file in the user
//! cache dir). The cooldown's end is simulated by moving the stored reopening time into
//! the past: no test waits for a clock.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::cli_common::*;
use crate::support::Reply;

const CIRCUIT: &str =
    "llm:\n  retry: {max_retries: 0}\n  circuit: {failures: 2, window: 1m, cooldown: 10m}\n";

fn failing(b: Backend) -> Reply {
    match b {
        Backend::OpenAi => Reply::json(
            503,
            serde_json::json!({"error": {"message": "overloaded", "type": "server_error"}}),
        ),
        Backend::Ollama => Reply::json(503, serde_json::json!({"error": "overloaded"})),
    }
}

fn state_file(chat: &Chat) -> PathBuf {
    chat.root().join("goshi").join("circuits.json")
}

fn state(chat: &Chat) -> Value {
    serde_json::from_str(&std::fs::read_to_string(state_file(chat)).unwrap()).unwrap()
}

/// Moves the end of every open circuit's cooldown into the past, as time would.
fn end_cooldown(chat: &Chat) {
    let mut s = state(chat);
    for (_, entry) in s["circuits"].as_object_mut().unwrap() {
        if entry["open_until"].is_u64() {
            entry["open_until"] = Value::from(1_000u64);
        }
    }
    std::fs::write(state_file(chat), s.to_string()).unwrap();
}

fn key(chat: &Chat) -> String {
    format!("{} {}", chat.backend.display(), chat.base_url())
}

#[test]
fn failures_open_the_circuit_across_processes_and_it_fails_fast_with_exit_3() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.config(CIRCUIT);
        chat.set_default(failing(b));
        // Two separate processes fail: the second one's failure opens the circuit.
        for n in 1..=2 {
            let run = chat.chat(&["hi"]);
            assert_eq!(run.code, Some(1), "{b:?}: {run}");
            assert_eq!(chat.requests().len(), n, "{b:?}");
        }
        // A third process sends nothing and exits 3, saying why and until when.
        let run = chat.chat(&["hi"]);
        assert_eq!(run.code, Some(3), "{b:?}: {run}");
        assert_eq!(chat.requests().len(), 2, "{b:?}: nothing may be sent");
        let line = run
            .err_lines()
            .into_iter()
            .find(|l| l.starts_with("goshi: error: "))
            .unwrap_or_default()
            .to_string();
        let prefix = format!(
            "goshi: error: not sent: {} at {} failed 2 times within 60s, so goshi stopped \
             sending to it for 600s (last error: ",
            b.display(),
            chat.base_url()
        );
        assert!(line.starts_with(&prefix), "{b:?}: {line}");
        assert!(line.contains("HTTP 503"), "{b:?}: {line}");
        assert!(
            line.contains("goshi will try again after "),
            "{b:?}: {line}"
        );
        assert!(
            run.stderr
                .contains("hint: pass --no-circuit to send anyway"),
            "{b:?}: {run}"
        );
        // doctor shows the open circuit.
        let doctor = chat.run(chat.goshi(&[
            "doctor",
            "--provider",
            b.flag(),
            "--base-url",
            &chat.base_url(),
        ]));
        let want = format!(
            "[warn] circuit    {}: open, requests fail at once until ",
            key(&chat)
        );
        assert!(
            doctor.stdout.lines().any(|l| l.starts_with(&want)),
            "{b:?}: {doctor}"
        );
        // --no-circuit sends anyway, for this run only.
        let run = chat.chat(&["--no-circuit", "hi"]);
        assert_eq!(run.code, Some(1), "{b:?}: {run}");
        assert_eq!(chat.requests().len(), 3, "{b:?}");
        assert_eq!(chat.chat(&["hi"]).code, Some(3), "{b:?}");
        assert_eq!(chat.requests().len(), 3, "{b:?}");
    }
}

#[test]
fn after_the_cooldown_one_probe_decides_closing_or_reopening_the_circuit() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.config(CIRCUIT);
    chat.set_default(failing(b));
    for _ in 0..2 {
        chat.chat(&["hi"]);
    }
    assert_eq!(chat.chat(&["hi"]).code, Some(3));
    // The cooldown ends; the probe fails: open again, nothing more is sent.
    end_cooldown(&chat);
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(chat.requests().len(), 3);
    assert_eq!(chat.chat(&["hi"]).code, Some(3));
    assert_eq!(chat.requests().len(), 3);
    // The next cooldown ends; the server is back: the probe succeeds and closes it.
    end_cooldown(&chat);
    chat.push(b.text_reply(&["back"], (2, 1)));
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.stdout, "back\n");
    assert_eq!(state(&chat)["circuits"], serde_json::json!({}));
    chat.push(b.text_reply(&["again"], (2, 1)));
    assert_eq!(chat.chat(&["hi"]).code, Some(0));
    assert_eq!(chat.requests().len(), 5);
}

#[test]
fn refusals_on_the_merits_never_open_the_circuit() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.config(CIRCUIT);
    chat.set_default(Reply::json(
        400,
        serde_json::json!({"error": {"message": "bad", "type": "invalid_request_error"}}),
    ));
    for n in 1..=4 {
        assert_eq!(chat.chat(&["hi"]).code, Some(1));
        assert_eq!(chat.requests().len(), n);
    }
    assert!(
        !state_file(&chat).exists(),
        "a healthy server leaves no state"
    );
}

#[test]
fn a_corrupt_state_file_resets_and_failures_zero_turns_the_breaker_off() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.config(CIRCUIT);
    chat.write("goshi/circuits.json", "{\"circuits\": {\"x\": [1, 2");
    chat.set_default(failing(b));
    for _ in 0..2 {
        assert_eq!(chat.chat(&["hi"]).code, Some(1));
    }
    assert_eq!(chat.chat(&["hi"]).code, Some(3));
    assert!(state(&chat)["circuits"][key(&chat)]["open_until"].is_u64());

    let chat = Chat::new(b);
    chat.config("llm:\n  retry: {max_retries: 0}\n  circuit: {failures: 0}\n");
    chat.set_default(failing(b));
    for n in 1..=4 {
        assert_eq!(chat.chat(&["hi"]).code, Some(1));
        assert_eq!(chat.requests().len(), n);
    }
}
