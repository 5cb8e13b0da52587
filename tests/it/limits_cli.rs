//! Issue 11, item 8: a hostile or broken server cannot drive goshi's memory or tool use
//! without bound. The binary against the fake server, on both providers: one answer's size,
//! the tool calls per answer and per turn, and the tool-result bytes per round are capped, and
//! each cap ends the turn with a message that names it.

use crate::support::cli_common::*;

/// The audit's `tool_call` events.
fn tool_calls(chat: &Chat) -> usize {
    types(&chat.audit_events())
        .iter()
        .filter(|t| *t == "tool_call")
        .count()
}

#[test]
fn an_answer_past_max_response_bytes_ends_the_turn() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.config("llm:\n  max_response_bytes: 4096\n");
        let piece = "x".repeat(1000);
        let pieces: Vec<&str> = (0..50).map(|_| piece.as_str()).collect();
        chat.push(b.text_reply(&pieces, (1, 1)));
        let run = chat.chat(&["hi"]);
        assert_eq!(run.code, Some(1), "{b:?}: {run}");
        assert!(
            run.stderr
                .contains("passed 4.0 KiB (llm.max_response_bytes)"),
            "{b:?}: {run}"
        );
        assert!(run.stdout.len() <= 4096 + 1, "{b:?}: {}", run.stdout.len());
    }
}

#[test]
fn more_than_64_calls_in_one_answer_run_none() {
    for b in BOTH {
        let chat = Chat::new(b);
        let calls: Vec<WireCall> = (0..65)
            .map(|i| call(&format!("c{i}"), "fs_list", r#"{"path":"."}"#))
            .collect();
        chat.push(b.tool_reply(&calls));
        let run = chat.chat(&["--allow", "fs.read", "list"]);
        assert_eq!(run.code, Some(1), "{b:?}: {run}");
        assert!(
            run.stderr.contains("more than 64 tool calls in one answer"),
            "{b:?}: {run}"
        );
        assert_eq!(tool_calls(&chat), 0, "{b:?}");
        assert_eq!(chat.requests().len(), 1, "{b:?}");
    }
}

#[test]
fn more_than_256_calls_in_one_turn_end_it() {
    for b in BOTH {
        let chat = Chat::new(b);
        // Identical calls, so the loop breaker (llm.max_identical_tool_calls) is set aside.
        chat.config("llm: {max_identical_tool_calls: 1000}\n");
        let calls: Vec<WireCall> = (0..60)
            .map(|i| call(&format!("c{i}"), "fs_list", r#"{"path":"."}"#))
            .collect();
        chat.set_default(b.tool_reply(&calls));
        let run = chat.chat(&["--allow", "fs.read", "list"]);
        assert_eq!(run.code, Some(1), "{b:?}: {run}");
        assert!(
            run.stderr.contains("more than 256 tool calls in this turn"),
            "{b:?}: {run}"
        );
        // Four rounds of 60 ran; the fifth would pass 256.
        assert_eq!(tool_calls(&chat), 240, "{b:?}");
        assert_eq!(chat.requests().len(), 5, "{b:?}");
    }
}

#[test]
fn tool_results_past_8_mib_in_one_round_end_the_turn() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.write("big.txt", &"y".repeat(256 * 1024));
        chat.config("llm: {max_identical_tool_calls: 1000}\n");
        let calls: Vec<WireCall> = (0..40)
            .map(|i| call(&format!("c{i}"), "fs_read", r#"{"path":"big.txt"}"#))
            .collect();
        chat.push(b.tool_reply(&calls));
        let run = chat.chat(&["--allow", "fs.read", "read"]);
        assert_eq!(run.code, Some(1), "{b:?}: {run}");
        assert!(
            run.stderr
                .contains("the tool results of one round passed 8.0 MiB"),
            "{b:?}: {run}"
        );
        let ran = tool_calls(&chat);
        assert!((32..40).contains(&ran), "{b:?}: {ran}");
        // The results were not sent back.
        assert_eq!(chat.requests().len(), 1, "{b:?}");
    }
}

#[test]
fn the_tool_caps_are_set_in_goshi_yaml_and_named_when_hit() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.config("llm: {max_tool_calls_per_answer: 2, max_identical_tool_calls: 1000}\n");
    let three: Vec<WireCall> = (0..3)
        .map(|i| call(&format!("c{i}"), "fs_list", r#"{"path":"."}"#))
        .collect();
    chat.push(b.tool_reply(&three));
    let run = chat.chat(&["--allow", "fs.read", "list"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr
            .contains("more than 2 tool calls in one answer (llm.max_tool_calls_per_answer)"),
        "{run}"
    );
    assert_eq!(tool_calls(&chat), 0);

    // Raised: the same answer runs.
    let chat = Chat::new(b);
    chat.config("llm: {max_tool_calls_per_answer: 3, max_identical_tool_calls: 1000}\n");
    let run = chat.tool_turn(&three, "Listed.", &["--allow", "fs.read", "list"]);
    assert_eq!(run.stdout, "Listed.\n");
    assert_eq!(tool_calls(&chat), 3);

    let chat = Chat::new(b);
    chat.config("llm: {max_tool_calls_per_turn: 4, max_identical_tool_calls: 1000}\n");
    chat.set_default(b.tool_reply(&three));
    let run = chat.chat(&["--allow", "fs.read", "list"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr.contains("(llm.max_tool_calls_per_turn)"),
        "{run}"
    );
    assert_eq!(
        tool_calls(&chat),
        3,
        "the second round of three would pass 4"
    );

    let chat = Chat::new(b);
    chat.write("a.txt", &"y".repeat(3000));
    chat.config("llm: {max_tool_results_bytes: 4096, max_identical_tool_calls: 1000}\n");
    let reads: Vec<WireCall> = (0..3)
        .map(|i| call(&format!("r{i}"), "fs_read", r#"{"path":"a.txt"}"#))
        .collect();
    chat.push(b.tool_reply(&reads));
    let run = chat.chat(&["--allow", "fs.read", "read"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr
            .contains("passed 4.0 KiB (llm.max_tool_results_bytes)"),
        "{run}"
    );
}
