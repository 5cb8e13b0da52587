//! Piped input is never consent: with stdin a pipe, goshi asks nobody, whatever the pipe holds
//! (`y`, `a`), and every capability not granted by a flag is denied (issue 17).

use crate::support::cli_common::*;
use goshi::safety::permissions::{Capability, Permissions};

#[test]
fn piped_yes_or_always_never_grants_a_capability() {
    for answer in ["y\n", "a\n", "yes\ny\ny\n"] {
        for b in BOTH {
            let chat = Chat::new(b);
            let calls = [call(
                "w1",
                "fs_write",
                r#"{"path":"new.txt","content":"hello\n"}"#,
            )];
            chat.push(b.tool_reply(&calls));
            chat.push(b.text_reply(&["I was not allowed."], (3, 1)));
            let mut cmd = chat.chat_cmd(&["write new.txt"]);
            cmd.write_stdin(answer);
            let run = chat.run(cmd);
            assert_eq!(run.code, Some(0), "{b:?} {answer:?}: {}", run.stderr);

            let requests = chat.requests();
            assert_eq!(requests.len(), 2, "{b:?} {answer:?}");
            let denial = Permissions::denial_message(Capability::FsWrite);
            assert_eq!(only_tool_result(&requests[1]), denial, "{b:?} {answer:?}");
            assert!(
                !run.stderr.contains("Allow goshi to"),
                "{b:?}: {}",
                run.stderr
            );
            assert!(!chat.root().join("new.txt").exists(), "{b:?} {answer:?}");
            assert!(chat.proposal_files().is_empty(), "{b:?} {answer:?}");

            let events = chat.audit_events();
            let denied: Vec<_> = events
                .iter()
                .filter(|e| e["type"] == "permission_denied")
                .collect();
            assert_eq!(denied.len(), 1, "{b:?} {answer:?}: {events:#?}");
            assert_eq!(denied[0]["tool"], "fs.write");
            assert_eq!(denied[0]["outcome"], "not a terminal");
            assert!(
                !events.iter().any(|e| e["type"] == "permission_granted"),
                "{b:?} {answer:?}: {events:#?}"
            );
        }
    }
}

/// A repository's own `./goshi.yaml` (written by whoever wrote the repository) cannot turn on
/// auto-confirmation: in an actual chat the write is denied and nothing is stored (issue 17).
#[test]
fn an_untrusted_goshi_yaml_cannot_grant_permissions_in_a_chat() {
    for b in BOTH {
        let chat = Chat::new(b);
        chat.config("safety:\n  auto_confirm_permissions: true\n");
        let calls = [call(
            "w1",
            "fs_write",
            r#"{"path":"new.txt","content":"hello\n"}"#,
        )];
        let run = chat.tool_turn(&calls, "I was not allowed.", &["write new.txt"]);
        assert!(
            run.stderr
                .contains("ignoring safety.auto_confirm_permissions from ./goshi.yaml"),
            "{b:?}: {}",
            run.stderr
        );
        let denial = Permissions::denial_message(Capability::FsWrite);
        assert_eq!(only_tool_result(&chat.requests()[1]), denial, "{b:?}");
        assert!(!chat.root().join("new.txt").exists(), "{b:?}");
        assert!(chat.proposal_files().is_empty(), "{b:?}");
        let events = chat.audit_events();
        assert!(
            events.iter().any(|e| e["type"] == "permission_denied"),
            "{b:?}: {events:#?}"
        );
        assert!(
            !events.iter().any(|e| e["type"] == "permission_granted"),
            "{b:?}: {events:#?}"
        );
    }
}
