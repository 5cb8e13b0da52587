//! Cost end to end through `goshi chat` and `goshi cost` against the fake server: the
//! cost line beside the token line on both OpenAI protocols and Ollama, exact to the
//! micro-dollar; caps refusing with nothing sent (one-shot, a tool loop's later round, two
//! processes at once); the ledger surviving a torn last line and a corrupt one;
//! `prompt_cache_key` and byte-stable prefixes; the identical-tool-call breaker.

use crate::support::cli_common::*;
use crate::support::Reply;
use serde_json::{json, Value};

/// The user config (goshi/goshi.yaml in the run's XDG config dir, which is the repository
/// in these tests): a repository's own ./goshi.yaml may not set prices or caps.
fn user_config(chat: &Chat, yaml: &str) {
    chat.write("goshi/goshi.yaml", yaml);
}

/// OpenAI itself (priced) at the fake server, `test-model` at 2.50 / 1.25 / 10 per 1M.
const PRICED: &str = "llm: {openai: {server: openai}}\ncost: {prices: {test-model: {input: 2.5, cached_input: 1.25, output: 10}}";

fn priced(extra: &str) -> String {
    format!("{PRICED}{extra}}}\n")
}

/// A Chat Completions answer reporting every usage detail.
fn chat_reply_with_details(text: &str) -> Reply {
    Reply::sse(&[
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}]})
            .to_string(),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).to_string(),
        json!({"choices": [], "usage": {"prompt_tokens": 2006, "completion_tokens": 300,
            "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0, "future_field": 1},
            "completion_tokens_details": {"reasoning_tokens": 100, "accepted_prediction_tokens": 0},
            "brand_new_usage_field": {"x": 1}}})
        .to_string(),
        "[DONE]".to_string(),
    ])
}

/// A Responses API answer with cached input, cache writes and reasoning.
fn responses_reply_with_details(text: &str) -> Reply {
    Reply::sse(&[
        json!({"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "delta": text}).to_string(),
        json!({"type": "response.completed", "response": {"id": "r1", "status": "completed",
            "usage": {"input_tokens": 3000, "output_tokens": 1035, "total_tokens": 4035,
                "input_tokens_details": {"cached_tokens": 1024, "cache_write_tokens": 1500},
                "output_tokens_details": {"reasoning_tokens": 832}}}})
        .to_string(),
    ])
}

fn cost_events(chat: &Chat) -> Vec<Value> {
    chat.audit_events()
        .into_iter()
        .filter(|e| e["type"] == "llm_response")
        .collect()
}

#[test]
fn chat_completions_cost_is_exact_and_shown_beside_the_unchanged_token_line() {
    let chat = Chat::new(Backend::OpenAi);
    user_config(&chat, &priced(""));
    chat.push(chat_reply_with_details("hello"));
    let run = chat.chat(&["hi"]);
    run.assert_success();
    // 86 uncached x 2.50 + 1920 cached x 1.25 + 300 output x 10, per 1M: 215 + 2400 + 3000.
    assert!(run.has_err_line(&chat.token_line((2006, 300))), "{run}");
    assert!(
        run.has_err_line("OpenAI cost: $0.0056 (session $0.0056, today $0.0056)"),
        "{run}"
    );
    let ev = cost_events(&chat);
    assert_eq!(ev.len(), 1, "{ev:?}");
    let d = &ev[0]["detail"];
    assert_eq!(
        d["tokens"],
        json!({"input": 86, "cached": 1920, "cache_write": 0,
        "output": 300, "reasoning": 100, "total": 2306})
    );
    assert_eq!(d["cost"]["usd_micros"], 5615);
    assert_eq!(d["cost"]["prices_date"], "cost.prices");
    assert_eq!(d["cost"]["table_date"], goshi::cost::prices::TABLE_DATE);
    // The conversation's cache key went along.
    let key = chat.requests()[0]["prompt_cache_key"].clone();
    assert!(key.as_str().unwrap().starts_with("goshi-"), "{key}");
    assert!(!key.as_str().unwrap().contains("SECRET"));
}

#[test]
fn responses_cost_counts_cache_writes_at_one_and_a_quarter_and_reasoning_as_output() {
    let chat = Chat::new(Backend::OpenAi);
    user_config(&chat, &priced(""));
    chat.server.push(
        "POST",
        "/v1/responses",
        responses_reply_with_details("hello"),
    );
    let run = chat.chat(&["--api", "responses", "hi"]);
    run.assert_success();
    // 476 uncached x 2.5 = 1190; 1024 cached x 1.25 = 1280; 1500 written x 3.125 = 4687.5;
    // 1035 output x 10 = 10350: 17507.5, rounded up to 17508 micro-dollars.
    assert!(
        run.has_err_line("OpenAI cost: $0.0175 (session $0.0175, today $0.0175)"),
        "{run}"
    );
    let ev = cost_events(&chat);
    assert_eq!(ev[0]["detail"]["cost"]["usd_micros"], 17508, "{ev:?}");
    assert_eq!(ev[0]["detail"]["tokens"]["cache_write"], 1500);
    assert_eq!(ev[0]["detail"]["tokens"]["reasoning"], 832);
    let body = chat.server.requests_to("/v1/responses")[0].json();
    assert!(
        body["prompt_cache_key"]
            .as_str()
            .unwrap()
            .starts_with("goshi-"),
        "{body}"
    );
    // goshi cost reads it back from the ledger.
    let out = chat.run(chat.goshi(&["cost", "--by", "model", "--format", "json"]));
    out.assert_success();
    let j = out.json();
    assert_eq!(j["rows"][0]["model"], MODEL, "{j}");
    assert_eq!(j["total"]["usd_micros"], 17508);
    assert_eq!(j["total"]["usd"], "0.017508");
    assert_eq!(j["total"]["tokens"]["cached"], 1024);
    let text = chat.run(chat.goshi(&["cost", "--since", "7d"]));
    text.assert_success();
    assert!(text.stdout.contains("$0.0175"), "{text}");
}

#[test]
fn local_servers_say_local_and_get_no_cache_key() {
    let ollama = Chat::new(Backend::Ollama);
    ollama.push(Backend::Ollama.text_reply(&["hi"], (12, 3)));
    let run = ollama.chat(&["hi"]);
    run.assert_success();
    assert!(run.has_err_line(&ollama.token_line((12, 3))), "{run}");
    assert!(run.has_err_line("Ollama cost: local"), "{run}");
    // A compatible server (the fake one at 127.0.0.1) is local too, and gets no key.
    let compat = Chat::new(Backend::OpenAi);
    compat.push(Backend::OpenAi.text_reply(&["hi"], (12, 3)));
    let run = compat.chat(&["hi"]);
    run.assert_success();
    assert!(run.has_err_line("OpenAI cost: local"), "{run}");
    assert!(compat.requests()[0].get("prompt_cache_key").is_none());
    assert_eq!(cost_events(&compat)[0]["detail"]["cost"]["status"], "local");
}

#[test]
fn an_unpriced_openai_model_says_cost_unknown() {
    let chat = Chat::new(Backend::OpenAi);
    user_config(&chat, "llm: {openai: {server: openai}}\n");
    chat.push(Backend::OpenAi.text_reply(&["hi"], (12, 3)));
    let run = chat.chat(&["hi"]);
    run.assert_success();
    assert!(
        run.has_err_line("OpenAI cost unknown (add it under cost.prices)"),
        "{run}"
    );
}

#[test]
fn a_cap_refuses_before_anything_is_sent_and_exits_3() {
    let chat = Chat::new(Backend::OpenAi);
    // Worst case: up to 4096 answer tokens at $10 per 1M alone is $0.04.
    user_config(&chat, &priced(", daily_max_usd: 0.01"));
    chat.set_default(Backend::OpenAi.text_reply(&["never"], (1, 1)));
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(run.stderr.contains("cost.daily_max_usd"), "{run}");
    assert!(run.stderr.contains("nothing was sent"), "{run}");
    assert!(run.stderr.contains("raise cost.daily_max_usd"), "{run}");
    assert!(chat.server.requests_to("/v1/chat/completions").is_empty());
    let refused: Vec<Value> = chat
        .audit_events()
        .into_iter()
        .filter(|e| e["type"] == "budget_refused")
        .collect();
    assert_eq!(refused.len(), 1);
}

/// A Chat Completions answer that calls `fs_read` on `a.txt` and reports `prompt` tokens.
fn read_call_reply(id: &str, prompt: u64) -> Reply {
    Reply::sse(&[
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": id,
            "type": "function", "function": {"name": "fs_read", "arguments": "{\"path\":\"a.txt\"}"}}]}}]})
        .to_string(),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}).to_string(),
        json!({"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": 1}}).to_string(),
        "[DONE]".to_string(),
    ])
}

#[test]
fn the_session_cap_holds_in_a_later_round_of_a_tool_loop() {
    let chat = Chat::new(Backend::OpenAi);
    // The first round's worst case fits under $0.10, but it reports 100k prompt tokens
    // ($0.25), so the round that would send the tool result back is refused.
    user_config(
        &chat,
        "llm: {max_tokens: 100, openai: {server: openai}}\n\
         cost: {prices: {test-model: {input: 2.5, output: 10}}, session_max_usd: 0.10}\n",
    );
    chat.write("a.txt", "alpha\n");
    chat.push(read_call_reply("c1", 100_000));
    chat.set_default(Backend::OpenAi.text_reply(&["never"], (1, 1)));
    let run = chat.chat(&["--allow", "fs.read", "read a.txt"]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(run.stderr.contains("cost.session_max_usd"), "{run}");
    assert!(run.has_err_line("→ fs.read a.txt … ✓"), "{run}");
    assert_eq!(
        chat.server.requests_to("/v1/chat/completions").len(),
        1,
        "{run}"
    );
}

#[test]
fn the_daily_cap_holds_across_two_processes_at_once() {
    let chat = Chat::new(Backend::OpenAi);
    // Input is free, so each request's worst case is exactly 500 answer tokens at $10 per
    // 1M: $0.005. Two fit in no $0.009 day: whichever process holds its worst case first
    // (or has already spent its real $0.006) leaves the other too little room.
    user_config(
        &chat,
        "llm: {max_tokens: 500, openai: {server: openai}}\n\
         cost: {prices: {test-model: {input: 0, output: 10}}, daily_max_usd: 0.009}\n",
    );
    chat.set_default(
        Backend::OpenAi
            .text_reply(&["ok"], (10, 600))
            .delay_headers_ms(300),
    );
    let a = chat.std_chat(&["one"]).output_async();
    let b = chat.std_chat(&["two"]).output_async();
    let codes = [a.join().unwrap(), b.join().unwrap()];
    let mut sorted: Vec<Option<i32>> = codes.iter().map(|o| o.0).collect();
    sorted.sort();
    assert_eq!(sorted, vec![Some(0), Some(3)], "{codes:?}");
    assert_eq!(chat.server.requests_to("/v1/chat/completions").len(), 1);
    let j = chat.run(chat.goshi(&["cost", "--format", "json"])).json();
    assert_eq!(j["total"]["usd_micros"], 6000, "{j}");
}

/// Runs a command on its own thread, so that two run at once.
trait OutputAsync {
    fn output_async(self) -> std::thread::JoinHandle<(Option<i32>, String)>;
}

impl OutputAsync for std::process::Command {
    fn output_async(mut self) -> std::thread::JoinHandle<(Option<i32>, String)> {
        std::thread::spawn(move || {
            let out = self.output().unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
    }
}

/// The ledger file of this month in the run's data dir.
fn ledger_file(chat: &Chat) -> std::path::PathBuf {
    let day = goshi::cost::ledger::local_day();
    chat.data
        .path()
        .join("goshi/cost")
        .join(format!("ledger-{}.jsonl", &day[..7]))
}

#[test]
fn the_ledger_survives_a_torn_last_line_and_sets_a_corrupt_one_aside() {
    let chat = Chat::new(Backend::OpenAi);
    user_config(&chat, &priced(""));
    chat.push(chat_reply_with_details("one"));
    chat.chat(&["one"]).assert_success();
    let file = ledger_file(&chat);
    let mut text = std::fs::read_to_string(&file).unwrap();
    // A crash mid-append.
    text.push_str("{\"kind\":\"spend\",\"ts\":\"20");
    std::fs::write(&file, &text).unwrap();
    chat.push(chat_reply_with_details("two"));
    let run = chat.chat(&["two"]);
    run.assert_success();
    assert!(
        run.has_err_line("OpenAI cost: $0.0056 (session $0.0056, today $0.0112)"),
        "{run}"
    );
    assert!(!run.stderr.contains("warning"), "{run}");
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(after.lines().count(), 2, "{after}");
    // Garbage in the middle: set aside with a warning, the readable spend kept.
    std::fs::write(&file, format!("not json\n{after}")).unwrap();
    chat.push(chat_reply_with_details("three"));
    let run = chat.chat(&["three"]);
    run.assert_success();
    assert!(run.stderr.contains("unreadable line"), "{run}");
    assert!(
        run.has_err_line("OpenAI cost: $0.0056 (session $0.0056, today $0.0168)"),
        "{run}"
    );
}

#[test]
fn every_request_starts_with_the_previous_ones_messages_unchanged() {
    for api in ["chat", "responses"] {
        let chat = Chat::new(Backend::OpenAi);
        user_config(&chat, &priced(""));
        chat.write("a.txt", "alpha\n");
        let path = if api == "chat" {
            "/v1/chat/completions"
        } else {
            "/v1/responses"
        };
        if api == "chat" {
            chat.push(read_call_reply("c1", 10));
            chat.push(Backend::OpenAi.text_reply(&["done"], (30, 2)));
        } else {
            chat.server.push("POST", path, Reply::sse(&[
                json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "function_call",
                    "id": "fc1", "call_id": "c1", "name": "fs_read", "arguments": ""}}).to_string(),
                json!({"type": "response.function_call_arguments.done", "output_index": 0, "item_id": "fc1",
                    "arguments": "{\"path\":\"a.txt\"}"}).to_string(),
                json!({"type": "response.completed", "response": {"status": "completed",
                    "usage": {"input_tokens": 10, "output_tokens": 2}}}).to_string(),
            ]));
            chat.server
                .push("POST", path, responses_reply_with_details("done"));
        }
        let run = chat.chat(&["--api", api, "--allow", "fs.read", "read a.txt"]);
        run.assert_success();
        let bodies: Vec<Value> = chat
            .server
            .requests_to(path)
            .iter()
            .map(|r| r.json())
            .collect();
        assert_eq!(bodies.len(), 2, "{api}: {run}");
        let field = if api == "chat" { "messages" } else { "input" };
        let first = bodies[0][field].as_array().unwrap();
        let second = bodies[1][field].as_array().unwrap();
        assert!(second.len() > first.len(), "{api}");
        assert_eq!(
            &second[..first.len()],
            &first[..],
            "{api}: the prefix changed"
        );
        // Serialized identically, byte for byte, too.
        let raw: Vec<String> = chat
            .server
            .requests_to(path)
            .iter()
            .map(|r| r.body_text())
            .collect();
        let prefix = serde_json::to_string(&first[..]).unwrap();
        let prefix = &prefix[..prefix.len() - 1];
        assert!(raw[1].contains(prefix), "{api}: not byte-stable");
        assert_eq!(
            bodies[0]["prompt_cache_key"], bodies[1]["prompt_cache_key"],
            "{api}"
        );
        if api == "responses" {
            assert_eq!(bodies[0]["instructions"], bodies[1]["instructions"]);
        }
    }
}

#[test]
fn a_repeated_identical_tool_call_ends_the_turn_naming_the_tool() {
    let chat = Chat::new(Backend::OpenAi);
    chat.write("a.txt", "alpha\n");
    for id in ["c1", "c2", "c3"] {
        chat.push(read_call_reply(id, 10));
    }
    chat.set_default(Backend::OpenAi.text_reply(&["never"], (1, 1)));
    let run = chat.chat(&["--allow", "fs.read", "read a.txt"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr
            .contains("the model called fs.read with the same arguments more than 2 times"),
        "{run}"
    );
    assert!(run.stderr.contains("llm.max_identical_tool_calls"), "{run}");
    // Two reads ran; the third call was answered without running, and nothing more was asked.
    assert_eq!(
        run.stderr.matches("→ fs.read a.txt … ✓").count(),
        2,
        "{run}"
    );
    assert_eq!(chat.server.requests_to("/v1/chat/completions").len(), 3);
    let stopped: Vec<Value> = chat
        .audit_events()
        .into_iter()
        .filter(|e| e["type"] == "tool_loop_stopped")
        .collect();
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0]["tool"], "fs.read");
}

#[test]
fn a_repository_config_cannot_lift_the_users_caps() {
    let chat = Chat::new(Backend::OpenAi);
    user_config(&chat, &priced(", daily_max_usd: 0.01"));
    // The cloned repository's own config tries to price the model at zero and lift the cap.
    chat.config("cost: {prices: {test-model: {input: 0, output: 0}}, daily_max_usd: 1000}\nllm: {openai: {server: openai}}\n");
    chat.set_default(Backend::OpenAi.text_reply(&["never"], (1, 1)));
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(run.stderr.contains("cost from ./goshi.yaml"), "{run}");
    assert!(chat.server.requests_to("/v1/chat/completions").is_empty());
}

#[test]
fn an_answer_cut_off_before_its_usage_report_is_charged_at_an_estimate_and_counts_toward_the_cap() {
    let chat = Chat::new(Backend::OpenAi);
    // A cap far above the estimate: the first answer fits, and is counted.
    user_config(&chat, &priced(", daily_max_usd: 5"));
    let b = Backend::OpenAi;
    chat.push(
        b.unfinished_text_reply(&["a partial answer that the server ", "cut off"])
            .disconnect(),
    );
    let run = chat.chat(&["hi"]);
    assert_eq!(run.code, Some(1), "{run}");
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("OpenAI cost: $"))
        .unwrap_or_else(|| panic!("no cost line: {run}"));
    assert!(
        line.ends_with("(estimated: the server reported no token usage)"),
        "{line}"
    );
    let ev = cost_events(&chat);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0]["detail"]["cost"]["estimated"], true);
    assert_eq!(ev[0]["detail"]["tokens_estimated"], true);
    assert!(ev[0]["detail"]["cost"]["usd_micros"].as_u64().unwrap() > 0);
    // It is in the ledger: `goshi cost` counts it.
    let report = chat.run(chat.goshi(&["cost", "--format", "json"]));
    assert_eq!(report.code, Some(0), "{report}");
    let v: Value = serde_json::from_str(&report.stdout).unwrap();
    assert_eq!(v["total"]["responses"], 1, "{v}");
    assert_eq!(
        v["total"]["usd_micros"], ev[0]["detail"]["cost"]["usd_micros"],
        "{v}"
    );
}
