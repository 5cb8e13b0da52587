//! End-to-end chat loop through `goshi chat` against the fake server, for both backends:
//! tool calls and their results, path and symlink escapes, permissions, write proposals
//! and applying them, the audit trail, the round cap and malformed tool calls.

use crate::support;
use crate::support::cli_common;

use cli_common::*;
use goshi::audit::MASK;
use goshi::safety::permissions::{Capability, Permissions};
use serde_json::{json, Value};
use support::Reply;

/// The assistant message of a request that carried tool calls.
fn assistant_calls(body: &Value) -> Vec<Value> {
    let msgs = messages(body);
    let with_calls: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["role"] == "assistant" && m.get("tool_calls").is_some())
        .collect();
    assert_eq!(with_calls.len(), 1, "{msgs:#?}");
    with_calls[0]["tool_calls"].as_array().unwrap().clone()
}

/// The model's call to write `hello\n` (6 bytes) to `new.txt`.
fn write_new_txt() -> WireCall {
    call(
        "w1",
        "fs_write",
        r#"{"path":"new.txt","content":"hello\n"}"#,
    )
}

#[test]
fn two_tool_calls_in_one_turn_both_get_their_results() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.write("a.txt", "alpha\n");
        chat.write("docs/b.txt", "beta\n");
        let calls = [
            call("call_a", "fs_read", r#"{"path":"a.txt"}"#),
            call("call_b", "fs_read", r#"{"path":"docs/b.txt"}"#),
        ];
        chat.push(b.tool_reply(&calls));
        chat.push(b.text_reply(&["Both ", "files read."], (30, 4)));
        let run = chat.chat(&["--allow", "fs.read", "read a and b"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "Both files read.\n", "{b:?}");
        assert!(
            run.has_err_line("→ fs.read a.txt … ✓"),
            "{b:?}: {}",
            run.stderr
        );
        assert!(
            run.has_err_line("→ fs.read docs/b.txt … ✓"),
            "{b:?}: {}",
            run.stderr
        );
        assert!(run.has_err_line(&chat.token_line((20, 5))), "{b:?}");
        assert!(run.has_err_line(&chat.token_line((30, 4))), "{b:?}");

        let reqs = chat.requests();
        assert_eq!(reqs.len(), 2, "{b:?}");
        let msgs = messages(&reqs[1]);
        let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
        assert_eq!(
            roles,
            ["system", "user", "assistant", "tool", "tool"],
            "{b:?}"
        );

        let sent = assistant_calls(&reqs[1]);
        assert_eq!(sent.len(), 2, "{b:?}");
        for (n, (wire, orig)) in sent.iter().zip(&calls).enumerate() {
            assert_eq!(wire["function"]["name"], "fs_read", "{b:?}");
            let args: Value = serde_json::from_str(&orig.args).unwrap();
            match b {
                Backend::OpenAi => {
                    assert_eq!(wire["id"], orig.id.as_str());
                    assert_eq!(wire["type"], "function");
                    assert_eq!(wire["function"]["arguments"], orig.args.as_str());
                }
                Backend::Ollama => {
                    assert_eq!(wire["id"], format!("call_{n}"));
                    assert_eq!(wire["function"]["arguments"], args);
                }
            }
        }

        let results = tool_results(&reqs[1]);
        let contents: Vec<&str> = results
            .iter()
            .map(|r| r["content"].as_str().unwrap())
            .collect();
        assert_eq!(
            contents,
            ["alpha\n", "beta\n"],
            "{b:?}: results in call order"
        );
        for (n, (r, orig)) in results.iter().zip(&calls).enumerate() {
            assert_eq!(r["tool_call_id"], b.call_id(orig, n), "{b:?}");
            match b {
                Backend::OpenAi => assert_eq!(r.get("tool_name"), None),
                Backend::Ollama => assert_eq!(r["tool_name"], "fs_read"),
            }
        }
    }
}

#[test]
fn a_path_escape_is_refused_and_reported_to_the_model() {
    for b in BOTH {
        let chat = Chat::new(b);
        let run = chat.tool_turn(
            &[call("c1", "fs_read", r#"{"path":"../../etc/passwd"}"#)],
            "I may not read that.",
            &["--allow", "fs.read", "read /etc/passwd"],
        );
        assert_eq!(run.stdout, "I may not read that.\n", "{b:?}");
        let reqs = chat.requests();
        assert_eq!(reqs.len(), 2, "{b:?}");
        let result = only_tool_result(&reqs[1]);
        assert!(
            result.starts_with(r#"error: refused path "../../etc/passwd": "#),
            "{b:?}: {result}"
        );
        assert!(
            result.contains("outside the repository root"),
            "{b:?}: {result}"
        );
        assert!(
            !result.contains("root:"),
            "{b:?}: nothing was read: {result}"
        );
        assert!(
            run.stderr
                .contains("→ fs.read ../../etc/passwd … ✗ error: refused path"),
            "{b:?}: {}",
            run.stderr
        );
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_escape_is_refused_and_nothing_is_read() {
    for b in BOTH {
        let chat = Chat::new(b);
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "TOP-SECRET-CONTENT\n").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            chat.root().join("link.txt"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), chat.root().join("linkdir")).unwrap();
        let calls = [
            call("c1", "fs_read", r#"{"path":"link.txt"}"#),
            call("c2", "fs_list", r#"{"path":"linkdir"}"#),
        ];
        let run = chat.tool_turn(&calls, "Refused.", &["--allow", "fs.read", "read the link"]);
        let reqs = chat.requests();
        let results = tool_results(&reqs[1]);
        assert_eq!(results.len(), 2, "{b:?}");
        let read = results[0]["content"].as_str().unwrap();
        let list = results[1]["content"].as_str().unwrap();
        assert!(
            read.starts_with(r#"error: refused path "link.txt": "#),
            "{b:?}: {read}"
        );
        assert!(
            list.starts_with(r#"error: refused path "linkdir": "#),
            "{b:?}: {list}"
        );
        for text in [read, list, run.stdout.as_str(), run.stderr.as_str()] {
            assert!(!text.contains("TOP-SECRET-CONTENT"), "{b:?}: {text}");
            assert!(!text.contains("secret.txt  ("), "{b:?}: {text}");
        }
    }
}

#[test]
fn fs_write_without_fs_write_is_denied_and_nothing_is_stored() {
    for b in BOTH {
        let chat = Chat::new(b);
        // fs.read does not grant FS_WRITE.
        let run = chat.tool_turn(
            &[write_new_txt()],
            "I was not allowed.",
            &["--allow", "fs.read", "write new.txt"],
        );
        let denial = Permissions::denial_message(Capability::FsWrite);
        assert!(
            denial.starts_with("permission denied: FS_WRITE not granted"),
            "{denial}"
        );
        assert_eq!(only_tool_result(&chat.requests()[1]), denial, "{b:?}");
        // Status lines and the audit show the whole denial, the way to allow it included.
        let short = denial.as_str();
        assert!(short.contains("--allow fs.write"), "{short}");
        assert!(
            run.has_err_line(&format!("→ fs.write new.txt (6 bytes) … ✗ {short}")),
            "{b:?}: {}",
            run.stderr
        );
        assert!(!chat.root().join("new.txt").exists(), "{b:?}");
        assert!(chat.proposal_files().is_empty(), "{b:?}");

        let events = chat.audit_events();
        assert_eq!(
            types(&events),
            [
                "session_start",
                "llm_request",
                "llm_response",
                "tool_call",
                "permission_denied",
                "tool_result",
                "llm_request",
                "llm_response"
            ],
            "{b:?}"
        );
        assert_eq!(events[4]["tool"], "fs.write");
        assert_eq!(events[4]["outcome"], "not a terminal");
        assert_eq!(events[5]["outcome"], short);
    }
}

#[test]
fn fs_write_with_allow_stores_a_proposal_that_fs_apply_writes() {
    for b in BOTH {
        let chat = Chat::new(b);
        let run = chat.tool_turn(
            &[write_new_txt()],
            "Proposed.",
            &["--allow", "fs.write", "write new.txt"],
        );
        assert_eq!(run.stdout, "Proposed.\n", "{b:?}");
        assert!(
            !chat.root().join("new.txt").exists(),
            "{b:?}: not written yet"
        );

        let events = chat.audit_events();
        assert_eq!(
            types(&events),
            [
                "session_start",
                "llm_request",
                "llm_response",
                "tool_call",
                "permission_granted",
                "proposal_created",
                "tool_result",
                "llm_request",
                "llm_response"
            ],
            "{b:?}"
        );
        assert_eq!(events[4]["outcome"], "allowed by --allow");
        assert_eq!(events[6]["outcome"], "ok");
        let id = events[5]["outcome"].as_str().unwrap().to_string();
        let files = chat.proposal_files();
        assert_eq!(files.len(), 1, "{b:?}");
        assert_eq!(
            files[0].file_name().unwrap().to_str().unwrap(),
            format!("{id}.json")
        );

        let result = only_tool_result(&chat.requests()[1]);
        assert!(
            result.starts_with(&format!(
                "Stored proposal {id} for \"new.txt\". The file has NOT been changed.\n"
            )),
            "{b:?}: {result}"
        );
        assert!(
            result.contains(&format!("goshi fs apply {id} --yes --dry-run=false")),
            "{b:?}: {result}"
        );
        assert!(result.contains("+hello"), "{b:?}: the diff: {result}");

        let apply = chat.run(chat.goshi(&["fs", "apply", &id, "--yes", "--dry-run=false"]));
        assert_eq!(apply.code, Some(0), "{b:?}: {}", apply.stderr);
        assert_eq!(
            std::fs::read_to_string(chat.root().join("new.txt")).unwrap(),
            "hello\n",
            "{b:?}"
        );
    }
}

#[test]
fn the_audit_trail_records_the_turn_and_never_the_key() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.config("safety:\n  auto_confirm_permissions: true\n");
        chat.write("a.txt", "alpha\n");
        // The model echoes the key in a path: the audit must mask it.
        let key_path = format!(r#"{{"path":"notes-{KEY}.txt"}}"#);
        let calls = [
            call("r1", "fs_read", r#"{"path":"a.txt"}"#),
            call("r2", "fs_read", &key_path),
            call("w1", "fs_write", r#"{"path":"b.txt","content":"beta\n"}"#),
        ];
        // Granting permissions is the user's call: an explicit --config, not ./goshi.yaml.
        chat.tool_turn(&calls, "Done.", &["--config", "goshi.yaml", "do things"]);

        let files = chat.audit_files();
        assert_eq!(files.len(), 1, "{b:?}: one file per session");
        let events = chat.audit_events();
        assert_eq!(
            types(&events),
            [
                "session_start",
                "llm_request",
                "llm_response",
                "tool_call",
                "permission_granted",
                "tool_result",
                "tool_call",
                "permission_granted",
                "tool_result",
                "tool_call",
                "permission_granted",
                "proposal_created",
                "tool_result",
                "llm_request",
                "llm_response"
            ],
            "{b:?}"
        );
        let session = events[0]["session"].as_str().unwrap();
        assert!(events.iter().all(|e| e["session"] == session), "{b:?}");
        assert_eq!(events[1]["detail"]["provider"], b.display());
        assert_eq!(events[1]["detail"]["model"], MODEL);
        assert_eq!(events[1]["detail"]["round"], 1);
        assert_eq!(events[1]["detail"]["messages"], 2);
        assert_eq!(events[1]["detail"]["tools_offered"], 3);
        assert_eq!(events[13]["detail"]["round"], 2);
        assert_eq!(events[13]["detail"]["messages"], 6);
        assert_eq!(events[3]["tool"], "fs.read");
        assert_eq!(events[3]["args"], json!({"path": "a.txt"}));
        assert_eq!(
            events[3]["detail"]["call_id"],
            b.call_id(&call("r1", "", ""), 0)
        );
        assert_eq!(events[4]["outcome"], "auto_confirm_permissions");
        assert_eq!(events[5]["outcome"], "ok");
        assert_eq!(
            events[6]["args"],
            json!({"path": format!("notes-{MASK}.txt")}),
            "{b:?}"
        );
        assert!(
            events[8]["outcome"]
                .as_str()
                .unwrap()
                .starts_with("error: "),
            "{b:?}: {}",
            events[8]
        );
        assert_eq!(events[9]["tool"], "fs.write");
        assert_eq!(events[12]["outcome"], "ok");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode();
            assert_eq!(
                mode(&files[0]) & 0o777,
                0o600,
                "{b:?}: only the user reads it"
            );
            assert_eq!(mode(files[0].parent().unwrap()) & 0o777, 0o700, "{b:?}");
        }
        let goshi_files = chat.goshi_dir_files();
        assert!(goshi_files.len() >= 2, "{b:?}: audit file and proposal");
        for (path, bytes) in &goshi_files {
            assert!(
                !contains_bytes(bytes, KEY.as_bytes()),
                "{b:?}: the key leaked into {path:?}"
            );
            assert!(
                !contains_bytes(bytes, b"SECRET123"),
                "{b:?}: part of the key leaked into {path:?}"
            );
        }
    }
}

#[test]
fn the_round_cap_stops_a_model_that_keeps_calling_tools() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.config("llm:\n  max_tool_rounds: 3\n");
        chat.set_default(b.tool_reply(&[call("loop", "fs_list", r#"{"path":"."}"#)]));
        let run = chat.chat(&["--allow", "fs.read", "list forever"]);
        assert_eq!(run.code, Some(1), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{b:?}");
        assert_eq!(
            chat.requests().len(),
            3,
            "{b:?}: exactly max_tool_rounds requests"
        );
        assert!(
            run.has_err_line(
                "goshi: error: stopped after 3 tool rounds in one turn (llm.max_tool_rounds); the model kept calling tools"
            ),
            "{b:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("raise llm.max_tool_rounds in goshi.yaml"),
            "{b:?}"
        );
        // Two rounds ran their tool; the third answer's call was not run.
        let listed = run
            .err_lines()
            .iter()
            .filter(|l| l.starts_with("→ fs.list . … ✓"))
            .count();
        assert_eq!(listed, 2, "{b:?}: {}", run.stderr);
        let events = chat.audit_events();
        let count = |t: &str| types(&events).iter().filter(|x| *x == t).count();
        assert_eq!(count("llm_request"), 3, "{b:?}");
        assert_eq!(count("tool_call"), 2, "{b:?}");
        if b == Backend::Ollama {
            assert_eq!(
                chat.server.requests_to("/api/show").len(),
                1,
                "the capability look-up is remembered"
            );
        }
    }
}

#[test]
fn malformed_arguments_and_unknown_tools_go_back_to_the_model_as_errors() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.push(b.tool_reply(&[
            call("bad", "fs_read", r#"{"path": "#),
            call("nope", "shell_exec", r#"{"cmd":"rm -rf /"}"#),
        ]));
        chat.push(b.text_reply(&["Sorry, ", "my mistake."], (3, 3)));
        let run = chat.chat(&["--allow", "fs.read", "read something"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "Sorry, my mistake.\n", "{b:?}");
        let reqs = chat.requests();
        assert_eq!(reqs.len(), 2, "{b:?}");
        let results = tool_results(&reqs[1]);
        assert_eq!(results.len(), 2, "{b:?}");
        let bad = results[0]["content"].as_str().unwrap();
        assert!(
            bad.starts_with("error: the arguments of fs.read are not valid JSON ("),
            "{b:?}: {bad}"
        );
        assert!(bad.ends_with(r#": {"path":"#), "{b:?}: {bad}");
        assert_eq!(
            results[1]["content"],
            "error: there is no tool named \"shell_exec\"; available tools: fs.list, fs.read, fs.write",
            "{b:?}"
        );
        // Neither ran: no permission was asked for.
        let events = chat.audit_events();
        let kinds = types(&events);
        assert!(
            !kinds.iter().any(|t| t.starts_with("permission_")),
            "{b:?}: {kinds:?}"
        );
        assert_eq!(
            kinds.iter().filter(|t| *t == "tool_result").count(),
            2,
            "{b:?}"
        );
    }
}

#[test]
fn text_before_tool_calls_is_shown_and_kept_in_the_conversation() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.write("a.txt", "alpha\n");
        let calls = [call("c1", "fs_read", r#"{"path":"a.txt"}"#)];
        let first = match b {
            Backend::OpenAi => Reply::sse(&[
                json!({"choices": [{"index": 0, "delta": {"content": "Let me look."}}]})
                    .to_string(),
                json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0,
                    "id": "c1", "type": "function",
                    "function": {"name": "fs_read", "arguments": calls[0].args}}]}}]})
                .to_string(),
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
                    .to_string(),
                "[DONE]".to_string(),
            ]),
            Backend::Ollama => Reply::ndjson(&[
                json!({"message": {"role": "assistant", "content": "Let me look."},
                    "done": false}),
                json!({"message": {"role": "assistant", "content": "", "tool_calls": [
                    {"function": {"name": "fs_read", "arguments": {"path": "a.txt"}}}]},
                    "done": false}),
                json!({"message": {"role": "assistant", "content": ""}, "done": true,
                    "done_reason": "stop"}),
            ]),
        };
        chat.push(first);
        chat.push(b.text_reply(&["It says alpha."], (3, 3)));
        let run = chat.chat(&["--allow", "fs.read", "what is in a.txt?"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "Let me look.\nIt says alpha.\n", "{b:?}");
        let msgs = messages(&chat.requests()[1]);
        assert_eq!(msgs[2]["role"], "assistant", "{b:?}");
        assert_eq!(msgs[2]["content"], "Let me look.", "{b:?}");
        assert_eq!(msgs[3]["content"], "alpha\n", "{b:?}");
    }
}

#[test]
fn tool_calls_work_without_streaming() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.write("a.txt", "alpha\n");
        let calls = [
            call("call_a", "fs_read", r#"{"path":"a.txt"}"#),
            call("call_b", "fs_list", r#"{"path":"."}"#),
        ];
        chat.push(b.whole_tool_reply(&calls));
        chat.push(b.whole_reply("Read and listed.", (7, 3)));
        let run = chat.chat(&["--no-stream", "--allow", "fs.read", "look around"]);
        assert_eq!(run.code, Some(0), "{b:?}: {}", run.stderr);
        assert_eq!(run.stdout, "Read and listed.\n", "{b:?}");
        assert!(run.has_err_line(&chat.token_line((20, 5))), "{b:?}");
        assert!(run.has_err_line(&chat.token_line((7, 3))), "{b:?}");
        let reqs = chat.requests();
        assert_eq!(reqs.len(), 2, "{b:?}");
        let results = tool_results(&reqs[1]);
        assert_eq!(results.len(), 2, "{b:?}");
        assert_eq!(results[0]["content"], "alpha\n", "{b:?}");
        assert_eq!(
            results[1]["content"], "Directory \".\" (1 entry):\nfile     a.txt  (6 bytes)\n",
            "{b:?}: goshi.yaml is absent and .goshi is hidden"
        );
        for (n, (r, orig)) in results.iter().zip(&calls).enumerate() {
            assert_eq!(r["tool_call_id"], b.call_id(orig, n), "{b:?}");
        }
    }
}

#[test]
fn tool_calls_of_a_broken_answer_are_not_run() {
    for b in BOTH {
        let chat = Chat::new(b);
        let call = match b {
            Backend::OpenAi => {
                json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0,
                    "id": "w1", "type": "function", "function": {"name": "fs_write",
                    "arguments": "{\"path\":\"x.txt\",\"content\":\"x\"}"}}]}}]})
            }
            Backend::Ollama => {
                json!({"message": {"role": "assistant", "content": "", "tool_calls": [
                    {"function": {"name": "fs_write",
                        "arguments": {"path": "x.txt", "content": "x"}}}]},
                    "done": false})
            }
        };
        chat.push(b.unfinished_reply(&[call]).disconnect());
        let run = chat.chat(&["--allow", "fs.write", "write x"]);
        assert_eq!(run.code, Some(1), "{b:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("stream interrupted"),
            "{b:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("→ fs.write"), "{b:?}: {}", run.stderr);
        assert!(chat.proposal_files().is_empty(), "{b:?}");
        assert_eq!(chat.requests().len(), 1, "{b:?}");
        let events = chat.audit_events();
        // What arrived is recorded (at an estimate: no usage came) before the error.
        assert_eq!(
            types(&events),
            ["session_start", "llm_request", "llm_response", "llm_error"],
            "{b:?}"
        );
        assert_eq!(events[2]["detail"]["tokens_estimated"], true, "{b:?}");
        assert!(
            events[3]["outcome"]
                .as_str()
                .unwrap()
                .starts_with("stream interrupted"),
            "{b:?}: {}",
            events[3]
        );
    }
}
