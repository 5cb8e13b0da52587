//! goshi in scripts and pipes: piped stdin with a prompt argument is the context the prompt
//! is about; too much or non-text stdin is refused before anything is sent.

use crate::support::cli_common::*;

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
