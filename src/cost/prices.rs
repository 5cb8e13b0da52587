//! The price table: what OpenAI charges per million tokens, in one place.
//!
//! Each row says when it was checked and where. Figures are USD per 1M tokens: input,
//! cached input, output; tokens written to the prompt cache (`cache_write_tokens`) are
//! billed at 1.25x the input rate. Reasoning tokens are part of the output tokens and
//! billed as output.
//!
//! How to refresh: open each row's source page (OpenAI's model pages and
//! https://platform.openai.com/docs/pricing), compare the three figures, fix any that
//! moved, set the row's `checked` date and [`TABLE_DATE`] to the day you looked, and run
//! `cargo test --lib cost` (the arithmetic tests use their own figures, not this table).
//! Users need not wait for a release: `cost.prices` in goshi.yaml adds or overrides rows.
//!
//! Checked 2026-11-30: the figures come from issue 13 (OpenAI's model pages as read by its
//! author on 2026-11-30). OpenAI's pages cannot be reached from the build machine; a search
//! of public copies of the pricing page (2026-11-30) confirmed gpt-4o (2.50 / 1.25 / 10)
//! and gpt-4o-mini (0.15 / 0.075 / 0.60); the other rows could not be checked independently.

use std::collections::BTreeMap;

use super::money::Micros;
use crate::llm::Usage;

/// The day the built-in table was last checked; recorded with every cost.
pub const TABLE_DATE: &str = "2026-11-30";

/// Prices of one model, each in micro-dollars per 1M tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// Uncached input.
    pub input: Micros,
    /// Input served from the prompt cache.
    pub cached_input: Micros,
    /// Output (reasoning included).
    pub output: Micros,
}

struct Row {
    model: &'static str,
    /// USD per 1M tokens, times 1000 (so 0.075 is 75): exact integers in the source.
    milli_usd: [u64; 3],
    checked: &'static str,
    source: &'static str,
}

const PAGE: &str = "https://platform.openai.com/docs/models";

/// The built-in rows (see the module docs for how to refresh them).
const ROWS: &[Row] = &[
    row("gpt-6.2-astra", [8_000, 400, 40_000]),
    row("gpt-6.2-sol", [2_000, 100, 10_000]),
    row("gpt-6.1-sol", [2_000, 100, 10_000]),
    row("gpt-6.1-terra", [1_000, 50, 5_000]),
    row("gpt-6-sol", [2_000, 200, 10_000]),
    row("gpt-6-luna", [100, 10, 500]),
    row("gpt-5.6-sol", [4_000, 400, 20_000]),
    row("gpt-5.6-terra", [2_000, 200, 12_000]),
    row("gpt-5.6-luna", [200, 20, 1_200]),
    row("gpt-4o", [2_500, 1_250, 10_000]),
    row("gpt-4o-mini", [150, 75, 600]),
    row("gpt-4.1", [2_000, 500, 8_000]),
    row("gpt-4.1-mini", [400, 100, 1_600]),
];

const fn row(model: &'static str, milli_usd: [u64; 3]) -> Row {
    Row {
        model,
        milli_usd,
        checked: "2026-11-30",
        source: PAGE,
    }
}

impl Row {
    fn price(&self) -> Price {
        let m = |i: usize| Micros(self.milli_usd[i] * 1_000);
        Price {
            input: m(0),
            cached_input: m(1),
            output: m(2),
        }
    }
}

/// Where a model's price came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceSource {
    /// The built-in table: the row's check date and source page.
    Table {
        /// `YYYY-MM-DD`
        checked: &'static str,
        /// The page the row was read from.
        source: &'static str,
    },
    /// `cost.prices` in goshi.yaml.
    Config,
}

/// The built-in table plus the user's `cost.prices`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    overrides: BTreeMap<String, Price>,
}

impl PriceTable {
    /// The built-in table with `overrides` (model name to price) on top.
    pub fn new(overrides: BTreeMap<String, Price>) -> Self {
        PriceTable { overrides }
    }

    /// The price of `model`: an exact row first, then the row of its family for a dated
    /// snapshot (`gpt-4o-2024-08-06` uses `gpt-4o`); the user's rows win over built-in ones.
    pub fn lookup(&self, model: &str) -> Option<(Price, PriceSource)> {
        let family = family_of(model);
        for name in [Some(model), family].into_iter().flatten() {
            if let Some(p) = self.overrides.get(name) {
                return Some((*p, PriceSource::Config));
            }
        }
        for name in [Some(model), family].into_iter().flatten() {
            if let Some(r) = ROWS.iter().find(|r| r.model == name) {
                return Some((
                    r.price(),
                    PriceSource::Table {
                        checked: r.checked,
                        source: r.source,
                    },
                ));
            }
        }
        None
    }

    /// The built-in model names, for messages and docs.
    pub fn builtin_models() -> impl Iterator<Item = &'static str> {
        ROWS.iter().map(|r| r.model)
    }
}

/// `gpt-4o` for `gpt-4o-2024-08-06`: the name without a trailing `-YYYY-MM-DD`.
pub fn family_of(model: &str) -> Option<&str> {
    let i = model.len().checked_sub(11)?;
    // `get` rather than slicing: byte `i` may fall inside a multi-byte character.
    let (head, date) = (model.get(..i)?, model.get(i..)?);
    let b = date.as_bytes();
    let dated = b[0] == b'-'
        && b[5] == b'-'
        && b[8] == b'-'
        && [1, 2, 3, 4, 6, 7, 9, 10]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    (dated && !head.is_empty()).then_some(head)
}

/// The exact cost of `usage` at `price`, rounded up to the whole micro-dollar.
///
/// Uncached input at the input rate, cached input at the cached rate, cache writes at
/// 1.25x the input rate, output (reasoning included) at the output rate. Server counts are
/// clamped so that the parts never exceed the prompt.
pub fn cost_of(usage: &Usage, price: &Price) -> Micros {
    let prompt = u128::from(usage.prompt_tokens);
    let cached = u128::from(usage.cached_tokens).min(prompt);
    let written = u128::from(usage.cache_write_tokens).min(prompt - cached);
    let uncached = prompt - cached - written;
    let p = |m: Micros| u128::from(m.0);
    // Everything times 4, so that the 1.25x of cache writes stays an integer.
    // Saturating: 2^64 tokens at a configured price of up to $1e9 still fits, but a
    // price is only bounded by the config's validation.
    let term = |factor: u128, tokens: u128, rate: Micros| (factor * tokens).saturating_mul(p(rate));
    let quarter_units = term(4, uncached, price.input)
        .saturating_add(term(4, cached, price.cached_input))
        .saturating_add(term(5, written, price.input))
        .saturating_add(term(4, u128::from(usage.completion_tokens), price.output));
    let micros = quarter_units.div_ceil(4_000_000);
    Micros(u64::try_from(micros).unwrap_or(u64::MAX))
}

/// The most `tokens` can cost at `rate` (micro-dollars per 1M tokens), rounded up.
pub fn cost_at(tokens: u64, rate: Micros) -> Micros {
    let micros = u128::from(tokens)
        .saturating_mul(u128::from(rate.0))
        .div_ceil(1_000_000);
    Micros(u64::try_from(micros).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_snapshots_use_their_family_and_nothing_else_matches_loosely() {
        let t = PriceTable::default();
        let (p, src) = t.lookup("gpt-4o-2024-08-06").unwrap();
        assert_eq!(p.input, Micros(2_500_000));
        assert!(matches!(
            src,
            PriceSource::Table {
                checked: "2026-11-30",
                ..
            }
        ));
        assert_eq!(
            t.lookup("gpt-4o-mini-2024-07-18").unwrap().0.output,
            Micros(600_000)
        );
        assert!(t.lookup("gpt-4o-minis").is_none());
        assert!(t.lookup("gpt-4o-2024-08").is_none());
        assert!(t.lookup("-2024-08-06").is_none());
        assert!(t.lookup("llama3.1:8b").is_none());
        assert_eq!(family_of("gpt-6.1-sol-2026-10-01"), Some("gpt-6.1-sol"));
        assert_eq!(family_of("ö-2026-10-01"), Some("ö"));
        assert_eq!(family_of("x2026-10-01"), None);
        assert_eq!(family_of("aaaaaaaaaa€"), None);
    }

    #[test]
    fn user_rows_override_and_add() {
        let mut o = BTreeMap::new();
        let mine = Price {
            input: Micros(1),
            cached_input: Micros(1),
            output: Micros(2),
        };
        o.insert("gpt-4o".to_string(), mine);
        o.insert("my-model".to_string(), mine);
        let t = PriceTable::new(o);
        assert_eq!(
            t.lookup("gpt-4o-2024-08-06"),
            Some((mine, PriceSource::Config))
        );
        assert_eq!(t.lookup("my-model").unwrap().0, mine);
    }

    #[test]
    fn every_builtin_row_is_sane() {
        for r in ROWS {
            let p = r.price();
            assert!(
                p.cached_input <= p.input && p.input <= p.output,
                "{}",
                r.model
            );
            assert!(r.checked.len() == 10 && r.source.starts_with("https://"));
        }
    }

    fn usage(prompt: u64, cached: u64, written: u64, completion: u64, reasoning: u64) -> Usage {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt.saturating_add(completion),
            cached_tokens: cached,
            cache_write_tokens: written,
            reasoning_tokens: reasoning,
        }
    }

    #[test]
    fn arithmetic_is_exact_to_the_micro_dollar() {
        let gpt4o = PriceTable::default().lookup("gpt-4o").unwrap().0;
        // 1000 uncached x 2.50 + 0 + 500 x 10 per 1M = 2500 + 5000 micro-dollars.
        assert_eq!(cost_of(&usage(1000, 0, 0, 500, 0), &gpt4o), Micros(7_500));
        // 2006 prompt, 1920 cached: 86 x 2.5 + 1920 x 1.25 + 300 x 10 = 215 + 2400 + 3000.
        assert_eq!(
            cost_of(&usage(2006, 1920, 0, 300, 0), &gpt4o),
            Micros(5_615)
        );
        // Cache writes at 1.25x input: 1024 x 2.5 x 1.25 = 3200; plus 10 uncached = 25.
        assert_eq!(cost_of(&usage(1034, 0, 1024, 0, 0), &gpt4o), Micros(3_225));
        // Reasoning is inside completion: it adds nothing on top.
        let astra = PriceTable::default().lookup("gpt-6.2-astra").unwrap().0;
        assert_eq!(
            cost_of(&usage(81, 0, 0, 1035, 832), &astra),
            Micros(648 + 41_400)
        );
        // A fraction of a micro-dollar rounds up: 1 token at 0.15 per 1M.
        let mini = PriceTable::default().lookup("gpt-4o-mini").unwrap().0;
        assert_eq!(cost_of(&usage(1, 0, 0, 0, 0), &mini), Micros(1));
        // 7 cached at 0.075: 0.525 micro-dollars, up to 1.
        assert_eq!(cost_of(&usage(7, 7, 0, 0, 0), &mini), Micros(1));
    }

    #[test]
    fn hostile_counts_neither_overflow_nor_go_negative() {
        let p = PriceTable::default().lookup("gpt-6.2-astra").unwrap().0;
        let c = cost_of(&usage(10, 50, 70, 0, 0), &p);
        assert_eq!(c, Micros(4)); // all 10 counted as cached: 10 x 0.40 per 1M, rounded up
        let huge = cost_of(&usage(u64::MAX, 0, 0, u64::MAX, 0), &p);
        assert!(huge.0 > 0);
        assert_eq!(cost_at(u64::MAX, Micros(u64::MAX)), Micros(u64::MAX));
        assert_eq!(cost_at(4096, Micros(10_000_000)), Micros(40_960));
    }
}
