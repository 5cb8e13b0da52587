//! Conversations that last, as a user meets them: every chat is saved as it happens;
//! `--continue` and `--session NAME` resume it (the earlier messages are sent again);
//! `--no-save` saves nothing; `goshi sessions list|show|rm`.

use serde_json::Value;

use crate::support::cli_common::*;

fn sessions_json(chat: &Chat) -> Vec<Value> {
    let run = chat.run(chat.goshi(&["sessions", "list", "--format", "json"]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    v["sessions"].as_array().unwrap().clone()
}

/// The (role, content) pairs of a request body's messages after the system message.
fn turns(body: &Value) -> Vec<(String, String)> {
    messages(body)
        .iter()
        .skip(1)
        .map(|m| {
            (
                m["role"].as_str().unwrap_or_default().to_string(),
                m["content"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_end()
                    .to_string(),
            )
        })
        .collect()
}

fn pair(role: &str, content: &str) -> (String, String) {
    (role.to_string(), content.to_string())
}

#[test]
fn a_chat_is_saved_and_continue_resumes_it_sending_the_earlier_messages() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(b.text_reply(&["Blue."], (5, 1)));
        let first = chat.chat(&["favourite colour?"]);
        assert_eq!(first.code, Some(0), "{b:?}: {}", first.stderr);
        let saved = sessions_json(&chat);
        assert_eq!(saved.len(), 1, "{b:?}: {saved:?}");
        assert_eq!(saved[0]["messages"], 2, "{b:?}");
        assert_eq!(saved[0]["title"], "favourite colour?", "{b:?}");

        chat.push(b.text_reply(&["Still blue."], (9, 2)));
        let second = chat.chat(&["-c", "and now?"]);
        assert_eq!(second.code, Some(0), "{b:?}: {}", second.stderr);
        assert!(
            second.stderr.contains("continuing conversation"),
            "{b:?}: {}",
            second.stderr
        );
        let reqs = chat.requests();
        assert_eq!(
            turns(&reqs[1]),
            vec![
                pair("user", "favourite colour?"),
                pair("assistant", "Blue."),
                pair("user", "and now?"),
            ],
            "{b:?}"
        );
        let saved = sessions_json(&chat);
        assert_eq!(saved.len(), 1, "{b:?}: appended, not a new one");
        assert_eq!(saved[0]["messages"], 4, "{b:?}");
    }
}

#[test]
fn a_named_session_is_created_then_resumed_by_name() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["One."], (3, 1)));
    chat.push(b.text_reply(&["Unrelated."], (3, 1)));
    chat.push(b.text_reply(&["Two."], (3, 1)));
    assert_eq!(chat.chat(&["--session", "work", "first"]).code, Some(0));
    assert_eq!(chat.chat(&["other"]).code, Some(0));
    let run = chat.chat(&["--session", "work", "second"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        turns(&chat.requests()[2]),
        vec![
            pair("user", "first"),
            pair("assistant", "One."),
            pair("user", "second")
        ]
    );
    let show = chat.run(chat.goshi(&["sessions", "show", "work"]));
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    assert!(
        show.stdout
            .contains("you: first\nmodel: One.\nyou: second\nmodel: Two.\n"),
        "{}",
        show.stdout
    );
    let rm = chat.run(chat.goshi(&["sessions", "rm", "work"]));
    assert_eq!(rm.code, Some(0), "{}", rm.stderr);
    let again = chat.run(chat.goshi(&["sessions", "rm", "work"]));
    assert_eq!(again.code, Some(2), "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("no saved conversation is named \"work\""),
        "{}",
        again.stderr
    );
}

#[test]
fn no_save_saves_nothing_and_continue_without_a_conversation_sends_nothing() {
    let b = Backend::Ollama;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Hi."], (3, 1)));
    assert_eq!(chat.chat(&["--no-save", "hello"]).code, Some(0));
    assert!(sessions_json(&chat).is_empty());
    let run = chat.chat(&["--continue", "more"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("no saved conversation for this repository"),
        "{}",
        run.stderr
    );
    assert_eq!(chat.requests().len(), 1, "nothing sent for the refused run");
}

#[test]
fn sessions_save_false_in_the_user_config_turns_saving_off_and_a_repository_cannot_undo_it() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.user_config("sessions:\n  save: false\n");
    chat.push(b.text_reply(&["Hi."], (3, 1)));
    assert_eq!(chat.chat(&["hello"]).code, Some(0));
    assert!(sessions_json(&chat).is_empty());
    // A cloned repository's own goshi.yaml cannot turn saving back on.
    chat.config("sessions:\n  save: true\n");
    chat.push(b.text_reply(&["Hi."], (3, 1)));
    let run = chat.chat(&["hello"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("ignoring sessions.save"),
        "{}",
        run.stderr
    );
    assert!(sessions_json(&chat).is_empty());
}

#[test]
fn a_conversation_resumes_with_another_model() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["A."], (3, 1)));
    chat.push(b.text_reply(&["B."], (3, 1)));
    assert_eq!(chat.chat(&["q1"]).code, Some(0));
    let base = chat.base_url();
    let run = chat.run(chat.goshi(&[
        "chat",
        "--provider",
        b.flag(),
        "--base-url",
        &base,
        "--model",
        "other-model",
        "-c",
        "q2",
    ]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let reqs = chat.requests();
    assert_eq!(reqs[1]["model"], "other-model");
    assert_eq!(turns(&reqs[1]).len(), 3);
}

#[test]
fn sessions_show_renders_the_answers_on_a_terminal_and_keeps_them_raw_on_a_pipe() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Use **bold**\n\n- one\n- two\n"], (3, 1)));
    let run = chat.chat(&["--session", "md", "list please"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let piped = chat.run(chat.goshi(&["sessions", "show", "md"]));
    assert_eq!(piped.code, Some(0), "{}", piped.stderr);
    assert!(
        piped.stdout.contains("model: Use **bold**\n\n- one\n- two"),
        "raw on a pipe: {}",
        piped.stdout
    );

    let mut cmd = chat.std_goshi(&["sessions", "show", "md"]);
    cmd.env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    let tty = crate::support::pty::run_on_pty(cmd, 80, 24);
    assert_eq!(tty.code, Some(0), "{}", tty.stderr);
    let screen = crate::support::pty::final_screen(&tty.screen, 80);
    assert!(
        screen.contains("\u{1b}[1mbold\u{1b}[0m"),
        "bold rendered: {screen:?}"
    );
    assert!(
        screen.contains("•\u{1b}[0m one"),
        "list rendered: {screen:?}"
    );
    assert!(!screen.contains("**"), "no raw markup: {screen:?}");
    assert!(
        screen.contains("list please"),
        "the question too: {screen:?}"
    );

    let mut plain = chat.std_goshi(&["sessions", "show", "md"]);
    plain.env("TERM", "xterm-256color").env("NO_COLOR", "1");
    let tty = crate::support::pty::run_on_pty(plain, 80, 24);
    let screen = crate::support::pty::final_screen(&tty.screen, 80);
    assert!(
        screen.contains("model: Use **bold**"),
        "NO_COLOR: as it came: {screen:?}"
    );
}
