//! Authorization through `@requires`: a field computed from other fields must demand at least
//! what reading those fields demands (`@authenticated`, `@requiresScopes`, `@policy`), or a
//! client could read protected data through it (`MISSING_TRANSITIVE_AUTH_REQUIREMENTS`).
//! Requirements are the supergraph's: the conjunction of what every subgraph says.

use apollo_compiler::Name;
use apollo_compiler::ast::Directive;
use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;

use super::applied::{conjoin, list_of_lists};
use super::errors::Diagnostics;
use super::subgraph::Subgraph;
use super::usage::{fields_arg, parse_lenient};

/// What reading an element demands. `None` lists: no such requirement.
#[derive(Clone, Debug, Default)]
struct Requirements {
    authenticated: bool,
    scopes: Option<Vec<Vec<String>>>,
    policies: Option<Vec<Vec<String>>>,
}

impl Requirements {
    /// Adds what one subgraph's directives on the element demand (`find` looks one up).
    fn add<'a>(&mut self, sg: &Subgraph, find: impl Fn(&str) -> Option<&'a Directive>) {
        let n = &sg.names;
        if find(&n.authenticated).is_some() {
            self.authenticated = true;
        }
        if let Some(d) = find(&n.requires_scopes) {
            let new = list_of_lists(d.specified_argument_by_name("scopes"));
            self.scopes = Some(conjoin(self.scopes.take(), new));
        }
        if let Some(d) = find(&n.policy) {
            let new = list_of_lists(d.specified_argument_by_name("policies"));
            self.policies = Some(conjoin(self.policies.take(), new));
        }
    }

    fn merge(mut self, other: &Requirements) -> Requirements {
        self.authenticated |= other.authenticated;
        if let Some(s) = &other.scopes {
            self.scopes = Some(conjoin(self.scopes.take(), s.clone()));
        }
        if let Some(p) = &other.policies {
            self.policies = Some(conjoin(self.policies.take(), p.clone()));
        }
        self
    }

    /// Whether whoever meets `self` also meets `other`.
    fn satisfies(&self, other: &Requirements) -> bool {
        (self.authenticated || !other.authenticated)
            && implies(self.scopes.as_deref(), other.scopes.as_deref())
            && implies(self.policies.as_deref(), other.policies.as_deref())
    }
}

/// Each alternative of `first` contains some alternative of `second` (none given: always met).
fn implies(first: Option<&[Vec<String>]>, second: Option<&[Vec<String>]>) -> bool {
    let always: [Vec<String>; 1] = [Vec::new()];
    let normalize = |l: Option<&[Vec<String>]>| -> Vec<Vec<String>> {
        match l {
            Some(l) if !l.is_empty() => l.to_vec(),
            _ => always.to_vec(),
        }
    };
    let (first, second) = (normalize(first), normalize(second));
    first
        .iter()
        .all(|a| second.iter().any(|b| b.iter().all(|s| a.contains(s))))
}

/// The supergraph's requirements on a type, or on one of its fields.
fn requirements(subgraphs: &[Subgraph], type_name: &str, field: Option<&str>) -> Requirements {
    let mut out = Requirements::default();
    for sg in subgraphs {
        let Some(ty) = sg.schema.types.get(type_name) else {
            continue;
        };
        match field {
            None => out.add(sg, |name| ty.directives().get(name).map(|c| &***c)),
            Some(f) => {
                let def = match ty {
                    ExtendedType::Object(o) => o.fields.get(f),
                    ExtendedType::Interface(i) => i.fields.get(f),
                    _ => None,
                };
                if let Some(def) = def {
                    out.add(sg, |name| def.directives.get(name).map(|d| &**d));
                }
            }
        }
    }
    out
}

pub fn validate(subgraphs: &[Subgraph], d: &mut Diagnostics) {
    for sg in subgraphs.iter().filter(|sg| sg.fed2) {
        for (tname, ty) in &sg.schema.types {
            let ExtendedType::Object(o) = ty else {
                continue;
            };
            for (fname, field) in &o.fields {
                let Some(fields) = field
                    .directives
                    .get(&sg.names.requires)
                    .and_then(fields_arg)
                else {
                    continue;
                };
                let Some(set) = parse_lenient(sg, tname, fields) else {
                    continue;
                };
                let own = requirements(subgraphs, tname, None).merge(&requirements(
                    subgraphs,
                    tname,
                    Some(fname),
                ));
                if let Some(what) = unmet(subgraphs, &own, &set.selection_set) {
                    d.error(
                        "MISSING_TRANSITIVE_AUTH_REQUIREMENTS",
                        format!(
                            "[{}] Field \"{tname}.{fname}\" does not specify necessary @authenticated, @requiresScopes and/or @policy auth requirements to access the transitive {what} data from @requires selection set.",
                            sg.name
                        ),
                        vec![sg.place(field.location())],
                    );
                }
            }
        }
    }
}

/// The first part of a selection whose requirements `own` does not meet, described.
fn unmet(subgraphs: &[Subgraph], own: &Requirements, set: &SelectionSet) -> Option<String> {
    for selection in &set.selections {
        match selection {
            Selection::Field(f) => {
                let returned: &Name = f.definition.ty.inner_named_type();
                let on_field = requirements(subgraphs, &set.ty, Some(&f.name));
                let on_type = requirements(subgraphs, returned, None);
                if !own.satisfies(&on_field) || !own.satisfies(&on_type) {
                    return Some(format!("field \"{}.{}\"", set.ty, f.name));
                }
                if let Some(found) = unmet(subgraphs, own, &f.selection_set) {
                    return Some(found);
                }
            }
            Selection::InlineFragment(i) => {
                if let Some(condition) = &i.type_condition
                    && !own.satisfies(&requirements(subgraphs, condition, None))
                {
                    return Some(format!("inline fragment type condition \"{condition}\""));
                }
                if let Some(found) = unmet(subgraphs, own, &i.selection_set) {
                    return Some(found);
                }
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    None
}
