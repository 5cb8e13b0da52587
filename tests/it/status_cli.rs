//! A sign of life while goshi waits, as a user sees it: the status line on a terminal's stderr
//! (`waiting for MODEL · 3s`, a retry's countdown) that never reaches stdout or a pipe; the
//! model's reasoning, folded on a terminal or whole with `--show-thinking`, never on stdout and
//! never sent back as the answer; and the proposal an `fs.write` stored, named after its tool
//! line with the command that shows it.

use serde_json::{json, Value};

use crate::support::cli_common::*;
use crate::support::Reply;

#[test]
fn the_status_line_is_on_a_terminal_stderr_only_and_gone_before_the_answer() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Hello."], (3, 1)).delay_headers_ms(900));
    let mut t = chat.on_terminal(&["hi"], false, true);
    t.wait_for("waiting for test-model · 0s");
    let (code, stdout, _) = t.finish_all();
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "Hello.\n", "nothing of the status line on stdout");
}

#[test]
fn the_status_line_is_erased_before_the_answer_on_the_same_terminal() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Hello."], (3, 1)).delay_headers_ms(900));
    let mut t = chat.on_terminal(&["hi"], true, true);
    let shown = t.wait_for("Hello.");
    let (code, _) = t.finish();
    assert_eq!(code, Some(0));
    let status = shown.rfind("waiting for test-model").expect(&shown);
    let after = &shown[status..];
    // The line is erased (start of line, erase line) before the answer's first byte.
    assert!(
        after.contains("\r\x1b[2KHello."),
        "the status line was not erased before the answer: {after:?}"
    );
}

#[test]
fn pipes_never_get_the_status_line() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Hello."], (3, 1)).delay_headers_ms(900));
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout, "Hello.\n");
    assert!(!run.stderr.contains("waiting for"), "{}", run.stderr);
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
}

#[test]
fn a_retry_counts_down_on_the_status_line_and_in_words_on_a_pipe() {
    let b = Backend::OpenAi;
    let busy =
        || Reply::json(503, json!({"error": {"message": "busy"}})).header("Retry-After", "1");
    let chat = Chat::new(b);
    chat.push(busy());
    chat.push(b.text_reply(&["Hello."], (3, 1)));
    let mut t = chat.on_terminal(&["hi"], true, true);
    let shown = t.wait_for("Hello.");
    let (code, _) = t.finish();
    assert_eq!(code, Some(0));
    assert!(shown.contains("retry 1/"), "{shown:?}");
    assert!(
        !shown.contains("retrying in"),
        "no separate notice line: {shown:?}"
    );

    let chat = Chat::new(b);
    chat.push(busy());
    chat.push(b.text_reply(&["Hello."], (3, 1)));
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("retrying in 1.0s"), "{}", run.stderr);
}

/// A streamed answer that reasons (`thought`) before it says `answer`.
fn thinking_reply(b: Backend, thought: &[&str], answer: &str) -> Reply {
    match b {
        Backend::OpenAi => {
            let mut items: Vec<String> = thought
                .iter()
                .map(|t| {
                    json!({"choices": [{"index": 0, "delta": {"reasoning_content": t}}]})
                        .to_string()
                })
                .collect();
            items
                .push(json!({"choices": [{"index": 0, "delta": {"content": answer}}]}).to_string());
            items.push(
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                    .to_string(),
            );
            items.push("[DONE]".into());
            Reply::sse(&items)
        }
        Backend::Ollama => {
            let mut lines: Vec<Value> = thought
                .iter()
                .map(|t| {
                    json!({"model": MODEL, "message": {"role": "assistant", "content": "",
                        "thinking": t}, "done": false})
                })
                .collect();
            lines.push(json!({"model": MODEL, "message": {"role": "assistant",
                "content": answer}, "done": false}));
            lines.push(
                json!({"model": MODEL, "message": {"role": "assistant", "content": ""},
                "done": true, "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 1}),
            );
            Reply::ndjson(&lines)
        }
    }
}

#[test]
fn reasoning_is_shown_on_stderr_only_when_asked_and_never_kept_as_the_answer() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(thinking_reply(
            b,
            &["Let me think", " \x1b[2Jhard."],
            "Four.",
        ));
        let run = chat.chat(&["--show-thinking", "2+2?"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "Four.\n", "{b:?}");
        assert!(
            run.stderr.contains("Let me think \\x1b[2Jhard.\n"),
            "{b:?}: whole, escaped, its line ended: {:?}",
            run.stderr
        );

        // Folded (the default): nothing of it on a pipe.
        chat.push(thinking_reply(b, &["secret plan"], "Five."));
        let run = chat.chat(&["2+3?"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "Five.\n");
        assert!(!run.stderr.contains("secret plan"), "{b:?}: {}", run.stderr);

        // A later turn sends the answer back, never the reasoning.
        chat.push(thinking_reply(b, &["hidden"], "Six."));
        chat.push(b.text_reply(&["Ok."], (3, 1)));
        let mut t = chat.on_terminal(&[], true, true);
        t.wait_for("> ");
        t.send(b"first\r");
        t.wait_for("Six.");
        t.wait_for("> ");
        t.send(b"second\r");
        t.wait_for("Ok.");
        t.quit();
        let reqs = chat.requests();
        let last = reqs.last().unwrap().to_string();
        assert!(last.contains("Six."), "{b:?}: {last}");
        assert!(!last.contains("hidden"), "{b:?}: {last}");
        assert!(!last.contains("secret plan"), "{b:?}: {last}");
    }
}

#[test]
fn folded_reasoning_leaves_one_line_on_a_terminal() {
    let b = Backend::Ollama;
    let chat = Chat::new(b);
    chat.push(thinking_reply(b, &["step one", " step two"], "Done."));
    let mut t = chat.on_terminal(&["go"], true, true);
    let shown = t.wait_for("Done.");
    let (code, _) = t.finish();
    assert_eq!(code, Some(0));
    assert!(shown.contains("thought for "), "{shown:?}");
    assert!(shown.contains("--show-thinking shows it"), "{shown:?}");
}

#[test]
fn a_stored_proposal_is_named_with_the_command_that_shows_it() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.write("notes.txt", "old\nkeep\n");
    let run = chat.tool_turn(
        &[call(
            "c1",
            "fs_write",
            r#"{"path":"notes.txt","content":"new\nkeep\nmore\n"}"#,
        )],
        "Proposed.",
        &["--allow", "fs.write", "change notes"],
    );
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("  proposal "))
        .unwrap_or_else(|| panic!("no proposal line: {}", run.stderr));
    let id = line.split_whitespace().nth(1).unwrap();
    assert_eq!(
        line,
        format!("  proposal {id} notes.txt (+2 -1) · goshi fs show {id}")
    );
    let show = chat.run(chat.goshi(&["fs", "show", id]));
    assert_eq!(show.code, Some(0), "{}", show.stderr);
    assert!(show.stdout.contains("+more"), "{}", show.stdout);
}

#[test]
fn jsonl_types_reasoning_and_proposals_apart_from_the_answer() {
    let events = |stdout: &str| -> Vec<Value> {
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(thinking_reply(b, &["Let me", " \x1b[2Jthink"], "Four."));
        let run = chat.chat(&["--format", "jsonl", "2+2?"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        let ev = events(&run.stdout);
        let of = |t: &str| -> String {
            ev.iter()
                .filter(|e| e["type"] == t)
                .map(|e| e["text"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(of("thinking"), "Let me \x1b[2Jthink", "{b:?}");
        assert_eq!(of("text"), "Four.", "{b:?}");
        let end = ev.last().unwrap();
        assert_eq!(end["type"], "end");
        assert_eq!(end["answer"], "Four.", "{b:?}: reasoning kept apart");
        assert!(!run.stdout.contains('\x1b'), "escaped by JSON");
    }

    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.write("notes.txt", "old\n");
    let run = chat.tool_turn(
        &[call(
            "c1",
            "fs_write",
            r#"{"path":"notes.txt","content":"new\nmore\n"}"#,
        )],
        "Proposed.",
        &["--format", "jsonl", "--allow", "fs.write", "change notes"],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let ev = events(&run.stdout);
    let p = ev
        .iter()
        .find(|e| e["type"] == "proposal")
        .unwrap_or_else(|| panic!("no proposal event: {}", run.stdout));
    assert_eq!(p["path"], "notes.txt");
    assert_eq!(
        (p["added"].as_u64(), p["removed"].as_u64()),
        (Some(2), Some(1))
    );
    let end = ev.last().unwrap();
    assert_eq!(end["proposals"][0], p["id"], "{end}");
    let id = p["short_id"].as_str().unwrap();
    assert!(p["id"].as_str().unwrap().starts_with(id));
}
