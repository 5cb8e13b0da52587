//! Masking secrets before anything reaches the audit file (see [`crate::audit`]), and
//! credentials in server text shown to people ([`mask_credentials`]).
//!
//! Every masked value becomes [`MASK`] (`***REDACTED***`), whole: no prefix is kept, so
//! nothing of a key ever lands on disk.
//!
//! Two layers:
//!
//! - **Exact secrets** (always, whatever `audit.redact` says): every occurrence of the strings
//!   given to [`Redactor::new`] (the API key), in values and in object keys. Strings shorter
//!   than [`MIN_SECRET_LEN`] (8) bytes are ignored: no real key is that short and masking
//!   them would shred the log. Should a secret survive in a form masking cannot reach (say,
//!   as a JSON number), the writer drops that event's details rather than write it.
//! - **Patterns** (only with `audit.redact: true`), in every string:
//!   - OpenAI-style keys: a word starting `sk-` (so `sk-proj-…` too) with at least 16 more
//!     characters of `[A-Za-z0-9_-]`;
//!   - AWS access key ids: `AKIA…`/`ASIA…` and 16 uppercase letters or digits;
//!   - `Bearer <token>` (any case): the token, when it has 8 or more characters;
//!   - `Authorization: …` / `authorization=…`: everything up to the end of the line or a quote;
//!   - `<key>: <value>` or `<key>=<value>` (quotes allowed around either) where the key is
//!     secret-like (see [`KeyKind`]): the value up to a space, quote, `,`, `;`, `&` or bracket.
//!
//!   In JSON objects the same keys mask their string values directly.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// What a masked value is replaced with.
pub const MASK: &str = "***REDACTED***";

/// Exact secrets shorter than this many bytes are not masked.
pub const MIN_SECRET_LEN: usize = 8;

/// What a secret-like key guards; decides how much evidence the value needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Names ending in `password`, `passwd`, `passphrase`, `secret`, `secret_key`,
    /// `private_key`, `secret_access_key`: any non-empty value is masked.
    Password,
    /// Names ending in `api_key`, `token`, `access_key`, `auth_key`: the value is masked when
    /// it looks like a token (see [`looks_like_token`]), so `max_tokens: 4096` stays readable.
    Token,
    /// Names ending in `authorization`: the whole value is masked.
    Authorization,
}

/// Classifies a key name, ignoring case, `_` and `-` (`OPENAI_API_KEY`, `x-api-key`,
/// `accessToken` are all [`KeyKind::Token`]).
pub fn classify_key(key: &str) -> Option<KeyKind> {
    let k: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let ends = |list: &[&str]| list.iter().any(|s| k.ends_with(s));
    if ends(&["authorization"]) {
        Some(KeyKind::Authorization)
    } else if ends(&[
        "password",
        "passwd",
        "passphrase",
        "secret",
        "secretkey",
        "privatekey",
        "secretaccesskey",
    ]) {
        Some(KeyKind::Password)
    } else if ends(&["apikey", "token", "accesskey", "authkey"]) {
        Some(KeyKind::Token)
    } else {
        None
    }
}

/// A long, mixed value: at least 12 characters using at least two of lowercase, uppercase
/// and digits (`ghp_16C7e42F…`, a hex digest), but not `completion_details` or `4096`.
pub fn looks_like_token(v: &str) -> bool {
    let lower = v.bytes().any(|b| b.is_ascii_lowercase());
    let upper = v.bytes().any(|b| b.is_ascii_uppercase());
    let digit = v.bytes().any(|b| b.is_ascii_digit());
    v.chars().count() >= 12 && (u8::from(lower) + u8::from(upper) + u8::from(digit)) >= 2
}

fn should_mask(kind: KeyKind, value: &str) -> bool {
    match kind {
        KeyKind::Password | KeyKind::Authorization => !value.is_empty(),
        KeyKind::Token => value == MASK || looks_like_token(value),
    }
}

/// Masks secrets in text and JSON. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is masked whole.
    secrets: Vec<String>,
    patterns: bool,
}

impl Redactor {
    /// Masks the exact `secrets` always, and the patterns too when `patterns` is true.
    pub fn new(secrets: Vec<String>, patterns: bool) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets, patterns }
    }

    /// The text with secrets masked.
    pub fn text(&self, s: &str) -> String {
        let exact = self.exact(s);
        if self.patterns {
            mask_patterns(&exact)
        } else {
            exact.into_owned()
        }
    }

    /// The value with secrets masked in every string and object key.
    pub fn value(&self, v: Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.text(&s)),
            Value::Array(items) => Value::Array(items.into_iter().map(|i| self.value(i)).collect()),
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (k, v) in map {
                    let v = match classify_key(&k).filter(|_| self.patterns) {
                        Some(kind) => self.keyed(kind, v),
                        None => self.value(v),
                    };
                    out.insert(self.exact(&k).into_owned(), v);
                }
                Value::Object(out)
            }
            other => other,
        }
    }

    /// Whether `s` still holds one of the exact secrets, as is or JSON-escaped.
    pub fn leaks(&self, s: &str) -> bool {
        self.secrets
            .iter()
            .any(|x| s.contains(x.as_str()) || s.contains(escaped(x).as_str()))
    }

    fn keyed(&self, kind: KeyKind, v: Value) -> Value {
        match v {
            Value::String(s) => {
                let s = self.text(&s);
                Value::String(if should_mask(kind, &s) {
                    MASK.into()
                } else {
                    s
                })
            }
            Value::Number(_) if kind == KeyKind::Password => Value::String(MASK.into()),
            other => self.value(other),
        }
    }

    fn exact<'a>(&self, s: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(s);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), MASK));
            }
        }
        out
    }
}

/// `s` with everything that looks like a credential masked (the patterns above): for server
/// text shown or logged, which may echo the `Authorization` header back.
pub fn mask_credentials(s: &str) -> String {
    mask_patterns(s)
}

/// How `s` appears inside a JSON string literal (`"` as `\"`, a newline as `\n`, ...).
fn escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(s)
        .to_string()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_token_char(b: u8) -> bool {
    is_word(b) || matches!(b, b'.' | b'~' | b'+' | b'/' | b'=')
}

/// Masks the pattern matches in `s` (see the module docs).
fn mask_patterns(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let starts_word = is_word(b[i]) && (i == 0 || !is_word(b[i - 1]));
        if !starts_word {
            i += 1;
            continue;
        }
        let end = run(b, i, is_word);
        match secret_after_word(s, i, end) {
            // Every range starts and ends next to ASCII bytes or the ends, so slicing is safe.
            Some((from, to)) => {
                out.push_str(&s[copied..from]);
                out.push_str(MASK);
                copied = to;
                i = to.max(end);
            }
            None => i = end,
        }
    }
    out.push_str(&s[copied..]);
    out
}

/// The end of the run of bytes from `start` that satisfy `ok`.
fn run(b: &[u8], start: usize, ok: impl Fn(u8) -> bool) -> usize {
    b[start..]
        .iter()
        .position(|c| !ok(*c))
        .map_or(b.len(), |p| start + p)
}

/// An AWS access key id: `AKIA` (long-term) or `ASIA` (temporary) and 16 more uppercase
/// letters or digits (AWS IAM docs, "Understanding unique ID prefixes", checked 2026-11-30).
fn is_aws_access_key_id(word: &str) -> bool {
    word.len() == 20
        && (word.starts_with("AKIA") || word.starts_with("ASIA"))
        && word[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The byte range to mask for the word `s[start..end]`, if any.
fn secret_after_word(s: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let b = s.as_bytes();
    let word = &s[start..end];
    if word.starts_with("sk-") && word.len() >= 3 + 16 {
        return Some((start, end));
    }
    if is_aws_access_key_id(word) {
        return Some((start, end));
    }
    if word.eq_ignore_ascii_case("bearer") {
        let tok = run(b, end, |c| c == b' ' || c == b'\t');
        let tok_end = run(b, tok, is_token_char);
        return (tok > end && tok_end - tok >= 8 && &s[tok..tok_end] != MASK)
            .then_some((tok, tok_end));
    }
    let kind = classify_key(word)?;
    // key ["'] spaces (: or =) spaces ["'] value
    let mut j = end;
    if matches!(b.get(j), Some(b'"' | b'\'')) {
        j += 1;
    }
    j = run(b, j, |c| c == b' ' || c == b'\t');
    if !matches!(b.get(j), Some(b':' | b'=')) {
        return None;
    }
    j = run(b, j + 1, |c| c == b' ' || c == b'\t');
    if matches!(b.get(j), Some(b'"' | b'\'')) {
        j += 1;
    }
    let value_end = match kind {
        KeyKind::Authorization => run(b, j, |c| !matches!(c, b'\n' | b'\r' | b'"' | b'\'')),
        _ => run(b, j, |c| {
            !(c.is_ascii_whitespace()
                || matches!(
                    c,
                    b'"' | b'\'' | b',' | b';' | b'&' | b'(' | b')' | b'[' | b']' | b'{' | b'}'
                ))
        }),
    };
    let value = s[j..value_end].trim_end();
    let value_end = j + value.len();
    (value != MASK && should_mask(kind, value)).then_some((j, value_end))
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
