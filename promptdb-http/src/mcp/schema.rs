//! Input schemas that every model provider accepts.
//!
//! rmcp's default input schemas describe `Option<T>` as `"type": ["T", "null"]` and move nested
//! types into `$defs`; several providers reject either. Tool inputs here inline every subschema
//! and drop `null` from optional fields (they are simply left out instead).

use std::sync::Arc;

use rmcp::model::JsonObject;
use schemars::{JsonSchema, generate::SchemaSettings};
use serde_json::Value;

/// The portable input schema of `T` (an object).
pub(super) fn input<T: JsonSchema>() -> Arc<JsonObject> {
    let settings = SchemaSettings::draft2020_12().with(|s| s.inline_subschemas = true);
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut value = serde_json::to_value(schema).unwrap_or_default();
    strip_nulls(&mut value);
    let Value::Object(mut object) = value else {
        return Arc::new(JsonObject::new());
    };
    // The wrapper type's name and doc are noise to a model; tool descriptions say it.
    object.remove("title");
    object.remove("description");
    Arc::new(object)
}

/// Drops schemars' Rust-specific integer formats (`uint32`, `int64`, …): they are not JSON
/// Schema formats, and validators warn about them. The `minimum` bound stays.
fn strip_integer_formats(map: &mut serde_json::Map<String, Value>) {
    if map
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.starts_with("int") || f.starts_with("uint"))
    {
        map.remove("format");
    }
}

/// Removes `null` alternatives: `["string", "null"]` becomes `"string"`, and `anyOf: [X, null]`
/// becomes `X`.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            strip_integer_formats(map);
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any_of)) = map.get("anyOf") {
                let non_null: Vec<Value> = any_of
                    .iter()
                    .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
                    .cloned()
                    .collect();
                if non_null.len() == 1 && non_null.len() < any_of.len() {
                    map.remove("anyOf");
                    if let Value::Object(inner) = &non_null[0] {
                        for (k, v) in inner {
                            map.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
            }
            if matches!(map.get("default"), Some(Value::Null)) {
                map.remove("default");
            }
            for v in map.values_mut() {
                strip_nulls(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Args {
        /// A number.
        limit: Option<u32>,
        nested: Option<Inner>,
        items: Vec<Inner>,
    }

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[test]
    fn no_nulls_and_no_refs() {
        let schema = serde_json::to_string(&*input::<Args>()).unwrap();
        assert!(!schema.contains("null"), "{schema}");
        assert!(
            !schema.contains("$ref") && !schema.contains("$defs"),
            "{schema}"
        );
        let v: Value = serde_json::from_str(&schema).unwrap();
        assert_eq!(v["type"], "object");
        assert_eq!(v["properties"]["limit"]["type"], "integer");
        assert_eq!(
            v["properties"]["nested"]["properties"]["name"]["type"],
            "string"
        );
    }
}

/// The output schema of `T` as it serialises, with nullable fields spelled as
/// `anyOf: [{…}, {"type": "null"}]` instead of a `type` array, which single-type dialects
/// (such as Gemini's function declarations) cannot read.
pub(super) fn output<T: JsonSchema>() -> Arc<JsonObject> {
    let settings = SchemaSettings::draft2020_12().for_serialize();
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut value = serde_json::to_value(schema).unwrap_or_default();
    split_type_unions(&mut value);
    let Value::Object(mut object) = value else {
        return Arc::new(JsonObject::new());
    };
    object.remove("title");
    object.remove("description");
    Arc::new(object)
}

fn split_type_unions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            strip_integer_formats(map);
            for v in map.values_mut() {
                split_type_unions(v);
            }
            let Some(Value::Array(types)) = map.get("type") else {
                return;
            };
            if !types.iter().any(|t| t == "null") {
                return;
            }
            let others: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            let mut branch = serde_json::Map::new();
            let keep_outside = ["description", "title", "default", "examples"];
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                if !keep_outside.contains(&k.as_str())
                    && let Some(v) = map.remove(&k)
                {
                    branch.insert(k, v);
                }
            }
            branch.insert(
                "type".into(),
                if others.len() == 1 {
                    others[0].clone()
                } else {
                    Value::Array(others)
                },
            );
            map.insert(
                "anyOf".into(),
                Value::Array(vec![
                    Value::Object(branch),
                    serde_json::json!({ "type": "null" }),
                ]),
            );
        }
        Value::Array(items) => items.iter_mut().for_each(split_type_unions),
        _ => {}
    }
}

#[cfg(test)]
mod output_tests {
    use super::*;

    #[derive(serde::Serialize, schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Out {
        /// When.
        at: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[test]
    fn nullable_fields_become_any_of() {
        let schema = output::<Out>();
        let at = &schema["properties"]["at"];
        assert_eq!(at["description"], "When.");
        assert_eq!(at["anyOf"][0]["type"], "string");
        assert_eq!(at["anyOf"][0]["format"], "date-time");
        assert_eq!(at["anyOf"][1]["type"], "null");
        assert!(
            !serde_json::to_string(&*schema)
                .unwrap()
                .contains("[\"string\",\"null\"]")
        );
    }
}
