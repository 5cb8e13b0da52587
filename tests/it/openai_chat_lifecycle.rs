//! The OpenAI Chat Completions backend talking to "OpenAI itself" (the fake server): model
//! lifecycle warnings from the table and from the live `shutdown_date`, its once-a-day cache,
//! the 404 of a retired model, and the OpenAI-only token field and hints.
//!
//! The live look-up reads and writes the user cache dir, so every test here that uses an
//! OpenAI-server backend holds [`CacheDir::isolate`] (one lock, `XDG_CACHE_HOME` pointing at
//! a fresh temporary dir).

use crate::support;
use crate::support::openai_common;

use goshi::llm::openai::lifecycle::{self, today};
use goshi::llm::openai::shutdown;
use goshi::llm::ErrorKind;
use openai_common::*;
use serde_json::{json, Value};
use support::*;

fn model_path(model: &str) -> String {
    format!("/v1/models/{model}")
}

fn model_object(model: &str, shutdown_date: Option<&str>) -> Reply {
    Reply::json(
        200,
        json!({"id": model, "object": "model", "created": 1_686_935_002, "owned_by": "system",
               "shutdown_date": shutdown_date}),
    )
}

fn not_found(model: &str) -> Reply {
    Reply::json(
        404,
        json!({"error": {"message": format!("The model `{model}` does not exist or you do not have access to it."),
                         "type": "invalid_request_error", "param": null, "code": "model_not_found"}}),
    )
}

/// The warning notice goshi gives for `model` today with `live` from the server.
fn expected_warning(model: &str, live: Option<Option<String>>) -> String {
    let n = lifecycle::status(model, &today(), live)
        .notice(model)
        .expect("a warning");
    goshi::cli::hints::notice_text(&n)
}

fn cache_json(cache: &CacheDir) -> Value {
    serde_json::from_str(&std::fs::read_to_string(cache.file()).unwrap()).unwrap()
}

#[tokio::test]
async fn a_deprecated_table_model_warns_once_per_session() {
    let _cache = CacheDir::isolate();
    let server = FakeServer::start();
    server.set_default("POST", CHAT, ok_stream());
    // The live look-up fails: the table decides.
    server.set_default("GET", &model_path("gpt-4o"), Reply::new(500));
    let (backend, notes) = openai(&server, 0);
    run_ok(&backend, &request("gpt-4o")).await;
    run_ok(&backend, &request("gpt-4o")).await;
    let want = expected_warning("gpt-4o", None);
    assert_eq!(said(&notes), vec![want.clone()]);
    assert!(want.contains("2027-01-14"), "{want}");
    assert!(want.contains("use gpt-6-luna instead"), "{want}");
    if today().as_str() < "2027-01-14" {
        assert_eq!(
            want,
            "warning: OpenAI model gpt-4o is deprecated and shuts down on 2027-01-14; \
             use gpt-6-luna instead (set llm.model, GOSHI_MODEL or --model)"
        );
    }
    // One look-up per session, before the first chat request, with the key.
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("GET", "/v1/models/gpt-4o")
    );
    assert_eq!(
        reqs[0].header("authorization").as_deref(),
        Some("Bearer sk-test")
    );
    assert_eq!(server.requests_to(CHAT).len(), 2);
    // A dated snapshot warns for its family.
    server.set_default("GET", &model_path("gpt-4o-2024-08-06"), Reply::new(404));
    run_ok(&backend, &request("gpt-4o-2024-08-06")).await;
    assert_eq!(said(&notes).len(), 2);
    assert!(said(&notes)[1].contains("gpt-4o-2024-08-06"));
}

#[tokio::test]
async fn the_live_shutdown_date_warns_and_is_fetched_at_most_once_a_day() {
    let cache = CacheDir::isolate();
    let server = FakeServer::start();
    server.set_default("POST", CHAT, ok_stream());
    server.set_default(
        "GET",
        &model_path("acme-1"),
        model_object("acme-1", Some("2099-06-30")),
    );
    let want = "warning: OpenAI model acme-1 is deprecated and shuts down on 2099-06-30; \
                pick another model (goshi models lists them)";
    let (backend, notes) = openai(&server, 0);
    run_ok(&backend, &request("acme-1")).await;
    assert_eq!(said(&notes), vec![want.to_string()]);
    let base = format!("{}/v1", server.url());
    assert_eq!(
        cache_json(&cache)["models"][format!("{base} acme-1")],
        json!({"checked": today(), "shutdown_date": "2099-06-30"})
    );
    // A new session the same day warns from the cache, without asking again.
    let (backend, notes) = openai(&server, 0);
    run_ok(&backend, &request("acme-1")).await;
    assert_eq!(said(&notes), vec![want.to_string()]);
    assert_eq!(server.requests_to(&model_path("acme-1")).len(), 1);
    // A check from another day is stale: asked again.
    shutdown::store(&base, "acme-1", "2000-01-01", None);
    let (backend, notes) = openai(&server, 0);
    run_ok(&backend, &request("acme-1")).await;
    assert_eq!(said(&notes), vec![want.to_string()]);
    assert_eq!(server.requests_to(&model_path("acme-1")).len(), 2);

    // A live "no shutdown" overrides the table, and is cached too.
    server.set_default("GET", &model_path("gpt-4o"), model_object("gpt-4o", None));
    for _ in 0..2 {
        let (backend, notes) = openai(&server, 0);
        run_ok(&backend, &request("gpt-4o")).await;
        assert!(said(&notes).is_empty(), "{:?}", said(&notes));
    }
    assert_eq!(server.requests_to(&model_path("gpt-4o")).len(), 1);
    assert_eq!(
        cache_json(&cache)["models"][format!("{base} gpt-4o")],
        json!({"checked": today(), "shutdown_date": null})
    );
}

#[tokio::test]
async fn a_retired_model_says_it_is_gone_and_its_404_names_the_replacement() {
    let _cache = CacheDir::isolate();
    let server = FakeServer::start();
    server.set_default("GET", &model_path("gpt-4-turbo"), not_found("gpt-4-turbo"));
    server.push("POST", CHAT, not_found("gpt-4-turbo"));
    let (backend, notes) = openai(&server, 3);
    let err = run_err(&backend, &request("gpt-4-turbo")).await;
    assert_eq!(
        said(&notes),
        vec![
            "warning: OpenAI model gpt-4-turbo was shut down on 2026-10-23 and no longer answers; \
             use gpt-5.6-sol instead (set llm.model, GOSHI_MODEL or --model)"
                .to_string()
        ]
    );
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.message, "model gpt-4-turbo was not found (HTTP 404)");
    assert_eq!(
        goshi::cli::hints::hint(&err).as_deref(),
        Some("gpt-4-turbo was shut down on 2026-10-23; use gpt-5.6-sol instead (set llm.model, GOSHI_MODEL or --model)")
    );
    assert_eq!(server.requests_to(CHAT).len(), 1);

    // Retired by the live date, with no known replacement: the generic hint.
    server.set_default(
        "GET",
        &model_path("acme-old"),
        model_object("acme-old", Some("2020-01-01")),
    );
    server.push("POST", CHAT, not_found("acme-old"));
    let err = run_err(&backend, &request("acme-old")).await;
    assert_eq!(
        said(&notes)[1],
        "warning: OpenAI model acme-old was shut down on 2020-01-01 and no longer answers; \
         pick another model (goshi models lists them)"
    );
    assert!(goshi::cli::hints::hint(&err)
        .unwrap()
        .contains("goshi models"));
}

#[tokio::test]
async fn a_model_retired_by_its_live_date_names_the_replacement_on_404() {
    let _cache = CacheDir::isolate();
    let server = FakeServer::start();
    // OpenAI moved the shutdown earlier than the table says.
    server.set_default(
        "GET",
        &model_path("gpt-4o"),
        model_object("gpt-4o", Some("2026-01-05")),
    );
    server.push("POST", CHAT, not_found("gpt-4o"));
    let (backend, notes) = openai(&server, 0);
    let err = run_err(&backend, &request("gpt-4o")).await;
    assert_eq!(
        said(&notes),
        vec![expected_warning("gpt-4o", Some(Some("2026-01-05".into())))]
    );
    assert_eq!(
        goshi::cli::hints::hint(&err).as_deref(),
        Some("gpt-4o was shut down on 2026-01-05; use gpt-6-luna instead (set llm.model, GOSHI_MODEL or --model)")
    );
}

#[tokio::test]
async fn compatible_servers_get_no_lifecycle_warnings_or_look_ups() {
    // No lock: a compatible backend never touches the cache dir.
    let server = FakeServer::start();
    server.set_default("POST", CHAT, ok_stream());
    let (backend, notes) = compat(&server);
    for model in ["gpt-4o", "gpt-4-turbo", "gpt-4o-2024-05-13"] {
        run_ok(&backend, &request(model)).await;
    }
    server.push("POST", CHAT, not_found("gpt-4-turbo"));
    let err = run_err(&backend, &request("gpt-4-turbo")).await;
    assert!(said(&notes).is_empty(), "{:?}", said(&notes));
    assert!(goshi::cli::hints::hint(&err)
        .unwrap()
        .starts_with("run `goshi models`"));
    assert!(server.requests().iter().all(|r| r.method == "POST"));
    // Compatible servers get `max_tokens` by default.
    let body = server.requests_to(CHAT)[0].json();
    assert_eq!(body["max_tokens"], json!(100));
    assert_eq!(body.get("max_completion_tokens"), None);
}

#[tokio::test]
async fn openai_sends_max_completion_tokens_and_falls_back_to_max_tokens() {
    let _cache = CacheDir::isolate();
    let server = FakeServer::start();
    server.set_default(
        "GET",
        &model_path("gpt-6-luna"),
        model_object("gpt-6-luna", None),
    );
    server.push(
        "POST",
        CHAT,
        Reply::json(
            400,
            json!({"error": {"message": "Unsupported parameter: 'max_completion_tokens' is not supported with this model. Use 'max_tokens' instead.",
                             "type": "invalid_request_error", "param": "max_completion_tokens",
                             "code": "unsupported_parameter"}}),
        ),
    );
    server.set_default("POST", CHAT, ok_stream());
    let (backend, notes) = openai(&server, 0);
    run_ok(&backend, &request("gpt-6-luna")).await;
    run_ok(&backend, &request("gpt-6-luna")).await;
    let bodies: Vec<Value> = server.requests_to(CHAT).iter().map(|r| r.json()).collect();
    assert_eq!(bodies.len(), 3);
    assert_eq!(bodies[0]["max_completion_tokens"], json!(100));
    assert_eq!(bodies[0].get("max_tokens"), None);
    for b in &bodies[1..] {
        assert_eq!(b["max_tokens"], json!(100));
        assert_eq!(b.get("max_completion_tokens"), None);
    }
    assert_eq!(
        said(&notes),
        vec![
            "the server does not accept `max_completion_tokens` for gpt-6-luna; retrying with \
             `max_tokens` (set llm.openai.max_tokens_field: max_tokens in goshi.yaml to skip this)"
                .to_string()
        ]
    );
}

#[tokio::test]
async fn openai_401_tells_how_to_set_the_key() {
    let _cache = CacheDir::isolate();
    let server = FakeServer::start();
    let body = json!({"error": {"message": "Incorrect API key provided: sk-test.",
                                "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}});
    server.set_default(
        "GET",
        &model_path("gpt-6-luna"),
        Reply::json(401, body.clone()),
    );
    server.push("POST", CHAT, Reply::json(401, body));
    server.push("POST", CHAT, ok_stream()); // must stay unused
    let (backend, notes) = openai(&server, 3);
    let err = run_err(&backend, &request("gpt-6-luna")).await;
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(
        goshi::cli::hints::hint(&err).as_deref(),
        Some("set a valid key: export OPENAI_API_KEY=sk-... (create one at https://platform.openai.com/api-keys)")
    );
    assert_eq!(err.code.as_deref(), Some("invalid_api_key"));
    assert_eq!(server.requests_to(CHAT).len(), 1);
    assert!(said(&notes).is_empty());
}
