//! goshi in scripts and pipes: piped stdin with a prompt argument is the context the prompt
//! is about; too much or non-text stdin is refused before anything is sent; `--format json`
//! (or `jsonl`) is one JSON object (or events ending with it) whatever happens.

use crate::support::cli_common::*;
use crate::support::Reply;

/// The user message of the first request.
fn first_user_message(chat: &Chat) -> String {
    let body = &chat.requests()[0];
    let msgs = body["messages"].as_array().expect("messages");
    let user = msgs
        .iter()
        .find(|m| m["role"] == "user")
        .expect("a user message");
    user["content"].as_str().expect("text content").to_string()
}

#[test]
fn piped_stdin_with_a_prompt_is_the_context_and_the_prompt_the_instruction() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(b.text_reply(&["It adds."], (20, 2)));
        let mut cmd = chat.chat_cmd(&["explain", "this"]);
        cmd.write_stdin("fn add(a: i32, b: i32) -> i32 { a + b }\n");
        let run = chat.run(cmd);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "It adds.\n", "{b:?}");
        assert_eq!(
            first_user_message(&chat),
            "fn add(a: i32, b: i32) -> i32 { a + b }\n\nexplain this",
            "{b:?}"
        );
    }
}

#[test]
fn empty_piped_stdin_leaves_the_prompt_alone() {
    let chat = Chat::new(Backend::OpenAi);
    chat.push(Backend::OpenAi.text_reply(&["Hi."], (3, 1)));
    let mut cmd = chat.chat_cmd(&["hello"]);
    cmd.write_stdin("");
    let run = chat.run(cmd);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(first_user_message(&chat), "hello");
}

#[test]
fn stdin_over_the_cap_is_refused_and_nothing_is_sent() {
    let chat = Chat::new(Backend::OpenAi);
    let mut cmd = chat.chat_cmd(&["summarize"]);
    cmd.write_stdin(vec![b'a'; 1024 * 1024 + 1]);
    let run = chat.run(cmd);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("stdin is larger than 1.0 MiB"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert!(chat.server.requests().is_empty());
    // Exactly at the cap it goes through.
    chat.push(Backend::OpenAi.text_reply(&["ok"], (3, 1)));
    let mut cmd = chat.chat_cmd(&["summarize"]);
    cmd.write_stdin(vec![b'a'; 1024 * 1024]);
    assert_eq!(chat.run(cmd).code, Some(0));
}

#[test]
fn binary_stdin_is_refused_and_nothing_is_sent() {
    let chat = Chat::new(Backend::Ollama);
    let mut cmd = chat.chat_cmd(&["what is this"]);
    cmd.write_stdin(vec![0xff, 0xfe, 0x00, 0x41]);
    let run = chat.run(cmd);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("stdin is not UTF-8 text"),
        "{}",
        run.stderr
    );
    assert!(chat.server.requests().is_empty());
}

/// `goshi chat hi` against a compatible server (no model configured) serving `ids`.
fn chat_without_model(ids: &[&str]) -> (crate::support::FakeServer, crate::support::hermetic::Run) {
    let server = crate::support::provider_common::fake_openai(ids);
    server.push(
        "POST",
        "/v1/chat/completions",
        Backend::OpenAi.text_reply(&["Hello."], (3, 1)),
    );
    let sb = crate::support::hermetic::Sandbox::new();
    let base = format!("{}/v1", server.url());
    let run = crate::support::hermetic::run(sb.goshi(&[
        "chat",
        "--provider",
        "openai",
        "--base-url",
        &base,
        "hi",
    ]));
    (server, run)
}

#[test]
fn a_compatible_server_serving_one_model_gets_that_model() {
    let (server, run) = chat_without_model(&["tiny"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("using tiny, the only model the server serves"),
        "{}",
        run.stderr
    );
    let sent = server.requests_to("/v1/chat/completions");
    assert_eq!(sent[0].json()["model"], "tiny");
}

#[test]
fn a_compatible_server_serving_several_models_stops_before_sending_and_lists_them() {
    let (server, run) = chat_without_model(&["a-model", "b-model"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("no model configured, and the server serves a-model, b-model"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--model NAME"), "{}", run.stderr);
    assert!(server.requests_to("/v1/chat/completions").is_empty());
}

/// stdout of a `--format json` run: exactly one JSON object (and nothing else).
fn one_object(run: &crate::support::hermetic::Run) -> serde_json::Value {
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one line on stdout: {:?}",
        run.stdout
    );
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn format_json_is_one_object_with_the_answer_usage_and_tool_calls() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.write("notes.txt", "alpha\n");
        chat.push(b.tool_reply(&[call("call_1", "fs_read", r#"{"path":"notes.txt"}"#)]));
        chat.push(b.text_reply(&["It says ", "alpha."], (20, 4)));
        let run = chat.chat(&[
            "--format",
            "json",
            "--allow",
            "fs.read",
            "what is in notes?",
        ]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        let v = one_object(&run);
        assert_eq!(v["ok"], true, "{b:?}: {v}");
        assert_eq!(v["exit_code"], 0);
        assert_eq!(v["answer"], "It says alpha.", "{b:?}");
        assert_eq!(v["model"], MODEL);
        assert_eq!(v["provider"], b.display(), "{b:?}");
        assert_eq!(v["tool_calls"][0]["tool"], "fs.read", "{b:?}: {v}");
        assert_eq!(v["tool_calls"][0]["ok"], true, "{b:?}: {v}");
        assert!(
            v["usage"]["total_tokens"].as_u64().unwrap() >= 24,
            "{b:?}: {v}"
        );
        assert_eq!(v["error"], serde_json::Value::Null);
    }
}

#[test]
fn format_json_reports_a_failure_and_a_bad_config_as_one_object() {
    let chat = Chat::new(Backend::OpenAi);
    chat.push(Reply::json(
        401,
        serde_json::json!({"error": {"message": "bad key", "type": "invalid_request_error"}}),
    ));
    let run = chat.chat(&["--format", "json", "hi"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let v = one_object(&run);
    assert_eq!(v["ok"], false);
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["error"]["kind"], "unauthorized", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("bad key"),
        "{v}"
    );

    let bad = Chat::new(Backend::OpenAi);
    bad.config("llm:\n  temperature: 9\n");
    let run = bad.chat(&["--format", "json", "hi"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let v = one_object(&run);
    assert_eq!(v["error"]["kind"], "usage", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("llm.temperature"),
        "{v}"
    );
    assert!(bad.server.requests().is_empty());
}

#[test]
fn format_jsonl_streams_events_and_ends_with_the_object() {
    let b = Backend::Ollama;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Hel", "lo."], (3, 2)));
    let run = chat.chat(&["--format", "jsonl", "hi"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let texts: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "text")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.concat(), "Hello.");
    let last = events.last().unwrap();
    assert_eq!(last["type"], "end");
    assert_eq!(last["answer"], "Hello.");
    assert_eq!(last["ok"], true);
}
