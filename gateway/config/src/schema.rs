//! `weft config schema`: the JSON Schema of `weft.yaml`, built from [`KEYS`] and [`SECTIONS`]
//! (no schema-deriving crate). The tests below feed every key of the emitted schema back to
//! the parser and check that each level's keys are exactly the structs' fields.

use serde_json::{Map, Value, json};

use super::model::{KEYS, Key, SECTIONS, Type, env_name};

pub fn json_schema() -> Value {
    let mut root = Map::new();
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("title".into(), json!("weft.yaml"));
    root.insert(
        "description".into(),
        json!("Configuration of `weft serve --config`. See docs/configuration.md."),
    );
    root.extend(object(None));
    for key in KEYS {
        let segments: Vec<&str> = key.path.split('.').collect();
        insert(&mut root, &segments, String::new(), key);
    }
    Value::Object(root)
}

fn object(path: Option<&str>) -> Map<String, Value> {
    let mut node = Map::new();
    node.insert("type".into(), json!("object"));
    if let Some(doc) = path.and_then(|p| SECTIONS.iter().find(|s| s.0 == p)) {
        node.insert("description".into(), json!(doc.1));
    }
    node.insert("properties".into(), json!({}));
    node.insert("additionalProperties".into(), json!(false));
    node
}

/// Puts `key`'s leaf under `node`, creating the objects on the way; `<name>` is any key.
fn insert(node: &mut Map<String, Value>, segments: &[&str], path: String, key: &Key) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let path = if path.is_empty() {
        (*first).to_owned()
    } else {
        format!("{path}.{first}")
    };
    let slot = if *first == "<name>" {
        node.get_mut("additionalProperties")
    } else {
        node.get_mut("properties")
            .and_then(Value::as_object_mut)
            .map(|props| props.entry(*first).or_insert(Value::Null))
    };
    let Some(slot) = slot else { return };
    if rest.is_empty() {
        *slot = leaf(key);
        return;
    }
    if !slot.is_object() {
        *slot = Value::Object(object(Some(&path)));
    }
    if let Some(child) = slot.as_object_mut() {
        insert(child, rest, path, key);
    }
}

fn leaf(key: &Key) -> Value {
    let mut node = match key.ty {
        Type::String => json!({ "type": "string" }),
        Type::Boolean => json!({ "type": "boolean" }),
        Type::Integer => json!({ "type": "integer", "minimum": 1 }),
        Type::IntegerOrOff => json!({ "type": "integer", "minimum": 0 }),
        Type::Strings => json!({ "type": "array", "items": { "type": "string" } }),
        Type::Enum(values) => json!({ "type": "string", "enum": values }),
        Type::Ratio => json!({ "type": "number", "minimum": 0, "maximum": 1 }),
        Type::HeaderRules => json!({
            "type": "array",
            "items": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    "propagate": { "type": "object", "properties": {
                        "named": { "type": "string" }, "prefix": { "type": "string" } } },
                    "rename": { "type": "object", "required": ["from", "to"], "properties": {
                        "from": { "type": "string" }, "to": { "type": "string" } } },
                    "insert": { "type": "object", "required": ["name", "value"], "properties": {
                        "name": { "type": "string" }, "value": { "type": "string" } } },
                    "remove": { "type": "object", "required": ["name"], "properties": {
                        "name": { "type": "string" } } }
                },
                "additionalProperties": false
            }
        }),
        Type::PolicyRules => json!({
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "claim"],
                "properties": {
                    "name": { "type": "string" },
                    "claim": { "type": "string" },
                    "any_of": { "type": "array", "items": { "type": "string" } }
                },
                "additionalProperties": false
            }
        }),
    };
    let env = if key.path.contains("<name>") {
        format!("{} (the name upper-cased)", env_name(key.path))
    } else {
        env_name(key.path)
    };
    node["description"] = json!(format!("{} Environment: {env}.", key.doc));
    if let Some(default) = key
        .default
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
    {
        node["default"] = default;
    }
    if let Ok(example) = serde_json::from_str::<Value>(key.example) {
        node["examples"] = json!([example]);
    }
    node
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::{Config, parse_text};

    /// A document with every key of `schema`, each set to its example; `<name>` is `products`.
    fn full_document(schema: &Value) -> Value {
        if schema["type"] != "object" {
            return schema["examples"][0].clone();
        }
        let mut out = Map::new();
        for (name, child) in schema["properties"].as_object().unwrap() {
            out.insert(name.clone(), full_document(child));
        }
        if schema["additionalProperties"].is_object() {
            out.insert(
                "products".into(),
                full_document(&schema["additionalProperties"]),
            );
        }
        Value::Object(out)
    }

    fn parse(doc: &Value) -> Result<Config, String> {
        let text = serde_json::to_string_pretty(doc).unwrap();
        parse_text(&text, std::path::Path::new("weft.yaml")).map_err(|errs| {
            errs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    /// Every object level of the schema: its path in the document and its node.
    fn levels(schema: &Value, at: Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
        if schema["type"] != "object" {
            return;
        }
        out.push((at.clone(), schema.clone()));
        for (name, child) in schema["properties"].as_object().unwrap() {
            let mut next = at.clone();
            next.push(name.clone());
            levels(child, next, out);
        }
        if schema["additionalProperties"].is_object() {
            let mut next = at;
            next.push("products".into());
            levels(&schema["additionalProperties"], next, out);
        }
    }

    #[test]
    fn every_key_of_the_schema_is_accepted_and_set() {
        let schema = json_schema();
        let doc = full_document(&schema);
        let config = parse(&doc).unwrap();
        // Every example differs from its default, so each key visibly did something.
        let defaults = Config::default();
        assert_ne!(config.supergraph, defaults.supergraph);
        assert_ne!(config.listen, defaults.listen);
        assert_ne!(config.subgraphs, defaults.subgraphs);
        assert_ne!(config.query_plan, defaults.query_plan);
        assert_ne!(config.csrf.enabled, defaults.csrf.enabled);
        assert_ne!(config.csrf.required_headers, defaults.csrf.required_headers);
        assert_ne!(config.introspection, defaults.introspection);
        assert!(config.limits.max_depth.is_some());
        assert!(config.limits.max_aliases.is_some());
        assert!(config.limits.max_root_fields.is_some());
        assert_ne!(config.log.format, defaults.log.format);
        assert_ne!(config.log.level, defaults.log.level);
        assert_ne!(config.limits, defaults.limits);
        assert_ne!(config.batching, defaults.batching);
        assert_ne!(config.compression, defaults.compression);
        assert_ne!(config.cors.allow_origins, defaults.cors.allow_origins);
        assert_ne!(
            config.cors.allow_credentials,
            defaults.cors.allow_credentials
        );
        assert_ne!(config.cors.allow_headers, defaults.cors.allow_headers);
        assert!(config.cors.max_age_secs.is_some());
        assert_ne!(config.apq, defaults.apq);
        assert!(config.persisted_documents.safelist.is_some());
        assert!(config.persisted_documents.require);
        assert_eq!(config.subgraphs.all.timeout_ms.get(), 5000);
        assert!(config.subgraphs.url_for("products").is_some());
        assert_ne!(config.telemetry, defaults.telemetry);
        assert_ne!(config.demand_control, defaults.demand_control);
        assert_eq!(config.telemetry.sampling_ratio, 0.25);
    }

    #[test]
    fn each_level_rejects_unknown_keys_and_lists_exactly_its_schema_keys() {
        let schema = json_schema();
        let mut all = Vec::new();
        levels(&schema, Vec::new(), &mut all);
        for (at, node) in all {
            let mut doc = full_document(&schema);
            let mut target = &mut doc;
            for seg in &at {
                target = &mut target[seg.as_str()];
            }
            if node["additionalProperties"].is_object() {
                continue; // `subgraphs`: any other key is a subgraph name.
            }
            target["bogus"] = json!(1);
            let err = parse(&doc).unwrap_err();
            assert!(err.contains("unknown key `bogus`"), "{at:?}: {err}");
            let listed: BTreeSet<String> = err
                .split("valid keys at ")
                .nth(1)
                .and_then(|rest| rest.split_once(": "))
                .map(|(_, keys)| keys.split(", ").map(str::to_owned).collect())
                .unwrap_or_default();
            let expected: BTreeSet<String> = node["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            assert_eq!(listed, expected, "{at:?}: {err}");
            // serde's own list of fields, so a field missing from the schema is caught.
            let raw = serde_yaml_ng::from_str::<Config>(&serde_json::to_string(&doc).unwrap())
                .unwrap_err()
                .to_string();
            for key in &expected {
                assert!(raw.contains(&format!("`{key}`")), "{at:?}: {raw}");
            }
            let fields = raw.matches('`').count() / 2 - 1; // minus `bogus`
            assert_eq!(fields, expected.len(), "{at:?}: {raw}");
        }
    }

    #[test]
    fn the_examples_in_the_docs_and_readme_parse() {
        let docs = include_str!("../../../docs/configuration.md");
        let readme = include_str!("../../../README.md");
        let mut count = 0;
        for text in [docs, readme] {
            for block in text.split("```yaml\n").skip(1) {
                let yaml = block.split("```").next().unwrap_or("");
                if let Err(e) = parse_text(yaml, std::path::Path::new("weft.yaml")) {
                    panic!("{yaml}\n{}", e[0]);
                }
                count += 1;
            }
        }
        assert!(count >= 5, "{count}");
    }

    #[test]
    fn docs_list_every_key_and_variable() {
        let docs = include_str!("../../../docs/configuration.md");
        for key in KEYS {
            assert!(docs.contains(&format!("`{}`", key.path)), "{}", key.path);
            assert!(docs.contains(&env_name(key.path)), "{}", key.path);
        }
    }
}
