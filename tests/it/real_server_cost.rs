//! Cost against a REAL llama-server (see `tests/it/real_server.rs`): a compatible server is
//! local, so every answer says `cost: local` beside its token line, nothing goes to the
//! spend ledger, and no cap ever refuses a request to it.

use crate::support::real_server_common;

use real_server_common::*;

#[test]
#[ignore = "needs a real llama-server: run scripts/real-server-tests.sh"]
fn cost_says_local_and_caps_never_refuse_a_local_server() {
    let root = plain();
    let p = Project::new();
    // A cap no paid request could fit under, and a price for the model: neither applies to
    // a compatible server.
    p.config(
        "llm:\n  temperature: 0\ncost:\n  daily_max_usd: 0.000001\n  prices:\n    tiny: {input: 100, output: 100}\n",
    );
    let out = p.run(&root, &["--config", "goshi.yaml", "chat", "hi"]);
    out.assert_success();
    assert_eq!(out.stdout, "ok.\n", "{out}");
    let tokens = token_lines(&out);
    let costs: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("OpenAI cost"))
        .collect();
    assert!(!tokens.is_empty(), "{out}");
    assert_eq!(
        costs.len(),
        tokens.len(),
        "one cost line per response\n{out}"
    );
    assert!(costs.iter().all(|l| *l == "OpenAI cost: local"), "{out}");
    let cost = p.run(&root, &["cost", "--format", "json"]);
    cost.assert_success();
    assert_eq!(cost.json()["total"]["responses"], 0, "{cost}");
}
