use super::*;
use crate::llm::{Message, RequestOptions};

fn settings(session: Option<u64>, daily: Option<u64>, warn: Option<u64>) -> CostSettings {
    CostSettings {
        prices: PriceTable::default(),
        session_max_usd: session.map(Micros),
        daily_max_usd: daily.map(Micros),
        warn_usd: warn.map(Micros),
    }
}

fn req(model: &str, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        model: model.into(),
        messages: vec![Message::user("hi")],
        options: RequestOptions {
            max_tokens,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn usage(prompt: u64, completion: u64) -> Usage {
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        ..Usage::ZERO
    }
}

#[test]
fn an_answer_without_usage_is_charged_at_goshi_s_estimate_and_says_so() {
    let mut m = Meter::new("OpenAI", false, settings(None, None, None), None, "s");
    let r = req("gpt-4o", 100);
    let pass = m.before(&r).unwrap();
    let c = m
        .after_estimated(pass, "gpt-4o", &estimate::usage(&r, &"word ".repeat(100)))
        .unwrap();
    assert!(c.line.starts_with("OpenAI cost: $"), "{}", c.line);
    assert!(c
        .line
        .ends_with("(estimated: the server reported no token usage)"));
    assert_eq!(c.audit["estimated"], true);
    assert!(
        m.session_total() > Micros(0),
        "an answer that arrived is never free"
    );
    let spend = &m.by_model()["gpt-4o"];
    assert_eq!(
        spend.tokens.output,
        estimate::text_tokens(&"word ".repeat(100))
    );
    assert!(spend.tokens.input >= estimate::prompt_tokens(&r));
    // Local servers cost nothing, estimated or not.
    let mut local = Meter::new("Ollama", true, settings(None, None, None), None, "s");
    let pass = local.before(&r).unwrap();
    assert!(local
        .after_estimated(pass, "m", &estimate::usage(&r, "text"))
        .is_none());
}

#[test]
fn local_servers_say_local_and_are_never_refused() {
    let mut m = Meter::new("Ollama", true, settings(Some(1), Some(1), None), None, "s");
    let pass = m.before(&req("llama3.1:8b", 4096)).unwrap();
    let c = m.after(pass, "llama3.1:8b", Some(&usage(10, 5))).unwrap();
    assert_eq!(c.line, "Ollama cost: local");
    assert_eq!(c.audit["status"], "local");
    assert!(m.report().contains("local"));
}

#[test]
fn an_unpriced_model_says_so_and_is_refused_only_under_a_cap() {
    let mut m = Meter::new("OpenAI", false, settings(None, None, None), None, "s");
    let pass = m.before(&req("gpt-unknown", 10)).unwrap();
    let c = m.after(pass, "gpt-unknown", Some(&usage(10, 5))).unwrap();
    assert_eq!(c.line, "OpenAI cost unknown (add it under cost.prices)");
    let mut capped = Meter::new(
        "OpenAI",
        false,
        settings(Some(1_000_000), None, None),
        None,
        "s",
    );
    let r = capped.before(&req("gpt-unknown", 10)).unwrap_err();
    assert!(
        r.message.contains("no price") && r.hint.contains("cost.prices"),
        "{r:?}"
    );
}

#[test]
fn priced_responses_add_up_exactly_and_the_session_cap_holds() {
    let d = tempfile::tempdir().unwrap();
    let ledger = Ledger::new(d.path().to_path_buf());
    // Worst case of gpt-4o with 100 answer tokens: (80+...) prompt x 2.5 + 100 x 10 per 1M.
    let mut m = Meter::new(
        "OpenAI",
        false,
        settings(Some(5_000), None, None),
        Some(ledger),
        "s",
    );
    let pass = m.before(&req("gpt-4o", 100)).unwrap();
    let c = m.after(pass, "gpt-4o", Some(&usage(1000, 100))).unwrap();
    // 1000 x 2.5 + 100 x 10 = 3500 micro-dollars.
    assert_eq!(
        c.line,
        "OpenAI cost: $0.0035 (session $0.0035, today $0.0035)"
    );
    assert_eq!(c.audit["usd_micros"], 3500);
    assert_eq!(c.audit["prices_date"], "2026-11-30");
    assert_eq!(m.session_total(), Micros(3_500));
    // 3500 spent of 5000: a worst case above 1500 is refused, naming the key.
    let r = m.before(&req("gpt-4o", 1000)).unwrap_err();
    assert!(
        r.message.contains("cost.session_max_usd") && r.message.contains("$0.0015 is left"),
        "{r:?}"
    );
    assert!(r.hint.contains("raise cost.session_max_usd"));
    assert!(
        m.report().contains("gpt-4o: $0.0035 over 1 response(s)"),
        "{}",
        m.report()
    );
}

#[test]
fn the_daily_cap_counts_other_sessions_and_warns_once_when_crossed() {
    let d = tempfile::tempdir().unwrap();
    let mut a = Meter::new(
        "OpenAI",
        false,
        settings(None, Some(20_000), Some(4_000)),
        Some(Ledger::new(d.path().into())),
        "a",
    );
    let mut b = Meter::new(
        "OpenAI",
        false,
        settings(None, Some(20_000), Some(4_000)),
        Some(Ledger::new(d.path().into())),
        "b",
    );
    let pa = a.before(&req("gpt-4o", 100)).unwrap();
    let ca = a.after(pa, "gpt-4o", Some(&usage(1000, 100))).unwrap();
    assert!(ca.warnings.is_empty(), "{:?}", ca.warnings);
    let pb = b.before(&req("gpt-4o", 100)).unwrap();
    let cb = b.after(pb, "gpt-4o", Some(&usage(1000, 100))).unwrap();
    assert!(
        cb.line.ends_with("(session $0.0035, today $0.0070)"),
        "{}",
        cb.line
    );
    assert_eq!(cb.warnings.len(), 1, "{:?}", cb.warnings);
    assert!(cb.warnings[0].contains("cost.warn_usd"));
    // 7000 of 20000 spent: a worst case of more than 13000 is refused.
    let r = a.before(&req("gpt-4o", 2_000)).unwrap_err();
    assert!(
        r.message.contains("cost.daily_max_usd") && r.message.contains("spent today"),
        "{r:?}"
    );
    // A failed request releases its hold.
    let p = a.before(&req("gpt-4o", 100)).unwrap();
    a.after(p, "gpt-4o", None);
    assert_eq!(
        Ledger::new(d.path().into())
            .day_total(&local_day())
            .unwrap(),
        Micros(7_000)
    );
}

#[test]
fn token_kinds_are_clamped_to_the_prompt() {
    let t = tokens_of(&Usage {
        prompt_tokens: 10,
        completion_tokens: 3,
        total_tokens: 13,
        cached_tokens: 8,
        cache_write_tokens: 9,
        reasoning_tokens: 7,
    });
    assert_eq!(
        (t.input, t.cached, t.cache_write, t.output, t.reasoning),
        (0, 8, 2, 3, 3)
    );
}
