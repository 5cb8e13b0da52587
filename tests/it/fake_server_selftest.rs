//! Proves each feature of the fake HTTP server in `tests/support` with reqwest.

use crate::support;

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use support::*;

/// Generous bound so a stuck test fails instead of hanging; never a timing assertion.
const EVENTUALLY: Duration = Duration::from_secs(10);

/// A client that ignores any `HTTP_PROXY` in the environment.
fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(server: &FakeServer, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", server.url()))
        .send()
        .await
        .unwrap()
}

/// Reads the body part by part, returning the parts as received.
async fn read_parts(response: reqwest::Response) -> Result<Vec<Vec<u8>>, reqwest::Error> {
    let mut stream = response.bytes_stream();
    let mut parts = Vec::new();
    while let Some(part) = tokio::time::timeout(EVENTUALLY, stream.next())
        .await
        .unwrap()
    {
        parts.push(part?.to_vec());
    }
    Ok(parts)
}

#[tokio::test]
async fn queued_replies_in_order_then_default_then_nothing_scripted() {
    let server = FakeServer::start();
    server.push("GET", "/a", Reply::text(200, "text/plain", "first"));
    server.push("get", "/a", Reply::text(201, "text/plain", "second"));
    server.set_default("GET", "/a", Reply::text(202, "text/plain", "default"));
    assert_eq!(server.queued("GET", "/a"), 2);

    for (status, body) in [
        (200, "first"),
        (201, "second"),
        (202, "default"),
        (202, "default"),
    ] {
        let response = get(&server, "/a").await;
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.text().await.unwrap(), body);
    }
    assert_eq!(server.queued("GET", "/a"), 0);

    // Same path, other method: nothing scripted.
    let response = client()
        .post(format!("{}/a", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), UNSCRIPTED_STATUS);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "fake server: nothing scripted for POST /a"
    );
}

#[tokio::test]
async fn status_and_headers() {
    let server = FakeServer::start();
    server.push(
        "GET",
        "/h",
        Reply::new(429)
            .header("retry-after", "7")
            .header("X-Multi", "one")
            .header("x-multi", "two")
            .chunk("slow down"),
    );
    server.push("GET", "/j", Reply::json(401, json!({"error": "nope"})));

    let response = get(&server, "/h").await;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let multi: Vec<_> = response.headers().get_all("x-multi").iter().collect();
    assert_eq!(multi, ["one", "two"]);
    // Streaming replies are chunked, so a disconnect can be detected.
    assert!(response.headers().get("content-length").is_none());
    assert_eq!(response.text().await.unwrap(), "slow down");

    let response = get(&server, "/j").await;
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["content-length"], "16");
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"error": "nope"})
    );
}

#[tokio::test]
async fn split_body_arrives_intact_in_parts() {
    let server = FakeServer::start();
    // Cuts inside a CRLF and inside the 3-byte "€" and 4-byte emoji.
    let body = "data: h€llo\r\n\r\ndata: 🦀\r\n\r\n".as_bytes();
    let euro = body.iter().position(|&b| b == 0xE2).unwrap();
    let crab = body.iter().position(|&b| b == 0xF0).unwrap();
    let cuts = [crab + 2, 1, euro + 1, 14, euro + 2, 1, body.len()];
    server.push("GET", "/s", Reply::split("text/event-stream", body, &cuts));

    let response = get(&server, "/s").await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let parts = read_parts(response).await.unwrap();
    assert_eq!(parts.concat(), body);
    // Chunked encoding preserves the boundaries here (tests must not rely on it in general).
    assert!(parts.len() > 1, "expected several parts, got {parts:?}");
}

#[tokio::test]
async fn sse_and_ndjson_helpers() {
    let server = FakeServer::start();
    server.push("GET", "/sse", Reply::sse(&["{\"a\":1}", "[DONE]"]));
    server.push(
        "GET",
        "/nd",
        Reply::ndjson(&[json!({"a": 1}), json!({"b": 2})]),
    );

    let response = get(&server, "/sse").await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(
        response.text().await.unwrap(),
        "data: {\"a\":1}\n\ndata: [DONE]\n\n"
    );
    let response = get(&server, "/nd").await;
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    assert_eq!(response.text().await.unwrap(), "{\"a\":1}\n{\"b\":2}\n");
}

#[tokio::test]
async fn delays_eventually_deliver_everything() {
    let server = FakeServer::start();
    server.push(
        "GET",
        "/d",
        Reply::new(200)
            .delay_headers_ms(50)
            .chunk("a")
            .delay_ms(50)
            .chunk("b")
            .delay_ms(50),
    );
    let response = tokio::time::timeout(EVENTUALLY, get(&server, "/d"))
        .await
        .unwrap();
    let parts = read_parts(response).await.unwrap();
    assert_eq!(parts.concat(), b"ab");
}

#[tokio::test]
async fn disconnect_mid_body_is_an_error() {
    let server = FakeServer::start();
    server.push(
        "GET",
        "/x",
        Reply::new(200).chunk("partial").disconnect().chunk("never"),
    );
    let response = get(&server, "/x").await;
    assert_eq!(response.status().as_u16(), 200);
    let mut stream = response.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(&first[..], b"partial");
    let next = tokio::time::timeout(EVENTUALLY, stream.next())
        .await
        .unwrap();
    assert!(
        matches!(&next, Some(Err(e)) if e.is_decode() || e.is_body()),
        "expected a body error, got {next:?}"
    );

    // The whole-body helpers fail too.
    server.push("GET", "/x", Reply::new(200).chunk("partial").disconnect());
    assert!(get(&server, "/x").await.text().await.is_err());
}

#[tokio::test]
async fn stall_keeps_the_connection_open_without_data() {
    let server = FakeServer::start();
    server.push("GET", "/st", Reply::new(200).chunk("head").stall());
    let response = get(&server, "/st").await;
    let mut stream = response.bytes_stream();
    assert_eq!(&stream.next().await.unwrap().unwrap()[..], b"head");
    let next = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(next.is_err(), "expected the read to time out, got {next:?}");

    // Meanwhile other connections are served, and dropping the server ends the stall.
    server.push("GET", "/ok", Reply::text(200, "text/plain", "ok"));
    assert_eq!(get(&server, "/ok").await.text().await.unwrap(), "ok");
    drop(server);
    let after = tokio::time::timeout(EVENTUALLY, stream.next())
        .await
        .unwrap();
    assert!(matches!(after, Some(Err(_))), "got {after:?}");
}

#[tokio::test]
async fn hang_never_sends_headers() {
    let server = FakeServer::start();
    server.push("GET", "/hang", Reply::hang());
    let pending = tokio::time::timeout(Duration::from_millis(300), get(&server, "/hang")).await;
    assert!(pending.is_err());
}

#[tokio::test]
async fn requests_are_recorded_with_headers_query_and_body() {
    let server = FakeServer::start();
    server.set_default("POST", "/v1/chat", Reply::json(200, json!({"ok": true})));
    let client = client();
    for n in 0..2 {
        client
            .post(format!("{}/v1/chat?stream=true", server.url()))
            .header("Authorization", "Bearer sk-test")
            .json(&json!({"n": n}))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }
    client
        .get(format!("{}/other", server.url()))
        .send()
        .await
        .unwrap();

    let all = server.requests();
    assert_eq!(all.len(), 3);
    let chat = server.requests_to("/v1/chat");
    assert_eq!(chat.len(), 2);
    for (n, request) in chat.iter().enumerate() {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v1/chat");
        assert_eq!(request.query.as_deref(), Some("stream=true"));
        assert_eq!(request.header("authorization").unwrap(), "Bearer sk-test");
        assert_eq!(request.header("Content-Type").unwrap(), "application/json");
        assert!(request
            .headers
            .iter()
            .any(|(name, _)| name == "authorization"));
        assert_eq!(request.json(), json!({"n": n}));
    }
    assert_eq!(all[2].path, "/other");
    assert_eq!(all[2].query, None);
    assert!(all[2].body.is_empty());
}

#[tokio::test]
async fn concurrent_requests_and_keep_alive() {
    let server = FakeServer::start();
    server.set_default(
        "GET",
        "/c",
        Reply::new(200).chunk("x").delay_ms(100).chunk("y"),
    );
    let client = client();
    let fetches = (0..8).map(|_| {
        let client = client.clone();
        let url = format!("{}/c", server.url());
        async move { client.get(url).send().await?.text().await }
    });
    let bodies = futures_util::future::join_all(fetches).await;
    for body in bodies {
        assert_eq!(body.unwrap(), "xy");
    }
    // Reused (keep-alive) connections keep working.
    for _ in 0..3 {
        let body = client.get(format!("{}/c", server.url())).send().await;
        assert_eq!(body.unwrap().text().await.unwrap(), "xy");
    }
    assert_eq!(server.requests_to("/c").len(), 11);
}

/// Works from a plain `#[test]` (like the assert_cmd CLI tests) with a small client runtime.
#[test]
fn works_from_a_plain_test() {
    let server = FakeServer::start();
    server.push("GET", "/plain", Reply::sse(&["hi"]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = runtime.block_on(async { get(&server, "/plain").await.text().await.unwrap() });
    assert_eq!(body, "data: hi\n\n");
    assert_eq!(server.requests().len(), 1);
}
