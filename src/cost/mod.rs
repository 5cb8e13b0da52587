//! Cost: the price table, exact money, the spend ledger, budgets and the prompt estimate.
//!
//! The chat loop asks the [`Meter`] before every request (does its worst case fit under
//! the caps?) and after every response (what did it cost?). Prices come from
//! [`prices`]; spends go to the [`ledger`] shared by all goshi processes of the user.

pub mod estimate;
pub mod ledger;
pub mod meter;
pub mod money;
pub mod prices;

pub use ledger::Ledger;
pub use meter::{Charge, Meter, Pass, Refusal};
pub use money::Micros;
pub use prices::{Price, PriceTable};

use serde::Serialize;

/// The `cost:` settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CostSettings {
    /// The price table with `cost.prices` on top.
    #[serde(skip)]
    pub prices: PriceTable,
    /// `cost.session_max_usd`: the most one session may spend.
    #[serde(serialize_with = "as_usd")]
    pub session_max_usd: Option<Micros>,
    /// `cost.daily_max_usd`: the most all sessions of one local day may spend.
    #[serde(serialize_with = "as_usd")]
    pub daily_max_usd: Option<Micros>,
    /// `cost.warn_usd`: warn once when the day's spend passes it (default $5).
    #[serde(serialize_with = "as_usd")]
    pub warn_usd: Option<Micros>,
}

/// The default `cost.warn_usd`.
pub const DEFAULT_WARN_USD: Micros = Micros(5_000_000);

/// Shown in dollars (`config show`), as the keys are written.
fn as_usd<S: serde::Serializer>(m: &Option<Micros>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        // Display only: the amounts themselves stay integers.
        Some(m) => s.serialize_f64(m.0 as f64 / 1e6),
        None => s.serialize_none(),
    }
}
