//! Which progressive-override labels one request switches on (`override_labels:` in
//! `weft.yaml`): a label is on when a rule for it matches the request's headers or its
//! verified token's claims; a `percent(N)` label no rule switched on rolls its dice. Only the
//! supergraph's own labels are considered, so a rule for a label no `@override` uses neither
//! changes a plan nor splits the plan cache (the labels are part of its key). Pure: the
//! caller passes the dice.

use std::collections::BTreeSet;

use axum::http::HeaderMap;
use serde_json::{Map, Value};
use weft_config::override_labels::LabelRule;

/// The labels of `used` (the supergraph's) that this request switches on under `rules`.
/// `roll` gives a number in [0, 1) for each `percent(N)` label left to chance.
pub fn switched_on(
    used: &BTreeSet<String>,
    rules: &[LabelRule],
    headers: &HeaderMap,
    claims: Option<&Map<String, Value>>,
    mut roll: impl FnMut() -> f64,
) -> BTreeSet<String> {
    used.iter()
        .filter(|label| {
            let ruled = rules
                .iter()
                .filter(|r| &r.label == *label)
                .any(|r| matches(r, headers, claims));
            ruled || percent(label).is_some_and(|p| roll() * 100.0 < p)
        })
        .cloned()
        .collect()
}

/// N of a `percent(N)` label.
fn percent(label: &str) -> Option<f64> {
    label
        .strip_prefix("percent(")?
        .strip_suffix(')')?
        .parse()
        .ok()
}

/// Whether `rule` matches the request. A claim rule never matches an anonymous request.
fn matches(rule: &LabelRule, headers: &HeaderMap, claims: Option<&Map<String, Value>>) -> bool {
    if let Some(name) = &rule.header {
        let mut values = headers.get_all(name.as_http()).iter().peekable();
        if rule.any_of.is_empty() {
            return values.peek().is_some();
        }
        return values.any(|v| {
            rule.any_of
                .iter()
                .any(|want| v.as_bytes() == want.as_bytes())
        });
    }
    if let Some(name) = &rule.claim {
        return match claims.and_then(|c| c.get(name)) {
            None | Some(Value::Null) | Some(Value::Bool(false)) if rule.any_of.is_empty() => false,
            Some(_) if rule.any_of.is_empty() => true,
            None => false,
            Some(value) => claim_holds(value, &rule.any_of),
        };
    }
    true
}

/// Whether a claim's value holds one of `any_of`: a string equal to one or with it among its
/// space-separated words (OAuth scopes), a list with it among its items, a number or boolean
/// written as one.
fn claim_holds(value: &Value, any_of: &[String]) -> bool {
    let is = |text: &str| any_of.iter().any(|want| want == text);
    match value {
        Value::String(s) => is(s) || s.split_whitespace().any(is),
        Value::Array(items) => items.iter().any(|item| match item {
            Value::Array(_) | Value::Object(_) => false,
            scalar => claim_holds(scalar, any_of),
        }),
        Value::Number(n) => is(&n.to_string()),
        Value::Bool(b) => is(if *b { "true" } else { "false" }),
        Value::Null | Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::runtime::pipeline::cache_key;

    fn rules(yaml: &str) -> Vec<LabelRule> {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    fn used(labels: &[&str]) -> BTreeSet<String> {
        labels.iter().map(|l| (*l).to_owned()).collect()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, v.parse().unwrap());
        }
        map
    }

    fn on(
        rules: &[LabelRule],
        labels: &[&str],
        headers: &HeaderMap,
        claims: Option<Value>,
    ) -> Vec<String> {
        let claims = claims.map(|c| c.as_object().unwrap().clone());
        // Dice that always say "off": only rules switch labels on.
        switched_on(&used(labels), rules, headers, claims.as_ref(), || 0.999_999)
            .into_iter()
            .collect()
    }

    #[test]
    fn a_header_rule_switches_its_label_on_for_the_values_it_lists() {
        let r = rules("[{label: beta, header: X-Beta, any_of: ['on', yes]}]");
        let labels = ["beta", "other"];
        assert_eq!(
            on(&r, &labels, &headers(&[("x-beta", "on")]), None),
            ["beta"]
        );
        assert_eq!(
            on(&r, &labels, &headers(&[("x-beta", "yes")]), None),
            ["beta"]
        );
        // A repeated header: any of its values.
        let both = headers(&[("x-beta", "no"), ("x-beta", "on")]);
        assert_eq!(on(&r, &labels, &both, None), ["beta"]);
        assert!(on(&r, &labels, &headers(&[("x-beta", "ON")]), None).is_empty());
        assert!(on(&r, &labels, &headers(&[("x-beta", "on ")]), None).is_empty());
        assert!(on(&r, &labels, &headers(&[]), None).is_empty());
        // `any_of` empty: present is enough.
        let present = rules("[{label: beta, header: x-beta}]");
        assert_eq!(
            on(&present, &labels, &headers(&[("x-beta", "")]), None),
            ["beta"]
        );
        assert!(on(&present, &labels, &headers(&[("x-other", "1")]), None).is_empty());
    }

    #[test]
    fn a_claim_rule_reads_the_verified_claims() {
        let r = rules("[{label: staff, claim: roles, any_of: [staff]}]");
        let labels = ["staff"];
        let none = headers(&[]);
        assert_eq!(
            on(&r, &labels, &none, Some(json!({"roles": ["x", "staff"]}))),
            ["staff"]
        );
        assert_eq!(
            on(&r, &labels, &none, Some(json!({"roles": "x staff"}))),
            ["staff"]
        );
        assert_eq!(
            on(&r, &labels, &none, Some(json!({"roles": "staff"}))),
            ["staff"]
        );
        assert!(on(&r, &labels, &none, Some(json!({"roles": ["staffer"]}))).is_empty());
        assert!(on(&r, &labels, &none, Some(json!({"roles": {"staff": true}}))).is_empty());
        assert!(on(&r, &labels, &none, Some(json!({"other": "staff"}))).is_empty());
        // No token: no claim rule matches.
        assert!(on(&r, &labels, &none, None).is_empty());
        // Numbers and booleans as written.
        let tier = rules("[{label: staff, claim: tier, any_of: ['2', 'true']}]");
        assert_eq!(
            on(&tier, &labels, &none, Some(json!({"tier": 2}))),
            ["staff"]
        );
        assert_eq!(
            on(&tier, &labels, &none, Some(json!({"tier": true}))),
            ["staff"]
        );
        assert!(on(&tier, &labels, &none, Some(json!({"tier": 3}))).is_empty());
        // `any_of` empty: present and not false or null.
        let present = rules("[{label: staff, claim: beta}]");
        assert_eq!(
            on(&present, &labels, &none, Some(json!({"beta": "x"}))),
            ["staff"]
        );
        assert!(on(&present, &labels, &none, Some(json!({"beta": false}))).is_empty());
        assert!(on(&present, &labels, &none, Some(json!({"beta": null}))).is_empty());
    }

    #[test]
    fn several_rules_for_a_label_are_alternatives_and_a_bare_rule_is_always_on() {
        let r = rules(
            "[{label: beta, header: x-beta, any_of: ['1']}, \
              {label: beta, claim: roles, any_of: [qa]}, {label: always}]",
        );
        let labels = ["beta", "always"];
        assert_eq!(on(&r, &labels, &headers(&[]), None), ["always"]);
        assert_eq!(
            on(&r, &labels, &headers(&[("x-beta", "1")]), None),
            ["always", "beta"]
        );
        assert_eq!(
            on(&r, &labels, &headers(&[]), Some(json!({"roles": ["qa"]}))),
            ["always", "beta"]
        );
    }

    #[test]
    fn percent_labels_roll_unless_a_rule_switches_them_on() {
        let r = rules("[{label: 'percent(10)', header: x-canary}]");
        let labels = used(&["percent(10)", "percent(90)", "named"]);
        let none = headers(&[]);
        let roll = |n: f64| switched_on(&labels, &r, &none, None, || n);
        assert_eq!(roll(0.05), used(&["percent(10)", "percent(90)"]));
        assert_eq!(roll(0.5), used(&["percent(90)"]));
        assert_eq!(roll(0.95), used(&[]));
        let canary = headers(&[("x-canary", "1")]);
        let ruled = switched_on(&labels, &r, &canary, None, || 0.95);
        assert_eq!(ruled, used(&["percent(10)"]));
    }

    /// Labels the supergraph does not use are never switched on, so they leave the plan
    /// cache's key alone: a rule for one does not split the cache.
    #[test]
    fn labels_the_supergraph_does_not_use_do_not_change_the_cache_key() {
        let r = rules(
            "[{label: unused, header: x-unused}, {label: 'percent(100)'}, \
              {label: beta, header: x-beta}]",
        );
        let supergraph = used(&["beta"]);
        let query = "{ price }";
        let key =
            |h: &HeaderMap| cache_key(query, None, &switched_on(&supergraph, &r, h, None, || 0.0));
        let plain = key(&headers(&[]));
        assert_eq!(plain, cache_key(query, None, &BTreeSet::new()));
        assert_eq!(key(&headers(&[("x-unused", "1")])), plain);
        assert_ne!(key(&headers(&[("x-beta", "1")])), plain);
    }
}
