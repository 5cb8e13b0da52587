//! OpenAI's own API description (`../shared/openai-openapi/openapi.json`, OpenAPI 3.1) as a
//! JSON Schema validator: [`check`] validates a value against `#/components/schemas/NAME`,
//! and [`example`] builds a small valid instance of a schema (for feeding every event type
//! the description defines through goshi's decoders). See `docs/conformance.md`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Validator};
use serde_json::{json, Map, Value};

/// The date of the copy in `../shared/openai-openapi` (its README names the commit).
pub const COPY_DATE: &str = "2026-08-21";

/// Where the description is read from: `$GOSHI_OPENAPI_JSON`, else
/// `../shared/openai-openapi/openapi.json` beside the repository.
pub fn path() -> PathBuf {
    match std::env::var_os("GOSHI_OPENAPI_JSON") {
        Some(p) => PathBuf::from(p),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/openai-openapi/openapi.json")
        }
    }
}

/// Names the copy in failure messages, so a stale one is easy to spot.
pub fn source() -> String {
    format!(
        "OpenAI's openapi.json of {COPY_DATE} at {}; see docs/conformance.md to refresh it",
        path().display()
    )
}

/// The description, read once, with OpenAPI 3.0's `nullable: true` (still used in places)
/// rewritten into JSON Schema's own spelling, which the validator understands.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let p = path();
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!(
                "cannot read OpenAI's API description at {} ({e}).\n\
                 The conformance tests need the copy of {COPY_DATE} from the shared folder: \
                 it is expected at ../shared/openai-openapi/openapi.json beside the repository \
                 (or set GOSHI_OPENAPI_JSON to its path); see docs/conformance.md",
                p.display()
            )
        });
        let mut doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid JSON ({e})", p.display()));
        nullable_to_type(&mut doc);
        doc
    })
}

/// The schema `#/components/schemas/NAME`.
pub fn schema(name: &str) -> &'static Value {
    document()
        .pointer(&format!("/components/schemas/{name}"))
        .unwrap_or_else(|| panic!("no schema {name} in {}", source()))
}

/// `{"nullable": true, "type": T}` (OpenAPI 3.0) becomes `{"type": [T, "null"]}`; with no
/// `type`, the schema becomes `anyOf` itself or null.
fn nullable_to_type(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.remove("nullable") == Some(Value::Bool(true)) {
                match m.get_mut("type") {
                    Some(Value::String(t)) => {
                        let t = t.clone();
                        m.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(e)) = m.get_mut("enum") {
                            e.push(Value::Null);
                        }
                    }
                    Some(Value::Array(ts)) if !ts.contains(&json!("null")) => {
                        ts.push(json!("null"))
                    }
                    Some(_) => {}
                    None => {
                        let inner = Value::Object(std::mem::take(m));
                        m.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
            m.values_mut().for_each(nullable_to_type);
        }
        Value::Array(a) => a.iter_mut().for_each(nullable_to_type),
        _ => {}
    }
}

/// A validator for `#/components/schemas/NAME`, built once per name. The whole document is
/// the root, so every `$ref` resolves inside it; nothing is fetched.
pub fn validator(name: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(name) {
        return v.clone();
    }
    schema(name);
    let mut root = document().clone();
    root.as_object_mut()
        .unwrap()
        .insert("$ref".into(), json!(format!("#/components/schemas/{name}")));
    let v = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("cannot build a validator for {name} from {}: {e}", source()));
    let v = Arc::new(v);
    cache.lock().unwrap().insert(name.to_string(), v.clone());
    v
}

/// Every way `instance` breaks `#/components/schemas/NAME`, one per line with its JSON path;
/// `Ok` when it conforms.
pub fn check(name: &str, instance: &Value) -> Result<(), String> {
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// Panics with every violation, the body, and which copy of the description said so.
pub fn assert_conforms(name: &str, what: &str, instance: &Value) {
    if let Err(errors) = check(name, instance) {
        panic!(
            "{what} does not conform to {name} ({}):\n{errors}\nthe body:\n{instance:#}",
            source()
        );
    }
}

/// The names of the schemas `NAME` is a union of (`anyOf`/`oneOf` of `$ref`s).
pub fn union_members(name: &str) -> Vec<String> {
    let s = schema(name);
    let alts = s
        .get("anyOf")
        .or_else(|| s.get("oneOf"))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{name} is not a union in {}", source()));
    alts.iter()
        .filter_map(|a| a.get("$ref").and_then(Value::as_str))
        .map(|r| r.trim_start_matches("#/components/schemas/").to_string())
        .collect()
}

/// A small instance of `#/components/schemas/NAME`: every required property, the first
/// alternative of every union, the first value of every enum, empty arrays, zeros and
/// `"x"` strings. Callers check it with [`check`], so a schema this cannot satisfy shows.
pub fn example(name: &str) -> Value {
    build(schema(name), 0)
}

/// Like [`example`], for a schema given inline (a property's, an array's items).
pub fn example_of(schema: &Value) -> Value {
    build(schema, 0)
}

/// Folds an `allOf` (through `$ref`s and nested `allOf`s) into one object schema: the union
/// of the parts' properties and required names.
fn merge_all_of(s: &Value, into: &mut Map<String, Value>, depth: usize) {
    assert!(depth < 40, "allOf nesting too deep in {}", source());
    let s = resolve(s);
    for part in s
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        merge_all_of(part, into, depth + 1);
    }
    into.insert("type".into(), json!("object"));
    if let Some(Value::Object(props)) = s.get("properties") {
        let all = into.entry("properties").or_insert_with(|| json!({}));
        for (k, v) in props {
            all[k.as_str()] = v.clone();
        }
    }
    if let Some(Value::Array(req)) = s.get("required") {
        let all = into.entry("required").or_insert_with(|| json!([]));
        for r in req {
            if let Some(a) = all.as_array_mut() {
                if !a.contains(r) {
                    a.push(r.clone());
                }
            }
        }
    }
}

/// `s` itself, or what its `$ref` points at.
fn resolve(s: &Value) -> &Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(
            document()
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("unresolved {r} in {}", source())),
        ),
        None => s,
    }
}

fn build(s: &Value, depth: usize) -> Value {
    assert!(depth < 40, "schema nesting too deep in {}", source());
    let Some(m) = s.as_object() else {
        return json!({});
    };
    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
        let target = document()
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {r} in {}", source()));
        return build(target, depth + 1);
    }
    if let Some(c) = m.get("const") {
        return c.clone();
    }
    if let Some(first) = m
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if m.contains_key("allOf") {
        let mut merged = Map::new();
        merge_all_of(s, &mut merged, depth);
        return build(&Value::Object(merged), depth + 1);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = m.get(key).and_then(Value::as_array) {
            let pick = alts
                .iter()
                .find(|a| a.get("type") != Some(&json!("null")))
                .unwrap_or(&alts[0]);
            return build(pick, depth + 1);
        }
    }
    let ty = match m.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if m.contains_key("properties") => "object",
        _ => "object",
    };
    match ty {
        "object" => {
            let mut out = Map::new();
            let props = m.get("properties").and_then(Value::as_object);
            for r in m
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let key = r.as_str().unwrap_or_default();
                let sub = props.and_then(|p| p.get(key)).unwrap_or(&Value::Null);
                out.insert(key.to_string(), build(sub, depth + 1));
            }
            Value::Object(out)
        }
        "array" => json!([]),
        "string" => json!("x"),
        "integer" | "number" => json!(m.get("minimum").cloned().unwrap_or(json!(0))),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}
