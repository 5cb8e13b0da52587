//! Money as whole micro-dollars: exact to add and compare, never an accumulated float.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of US dollars in millionths (`Micros(1_230_000)` is $1.23).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Micros(pub u64);

impl Micros {
    /// Nothing.
    pub const ZERO: Micros = Micros(0);

    /// The sum, saturating (amounts come from server-reported token counts).
    pub fn plus(self, other: Micros) -> Micros {
        Micros(self.0.saturating_add(other.0))
    }

    /// The difference, or zero when `other` is larger.
    pub fn minus(self, other: Micros) -> Micros {
        Micros(self.0.saturating_sub(other.0))
    }

    /// Converts a configured dollar figure (`2.5`); None when it is negative, not finite or
    /// above a billion dollars. Rounded to the nearest micro-dollar.
    pub fn from_usd(usd: f64) -> Option<Micros> {
        if !usd.is_finite() || !(0.0..=1e9).contains(&usd) {
            return None;
        }
        // Exact for every figure with at most six decimals, which is all a price has.
        Some(Micros((usd * 1e6).round() as u64))
    }
}

impl fmt::Display for Micros {
    /// `$0.0123` under a dollar (four decimals, or six when that would show zero),
    /// `$1.20` from a dollar on. Rounds half up for display only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        if m >= 1_000_000 {
            let cents = m.saturating_add(5_000) / 10_000;
            write!(f, "${}.{:02}", cents / 100, cents % 100)
        } else if m == 0 || m >= 50 {
            let tenth_millis = (m + 50) / 100;
            if tenth_millis >= 10_000 {
                return f.write_str("$1.00");
            }
            write!(f, "$0.{tenth_millis:04}")
        } else {
            write!(f, "$0.{m:06}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        assert_eq!(Micros(12_300).to_string(), "$0.0123");
        assert_eq!(Micros(456_700).to_string(), "$0.4567");
        assert_eq!(Micros(1_200_000).to_string(), "$1.20");
        assert_eq!(Micros(1_234_999).to_string(), "$1.23");
        assert_eq!(Micros(1_235_000).to_string(), "$1.24");
        assert_eq!(Micros(0).to_string(), "$0.0000");
        assert_eq!(Micros(37).to_string(), "$0.000037");
        assert_eq!(Micros(999_960).to_string(), "$1.00");
        assert_eq!(Micros(u64::MAX).to_string(), "$18446744073709.55");
    }

    #[test]
    fn from_usd_is_exact_for_prices() {
        assert_eq!(Micros::from_usd(2.5), Some(Micros(2_500_000)));
        assert_eq!(Micros::from_usd(0.075), Some(Micros(75_000)));
        assert_eq!(Micros::from_usd(0.01), Some(Micros(10_000)));
        assert_eq!(Micros::from_usd(-1.0), None);
        assert_eq!(Micros::from_usd(f64::NAN), None);
    }
}
