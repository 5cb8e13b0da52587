//! Unit tests of the redaction layer.

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
    // Exactly 8 characters are enough; the word alone, not followed by a space, is no header.
    assert_eq!(r.text("Bearer abcd1234"), format!("Bearer {MASK}"));
    assert_eq!(
        r.text("see docs/bearer/authentication.md"),
        "see docs/bearer/authentication.md"
    );
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
    // Spaces and tabs around the `:` or `=`.
    assert_eq!(
        r.text("password \t: hunter2, user\t=\tbob"),
        format!("password \t: {MASK}, user\t=\tbob")
    );
    assert_eq!(
        r.text("PGPASSWORD\t=\ts3cr3t"),
        format!("PGPASSWORD\t=\t{MASK}")
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
    // Escaped, in the middle of a longer string.
    assert!(r.leaks(r#"{"a":"x we\"ird/key y"}"#));
    assert!(!r.leaks(r#"{"a":"***REDACTED***"}"#));
    let r = Redactor::new(vec!["two\nlines-key".into()], false);
    assert!(r.leaks(r#"["two\nlines-key!"]"#));
    assert!(r.leaks("two\nlines-key"));
}

/// Text from a server, shown to the user: a credential it echoes back is masked (the same
/// patterns as the audit's), the rest is kept.
#[test]
fn mask_credentials_masks_what_a_server_echoes_back() {
    assert_eq!(
        mask_credentials("bad header Authorization: Bearer sk-abcdefghijklmnop1234\nretry"),
        format!("bad header Authorization: {MASK}\nretry")
    );
    assert_eq!(
        mask_credentials("the key sk-abcdefghijklmnop1234 is invalid"),
        format!("the key {MASK} is invalid")
    );
    assert_eq!(mask_credentials("model not found"), "model not found");
}

/// Only password-like keys mask a number: token ids (llama.cpp's `bos_token`) stay readable.
#[test]
fn only_password_like_keys_mask_numbers() {
    let v = on().value(json!({"bos_token": 1, "eos_token": 2, "pin_password": 1234}));
    assert_eq!(
        v,
        json!({"bos_token": 1, "eos_token": 2, "pin_password": MASK})
    );
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
