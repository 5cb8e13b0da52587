//! A proxy meant for the internet never captures a server on this machine.

use crate::support;
use crate::support::hermetic;

use hermetic::Sandbox;
use support::*;

#[test]
fn a_local_server_is_reached_directly_despite_http_proxy() {
    let server = FakeServer::start();
    server.push(
        "POST",
        "/v1/chat/completions",
        Reply::sse(&[
            r#"{"choices":[{"index":0,"delta":{"content":"direct"},"finish_reason":"stop"}]}"#,
            "[DONE]",
        ]),
    );
    let sb = Sandbox::new();
    // Port 9 (discard) has nothing listening: going through this "proxy" would fail.
    let out = sb
        .goshi(&[
            "chat",
            "--provider",
            "openai",
            "--base-url",
            &format!("{}/v1", server.url()),
            "--model",
            "m",
            "hi",
        ])
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "direct\n");
}
