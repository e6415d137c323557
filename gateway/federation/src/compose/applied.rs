//! Directive applications that composition carries into the supergraph (`@tag`,
//! `@inaccessible`, `@deprecated`, auth and cost directives), read from one subgraph element
//! and printed with the supergraph's own names.

use apollo_compiler::Node;
use apollo_compiler::ast::{Directive, Value};

use super::merged::Features;
use super::subgraph::FedNames;

/// What one element carries, merged over the subgraphs that define it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Carried {
    pub inaccessible: bool,
    pub tags: Vec<String>,
    pub deprecated: Option<Option<String>>,
    pub specified_by: Option<String>,
    pub authenticated: bool,
    /// Disjunctions of conjunctions, as `@requiresScopes` takes them.
    pub scopes: Option<Vec<Vec<String>>>,
    pub policies: Option<Vec<Vec<String>>>,
    pub cost: Option<i64>,
    pub list_size: Option<String>,
    /// Applications of `@composeDirective` directives, printed as written.
    pub custom: Vec<String>,
}

impl Carried {
    /// Adds what `directives` (of one subgraph) say about the element.
    pub fn read<'a>(
        &mut self,
        directives: impl IntoIterator<Item = &'a Node<Directive>>,
        n: &FedNames,
    ) {
        for d in directives {
            let name = d.name.as_str();
            if name == n.inaccessible {
                self.inaccessible = true;
            } else if name == n.tag {
                if let Some(tag) = d
                    .specified_argument_by_name("name")
                    .and_then(|v| v.as_str())
                    && !self.tags.iter().any(|t| t == tag)
                {
                    self.tags.push(tag.to_owned());
                }
            } else if name == "deprecated" {
                if self.deprecated.is_none() {
                    let reason = d
                        .specified_argument_by_name("reason")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned);
                    self.deprecated = Some(reason);
                }
            } else if name == "specifiedBy" && self.specified_by.is_none() {
                // Non-repeatable: the first subgraph's wins (Apollo hints at the others).
                self.specified_by = d
                    .specified_argument_by_name("url")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
            } else if name == n.authenticated {
                self.authenticated = true;
            } else if name == n.requires_scopes {
                let new = list_of_lists(d.specified_argument_by_name("scopes"));
                self.scopes = Some(conjoin(self.scopes.take(), new));
            } else if name == n.policy {
                let new = list_of_lists(d.specified_argument_by_name("policies"));
                self.policies = Some(conjoin(self.policies.take(), new));
            } else if name == n.cost {
                if let Some(Value::Int(i)) =
                    d.specified_argument_by_name("weight").map(|v| v.as_ref())
                {
                    let w = i.try_to_i32().map(i64::from).unwrap_or(0);
                    self.cost = Some(self.cost.map_or(w, |c| c.max(w)));
                }
            } else if n.composed.iter().any(|c| c == name) {
                let printed = d.to_string();
                // A non-repeatable directive applied by several subgraphs keeps the first
                // subgraph's arguments (Apollo hints INCONSISTENT_NON_REPEATABLE_...).
                let repeatable = n.composed_repeatable.iter().any(|c| c == name);
                let applied_already = self.custom.iter().any(|c| {
                    c.strip_prefix('@')
                        .and_then(|c| c.strip_prefix(name))
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('('))
                });
                if !repeatable && applied_already {
                    continue;
                }
                if !self.custom.contains(&printed) {
                    self.custom.push(printed);
                }
            } else if name == n.list_size && self.list_size.is_none() {
                let args: Vec<String> = d
                    .arguments
                    .iter()
                    .map(|a| format!("{}: {}", a.name, a.value))
                    .collect();
                self.list_size = Some(args.join(", "));
            }
        }
    }

    /// The applications to print, in a stable order; records which specs they need.
    pub fn applied(&self, features: &mut Features) -> Vec<String> {
        let mut out = Vec::new();
        if self.inaccessible {
            features.inaccessible = true;
            out.push("@inaccessible".to_owned());
        }
        for tag in &self.tags {
            features.tag = true;
            out.push(format!("@tag(name: {})", quote(tag)));
        }
        if let Some(reason) = &self.deprecated {
            out.push(match reason {
                Some(r) => format!("@deprecated(reason: {})", quote(r)),
                None => "@deprecated".to_owned(),
            });
        }
        if let Some(url) = &self.specified_by {
            out.push(format!("@specifiedBy(url: {})", quote(url)));
        }
        if self.authenticated {
            features.authenticated = true;
            out.push("@authenticated".to_owned());
        }
        if let Some(scopes) = &self.scopes {
            features.requires_scopes = true;
            out.push(format!("@requiresScopes(scopes: {})", print_lists(scopes)));
        }
        if let Some(policies) = &self.policies {
            features.policy = true;
            out.push(format!("@policy(policies: {})", print_lists(policies)));
        }
        if let Some(cost) = self.cost {
            features.cost = true;
            out.push(format!("@cost(weight: {cost})"));
        }
        if let Some(args) = &self.list_size {
            features.list_size = true;
            out.push(if args.is_empty() {
                "@listSize".to_owned()
            } else {
                format!("@listSize({args})")
            });
        }
        out.extend(self.custom.iter().cloned());
        out
    }
}

pub(super) fn list_of_lists(value: Option<&Node<Value>>) -> Vec<Vec<String>> {
    crate::supergraph::read::string_list_list(value.map_or(&Value::Null, |v| v.as_ref()))
}

/// Both requirements at once: every pair of alternatives, joined (deduplicated).
pub(super) fn conjoin(
    existing: Option<Vec<Vec<String>>>,
    new: Vec<Vec<String>>,
) -> Vec<Vec<String>> {
    let Some(existing) = existing else {
        return new;
    };
    if existing == new {
        return existing;
    }
    let mut out: Vec<Vec<String>> = Vec::new();
    for a in &existing {
        for b in &new {
            let mut both = a.clone();
            for s in b {
                if !both.contains(s) {
                    both.push(s.clone());
                }
            }
            if !out.contains(&both) {
                out.push(both);
            }
        }
    }
    out
}

fn print_lists(lists: &[Vec<String>]) -> String {
    let inner: Vec<String> = lists
        .iter()
        .map(|l| {
            format!(
                "[{}]",
                l.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    format!("[{}]", inner.join(", "))
}

/// A GraphQL string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
