//! The server addresses in the configuration: checked, normalized, and `OLLAMA_HOST` read the
//! way Ollama reads it.

use super::load::{bad, ConfigError};

/// Whether `url` names a port itself (`http://host:80`, `http://[::1]:8080/x`).
pub(super) fn has_explicit_port(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let after_host = match host_port.rfind(']') {
        Some(i) => &host_port[i + 1..],
        None => host_port,
    };
    after_host
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads `OLLAMA_HOST` the way Ollama does: `host`, `host:port`, or a full URL.
pub(super) fn parse_ollama_host(value: &str) -> Result<String, ConfigError> {
    let v = value.trim();
    let with_scheme = if v.contains("://") {
        v.to_string()
    } else {
        format!("http://{v}")
    };
    let mut u = url::Url::parse(&with_scheme).map_err(|e| {
        bad(
            "OLLAMA_HOST",
            format!("{value:?} is not a host, host:port or URL ({e}); example: 127.0.0.1:11434"),
        )
    })?;
    if u.port().is_none() && !v.contains("://") {
        let _ = u.set_port(Some(11434));
    }
    normalize_http_url("OLLAMA_HOST", u.as_str())
}

pub(super) fn normalize_http_url(key: &str, value: &str) -> Result<String, ConfigError> {
    let u = url::Url::parse(value.trim()).map_err(|e| {
        bad(
            key,
            format!("{value:?} is not a valid URL ({e}); example: http://127.0.0.1:8080/v1"),
        )
    })?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(bad(
            key,
            format!("{value:?} must start with http:// or https://"),
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad(key, format!("{value:?} has no host")));
    }
    Ok(u.as_str().trim_end_matches('/').to_string())
}
