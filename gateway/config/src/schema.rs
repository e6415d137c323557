//! `weft config schema`: the JSON Schema of `weft.yaml`, derived by schemars from the config
//! types (descriptions from their doc comments, defaults from their `Default`, examples from
//! `#[schemars(example = ...)]`), then finished here: inlined, `null` taken out of optional
//! keys (a key is absent rather than null), and each leaf's description ending with its
//! environment variable. Every level is closed (`additionalProperties: false`) by its struct's
//! `deny_unknown_fields`. [`leaves`] walks it for
//! the `WEFT_*` overrides and the docs test. The tests below feed every key of the emitted
//! schema back to the parser and check that each level's keys are exactly the structs' fields.

use serde_json::{Map, Value, json};

use super::Config;

/// The JSON Schema of `weft.yaml`.
pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<Config>().to_value();
    tidy(&mut schema);
    if let Some(root) = schema.as_object_mut() {
        root.insert("title".into(), json!("weft.yaml"));
        root.insert(
            "description".into(),
            json!("Configuration of `weft serve --config`. See docs/configuration.md."),
        );
    }
    for leaf in leaves(&schema) {
        let env = if leaf.path.contains("<name>") {
            format!("{} (the name upper-cased)", env_placeholder(&leaf.path))
        } else {
            env_placeholder(&leaf.path)
        };
        if let Some(node) = pointer_mut(&mut schema, &leaf.pointer) {
            let doc = node
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let doc = format!("{doc} Environment: {env}.");
            node.insert("description".into(), json!(doc));
        }
    }
    schema
}

/// Takes `null` out of optional keys' types, drops `null` defaults and integer formats, joins
/// doc comments' lines, and gives each object level of the configuration its `properties`.
fn tidy(node: &mut Value) {
    let Some(map) = node.as_object_mut() else {
        if let Some(items) = node.as_array_mut() {
            items.iter_mut().for_each(tidy);
        }
        return;
    };
    if let Some(Value::Array(types)) = map.get("type") {
        let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        map.insert(
            "type".into(),
            match rest.as_slice() {
                [one] => one.clone(),
                _ => Value::Array(rest),
            },
        );
    }
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if map.get("default").is_some_and(Value::is_null) {
        map.remove("default");
    }
    if map
        .get("type")
        .is_some_and(|t| t == "integer" || t == "number")
    {
        map.remove("format");
    }
    if let Some(Value::String(doc)) = map.get_mut("description") {
        *doc = doc.replace('\n', " ");
    }
    if map.get("type").is_some_and(|t| t == "object")
        && map
            .get("additionalProperties")
            .is_some_and(Value::is_object)
        && !map.contains_key("properties")
    {
        map.insert("properties".into(), json!({}));
    }
    for (key, child) in map.iter_mut() {
        if key != "default" && key != "examples" {
            tidy(child);
        }
    }
}

/// One key of `weft.yaml` that holds a value (not a section): its dotted path (`<name>` for
/// any subgraph name), where its node is in the schema, and its node.
pub struct Leaf {
    pub path: String,
    pub pointer: String,
    pub node: Value,
}

/// Every leaf of the schema, in the schema's order.
pub fn leaves(schema: &Value) -> Vec<Leaf> {
    let mut out = Vec::new();
    walk(schema, "", "", &mut out);
    out
}

fn walk(node: &Value, path: &str, pointer: &str, out: &mut Vec<Leaf>) {
    let Some(props) = node["properties"]
        .as_object()
        .filter(|_| node["type"] == "object")
    else {
        out.push(Leaf {
            path: path.to_owned(),
            pointer: pointer.to_owned(),
            node: node.clone(),
        });
        return;
    };
    let join = |seg: &str| {
        if path.is_empty() {
            seg.to_owned()
        } else {
            format!("{path}.{seg}")
        }
    };
    for (name, child) in props {
        walk(
            child,
            &join(name),
            &format!("{pointer}/properties/{name}"),
            out,
        );
    }
    if node["additionalProperties"].is_object() {
        let pointer = format!("{pointer}/additionalProperties");
        walk(
            &node["additionalProperties"],
            &join("<name>"),
            &pointer,
            out,
        );
    }
}

fn pointer_mut<'a>(schema: &'a mut Value, pointer: &str) -> Option<&'a mut Map<String, Value>> {
    schema.pointer_mut(pointer).and_then(Value::as_object_mut)
}

/// The object levels of the schema, by path (`""` for the top level), with their keys.
pub fn object_levels(schema: &Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    collect_levels(schema, String::new(), &mut out);
    out
}

fn collect_levels(node: &Value, path: String, out: &mut Vec<(String, Vec<String>)>) {
    let Some(props) = node["properties"]
        .as_object()
        .filter(|_| node["type"] == "object")
    else {
        return;
    };
    out.push((path.clone(), props.keys().cloned().collect()));
    let join = |seg: &str| {
        if path.is_empty() {
            seg.to_owned()
        } else {
            format!("{path}.{seg}")
        }
    };
    for (name, child) in props {
        collect_levels(child, join(name), out);
    }
    if node["additionalProperties"].is_object() {
        collect_levels(&node["additionalProperties"], join("<name>"), out);
    }
}

/// Whether a variable sets this leaf: not under `<name>`, and a scalar or a list of scalars.
pub fn env_settable(leaf: &Leaf) -> bool {
    let node = &leaf.node;
    let rules = node["type"] == "array" && node["items"]["type"] == "object";
    !rules && !leaf.path.contains("<name>")
}

/// `WEFT_` + `path` upper-cased, `.` → `_` (`<name>` stays a placeholder).
pub fn env_placeholder(path: &str) -> String {
    format!("WEFT_{}", path.replace('.', "_").to_ascii_uppercase())
}

/// The derived schema, computed once.
pub fn json_schema_cached() -> &'static Value {
    static SCHEMA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(json_schema)
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

    fn parse(doc: &Value) -> Result<Config, Vec<crate::ConfigError>> {
        let text = serde_json::to_string_pretty(doc).unwrap();
        parse_text(&text, std::path::Path::new("weft.yaml"))
    }

    /// The errors reading `doc` gives, as the CLI prints them (one after the other).
    fn errors(doc: &Value) -> String {
        parse(doc)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
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
        assert_ne!(config.override_labels, defaults.override_labels);
        assert_eq!(config.telemetry.sampling_ratio.get(), 0.25);
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
            let err = errors(&doc);
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

    /// The row of docs/configuration.md's key tables for `path`: type, default, variable.
    fn docs_row<'a>(docs: &'a str, path: &str) -> Option<[&'a str; 3]> {
        let line = docs
            .lines()
            .find(|l| l.starts_with(&format!("| `{path}` |")))?;
        let cells: Vec<&str> = line.split(" | ").map(str::trim).collect();
        Some([*cells.get(1)?, *cells.get(2)?, *cells.get(3)?])
    }

    #[test]
    fn docs_list_every_key_and_variable_as_the_schema_says() {
        let docs = include_str!("../../../docs/configuration.md");
        for leaf in leaves(&json_schema()) {
            let path = &leaf.path;
            let node = &leaf.node;
            let Some([ty, default, var]) = docs_row(docs, path) else {
                panic!("docs/configuration.md has no row for `{path}`");
            };
            let name = env_placeholder(path);
            if env_settable(&leaf) {
                assert!(var.starts_with(&format!("`{name}`")), "{path}: {var}");
            } else if !path.starts_with("subgraphs.<name>.url") {
                assert!(var.starts_with("none"), "{path}: {var}");
            }
            let type_ok = match node["type"].as_str().unwrap_or_default() {
                "integer" => match node["minimum"].as_u64() {
                    Some(0) => ty.contains("≥ 0") || ty.contains("`0` = off"),
                    Some(min) => ty.contains(&format!("≥ {min}")),
                    None => ty.starts_with("integer"),
                },
                "number" => ty.starts_with("number"),
                "boolean" => ty == "boolean",
                "array" if node["items"]["type"] == "object" => ty.starts_with("list of "),
                "array" => ty == "list of strings",
                _ => match node["enum"].as_array() {
                    Some(values) => values
                        .iter()
                        .all(|v| ty.contains(&format!("`{}`", v.as_str().unwrap_or_default()))),
                    None => ty == "string",
                },
            };
            assert!(type_ok, "{path}: the docs say {ty}, the schema {node}");
            let default_ok = match &node["default"] {
                Value::Null => true,
                Value::Array(items) if items.is_empty() => default == "empty" || default == "`[]`",
                Value::Array(items) => items
                    .iter()
                    .all(|i| default.contains(&format!("`{}`", i.as_str().unwrap_or_default()))),
                Value::String(s) => default.contains(&format!("`{s}`")),
                other => default.contains(&format!("`{other}`")),
            };
            assert!(
                default_ok,
                "{path}: the docs say {default}, the schema {}",
                node["default"]
            );
        }
    }
}
