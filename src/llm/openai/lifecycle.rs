//! OpenAI's model lifecycle: which models shut down when, and what replaces them.
//!
//! Last checked: 2026-11-27, against OpenAI's deprecations page
//! (https://developers.openai.com/api/docs/deprecations). To update: add or edit rows of
//! [`TABLE`] (model id or prefix, shutdown date `YYYY-MM-DD`, replacement), bump the date
//! above, and run `cargo test lifecycle`. At run time the `shutdown_date` that
//! `GET /v1/models/{id}` reports overrides a row's date (see `shutdown.rs`).

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

/// The table. Longer (more specific) ids are matched first.
pub const TABLE: &[Retirement] = &[
    // Shut down 2026-10-23.
    r("gpt-4", "2026-10-23", "gpt-6.1-sol"),
    r("gpt-4-turbo", "2026-10-23", "gpt-6.1-sol"),
    r("gpt-3.5-turbo", "2026-10-23", "gpt-6.1-terra"),
    r("gpt-4o-2024-05-13", "2026-10-23", "gpt-6-luna"),
    r("o1", "2026-10-23", "gpt-6.1-sol"),
    r("o1-pro", "2026-10-23", "gpt-6.1-sol"),
    r("o3-mini", "2026-10-23", "gpt-6.1-sol"),
    r("o4-mini", "2026-10-23", "gpt-6.1-terra"),
    r("gpt-4.1-nano", "2026-10-23", "gpt-6.1-luna"),
    // Shut down 2026-12-11.
    r("gpt-5", "2026-12-11", "gpt-6.1-sol"),
    r("gpt-5-mini", "2026-12-11", "gpt-6.1-terra"),
    r("gpt-5-nano", "2026-12-11", "gpt-6.1-luna"),
    r("gpt-5-pro", "2026-12-11", "gpt-6.1-sol"),
    r("o3", "2026-12-11", "gpt-6.1-sol"),
    r("o3-pro", "2026-12-11", "gpt-6.1-sol"),
    // Shut down 2027-01-14.
    r("gpt-4o", "2027-01-14", "gpt-6-luna"),
    r("gpt-4o-mini", "2027-01-14", "gpt-6-luna"),
    r("gpt-4.1", "2027-01-14", "gpt-6-luna"),
    r("gpt-4.1-mini", "2027-01-14", "gpt-6-luna"),
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
    let replacement = row.map(|r| r.replacement.to_string());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_match_their_family_and_specific_rows_win() {
        assert_eq!(lookup("gpt-4o-2024-08-06").unwrap().shutdown, "2027-01-14");
        assert_eq!(lookup("gpt-4o-2024-05-13").unwrap().shutdown, "2026-10-23");
        assert_eq!(lookup("gpt-4o-mini").unwrap().model, "gpt-4o-mini");
        assert_eq!(lookup("gpt-4-0613").unwrap().model, "gpt-4");
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
    fn default_never_strands_the_user() {
        assert_eq!(default_model("2026-11-27"), ("gpt-4o".to_string(), None));
        let (m, notice) = default_model("2027-01-14");
        assert_eq!(m, "gpt-6-luna");
        assert!(notice.unwrap().to_string().contains("shut down"));
    }
}
