//! OpenAI's strict mode for function tools: the rules a parameter schema must follow for
//! `"strict": true` (OpenAI's function-calling and Structured Outputs guides, checked
//! 2026-11-30). goshi's own tools are generated in this form (`tools::schema`); a schema an
//! embedding program passes that breaks the rules is sent with `"strict": false` instead of
//! being refused by the server.

use serde_json::{json, Map, Value};

/// The `format`s strict mode knows (checked 2026-11-30).
pub const STRICT_FORMATS: [&str; 9] = [
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// Whether `schema` follows every strict-mode rule.
pub fn is_strict(schema: &Value) -> bool {
    violations(schema).is_empty()
}

/// Keywords strict mode refuses (OpenAI's Structured Outputs guide, checked 2026-11-30).
const UNSUPPORTED: [&str; 15] = [
    "allOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "default",
    "$dynamicRef",
];

/// Every way `schema` breaks strict mode's rules, each with its JSON path; empty when it
/// follows them all.
pub fn violations(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if schema.get("type") != Some(&json!("object")) {
        out.push("$: the root must be `type: object`".to_string());
    }
    if schema.get("anyOf").is_some() {
        out.push("$: the root must not be an anyOf".to_string());
    }
    check(schema, schema, "$", &mut out);
    out
}

fn check(root: &Value, node: &Value, path: &str, out: &mut Vec<String>) {
    let Some(obj) = node.as_object() else {
        out.push(format!("{path}: not a schema object"));
        return;
    };
    for key in UNSUPPORTED {
        if obj.contains_key(key) {
            out.push(format!("{path}: `{key}` is not supported"));
        }
    }
    if let Some(Value::String(f)) = obj.get("format") {
        if !STRICT_FORMATS.contains(&f.as_str()) {
            out.push(format!("{path}: format `{f}` is not supported"));
        }
    }
    if let Some(Value::String(r)) = obj.get("$ref") {
        let target = r.strip_prefix('#').and_then(|p| root.pointer(p));
        if target.is_none() {
            out.push(format!("{path}: $ref {r} does not resolve in the schema"));
        }
    }
    let is_object = obj.contains_key("properties")
        || match obj.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.contains(&json!("object")),
            _ => false,
        };
    if is_object {
        check_object(obj, path, out);
    }
    if let Some(Value::Object(props)) = obj.get("properties") {
        for (name, p) in props {
            check(root, p, &format!("{path}.properties.{name}"), out);
        }
    }
    if let Some(items) = obj.get("items") {
        check(root, items, &format!("{path}.items"), out);
    }
    for key in ["anyOf", "prefixItems"] {
        if let Some(Value::Array(subs)) = obj.get(key) {
            for (i, s) in subs.iter().enumerate() {
                check(root, s, &format!("{path}.{key}[{i}]"), out);
            }
        }
    }
    if let Some(Value::Object(defs)) = obj.get("$defs") {
        for (name, d) in defs {
            check(root, d, &format!("{path}.$defs.{name}"), out);
        }
    }
}

fn check_object(obj: &Map<String, Value>, path: &str, out: &mut Vec<String>) {
    if obj.get("additionalProperties") != Some(&Value::Bool(false)) {
        out.push(format!("{path}: additionalProperties must be false"));
    }
    let mut props: Vec<&str> = match obj.get("properties") {
        Some(Value::Object(p)) => p.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    let mut required: Vec<&str> = match obj.get("required") {
        Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    props.sort_unstable();
    required.sort_unstable();
    if props != required {
        out.push(format!(
            "{path}: required {required:?} must list every property {props:?}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_broken_rule_with_its_path() {
        let ok = json!({"type": "object", "additionalProperties": false,
            "properties": {"a": {"type": ["string", "null"], "format": "date"}}, "required": ["a"]});
        assert!(is_strict(&ok), "{:?}", violations(&ok));
        let bad = json!({"type": "object", "properties": {
            "a": {"type": "object", "properties": {}, "additionalProperties": false},
            "b": {"type": "integer", "format": "uint32", "default": 1},
            "c": {"$ref": "#/$defs/Missing"}}, "required": ["a"]});
        let v = violations(&bad).join("\n");
        assert!(v.contains("$: additionalProperties must be false"), "{v}");
        assert!(
            v.contains("$: required [\"a\"] must list every property"),
            "{v}"
        );
        assert!(v.contains("$.properties.b: `default`"), "{v}");
        assert!(v.contains("$.properties.b: format `uint32`"), "{v}");
        assert!(v.contains("$.properties.c: $ref #/$defs/Missing"), "{v}");
        assert!(!is_strict(&json!({"anyOf": [ok]})));
    }
}
