//! Token usage: the per-response log line and the session totals.

use super::events::Usage;

/// The line logged to stderr after each response, e.g.
/// `OpenAI tokens: prompt=12, completion=3, total=15 (model: gpt-4o)`.
pub fn token_line(provider: &str, usage: &Usage, model: &str) -> String {
    format!(
        "{provider} tokens: prompt={}, completion={}, total={} (model: {model})",
        usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
    )
}

/// Token totals of a session, across responses (and protocols).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionUsage {
    /// The summed usage.
    pub total: Usage,
    /// How many responses reported usage.
    pub responses: u64,
}

impl SessionUsage {
    /// Adds one response's usage.
    pub fn record(&mut self, usage: &Usage) {
        self.total.add(usage);
        self.responses += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_totals_saturate_instead_of_overflowing() {
        let huge = Usage {
            prompt_tokens: u64::MAX,
            completion_tokens: u64::MAX,
            total_tokens: u64::MAX,
            ..Usage::ZERO
        };
        let mut s = SessionUsage::default();
        s.record(&huge);
        s.record(&huge);
        assert_eq!(s.total, huge);
    }

    #[test]
    fn formats_the_exact_line() {
        let u = Usage {
            prompt_tokens: 12,
            completion_tokens: 3,
            total_tokens: 15,
            ..Usage::ZERO
        };
        assert_eq!(
            token_line("OpenAI", &u, "gpt-4o"),
            "OpenAI tokens: prompt=12, completion=3, total=15 (model: gpt-4o)"
        );
        let mut s = SessionUsage::default();
        s.record(&u);
        s.record(&u);
        assert_eq!(s.total.total_tokens, 30);
        assert_eq!(s.responses, 2);
    }
}
