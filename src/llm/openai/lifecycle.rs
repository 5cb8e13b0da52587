//! OpenAI's model lifecycle: which models shut down when, and what replaces them.
//!
//! Copied on 2026-11-30 from the newest official copy of OpenAI's deprecations page found
//! that day (https://developers.openai.com/api/docs/deprecations). The page has changed its
//! recommended replacements several times (the 2026-10-23 group's was gpt-4.1-mini in an
//! April copy and gpt-5.6-* in a September one; the 2026-12-11 group's moved from gpt-5.5 to
//! gpt-5.6-* to gpt-6.1-*), so re-check it rather than trusting this table from memory.
//! To update: add or edit rows of [`TABLE`] (model id or prefix, shutdown date
//! `YYYY-MM-DD`, replacement or [`NOT_NAMED`]), bump the date above, and run
//! `cargo test lifecycle`. At run time the `shutdown_date` that `GET /v1/models/{id}`
//! reports overrides a row's date (see `shutdown.rs`).

use crate::llm::notice::Notice;

/// The model used when none is configured, until its shutdown date.
pub const DEFAULT_MODEL: &str = "gpt-4o";

/// One lifecycle row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retirement {
    /// The model id; dated snapshots (`gpt-4o-2024-08-06`) match their family row unless
    /// they have a row of their own.
    pub model: &'static str,
    /// The shutdown date, `YYYY-MM-DD`.
    pub shutdown: &'static str,
    /// OpenAI's recommended replacement.
    pub replacement: &'static str,
}

const fn r(model: &'static str, shutdown: &'static str, replacement: &'static str) -> Retirement {
    Retirement {
        model,
        shutdown,
        replacement,
    }
}

/// The replacement of a row for which OpenAI has not named one yet.
pub const NOT_NAMED: &str = "";

/// The table. Longer (more specific) ids are matched first.
pub const TABLE: &[Retirement] = &[
    // Shut down 2026-09-28.
    r("gpt-3.5-turbo-instruct", "2026-09-28", "gpt-5.6-terra"),
    r("gpt-3.5-turbo-1106", "2026-09-28", "gpt-5.6-terra"),
    r("babbage-002", "2026-09-28", "gpt-5.6-terra"),
    r("davinci-002", "2026-09-28", "gpt-5.6-terra"),
    // Shut down 2026-10-23. (There is no gpt-6.1-luna.)
    r("gpt-4", "2026-10-23", "gpt-5.6-sol"),
    r("gpt-4-turbo", "2026-10-23", "gpt-5.6-sol"),
    r("gpt-4-1106-preview", "2026-10-23", "gpt-5.6-sol"),
    r("gpt-4o-2024-05-13", "2026-10-23", "gpt-5.6-sol"),
    r("o1", "2026-10-23", "gpt-5.6-sol"),
    r(
        "o1-pro",
        "2026-10-23",
        "gpt-5.6-sol with reasoning.mode: pro",
    ),
    r("o3-mini", "2026-10-23", "gpt-5.6-sol"),
    r("gpt-3.5-turbo", "2026-10-23", "gpt-5.6-terra"),
    r("o4-mini", "2026-10-23", "gpt-5.6-terra"),
    r("gpt-4.1-nano", "2026-10-23", "gpt-5.6-luna"),
    // Shut down 2026-12-11 (the pro ones with reasoning.mode: pro, over the Responses API).
    r("gpt-5", "2026-12-11", "gpt-6.1-sol"),
    r("gpt-5-mini", "2026-12-11", "gpt-6.1-terra"),
    r("gpt-5-nano", "2026-12-11", "gpt-6-luna"),
    r(
        "gpt-5-pro",
        "2026-12-11",
        "gpt-6.1-sol with reasoning.mode: pro",
    ),
    r("o3", "2026-12-11", "gpt-6.1-sol"),
    r(
        "o3-pro",
        "2026-12-11",
        "gpt-6.1-sol with reasoning.mode: pro",
    ),
    // Shut down 2027-01-14.
    r("gpt-4o", "2027-01-14", "gpt-6-luna"),
    r("gpt-4o-mini", "2027-01-14", "gpt-6-luna"),
    r("gpt-4.1", "2027-01-14", "gpt-6-luna"),
    r("gpt-4.1-mini", "2027-01-14", "gpt-6-luna"),
    // Shut down 2027-04-01; OpenAI has not named a replacement yet.
    r("gpt-5.1", "2027-04-01", NOT_NAMED),
    r("gpt-5.3-codex", "2027-04-01", NOT_NAMED),
    r("gpt-5.4-nano", "2027-04-01", NOT_NAMED),
];

/// Finds the row for `model`: an exact id, or a family id followed by a dated snapshot
/// suffix (`-YYYY-MM-DD` or `-MMDD`).
pub fn lookup(model: &str) -> Option<&'static Retirement> {
    if let Some(row) = TABLE.iter().find(|r| r.model == model) {
        return Some(row);
    }
    TABLE
        .iter()
        .filter(|r| {
            model
                .strip_prefix(r.model)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(is_snapshot_suffix)
        })
        .max_by_key(|r| r.model.len())
}

fn is_snapshot_suffix(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    (b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(&b[..4])
        && digits(&b[5..7])
        && digits(&b[8..]))
        || (b.len() == 4 && digits(b))
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    now.chars().take(10).collect()
}

/// The status of a model on `today`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No shutdown is known.
    Active,
    /// It will shut down on `date`.
    Deprecated {
        /// `YYYY-MM-DD`
        date: String,
        /// What to use instead, if known.
        replacement: Option<String>,
    },
    /// It shut down on `date`.
    Gone {
        /// `YYYY-MM-DD`
        date: String,
        /// What to use instead, if known.
        replacement: Option<String>,
    },
}

/// The status of `model` on `today`, with `live_date` (from the server) overriding the
/// table's date when given.
pub fn status(model: &str, today: &str, live_date: Option<Option<String>>) -> Status {
    let row = lookup(model);
    let replacement = row
        .map(|r| r.replacement)
        .filter(|r| *r != NOT_NAMED)
        .map(str::to_string);
    let date = match live_date {
        Some(live) => live,
        None => row.map(|r| r.shutdown.to_string()),
    };
    match date {
        None => Status::Active,
        Some(date) if date.as_str() <= today => Status::Gone { date, replacement },
        Some(date) => Status::Deprecated { date, replacement },
    }
}

impl Status {
    /// The warning to give once per session, if any.
    pub fn notice(&self, model: &str) -> Option<Notice> {
        let (date, replacement, gone) = match self {
            Status::Active => return None,
            Status::Deprecated { date, replacement } => (date, replacement, false),
            Status::Gone { date, replacement } => (date, replacement, true),
        };
        Some(Notice::ModelRetiring {
            model: model.to_string(),
            date: date.clone(),
            gone,
            replacement: replacement.clone(),
        })
    }
}

/// The default model on `today`: `gpt-4o` until its shutdown date, then its replacement
/// (with a notice saying so).
pub fn default_model(today: &str) -> (String, Option<Notice>) {
    match status(DEFAULT_MODEL, today, None) {
        Status::Gone {
            date,
            replacement: Some(next),
        } => (
            next.clone(),
            Some(Notice::DefaultModelReplaced {
                former: DEFAULT_MODEL.to_string(),
                date,
                next,
            }),
        ),
        _ => (DEFAULT_MODEL.to_string(), None),
    }
}

/// Whether OpenAI has announced `model`'s shutdown without naming a replacement yet.
pub fn replacement_not_named(model: &str) -> bool {
    lookup(model).is_some_and(|r| r.replacement == NOT_NAMED)
}

/// What `doctor` and `config show` say about the default model's coming shutdown (the
/// default is not warned about on every run: goshi moves off it by itself).
pub fn default_model_note(today: &str) -> Option<String> {
    match status(DEFAULT_MODEL, today, None) {
        Status::Deprecated {
            date,
            replacement: Some(next),
        } => Some(format!(
            "the default model {DEFAULT_MODEL} shuts down on {date}; from that day goshi uses \
             {next} by itself (set llm.model to choose)"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_match_their_family_and_specific_rows_win() {
        assert_eq!(lookup("gpt-4o-2024-08-06").unwrap().shutdown, "2027-01-14");
        assert_eq!(lookup("gpt-4o-2024-05-13").unwrap().shutdown, "2026-10-23");
        assert_eq!(lookup("gpt-4o-mini").unwrap().model, "gpt-4o-mini");
        assert_eq!(lookup("gpt-4-0613").unwrap().model, "gpt-4");
        assert_eq!(lookup("gpt-4-1106-preview").unwrap().shutdown, "2026-10-23");
        assert_eq!(lookup("gpt-3.5-turbo-1106").unwrap().shutdown, "2026-09-28");
        assert_eq!(lookup("gpt-3.5-turbo-0125").unwrap().shutdown, "2026-10-23");
        assert_eq!(lookup("gpt-5.1-2025-11-13").unwrap().shutdown, "2027-04-01");
        assert!(lookup("gpt-6.1-luna").is_none());
        assert!(lookup("gpt-4o-custom").is_none());
        assert!(lookup("gpt-6-luna").is_none());
    }

    #[test]
    fn status_and_warnings() {
        let s = status("gpt-4o", "2026-11-27", None);
        assert!(matches!(&s, Status::Deprecated { date, .. } if date == "2027-01-14"));
        let w = s.notice("gpt-4o").unwrap().to_string();
        assert!(w.contains("2027-01-14") && w.contains("gpt-6-luna"), "{w}");
        let s = status("gpt-4-turbo", "2026-11-27", None);
        assert!(s
            .notice("gpt-4-turbo")
            .unwrap()
            .to_string()
            .contains("was shut down on 2026-10-23"));
        assert_eq!(status("gpt-6-luna", "2026-11-27", None), Status::Active);
        // A live date overrides the table, also to say "no shutdown".
        assert_eq!(status("gpt-4o", "2026-11-27", Some(None)), Status::Active);
        let s = status("my-model", "2026-11-27", Some(Some("2026-12-01".into())));
        assert!(matches!(
            s,
            Status::Deprecated {
                replacement: None,
                ..
            }
        ));
    }

    #[test]
    fn replacements_as_of_2026_11_30() {
        let rep = |m: &str| lookup(m).unwrap().replacement;
        assert_eq!(rep("gpt-4-turbo"), "gpt-5.6-sol");
        assert_eq!(rep("o4-mini"), "gpt-5.6-terra");
        assert_eq!(rep("gpt-4.1-nano"), "gpt-5.6-luna");
        assert_eq!(rep("davinci-002"), "gpt-5.6-terra");
        assert_eq!(rep("gpt-5-nano"), "gpt-6-luna");
        assert_eq!(rep("gpt-5-mini"), "gpt-6.1-terra");
        assert!(matches!(
            status("gpt-5.3-codex", "2026-11-30", None),
            Status::Deprecated { date, replacement: None } if date == "2027-04-01"
        ));
        assert!(replacement_not_named("gpt-5.3-codex"));
        assert!(replacement_not_named("gpt-5.1-2025-11-13"));
        assert!(!replacement_not_named("gpt-5"));
        assert!(!replacement_not_named("my-model"));
        assert!(TABLE
            .iter()
            .all(|r| !r.replacement.contains("gpt-6.1-luna")));
    }

    #[test]
    fn the_default_is_announced_not_warned() {
        let note = default_model_note("2026-11-30").unwrap();
        assert!(
            note.contains("2027-01-14") && note.contains("gpt-6-luna"),
            "{note}"
        );
        assert_eq!(default_model_note("2027-01-14"), None);
    }

    #[test]
    fn default_never_strands_the_user() {
        assert_eq!(default_model("2026-11-27"), ("gpt-4o".to_string(), None));
        let (m, notice) = default_model("2027-01-14");
        assert_eq!(m, "gpt-6-luna");
        assert!(notice.unwrap().to_string().contains("shut down"));
    }
}
