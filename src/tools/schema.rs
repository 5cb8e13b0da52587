//! Tool argument schemas in OpenAI's strict form, derived from the argument structs.
//!
//! Strict mode (OpenAI's function-calling and Structured Outputs guides, checked 2026-11-30)
//! accepts a subset of JSON Schema: every object lists *all* its properties in `required` and
//! has `additionalProperties: false`, at every level; an optional property is spelled as
//! required-but-nullable (`"type": ["integer", "null"]`); only some `format`s are known, and
//! `anyOf` is the only combinator (the rules: [`crate::llm::openai::strict`]). In return the
//! model's arguments always match the schema.
//!
//! The schema comes from the same struct the arguments are parsed into (schemars), so the two
//! cannot drift apart; [`strictify`] rewrites what schemars makes into the strict form, and
//! [`drop_nulls`] makes the parser read a `null` argument as "not given", which is what the
//! nullable spelling means. The same schema goes to every server: it is ordinary JSON Schema,
//! and llama-server builds its tool-call grammar from it as well.

use schemars::JsonSchema;
use serde_json::{Map, Value};

use crate::llm::openai::strict::STRICT_FORMATS;

/// The argument schema of `A` in strict form: a plain object schema with no
/// `$schema`/`title`/`description` wrapper keys (the tool's description says what it does).
pub fn schema_of<A: JsonSchema>() -> Value {
    let schema: Value = schemars::schema_for!(A).into();
    let mut obj = match schema {
        Value::Object(obj) => obj,
        _ => Map::new(),
    };
    for key in ["$schema", "title", "description"] {
        obj.remove(key);
    }
    obj.insert("type".into(), Value::String("object".into()));
    obj.entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    let mut schema = Value::Object(obj);
    strictify(&mut schema);
    schema
}

/// Rewrites a JSON Schema in place into strict mode's form: at every object level all
/// properties become required, the ones that were optional become nullable, and
/// `additionalProperties` is `false`; `oneOf` becomes `anyOf`; `default` and unknown
/// `format`s go (schemars writes `uint32` and the like; `minimum` and friends stay).
pub fn strictify(schema: &mut Value) {
    let Value::Object(node) = schema else { return };
    node.remove("default");
    if let Some(Value::String(f)) = node.get("format") {
        if !STRICT_FORMATS.contains(&f.as_str()) {
            node.remove("format");
        }
    }
    if let Some(one_of) = node.remove("oneOf") {
        node.insert("anyOf".into(), one_of);
    }
    if is_object_schema(node) {
        strictify_object(node);
    }
    for key in ["items", "additionalItems", "contains"] {
        if let Some(sub) = node.get_mut(key) {
            strictify(sub);
        }
    }
    for key in ["anyOf", "prefixItems"] {
        if let Some(Value::Array(subs)) = node.get_mut(key) {
            subs.iter_mut().for_each(strictify);
        }
    }
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(defs)) = node.get_mut(key) {
            defs.values_mut().for_each(strictify);
        }
    }
}

fn is_object_schema(node: &Map<String, Value>) -> bool {
    node.contains_key("properties") || node.get("type") == Some(&Value::String("object".into()))
}

fn strictify_object(node: &mut Map<String, Value>) {
    let was_required: Vec<Value> = match node.get("required") {
        Some(Value::Array(r)) => r.clone(),
        _ => Vec::new(),
    };
    let mut all = Vec::new();
    if let Some(Value::Object(props)) = node.get_mut("properties") {
        for (name, prop) in props.iter_mut() {
            strictify(prop);
            if !was_required.contains(&Value::String(name.clone())) {
                make_nullable(prop);
            }
            all.push(Value::String(name.clone()));
        }
    } else {
        node.insert("properties".into(), Value::Object(Map::new()));
    }
    node.insert("required".into(), Value::Array(all));
    node.insert("additionalProperties".into(), Value::Bool(false));
}

/// Lets `prop` also be `null`: a `null` type joins its `type` (and `enum`), or, when it has
/// no `type` (a `$ref`, an `anyOf`), a `{"type": "null"}` alternative is added.
fn make_nullable(prop: &mut Value) {
    let null = Value::String("null".into());
    let Value::Object(node) = prop else { return };
    if let Some(Value::Array(any)) = node.get_mut("anyOf") {
        if !any.iter().any(is_null_schema) {
            any.push(null_schema());
        }
        return;
    }
    match node.get_mut("type") {
        Some(Value::String(t)) if t == "null" => return,
        Some(t @ Value::String(_)) => *t = Value::Array(vec![t.clone(), null.clone()]),
        Some(Value::Array(types)) if !types.contains(&null) => types.push(null.clone()),
        Some(_) => {}
        None => {
            // Keep the description where the model reads it, beside the alternatives.
            let description = node.remove("description");
            let inner = Value::Object(std::mem::take(node));
            node.insert("anyOf".into(), Value::Array(vec![inner, null_schema()]));
            if let Some(d) = description {
                node.insert("description".into(), d);
            }
            return;
        }
    }
    if let Some(Value::Array(values)) = node.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
}

fn null_schema() -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::String("null".into()));
    Value::Object(m)
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type") == Some(&Value::String("null".into()))
}

/// Removes every `null` member of every object in `value` (at any depth), so that a property
/// the model set to `null` reads as "not given": an `Option` field becomes `None` and a
/// `#[serde(default)]` field its default, exactly as if the property were absent.
pub fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
