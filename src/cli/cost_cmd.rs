//! `goshi cost`: what was spent, from the spend ledger, by day or by model.

use super::terminal::Screen;
use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::json;

use crate::cost::ledger::{Spend, Tokens};
use crate::cost::prices::TABLE_DATE;
use crate::cost::{Ledger, Micros};
use crate::text::one_line;

/// `goshi cost` arguments.
#[derive(Args, Debug)]
pub struct CostArgs {
    /// How far back: a duration (7d, 2w, 24h: that long ago, counted in local days) or a
    /// local date (2026-11-01)
    #[arg(long, value_name = "WHEN", default_value = "30d")]
    pub since: String,
    /// Group by local day or by model
    #[arg(long, value_enum, default_value_t = By::Day)]
    pub by: By,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How to group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum By {
    /// One row per local day.
    Day,
    /// One row per model.
    Model,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Text,
    /// One JSON object.
    Json,
}

#[derive(Default)]
struct Row {
    micros: Micros,
    responses: u64,
    tokens: Tokens,
}

/// The first local day `since` covers.
fn since_day(since: &str) -> Result<String, String> {
    let s = since.trim();
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return Ok(d.to_string());
    }
    let dur = humantime::parse_duration(s).map_err(|_| {
        format!("--since {since:?} is neither a duration (7d, 2w, 24h) nor a date (2026-11-01)")
    })?;
    let secs = i64::try_from(dur.as_secs()).unwrap_or(i64::MAX);
    let start = jiff::Zoned::now()
        .checked_sub(jiff::SignedDuration::from_secs(secs))
        .map(|z| z.date().to_string())
        // Before what the calendar can hold: everything.
        .unwrap_or_else(|_| "0000-01-01".to_string());
    Ok(start)
}

/// Runs `goshi cost`.
pub fn run(args: &CostArgs) -> ExitCode {
    let since = match since_day(&args.since) {
        Ok(d) => d,
        Err(e) => {
            super::error(&e, None);
            return ExitCode::from(2);
        }
    };
    let Some(ledger) = Ledger::user() else {
        super::error(
            "this system has no user data folder, so there is no spend ledger",
            None,
        );
        return ExitCode::FAILURE;
    };
    let spends = match ledger.spends_since(&since) {
        Ok(s) => s,
        Err(e) => {
            super::error(&format!("cannot read the spend ledger: {e}"), None);
            return ExitCode::FAILURE;
        }
    };
    for w in ledger.take_warnings() {
        Screen::stdio().warning(&w.to_string());
    }
    let rows = group(&spends, args.by);
    let mut total = Row::default();
    for r in rows.values() {
        total.micros = total.micros.plus(r.micros);
        total.responses += r.responses;
        total.tokens.add(&r.tokens);
    }
    match args.format {
        Format::Json => {
            let _ = Screen::stdio()
                .out_line(&as_json(&rows, &total, &since, args.by, &ledger).to_string());
        }
        Format::Text => print_text(&rows, &total, &since, args.by, &ledger),
    }
    ExitCode::SUCCESS
}

fn group(spends: &[Spend], by: By) -> BTreeMap<String, Row> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for s in spends {
        let key = match by {
            By::Day => s.day.clone(),
            By::Model => s.model.clone(),
        };
        let r = rows.entry(key).or_default();
        r.micros = r.micros.plus(s.micros);
        r.responses += 1;
        r.tokens.add(&s.tokens);
    }
    rows
}

fn row_json(r: &Row) -> serde_json::Value {
    json!({
        "usd_micros": r.micros.0,
        "usd": format!("{}.{:06}", r.micros.0 / 1_000_000, r.micros.0 % 1_000_000),
        "responses": r.responses,
        "tokens": r.tokens,
    })
}

fn as_json(
    rows: &BTreeMap<String, Row>,
    total: &Row,
    since: &str,
    by: By,
    l: &Ledger,
) -> serde_json::Value {
    let key = if by == By::Day { "day" } else { "model" };
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|(k, r)| {
            let mut v = row_json(r);
            v[key] = json!(k);
            v
        })
        .collect();
    json!({
        "since": since,
        "by": key,
        "rows": list,
        "total": row_json(total),
        "price_table_date": TABLE_DATE,
        "ledger": l.dir().display().to_string(),
    })
}

fn cache_share(t: &Tokens) -> u64 {
    match t.all_input() {
        0 => 0,
        n => (u128::from(t.cached) * 100 / u128::from(n)) as u64,
    }
}

fn print_text(rows: &BTreeMap<String, Row>, total: &Row, since: &str, by: By, l: &Ledger) {
    let screen = Screen::stdio();
    let say = |s: &str| {
        let _ = screen.out_line(s);
    };
    let what = if by == By::Day { "day" } else { "model" };
    say(&format!(
        "OpenAI spend since {since} (local days), by {what}:"
    ));
    if rows.is_empty() {
        say("  nothing recorded (local and compatible servers cost nothing and are not recorded)");
    }
    let line = |name: &str, r: &Row| {
        format!(
            "  {:<24} {:>10}  {:>5} responses  input {:>9} ({:>2}% cached)  output {:>9} (reasoning {})",
            one_line(name, 24),
            r.micros.to_string(),
            r.responses,
            r.tokens.all_input(),
            cache_share(&r.tokens),
            r.tokens.output,
            r.tokens.reasoning
        )
    };
    for (k, r) in rows {
        say(&line(k, r));
    }
    say(&line("total", total));
    say(&format!(
        "prices: built-in table of {TABLE_DATE} plus cost.prices; ledger: {}",
        l.dir().display()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_and_dates() {
        assert_eq!(since_day("2026-11-01").unwrap(), "2026-11-01");
        let d = since_day("7d").unwrap();
        assert_eq!(d.len(), 10);
        assert!(d < crate::cost::ledger::local_day());
        assert_eq!(since_day("1000000000d").unwrap(), "0000-01-01");
        assert!(since_day("yesterday").is_err());
    }
}
