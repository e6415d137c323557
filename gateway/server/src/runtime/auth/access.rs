//! `@authenticated`, `@requiresScopes` and `@policy` (Apollo's authorization directives): what
//! each type and field of the supergraph requires, and the operation a request may run — the
//! client's operation minus the fields and fragments its token does not allow, with the
//! response paths that were removed. Pure: the caller plans and runs what is left and answers
//! the removed paths with `null` and an `UNAUTHORIZED_FIELD_OR_TYPE` error, as Apollo Router
//! does.

use std::collections::HashMap;

use apollo_compiler::Schema;
use apollo_compiler::ast::{Type, Value as AstValue};
use apollo_compiler::schema::{Component, ExtendedType};
use serde_json::{Map, Value};
use weft_federation::operation::{Field, Operation, Selection, SelectionSet};
use weft_federation::supergraph::links::LinkedSpec;

use weft_config::auth::PolicyRule;

/// What one type or field requires; every part must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    pub authenticated: bool,
    /// One entry per `@requiresScopes`: alternatives (OR) of scope sets (AND).
    pub scopes: Vec<Vec<Vec<String>>>,
    /// One entry per `@policy`: alternatives (OR) of policy sets (AND).
    pub policies: Vec<Vec<Vec<String>>>,
}

impl Access {
    fn is_open(&self) -> bool {
        !self.authenticated && self.scopes.is_empty() && self.policies.is_empty()
    }

    fn add(&mut self, other: &Access) {
        self.authenticated |= other.authenticated;
        self.scopes.extend(other.scopes.iter().cloned());
        self.policies.extend(other.policies.iter().cloned());
    }
}

/// Who is asking: the verified token's claims, or nobody.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub claims: Option<Map<String, Value>>,
}

impl Identity {
    /// When the token stops being valid (its `exp` claim, seconds since the epoch); `None`
    /// without a token or an `exp`.
    pub fn expires(&self) -> Option<std::time::SystemTime> {
        let exp = self.claims.as_ref()?.get("exp")?.as_f64()?;
        // An `exp` too far out to represent is no expiry worth waiting for.
        let after = std::time::Duration::try_from_secs_f64(exp).ok()?;
        std::time::UNIX_EPOCH.checked_add(after)
    }

    /// The token's scopes: the `scope` claim (space-separated, OAuth 2.0) or `scp` (a list or
    /// a space-separated string).
    fn scopes(&self) -> Vec<&str> {
        let Some(claims) = &self.claims else {
            return Vec::new();
        };
        ["scope", "scp"]
            .iter()
            .filter_map(|name| claims.get(*name))
            .flat_map(words)
            .collect()
    }

    /// Whether the token earns policy `name` under `rules` (no rule: never).
    fn has_policy(&self, name: &str, rules: &[PolicyRule]) -> bool {
        let Some(claims) = &self.claims else {
            return false;
        };
        rules
            .iter()
            .filter(|r| r.name == name)
            .any(|rule| match claims.get(&rule.claim) {
                None | Some(Value::Null) | Some(Value::Bool(false)) => false,
                Some(value) if rule.any_of.is_empty() => !value.is_null(),
                Some(value) => {
                    let have = words(value);
                    rule.any_of.iter().any(|want| have.contains(&want.as_str()))
                }
            })
    }

    /// Whether this identity satisfies `access`.
    pub fn allows(&self, access: &Access, rules: &[PolicyRule]) -> bool {
        if access.authenticated && self.claims.is_none() {
            return false;
        }
        let scopes = self.scopes();
        let scopes_ok = access.scopes.iter().all(|alternatives| {
            alternatives
                .iter()
                .any(|all| all.iter().all(|s| scopes.contains(&s.as_str())))
        });
        let policies_ok = access.policies.iter().all(|alternatives| {
            alternatives
                .iter()
                .any(|all| all.iter().all(|p| self.has_policy(p, rules)))
        });
        scopes_ok && policies_ok
    }
}

/// A claim's words: a string split on whitespace, or the strings of an array.
fn words(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => s.split_whitespace().collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The requirements of a supergraph, by type and by (type, field).
#[derive(Debug, Clone, Default)]
pub struct Requirements {
    types: HashMap<String, Access>,
    fields: HashMap<(String, String), Access>,
}

/// The local directive names of the three specs, where linked.
struct Names {
    authenticated: Option<String>,
    requires_scopes: Option<String>,
    policy: Option<String>,
}

impl Names {
    fn of(links: &[LinkedSpec]) -> Names {
        let find = |spec: &str| {
            links
                .iter()
                .find(|l| l.is_apollo() && l.name == spec)
                .map(|l| l.directive(spec))
        };
        Names {
            authenticated: find("authenticated"),
            requires_scopes: find("requiresScopes"),
            policy: find("policy"),
        }
    }

    fn access<'a>(
        &self,
        directives: impl Iterator<Item = &'a apollo_compiler::ast::Directive>,
    ) -> Access {
        let mut access = Access::default();
        for d in directives {
            let name = d.name.as_str();
            if self.authenticated.as_deref() == Some(name) {
                access.authenticated = true;
            } else if self.requires_scopes.as_deref() == Some(name) {
                access.scopes.push(nested_strings(d, "scopes"));
            } else if self.policy.as_deref() == Some(name) {
                access.policies.push(nested_strings(d, "policies"));
            }
        }
        access
    }
}

/// `[[String]]` argument `arg` of `d`.
fn nested_strings(d: &apollo_compiler::ast::Directive, arg: &str) -> Vec<Vec<String>> {
    let Some(AstValue::List(outer)) = d.specified_argument_by_name(arg).map(|v| &**v) else {
        return Vec::new();
    };
    outer
        .iter()
        .map(|inner| match &**inner {
            AstValue::List(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            AstValue::String(s) => vec![s.clone()],
            _ => Vec::new(),
        })
        .collect()
}

impl Requirements {
    /// Reads the directives of `schema` (the supergraph), named as `links` import them.
    pub fn of(schema: &Schema, links: &[LinkedSpec]) -> Requirements {
        let names = Names::of(links);
        let mut out = Requirements::default();
        if names.authenticated.is_none()
            && names.requires_scopes.is_none()
            && names.policy.is_none()
        {
            return out;
        }
        for (type_name, ty) in &schema.types {
            let own = names.access(directives_of(ty));
            if !own.is_open() {
                out.types.insert(type_name.to_string(), own);
            }
            let fields = match ty {
                ExtendedType::Object(o) => Some(&o.fields),
                ExtendedType::Interface(i) => Some(&i.fields),
                _ => None,
            };
            for (field_name, field) in fields.into_iter().flatten() {
                let access = names.access(field.directives.iter().map(|d| &**d));
                if !access.is_open() {
                    out.fields
                        .insert((type_name.to_string(), field_name.to_string()), access);
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty() && self.fields.is_empty()
    }

    /// What selecting `field` on `parent` requires: the field's own directives and those of
    /// the type it returns.
    fn of_field(&self, parent: &str, field: &Field) -> Access {
        let mut access = Access::default();
        if let Some(a) = self.fields.get(&(parent.to_owned(), field.name.clone())) {
            access.add(a);
        }
        if let Some(a) = self.types.get(field.ty.inner_named_type().as_str()) {
            access.add(a);
        }
        access
    }
}

fn directives_of(ty: &ExtendedType) -> impl Iterator<Item = &apollo_compiler::ast::Directive> {
    let list: &[Component<apollo_compiler::ast::Directive>] = match ty {
        ExtendedType::Object(t) => &t.directives,
        ExtendedType::Interface(t) => &t.directives,
        ExtendedType::Scalar(t) => &t.directives,
        ExtendedType::Enum(t) => &t.directives,
        ExtendedType::Union(t) => &t.directives,
        ExtendedType::InputObject(t) => &t.directives,
    };
    list.iter().map(|c| &***c)
}

/// The operation minus what `allowed` refuses, with the response paths removed (response
/// keys; a refused fragment is reported at its parent's path). `None`: nothing was refused.
pub fn filter(
    op: &Operation,
    requirements: &Requirements,
    allowed: &dyn Fn(&Access) -> bool,
) -> Option<(Operation, Vec<Vec<String>>)> {
    if requirements.is_empty() {
        return None;
    }
    let mut removed = Vec::new();
    let mut path = Vec::new();
    let set = filter_set(
        &op.selection_set,
        requirements,
        allowed,
        &mut path,
        &mut removed,
    );
    if removed.is_empty() {
        return None;
    }
    let mut filtered = op.clone();
    filtered.selection_set = set;
    Some((filtered, removed))
}

fn filter_set(
    set: &SelectionSet,
    requirements: &Requirements,
    allowed: &dyn Fn(&Access) -> bool,
    path: &mut Vec<String>,
    removed: &mut Vec<Vec<String>>,
) -> SelectionSet {
    let mut items = Vec::with_capacity(set.items.len());
    for item in &set.items {
        match item {
            Selection::Field(field) => {
                if field.name.starts_with("__") {
                    items.push(item.clone());
                    continue;
                }
                path.push(field.response_key.clone());
                let access = requirements.of_field(&set.parent_type, field);
                if !access.is_open() && !allowed(&access) {
                    removed.push(path.clone());
                } else {
                    let mut kept = field.clone();
                    if let Some(sub) = &field.selection_set {
                        let mut inner = filter_set(sub, requirements, allowed, path, removed);
                        // A composite field needs some selection: keep the object, which the
                        // response then shows with its refused fields null.
                        if inner.items.is_empty() {
                            inner.items.push(Selection::Field(typename()));
                        }
                        kept.selection_set = Some(inner);
                    }
                    items.push(Selection::Field(kept));
                }
                path.pop();
            }
            Selection::InlineFragment(fragment) => {
                let refused = fragment.type_condition.as_ref().is_some_and(|t| {
                    requirements
                        .types
                        .get(t)
                        .is_some_and(|a| !a.is_open() && !allowed(a))
                });
                if refused {
                    if !removed.contains(path) {
                        removed.push(path.clone());
                    }
                    continue;
                }
                let inner = filter_set(
                    &fragment.selection_set,
                    requirements,
                    allowed,
                    path,
                    removed,
                );
                if !inner.items.is_empty() {
                    let mut kept = fragment.clone();
                    kept.selection_set = inner;
                    items.push(Selection::InlineFragment(kept));
                }
            }
        }
    }
    SelectionSet {
        parent_type: set.parent_type.clone(),
        items,
    }
}

fn typename() -> Field {
    Field {
        response_key: "__typename".to_owned(),
        name: "__typename".to_owned(),
        arguments: Vec::new(),
        ty: Type::NonNullNamed(apollo_compiler::name!("String")),
        conditions: Vec::new(),
        directives: Vec::new(),
        selection_set: None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use weft_federation::Supergraph;
    use weft_federation::compose::{SubgraphInput, compose};
    use weft_federation::operation::normalize;

    use super::*;

    const SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6",
  import: ["@key", "@authenticated", "@requiresScopes", "@policy"])
type Query { me: User, secret: Secret, open: String }
type User @key(fields: "id") {
  id: ID!
  name: String
  email: String @authenticated
  salary: Int @requiresScopes(scopes: [["hr"], ["a", "b"]])
  notes: String @policy(policies: [["support"]])
}
type Secret @authenticated { code: String }
"#;

    fn supergraph() -> Supergraph {
        let composed = compose(&[SubgraphInput {
            name: "s".into(),
            url: "http://s".into(),
            sdl: SDL.into(),
            source: "s.graphql".into(),
        }])
        .map_err(|e| format!("{e:?}"))
        .unwrap_or_else(|e| panic!("{e}"));
        Supergraph::parse(&composed.supergraph_sdl, "sg").unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn identity(claims: serde_json::Value) -> Identity {
        Identity {
            claims: claims.as_object().cloned(),
        }
    }

    fn removed(sg: &Supergraph, query: &str, who: &Identity) -> Vec<Vec<String>> {
        let api = sg.api_schema();
        let doc = apollo_compiler::ExecutableDocument::parse_and_validate(api, query, "q")
            .unwrap_or_else(|e| panic!("{e:?}"));
        let op = normalize(api, &doc, None).unwrap_or_else(|e| panic!("{e}"));
        let requirements = Requirements::of(sg.schema(), sg.links());
        let rules = vec![PolicyRule {
            name: "support".into(),
            claim: "roles".into(),
            any_of: vec!["support".into()],
        }];
        filter(&op, &requirements, &|a| who.allows(a, &rules))
            .map(|(_, paths)| paths)
            .unwrap_or_default()
    }

    fn paths(list: &[&[&str]]) -> Vec<Vec<String>> {
        list.iter()
            .map(|p| p.iter().map(|s| (*s).to_owned()).collect())
            .collect()
    }

    #[test]
    #[allow(clippy::panic)]
    fn each_directive_refuses_what_the_identity_lacks() {
        let sg = supergraph();
        let q = "{ me { name email salary notes } secret { code } open }";
        let anonymous = Identity::default();
        assert_eq!(
            removed(&sg, q, &anonymous),
            paths(&[
                &["me", "email"],
                &["me", "salary"],
                &["me", "notes"],
                &["secret"]
            ])
        );
        let plain = identity(json!({ "sub": "x" }));
        assert_eq!(
            removed(&sg, q, &plain),
            paths(&[&["me", "salary"], &["me", "notes"]])
        );
        let hr = identity(json!({ "scope": "hr", "roles": ["support"] }));
        assert!(removed(&sg, q, &hr).is_empty());
        let half = identity(json!({ "scope": "a" }));
        assert_eq!(
            removed(&sg, "{ me { salary } }", &half),
            paths(&[&["me", "salary"]])
        );
        let both = identity(json!({ "scp": ["b", "a"] }));
        assert!(removed(&sg, "{ me { salary } }", &both).is_empty());
    }

    #[test]
    #[allow(clippy::panic)]
    fn an_object_left_empty_keeps_its_typename() {
        let sg = supergraph();
        let api = sg.api_schema();
        let doc =
            apollo_compiler::ExecutableDocument::parse_and_validate(api, "{ me { email } }", "q")
                .unwrap_or_else(|e| panic!("{e:?}"));
        let op = normalize(api, &doc, None).unwrap_or_else(|e| panic!("{e}"));
        let requirements = Requirements::of(sg.schema(), sg.links());
        let (filtered, _) = filter(&op, &requirements, &|_| false).unwrap_or_else(|| panic!());
        let Some(Selection::Field(me)) = filtered.selection_set.items.first() else {
            panic!("no me");
        };
        let inner = &me.selection_set.as_ref().unwrap_or_else(|| panic!()).items;
        assert!(matches!(&inner[..], [Selection::Field(f)] if f.name == "__typename"));
    }
}
