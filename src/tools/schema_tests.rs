use super::*;
use crate::llm::openai::strict::violations as strict_violations;
use crate::tools::registry::parse_args;
use crate::tools::Registry;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

#[test]
fn every_builtin_tool_schema_follows_strict_mode() {
    for def in Registry::builtin().definitions() {
        let v = strict_violations(&def.parameters);
        assert!(v.is_empty(), "{}: {v:#?}\n{:#}", def.name, def.parameters);
    }
}

#[allow(dead_code)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Sample {
    /// Always given.
    path: String,
    /// How many at most.
    limit: Option<u32>,
    /// Descend into directories.
    #[serde(default)]
    recursive: bool,
    /// How fast.
    mode: Option<Mode>,
    /// A nested object.
    inner: Option<Inner>,
    /// A list of nested objects.
    items: Vec<Inner>,
    /// Labels.
    #[serde(default)]
    tags: Vec<String>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Fast,
    Slow,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Inner {
    name: String,
    depth: Option<u8>,
}

#[test]
fn optional_fields_become_required_and_nullable_at_every_level() {
    let s = schema_of::<Sample>();
    let v = strict_violations(&s);
    assert!(v.is_empty(), "{v:#?}\n{s:#}");
    let p = &s["properties"];
    assert_eq!(p["path"]["type"], "string");
    assert_eq!(p["limit"]["type"], json!(["integer", "null"]));
    assert!(
        p["limit"].get("format").is_none(),
        "uint32 is not a strict format"
    );
    assert_eq!(p["limit"]["minimum"], 0);
    assert_eq!(p["recursive"]["type"], json!(["boolean", "null"]));
    assert!(p["tags"]["type"]
        .as_array()
        .unwrap()
        .contains(&json!("null")));
    assert_eq!(
        p["items"]["type"], "array",
        "a required list stays non-null"
    );
    let any = p["inner"]["anyOf"].as_array().unwrap();
    assert!(any.contains(&json!({"type": "null"})), "{:#}", p["inner"]);
    assert_eq!(p["inner"]["description"], "A nested object.");
    let mode = serde_json::to_string(&p["mode"]).unwrap();
    assert!(mode.contains("null"), "{mode}");
    let inner = &s["$defs"]["Inner"];
    let required = inner["required"].as_array().unwrap();
    assert!(required.contains(&json!("name")) && required.contains(&json!("depth")));
    assert_eq!(
        inner["properties"]["depth"]["type"],
        json!(["integer", "null"])
    );
    assert_eq!(inner["additionalProperties"], false);
}

#[test]
fn the_checker_catches_what_schemars_writes_before_strictify() {
    let raw: Value = schemars::schema_for!(Sample).into();
    let v = strict_violations(&raw).join("\n");
    assert!(v.contains("must list every property"), "{v}");
    assert!(v.contains("format `uint32`"), "{v}");
    assert!(v.contains("`default`"), "{v}");
    let open =
        json!({"type": "object", "properties": {"a": {"type": "object"}}, "required": ["a"]});
    let v = strict_violations(&open).join("\n");
    assert!(v.contains("$: additionalProperties"), "{v}");
    assert!(v.contains("$.properties.a: additionalProperties"), "{v}");
}

#[test]
fn null_arguments_mean_not_given() {
    let args = json!({
        "path": "a", "limit": null, "recursive": null, "mode": null, "inner": null,
        "items": [{"name": "x", "depth": null}], "tags": null,
    });
    let s: Sample = parse_args("t", &args.to_string()).unwrap();
    assert_eq!(s.path, "a");
    assert!(s.limit.is_none() && s.mode.is_none() && s.inner.is_none());
    assert!(!s.recursive && s.tags.is_empty());
    assert!(s.items[0].depth.is_none());
    let given = json!({"path": "a", "limit": 3, "recursive": true, "mode": "slow",
        "inner": {"name": "n", "depth": 2}, "items": [], "tags": ["t"]});
    let s: Sample = parse_args("t", &given.to_string()).unwrap();
    assert_eq!((s.limit, s.recursive, s.tags.len()), (Some(3), true, 1));
    assert!(matches!(s.mode, Some(Mode::Slow)));
    // A required field sent as null is still missing, and says so.
    let e = parse_args::<Sample>("t", r#"{"path": null, "items": []}"#).unwrap_err();
    assert!(e.to_string().contains("missing field \"path\""), "{e}");
}

#[test]
fn strictify_leaves_strict_schemas_as_they_are() {
    let s = schema_of::<Sample>();
    let mut again = s.clone();
    strictify(&mut again);
    assert_eq!(again, s);
}
