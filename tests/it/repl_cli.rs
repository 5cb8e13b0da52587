//! The REPL as a user meets it, on a pseudo-terminal (stdin and stdout both a terminal):
//! `/model NAME` switches the model, `/save NAME` names the saved conversation, the typed
//! lines are kept in the history file for the next run, Ctrl-C clears a typed line and at the
//! permission prompt cancels the turn, and a proposal made in the chat is applied there.

use serde_json::Value;

use crate::support::cli_common::*;

#[test]
fn repl_model_save_and_history_work_on_a_terminal() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Hello."], (3, 1)));
    let mut t = chat.on_terminal(&[], true, false);
    t.wait_for("> ");
    t.send(b"/model other-model\r");
    t.wait_for("(model: other-model for the rest of this session)");
    t.send(b"hi there\r");
    t.wait_for("Hello.");
    t.send(b"/save mine\r");
    t.wait_for("(saved as mine");
    t.quit();

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

#[test]
fn ctrl_c_clears_a_half_typed_line_and_twice_on_an_empty_line_quits() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Hello."], (3, 1)));
    let mut t = chat.on_terminal(&[], true, true);
    t.wait_for("> ");
    t.send(b"never sent");
    t.wait_for("never sent");
    t.send(b"\x03");
    t.wait_for("> ");
    t.send(b"hi\r");
    t.wait_for("Hello.");
    t.wait_for("> ");
    t.send(b"\x03");
    t.wait_for("(press Ctrl-C again, or Ctrl-D, to quit)");
    t.send(b"\x03");
    let (code, _) = t.finish();
    assert_eq!(code, Some(0));
    let reqs = chat.requests();
    assert_eq!(reqs.len(), 1);
    let msgs = messages(&reqs[0]);
    let last = msgs.last().unwrap();
    assert_eq!(last["content"], "hi", "the cleared text is gone: {last}");
}

#[test]
fn ctrl_c_at_the_permission_prompt_cancels_the_turn_and_the_next_turn_works() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.write("notes.txt", "secret notes\n");
    chat.push(b.tool_reply(&[
        call("c1", "fs_read", r#"{"path":"notes.txt"}"#),
        call("c2", "fs_read", r#"{"path":"notes.txt"}"#),
    ]));
    chat.push(b.text_reply(&["Next answer."], (3, 1)));
    let mut t = chat.on_terminal(&[], true, true);
    t.wait_for("> ");
    t.send(b"read my notes\r");
    t.wait_for("[n]o ");
    t.send(b"\x03");
    t.wait_for("goshi: interrupted");
    t.wait_for("> ");
    t.send(b"and now?\r");
    t.wait_for("Next answer.");
    t.quit();
    // One prompt only (the second call was not asked about), and no model round after the
    // cancel: the next request is the next turn's, with every call answered.
    let reqs = chat.requests();
    assert_eq!(reqs.len(), 2, "no further round after the cancel");
    let results = tool_results(&reqs[1]);
    assert_eq!(results.len(), 2, "{results:?}");
    for r in &results {
        let content = r["content"].as_str().unwrap();
        assert!(content.contains("cancelled"), "{content}");
        assert!(!content.contains("secret notes"), "{content}");
    }
    assert_eq!(messages(&reqs[1]).last().unwrap()["content"], "and now?");
    let denied: Vec<Value> = chat
        .audit_events()
        .into_iter()
        .filter(|e| e["type"] == "permission_denied")
        .collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["outcome"], "turn cancelled by user");
}

#[test]
fn a_proposal_made_in_the_repl_is_named_shown_and_applied_there() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.tool_reply(&[call(
        "c1",
        "fs_write",
        r#"{"path":"notes.txt","content":"one\ntwo\n"}"#,
    )]));
    chat.push(b.text_reply(&["Proposed."], (3, 1)));
    let mut t = chat.on_terminal(&["--allow", "fs.write"], true, true);
    t.wait_for("> ");
    t.send(b"write notes\r");
    t.wait_for("  proposal ");
    let line = t.wait_for("\n");
    let id = line.split_whitespace().next().unwrap().to_string();
    assert_eq!(id.len(), 12, "{line:?}");
    assert!(
        line.contains(&format!("notes.txt (+2 -0) · /show {id}")),
        "{line:?}"
    );
    t.wait_for("Proposed.");
    t.wait_for("> ");
    assert!(!chat.root().join("notes.txt").exists());
    t.send(format!("/apply {id}\r").as_bytes());
    t.wait_for("+two");
    t.wait_for("[y/N] ");
    t.send(b"y\r");
    t.quit();
    assert_eq!(
        std::fs::read_to_string(chat.root().join("notes.txt")).unwrap(),
        "one\ntwo\n"
    );
    let types = types(&chat.audit_events());
    assert!(types.contains(&"proposal_created".to_string()), "{types:?}");
    assert!(types.contains(&"proposal_applied".to_string()), "{types:?}");
}

#[test]
fn slash_cost_shows_the_session_by_model_on_a_terminal() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    // OpenAI itself (priced) at the fake server; prices and caps only from the user config.
    chat.user_config(
        "llm: {openai: {server: openai}}\n\
         cost: {prices: {test-model: {input: 2.5, output: 10}}}\n",
    );
    chat.push(b.text_reply(&["Hello."], (1000, 100)));
    let mut t = chat.on_terminal(&[], true, true);
    t.wait_for("> ");
    t.send(b"/cost\r");
    t.wait_for("no responses yet this session");
    t.send(b"hi\r");
    t.wait_for("Hello.");
    t.wait_for("> ");
    t.send(b"/cost\r");
    // 1000 x 2.50 + 100 x 10, per 1M tokens.
    t.wait_for("test-model: $0.0035 over 1 response(s)");
    t.wait_for("input 1000 (uncached 1000, cached 0, cache writes 0), output 100 (reasoning 0)");
    t.wait_for("session: $0.0035; 0% of input served from the prompt cache");
    t.quit();
}

#[test]
fn the_repl_shows_what_it_waits_for_and_takes_it_down_before_the_answer() {
    let b = Backend::OpenAi;
    let chat = Chat::new(b);
    chat.push(b.text_reply(&["Hello."], (3, 1)).delay_headers_ms(900));
    let mut t = chat.on_terminal(&[], true, true);
    t.wait_for("> ");
    t.send(b"hi\r");
    t.wait_for("waiting for test-model · 0s");
    let shown = t.wait_for("Hello.");
    assert!(shown.ends_with("\r\x1b[2KHello."), "{shown:?}");
    t.quit();
}
