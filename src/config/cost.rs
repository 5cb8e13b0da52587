//! The `cost:` section: prices added or overridden, the caps, the warning threshold.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::load::{bad, ConfigError};
use crate::cost::{CostSettings, Micros, Price, PriceTable, DEFAULT_WARN_USD};

/// `cost:`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCost {
    /// `cost.prices`: model name to USD per 1M tokens.
    #[serde(default)]
    pub prices: BTreeMap<String, FilePrice>,
    /// `cost.session_max_usd`
    pub session_max_usd: Option<f64>,
    /// `cost.daily_max_usd`
    pub daily_max_usd: Option<f64>,
    /// `cost.warn_usd` (0 turns the warning off)
    pub warn_usd: Option<f64>,
}

/// One row of `cost.prices`, USD per 1M tokens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePrice {
    /// Uncached input.
    pub input: f64,
    /// Cached input (defaults to `input`).
    pub cached_input: Option<f64>,
    /// Output.
    pub output: f64,
}

fn usd(key: &str, v: f64) -> Result<Micros, ConfigError> {
    Micros::from_usd(v).ok_or_else(|| {
        bad(
            key,
            format!("must be a number of US dollars between 0 and 1000000000 (got {v})"),
        )
    })
}

/// Validates the section.
pub fn resolve_cost(f: FileCost) -> Result<CostSettings, ConfigError> {
    let mut prices = BTreeMap::new();
    for (model, p) in f.prices {
        let key = format!("cost.prices.{model}");
        super::resolve::validate_model_name(&model).map_err(|m| bad(&key, m))?;
        let input = usd(&format!("{key}.input"), p.input)?;
        let cached_input = match p.cached_input {
            Some(c) => usd(&format!("{key}.cached_input"), c)?,
            None => input,
        };
        let output = usd(&format!("{key}.output"), p.output)?;
        prices.insert(
            model,
            Price {
                input,
                cached_input,
                output,
            },
        );
    }
    let cap = |key: &str, v: Option<f64>| v.map(|x| usd(key, x)).transpose();
    // 0 turns the warning off.
    let warn = match f.warn_usd {
        None => Some(DEFAULT_WARN_USD),
        Some(w) => Some(usd("cost.warn_usd", w)?).filter(|m| *m != Micros::ZERO),
    };
    Ok(CostSettings {
        prices: PriceTable::new(prices),
        session_max_usd: cap("cost.session_max_usd", f.session_max_usd)?,
        daily_max_usd: cap("cost.daily_max_usd", f.daily_max_usd)?,
        warn_usd: warn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(y: &str) -> Result<CostSettings, ConfigError> {
        let f: FileCost = serde_yaml_ng::from_str(y).map_err(|e| bad("yaml", e.to_string()))?;
        resolve_cost(f)
    }

    #[test]
    fn prices_caps_and_defaults() {
        let c = parse("{prices: {my-model: {input: 2.5, output: 10}, gpt-4o: {input: 1, cached_input: 0.1, output: 2}}, daily_max_usd: 3}").unwrap();
        let (p, _) = c.prices.lookup("my-model").unwrap();
        assert_eq!(
            (p.input, p.cached_input, p.output),
            (Micros(2_500_000), Micros(2_500_000), Micros(10_000_000))
        );
        assert_eq!(
            c.prices.lookup("gpt-4o").unwrap().0.cached_input,
            Micros(100_000)
        );
        assert_eq!(c.daily_max_usd, Some(Micros(3_000_000)));
        assert_eq!(c.session_max_usd, None);
        assert_eq!(c.warn_usd, Some(DEFAULT_WARN_USD));
        assert_eq!(parse("{warn_usd: 0}").unwrap().warn_usd, None);
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = parse("{daily_max_usd: -1}").unwrap_err();
        assert_eq!(e.key, "cost.daily_max_usd");
        let e = parse("{prices: {m: {input: 1, output: .nan}}}").unwrap_err();
        assert_eq!(e.key, "cost.prices.m.output");
        assert!(parse("{prices: {m: {input: 1}}}").is_err());
        assert!(parse("{prices: {m: {input: 1, output: 1, cache: 1}}}").is_err());
        assert!(parse("{max_usd: 1}").is_err());
    }
}
