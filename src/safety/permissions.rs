//! Who allowed what: capabilities, the per-session grants and the interactive prompt.
//!
//! Every capability starts un-granted. A capability becomes usable when it is pre-granted with
//! `--allow`, when `safety.auto_confirm_permissions` is on, or when the user says yes at the
//! prompt. Without a terminal (and without the two opt-ins) everything is denied: goshi never
//! acts on a guess.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Something a tool may do that needs the user's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Capability {
    /// Read files and list directories inside the repository.
    FsRead,
    /// Propose file changes (stored as proposals; never written without `goshi fs apply`).
    FsWrite,
}

impl Capability {
    /// Every capability, in a stable order.
    pub const ALL: [Capability; 2] = [Capability::FsRead, Capability::FsWrite];

    /// The stable name used in messages and the audit log: `FS_READ`, `FS_WRITE`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Capability::FsRead => "FS_READ",
            Capability::FsWrite => "FS_WRITE",
        }
    }

    /// What the capability lets goshi do, for prompts: "read files".
    pub fn verb(&self) -> &'static str {
        match self {
            Capability::FsRead => "read files",
            Capability::FsWrite => "write files (as proposals)",
        }
    }

    /// The `--allow` value that pre-grants this capability.
    pub fn allow_flag(&self) -> &'static str {
        match self {
            Capability::FsRead => "fs.read",
            Capability::FsWrite => "fs.write",
        }
    }

    /// Parses an `--allow` value: a tool name (`fs.read`, `fs.list`, `fs.write`) or a
    /// capability name (`FS_READ`, `FS_WRITE`), ignoring case and surrounding spaces.
    /// Returns `None` for anything else.
    pub fn parse_allow(s: &str) -> Option<Capability> {
        let s = s.trim();
        let is = |name: &str| s.eq_ignore_ascii_case(name);
        if is("fs.read") || is("fs.list") || is("FS_READ") {
            Some(Capability::FsRead)
        } else if is("fs.write") || is("FS_WRITE") {
            Some(Capability::FsWrite)
        } else {
            None
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The user's answer to a permission prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Allow this one call; ask again next time.
    Once,
    /// Allow this capability for the rest of the session.
    Always,
    /// Do not allow it.
    No,
    /// Do not allow it, and stop the whole turn (Ctrl-C at the prompt): no further tool
    /// calls or model rounds.
    Cancel,
}

/// Asks the user whether a capability may be used (the CLI's is
/// `cli::terminal::TerminalPrompter`).
pub trait Prompter: Send {
    /// Asks whether `tool` may use `cap`; `args_summary` says what it would act on
    /// (e.g. the path). Must not panic; when in doubt, answer [`Answer::No`].
    fn ask(&mut self, cap: Capability, tool: &str, args_summary: &str) -> Answer;
}

/// How a capability came to be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Pre-granted with `--allow`.
    PreGranted,
    /// The user said yes for one call.
    Once,
    /// The user said yes for the rest of the session.
    Always,
    /// Granted because `safety.auto_confirm_permissions` is on.
    AutoConfirmed,
}

impl Grant {
    /// A short phrase for status lines and the audit log.
    pub fn how(&self) -> &'static str {
        match self {
            Grant::PreGranted => "allowed by --allow",
            Grant::Once => "yes once",
            Grant::Always => "always this session",
            Grant::AutoConfirmed => "auto_confirm_permissions",
        }
    }
}

/// The outcome of one permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the call may go ahead.
    pub granted: bool,
    /// Why, for the audit log: "allowed by --allow", "yes once", "always this session",
    /// "auto_confirm_permissions", "denied by user", "turn cancelled by user" or
    /// "not a terminal".
    pub how: &'static str,
    /// The user cancelled the whole turn at the prompt (never set when `granted`).
    pub cancelled: bool,
}

impl Decision {
    fn granted(grant: Grant) -> Self {
        Decision {
            granted: true,
            how: grant.how(),
            cancelled: false,
        }
    }

    fn denied(how: &'static str) -> Self {
        Decision {
            granted: false,
            how,
            cancelled: false,
        }
    }

    fn cancelled() -> Self {
        Decision {
            granted: false,
            how: "turn cancelled by user",
            cancelled: true,
        }
    }
}

/// The session's permission state.
pub struct Permissions {
    /// Standing grants: `--allow` and "always this session" answers.
    standing: BTreeMap<Capability, Grant>,
    auto_confirm: bool,
    prompter: Option<Box<dyn Prompter>>,
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permissions")
            .field("standing", &self.standing)
            .field("auto_confirm", &self.auto_confirm)
            .field("prompter", &self.prompter.is_some())
            .finish()
    }
}

impl Permissions {
    /// All capabilities start un-granted. `allowed`: from `--allow` flags; `auto_confirm`:
    /// `safety.auto_confirm_permissions`; `prompter`: `Some` in a terminal.
    pub fn new(
        allowed: Vec<Capability>,
        auto_confirm: bool,
        prompter: Option<Box<dyn Prompter>>,
    ) -> Self {
        let standing = allowed
            .into_iter()
            .map(|cap| (cap, Grant::PreGranted))
            .collect();
        Permissions {
            standing,
            auto_confirm,
            prompter,
        }
    }

    /// Decides whether `tool` may use `cap` now, asking the user when needed.
    ///
    /// Order: standing grants (`--allow`, earlier "always"), then auto-confirm, then the
    /// prompter; with none of these the answer is no.
    pub fn check(&mut self, cap: Capability, tool: &str, args_summary: &str) -> Decision {
        if let Some(grant) = self.standing.get(&cap) {
            return Decision::granted(*grant);
        }
        if self.auto_confirm {
            return Decision::granted(Grant::AutoConfirmed);
        }
        let Some(prompter) = self.prompter.as_mut() else {
            return Decision::denied("not a terminal");
        };
        match prompter.ask(cap, tool, args_summary) {
            Answer::Once => Decision::granted(Grant::Once),
            Answer::Always => {
                self.standing.insert(cap, Grant::Always);
                Decision::granted(Grant::Always)
            }
            Answer::No => Decision::denied("denied by user"),
            Answer::Cancel => Decision::cancelled(),
        }
    }

    /// The standing grant for `cap`, if any (`--allow` or an earlier "always").
    pub fn standing_grant(&self, cap: Capability) -> Option<Grant> {
        self.standing.get(&cap).copied()
    }

    /// The message given (to the model and the user) when `cap` was not granted.
    pub fn denial_message(cap: Capability) -> String {
        format!(
            "permission denied: {cap} not granted (goshi may not {verb} without consent). \
             To allow it, run goshi with --allow {flag}, or answer y/a at the prompt in an \
             interactive terminal.",
            verb = cap.verb(),
            flag = cap.allow_flag(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    /// Answers from a script and records every question.
    struct Scripted {
        answers: VecDeque<Answer>,
        asked: Arc<Mutex<Vec<(Capability, String, String)>>>,
    }

    impl Prompter for Scripted {
        fn ask(&mut self, cap: Capability, tool: &str, args_summary: &str) -> Answer {
            self.asked
                .lock()
                .unwrap()
                .push((cap, tool.to_string(), args_summary.to_string()));
            self.answers.pop_front().unwrap_or(Answer::No)
        }
    }

    type Log = Arc<Mutex<Vec<(Capability, String, String)>>>;

    fn scripted(answers: &[Answer]) -> (Box<dyn Prompter>, Log) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let p = Scripted {
            answers: answers.iter().copied().collect(),
            asked: Arc::clone(&asked),
        };
        (Box::new(p), asked)
    }

    #[test]
    fn once_asks_again_next_time() {
        let (p, asked) = scripted(&[Answer::Once, Answer::Once]);
        let mut perms = Permissions::new(vec![], false, Some(p));
        let d = perms.check(Capability::FsRead, "fs.read", "README.md");
        assert_eq!(
            d,
            Decision {
                granted: true,
                how: "yes once",
                cancelled: false,
            }
        );
        assert!(perms.check(Capability::FsRead, "fs.read", "x").granted);
        let log = asked.lock().unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(
            log[0],
            (Capability::FsRead, "fs.read".into(), "README.md".into())
        );
        assert_eq!(perms.standing_grant(Capability::FsRead), None);
    }

    #[test]
    fn always_does_not_ask_again_for_that_capability_only() {
        let (p, asked) = scripted(&[Answer::Always, Answer::No]);
        let mut perms = Permissions::new(vec![], false, Some(p));
        let d = perms.check(Capability::FsRead, "fs.list", ".");
        assert_eq!(d.how, "always this session");
        let d = perms.check(Capability::FsRead, "fs.read", "a");
        assert!(d.granted);
        assert_eq!(d.how, "always this session");
        assert_eq!(asked.lock().unwrap().len(), 1);
        // A different capability is still asked about.
        let d = perms.check(Capability::FsWrite, "fs.write", "a");
        assert!(!d.granted);
        assert_eq!(d.how, "denied by user");
        assert_eq!(asked.lock().unwrap().len(), 2);
        assert_eq!(
            perms.standing_grant(Capability::FsRead),
            Some(Grant::Always)
        );
    }

    #[test]
    fn no_denies_and_asks_again() {
        let (p, asked) = scripted(&[Answer::No, Answer::Once]);
        let mut perms = Permissions::new(vec![], false, Some(p));
        assert_eq!(
            perms.check(Capability::FsWrite, "fs.write", "a"),
            Decision {
                granted: false,
                how: "denied by user",
                cancelled: false,
            }
        );
        assert!(perms.check(Capability::FsWrite, "fs.write", "a").granted);
        assert_eq!(asked.lock().unwrap().len(), 2);
    }

    #[test]
    fn cancel_denies_and_says_the_turn_is_cancelled() {
        let (p, asked) = scripted(&[Answer::Cancel, Answer::Once]);
        let mut perms = Permissions::new(vec![], false, Some(p));
        let d = perms.check(Capability::FsRead, "fs.read", "a");
        assert!(!d.granted && d.cancelled, "{d:?}");
        assert_eq!(d.how, "turn cancelled by user");
        // Nothing is remembered: the next turn asks again.
        let d = perms.check(Capability::FsRead, "fs.read", "a");
        assert!(d.granted && !d.cancelled);
        assert_eq!(asked.lock().unwrap().len(), 2);
    }

    #[test]
    fn no_prompter_denies() {
        let mut perms = Permissions::new(vec![], false, None);
        for cap in Capability::ALL {
            let d = perms.check(cap, "t", "");
            assert!(!d.granted);
            assert_eq!(d.how, "not a terminal");
        }
    }

    #[test]
    fn allow_pre_grants_without_asking() {
        let (p, asked) = scripted(&[]);
        let mut perms = Permissions::new(vec![Capability::FsRead], false, Some(p));
        let d = perms.check(Capability::FsRead, "fs.read", "a");
        assert_eq!(d.how, "allowed by --allow");
        assert!(d.granted);
        assert!(asked.lock().unwrap().is_empty());
        // Not pre-granted: asked, and the empty script answers no.
        assert!(!perms.check(Capability::FsWrite, "fs.write", "a").granted);
        assert_eq!(asked.lock().unwrap().len(), 1);
    }

    #[test]
    fn allow_and_auto_confirm_work_without_prompter() {
        let mut perms = Permissions::new(vec![Capability::FsWrite], false, None);
        assert!(perms.check(Capability::FsWrite, "fs.write", "a").granted);
        assert!(!perms.check(Capability::FsRead, "fs.read", "a").granted);

        let mut perms = Permissions::new(vec![], true, None);
        let d = perms.check(Capability::FsRead, "fs.read", "a");
        assert_eq!(
            d,
            Decision {
                granted: true,
                how: "auto_confirm_permissions",
                cancelled: false,
            }
        );
    }

    #[test]
    fn auto_confirm_does_not_prompt() {
        let (p, asked) = scripted(&[Answer::No]);
        let mut perms = Permissions::new(vec![], true, Some(p));
        assert!(perms.check(Capability::FsWrite, "fs.write", "a").granted);
        assert!(asked.lock().unwrap().is_empty());
    }

    #[test]
    fn parse_allow_accepts_tool_and_capability_names() {
        assert_eq!(Capability::parse_allow("fs.read"), Some(Capability::FsRead));
        assert_eq!(Capability::parse_allow("fs.list"), Some(Capability::FsRead));
        assert_eq!(Capability::parse_allow("FS_READ"), Some(Capability::FsRead));
        assert_eq!(
            Capability::parse_allow(" fs.write "),
            Some(Capability::FsWrite)
        );
        assert_eq!(
            Capability::parse_allow("FS_WRITE"),
            Some(Capability::FsWrite)
        );
        assert_eq!(Capability::parse_allow("fs.delete"), None);
        assert_eq!(Capability::parse_allow(""), None);
    }

    #[test]
    fn display_verb_and_serde_names() {
        assert_eq!(Capability::FsRead.to_string(), "FS_READ");
        assert_eq!(Capability::FsWrite.to_string(), "FS_WRITE");
        assert_eq!(Capability::FsRead.verb(), "read files");
        assert_eq!(Capability::FsWrite.verb(), "write files (as proposals)");
        assert_eq!(
            serde_json::to_string(&Capability::FsWrite).unwrap(),
            "\"FS_WRITE\""
        );
    }

    #[test]
    fn denial_message_names_capability_and_flag() {
        let m = Permissions::denial_message(Capability::FsRead);
        assert!(
            m.starts_with("permission denied: FS_READ not granted"),
            "{m}"
        );
        assert!(m.contains("--allow fs.read"), "{m}");
        let m = Permissions::denial_message(Capability::FsWrite);
        assert!(m.contains("--allow fs.write"), "{m}");
    }
}
