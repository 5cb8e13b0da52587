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
            .any(|x| s.contains(x.as_str()) || s.contains(escaped(x).as_ref()))
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

/// How `s` appears inside a JSON string literal.
fn escaped(s: &str) -> Cow<'_, str> {
    match serde_json::to_string(s) {
        Ok(q) if q.len() >= 2 && q[1..q.len() - 1] != *s => Cow::Owned(q[1..q.len() - 1].into()),
        _ => Cow::Borrowed(s),
    }
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
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "sk-proj-AbCdEf0123456789xyzXYZ";

    fn on() -> Redactor {
        Redactor::new(vec![], true)
    }

    #[test]
    fn masks_openai_keys_in_text() {
        let r = on();
        assert_eq!(r.text(&format!("key is {KEY}.")), format!("key is {MASK}."));
        assert_eq!(
            r.text("OPENAI_API_KEY=sk-abcdefghijklmnop1234"),
            format!("OPENAI_API_KEY={MASK}")
        );
        // Too short, or part of another word: left alone.
        assert_eq!(r.text("sk-short"), "sk-short");
        assert_eq!(
            r.text("task-abcdefghijklmnopqrstu"),
            "task-abcdefghijklmnopqrstu"
        );
    }

    #[test]
    fn masks_aws_access_key_ids() {
        let r = on();
        assert_eq!(
            r.text("aws_access_key_id AKIAIOSFODNN7EXAMPLE, temp ASIAY34FZKBOKMUTVV7A."),
            format!("aws_access_key_id {MASK}, temp {MASK}.")
        );
        // Not the shape of one: readable.
        assert_eq!(
            r.text("AKIAshort AKIAIOSFODNN7EXAMPLEX"),
            "AKIAshort AKIAIOSFODNN7EXAMPLEX"
        );
    }

    #[test]
    fn masks_bearer_and_authorization() {
        let r = on();
        assert_eq!(
            r.text("curl -H 'Authorization: Bearer abc.def-123456' x"),
            format!("curl -H 'Authorization: {MASK}' x")
        );
        assert_eq!(
            r.text("token was bearer   eyJhbGciOiJIUzI1NiJ9.e30 ok"),
            format!("token was bearer   {MASK} ok")
        );
        assert_eq!(
            r.text("authorization=Basic dXNlcjpwYXNz\nnext"),
            format!("authorization={MASK}\nnext")
        );
        assert_eq!(r.text("Bearer short"), "Bearer short");
    }

    #[test]
    fn masks_values_after_secret_like_keys_in_text() {
        let r = on();
        assert_eq!(
            r.text("url?api_key=Ab12Cd34Ef56Gh78&x=1"),
            format!("url?api_key={MASK}&x=1")
        );
        assert_eq!(
            r.text(r#"{"github_token": "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}"#),
            format!(r#"{{"github_token": "{MASK}"}}"#)
        );
        assert_eq!(
            r.text("db_password: hunter2"),
            format!("db_password: {MASK}")
        );
        // Not token-like, or not secret-like keys: readable.
        assert_eq!(r.text("max_tokens: 4096"), "max_tokens: 4096");
        assert_eq!(
            r.text("token: completion_details"),
            "token: completion_details"
        );
        assert_eq!(r.text("secretary: Bob"), "secretary: Bob");
        assert_eq!(r.text("password"), "password");
        assert_eq!(r.text("password: "), "password: ");
    }

    #[test]
    fn masks_json_values_under_secret_like_keys() {
        let r = on();
        let v = r.value(json!({
            "path": "src/main.rs",
            "password": 1234,
            "nested": [{"clientSecret": "x"}, {"accessToken": "Zz9Yy8Xx7Ww6"}],
            "max_tokens": 4096,
            "Authorization": "Basic dXNlcjpwYXNz",
            "x-api-key": "short",
            "text": format!("use {KEY}"),
        }));
        assert_eq!(
            v,
            json!({
                "path": "src/main.rs",
                "password": MASK,
                "nested": [{"clientSecret": MASK}, {"accessToken": MASK}],
                "max_tokens": 4096,
                "Authorization": MASK,
                "x-api-key": "short",
                "text": format!("use {MASK}"),
            })
        );
    }

    #[test]
    fn exact_secrets_are_masked_even_with_patterns_off() {
        let secret = "plainlookingkey";
        let r = Redactor::new(vec![secret.into(), "ab".into()], false);
        assert_eq!(r.text(&format!("x{secret}y")), format!("x{MASK}y"));
        // Patterns are off: an unknown sk- key stays; too-short secrets are ignored.
        assert_eq!(r.text(KEY), KEY);
        assert_eq!(r.text("ab"), "ab");
        let v = r.value(json!({ secret: [secret], "k": {"password": "p"} }));
        assert_eq!(v, json!({ MASK: [MASK], "k": {"password": "p"} }));
    }

    #[test]
    fn longer_secret_wins_over_its_prefix() {
        let r = Redactor::new(vec!["abcdefgh".into(), "abcdefghijkl".into()], false);
        assert_eq!(r.text("abcdefghijkl abcdefgh"), format!("{MASK} {MASK}"));
    }

    #[test]
    fn leaks_sees_plain_and_escaped_forms() {
        let r = Redactor::new(vec!["we\"ird/key".into()], false);
        assert!(r.leaks(r#"{"a":"we\"ird/key"}"#));
        assert!(!r.leaks(r#"{"a":"***REDACTED***"}"#));
    }

    #[test]
    fn never_panics_on_odd_text() {
        let r = Redactor::new(vec!["éééé".into()], true);
        for s in [
            "",
            "é",
            "password=é",
            "token:",
            "Bearer",
            "bearer é",
            "sk-",
            "authorization:",
            "api_key=\"",
            "password:'ñññ'",
            "éééé password=ü",
        ] {
            let _ = r.text(s);
        }
        assert_eq!(r.text("password:'ñññ'"), format!("password:'{MASK}'"));
        assert_eq!(r.text("xééééy"), format!("x{MASK}y"));
    }

    /// Filler text that no pattern can match: no uppercase or digits (so no AWS id and no
    /// token-like value), no `k`, `r` or `w` (so no `sk-`, `bearer`, `token`, `secret`,
    /// `passwd`, `authorization`, ... and no `-`), and no `*` (so never the mask).
    const FILLER: &str = "[a-jlmnopqstuvxyz .,;:!?()\\[\\]{}\"'=/_\n\té日€]{0,24}";
    /// What may sit right before or after a token: neither a word nor a token character.
    const EDGE: &str = "[ ,;:!?()\"'\né日]";

    /// A credential as it appears in text, that text masked, and the secret part of it.
    fn credential() -> impl proptest::strategy::Strategy<Value = (String, String, String)> {
        use proptest::prelude::*;
        prop_oneof![
            "sk-(proj-)?[A-Za-z0-9_-]{16,40}".prop_map(|k| (k.clone(), MASK.to_string(), k)),
            "A[KS]IA[A-Z0-9]{16}".prop_map(|k| (k.clone(), MASK.to_string(), k)),
            (
                "[Bb][Ee][Aa][Rr][Ee][Rr][ \t]{1,3}",
                "[A-Za-z0-9._~+/=-]{8,40}"
            )
                .prop_map(|(b, t)| (format!("{b}{t}"), format!("{b}{MASK}"), t)),
        ]
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_safe_and_never_keeps_the_secret(pre in ".{0,40}", post in ".{0,40}") {
            let r = Redactor::new(vec![KEY.into()], true);
            let out = r.text(&format!("{pre}{KEY}{post}"));
            proptest::prop_assert!(!out.contains(KEY));
        }

        /// Credentials at random places in random text: each one is masked, and every other
        /// character survives exactly.
        #[test]
        fn patterns_mask_every_credential_and_nothing_else(
            parts in proptest::collection::vec(
                (FILLER, EDGE, credential(), EDGE),
                1..5,
            ),
            tail in FILLER,
        ) {
            let (mut text, mut want) = (String::new(), String::new());
            for (filler, before, (secret, masked, _), after) in &parts {
                text.push_str(&format!("{filler}{before}{secret}{after}"));
                want.push_str(&format!("{filler}{before}{masked}{after}"));
            }
            text.push_str(&tail);
            want.push_str(&tail);
            let out = on().text(&text);
            proptest::prop_assert_eq!(&out, &want);
            for (_, _, (_, _, token), _) in &parts {
                proptest::prop_assert!(!out.contains(token.as_str()), "{token:?} in {out:?}");
            }
        }

        /// Patterns off: only the exact secret goes, wherever it sits; the text around it stays.
        #[test]
        fn exact_secrets_go_and_patterns_stay_when_patterns_are_off(
            pre in ".{0,30}",
            (secret, _, _) in credential(),
            post in ".{0,30}",
        ) {
            let r = Redactor::new(vec![KEY.into()], false);
            let text = format!("{pre}{KEY}{secret}{post}");
            proptest::prop_assume!(!pre.contains(KEY) && !post.contains(KEY));
            proptest::prop_assert_eq!(r.text(&text), format!("{pre}{MASK}{secret}{post}"));
        }
    }

    #[test]
    fn key_classes() {
        assert_eq!(classify_key("OPENAI_API_KEY"), Some(KeyKind::Token));
        assert_eq!(
            classify_key("AWS_SECRET_ACCESS_KEY"),
            Some(KeyKind::Password)
        );
        assert_eq!(
            classify_key("Proxy-Authorization"),
            Some(KeyKind::Authorization)
        );
        assert_eq!(classify_key("max_tokens"), None);
        assert_eq!(classify_key("path"), None);
        assert!(looks_like_token("3f9a2b7c01de4f5a"));
        assert!(!looks_like_token("completion_details"));
        assert!(!looks_like_token("Ab1"));
    }
}
