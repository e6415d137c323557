//! Changes in federation metadata between two supergraphs: nothing a client sees in the API
//! schema, but keys, requirements and ownership decide which plans the gateway can build, so
//! a reviewer should see them. Compared by subgraph name, type and field name.

use std::collections::BTreeSet;

use crate::supergraph::{Supergraph, TypeDef};

use super::{Category, Change, Severity};

pub fn diff(old: &Supergraph, new: &Supergraph) -> Vec<Change> {
    let mut out = Vec::new();
    let push = |out: &mut Vec<Change>, severity, code, path: String, message: String| {
        out.push(Change {
            severity,
            category: Category::Federation,
            code,
            path,
            message,
        })
    };
    for g in old.subgraphs() {
        match new.subgraphs().iter().find(|n| n.name == g.name) {
            None => push(
                &mut out,
                Severity::Dangerous,
                "SUBGRAPH_REMOVED",
                g.name.clone(),
                format!("Subgraph `{}` was removed", g.name),
            ),
            Some(n) if n.url != g.url => push(
                &mut out,
                Severity::Dangerous,
                "ROUTING_URL_CHANGED",
                g.name.clone(),
                format!("Subgraph `{}` moved from {} to {}", g.name, g.url, n.url),
            ),
            Some(_) => {}
        }
    }
    for g in new.subgraphs() {
        if !old.subgraphs().iter().any(|o| o.name == g.name) {
            push(
                &mut out,
                Severity::Safe,
                "SUBGRAPH_ADDED",
                g.name.clone(),
                format!("Subgraph `{}` was added", g.name),
            );
        }
    }
    for (_, old_ty) in old.types() {
        let Some(new_id) = new.type_id(&old_ty.name) else {
            continue;
        };
        let new_ty = new.type_def(new_id);
        let name = old_ty.name.as_str();
        let (ok, nk) = (keys(old, old_ty), keys(new, new_ty));
        for k in ok.difference(&nk) {
            push(
                &mut out,
                Severity::Dangerous,
                "KEY_REMOVED",
                name.to_owned(),
                format!("`{name}` lost {k}: the gateway can no longer fetch it that way"),
            );
        }
        for k in nk.difference(&ok) {
            push(
                &mut out,
                Severity::Safe,
                "KEY_ADDED",
                name.to_owned(),
                format!("`{name}` gained {k}"),
            );
        }
        for f in &old_ty.fields {
            let old_f = old.field(*f);
            let Some(new_f) = new.field_id(new_id, &old_f.name) else {
                continue;
            };
            let path = format!("{name}.{}", old_f.name);
            let placement = |s: &Supergraph, id| -> BTreeSet<String> {
                s.field_subgraphs(id)
                    .into_iter()
                    .filter(|p| !p.external)
                    .map(|p| s.subgraph(p.graph).name.clone())
                    .collect()
            };
            let (or, nr) = (placement(old, *f), placement(new, new_f));
            for g in or.difference(&nr) {
                push(
                    &mut out,
                    Severity::Dangerous,
                    "FIELD_NO_LONGER_RESOLVED_BY",
                    path.clone(),
                    format!(
                        "`{path}` is no longer resolved by subgraph `{g}` (now: {})",
                        list(&nr)
                    ),
                );
            }
            for g in nr.difference(&or) {
                push(
                    &mut out,
                    Severity::Safe,
                    "FIELD_NOW_RESOLVED_BY",
                    path.clone(),
                    format!("`{path}` is now also resolved by subgraph `{g}`"),
                );
            }
            let directives = |s: &Supergraph, id| -> BTreeSet<String> {
                s.field_subgraphs(id)
                    .into_iter()
                    .flat_map(|p| {
                        let g = s.subgraph(p.graph).name.clone();
                        let mut v = Vec::new();
                        if let Some(r) = p.requires {
                            v.push(format!("@requires(fields: \"{r}\") in `{g}`"));
                        }
                        if let Some(pr) = p.provides {
                            v.push(format!("@provides(fields: \"{pr}\") in `{g}`"));
                        }
                        // Only the overriding subgraph has `override:`; the overridden one
                        // carries the label too, but gained nothing.
                        if let Some(from) = p.override_from {
                            match p.override_label {
                                Some(l) => v.push(format!(
                                    "@override(from: \"{from}\", label: \"{l}\") in `{g}`"
                                )),
                                None => v.push(format!("@override(from: \"{from}\") in `{g}`")),
                            }
                        }
                        v
                    })
                    .collect()
            };
            let (od, nd) = (directives(old, *f), directives(new, new_f));
            for x in od.difference(&nd) {
                push(
                    &mut out,
                    Severity::Dangerous,
                    "FEDERATION_DIRECTIVE_REMOVED",
                    path.clone(),
                    format!("`{path}` lost {x}"),
                );
            }
            for x in nd.difference(&od) {
                // A new @provides only lets plans skip a fetch; @requires and @override
                // change which subgraph does what.
                let severity = if x.starts_with("@provides") {
                    Severity::Safe
                } else {
                    Severity::Dangerous
                };
                push(
                    &mut out,
                    severity,
                    "FEDERATION_DIRECTIVE_ADDED",
                    path.clone(),
                    format!("`{path}` gained {x}"),
                );
            }
        }
    }
    out
}

fn keys(s: &Supergraph, t: &TypeDef) -> BTreeSet<String> {
    t.join_types
        .iter()
        .filter_map(|j| {
            let key = j.key.as_ref()?;
            let resolvable = if j.resolvable {
                ""
            } else {
                ", resolvable: false"
            };
            Some(format!(
                "@key(fields: \"{key}\"{resolvable}) in `{}`",
                s.subgraph(j.graph).name
            ))
        })
        .collect()
}

fn list(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "no subgraph".to_owned()
    } else {
        set.iter()
            .map(|g| format!("`{g}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
