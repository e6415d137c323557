//! Semantic comparison of two supergraphs: subgraphs, types, fields and join metadata, ignoring
//! order, formatting, descriptions and the join spec version. Used to hold Weft's composition
//! to what Apollo composition produces.

use std::collections::BTreeSet;

use super::Supergraph;
use super::model::*;

/// Every difference between `ours` and `theirs`, as readable lines; empty when equivalent.
pub fn differences(ours: &Supergraph, theirs: &Supergraph) -> Vec<String> {
    let mut out = Vec::new();
    let graph_names = |s: &Supergraph| -> BTreeSet<String> {
        s.subgraphs()
            .iter()
            .map(|g| format!("{} {}", g.name, g.url))
            .collect()
    };
    diff_sets(
        &mut out,
        "subgraphs",
        &graph_names(ours),
        &graph_names(theirs),
    );
    let type_names = |s: &Supergraph| -> BTreeSet<String> {
        s.types().map(|(_, t)| t.name.to_string()).collect()
    };
    diff_sets(&mut out, "types", &type_names(ours), &type_names(theirs));
    for (_, a) in ours.types() {
        let Some(b) = theirs.type_id(&a.name).map(|id| theirs.type_def(id)) else {
            continue;
        };
        let name = a.name.as_str();
        if a.kind != b.kind {
            out.push(format!("{name}: kind {:?} vs {:?}", a.kind, b.kind));
        }
        diff_sets(
            &mut out,
            &format!("{name} @join__type"),
            &join_types(ours, a),
            &join_types(theirs, b),
        );
        diff_sets(
            &mut out,
            &format!("{name} implements"),
            &type_list(ours, &a.interfaces),
            &type_list(theirs, &b.interfaces),
        );
        diff_sets(
            &mut out,
            &format!("{name} @join__implements"),
            &graph_types(ours, &a.join_implements),
            &graph_types(theirs, &b.join_implements),
        );
        diff_sets(
            &mut out,
            &format!("{name} members"),
            &type_list(ours, &a.members),
            &type_list(theirs, &b.members),
        );
        diff_sets(
            &mut out,
            &format!("{name} @join__unionMember"),
            &graph_types(ours, &a.join_members),
            &graph_types(theirs, &b.join_members),
        );
        if a.meta != b.meta {
            out.push(format!("{name}: directives {:?} vs {:?}", a.meta, b.meta));
        }
        diff_sets(
            &mut out,
            &format!("{name} @join__directive"),
            &join_directives(ours, &a.join_directives),
            &join_directives(theirs, &b.join_directives),
        );
        diff_sets(
            &mut out,
            &format!("{name} values"),
            &enum_values(ours, a),
            &enum_values(theirs, b),
        );
        let field_names = |s: &Supergraph, t: &TypeDef| -> BTreeSet<String> {
            t.fields
                .iter()
                .map(|f| s.field(*f).name.to_string())
                .collect()
        };
        diff_sets(
            &mut out,
            &format!("{name} fields"),
            &field_names(ours, a),
            &field_names(theirs, b),
        );
        for fa in a.fields.iter().map(|f| ours.field(*f)) {
            let Some(fb) = b
                .fields
                .iter()
                .map(|f| theirs.field(*f))
                .find(|f| f.name == fa.name)
            else {
                continue;
            };
            let path = format!("{name}.{}", fa.name);
            if fa.ty != fb.ty {
                out.push(format!("{path}: type {} vs {}", fa.ty, fb.ty));
            }
            if fa.default_value != fb.default_value {
                out.push(format!(
                    "{path}: default {:?} vs {:?}",
                    fa.default_value, fb.default_value
                ));
            }
            if fa.meta != fb.meta {
                out.push(format!("{path}: directives {:?} vs {:?}", fa.meta, fb.meta));
            }
            let args = |f: &FieldDef| -> BTreeSet<String> {
                f.arguments
                    .iter()
                    .map(|a| format!("{}: {} = {:?} {:?}", a.name, a.ty, a.default_value, a.meta))
                    .collect()
            };
            diff_sets(&mut out, &format!("{path} arguments"), &args(fa), &args(fb));
            diff_sets(
                &mut out,
                &format!("{path} @join__field"),
                &join_fields(ours, fa),
                &join_fields(theirs, fb),
            );
            diff_sets(
                &mut out,
                &format!("{path} @join__directive"),
                &join_directives(ours, &fa.join_directives),
                &join_directives(theirs, &fb.join_directives),
            );
        }
    }
    out
}

fn diff_sets(
    out: &mut Vec<String>,
    what: &str,
    ours: &BTreeSet<String>,
    theirs: &BTreeSet<String>,
) {
    for x in ours.difference(theirs) {
        out.push(format!("{what}: only ours has {x}"));
    }
    for x in theirs.difference(ours) {
        out.push(format!("{what}: only theirs has {x}"));
    }
}

fn graph_name(s: &Supergraph, g: SubgraphId) -> String {
    s.subgraph(g).name.clone()
}

fn join_types(s: &Supergraph, t: &TypeDef) -> BTreeSet<String> {
    t.join_types
        .iter()
        .map(|j| {
            format!(
                "{} key={:?} extension={} resolvable={} interfaceObject={}",
                graph_name(s, j.graph),
                j.key,
                j.extension,
                j.resolvable,
                j.is_interface_object
            )
        })
        .collect()
}

fn type_list(s: &Supergraph, ids: &[TypeId]) -> BTreeSet<String> {
    ids.iter()
        .map(|t| s.type_def(*t).name.to_string())
        .collect()
}

fn graph_types(s: &Supergraph, pairs: &[(SubgraphId, TypeId)]) -> BTreeSet<String> {
    pairs
        .iter()
        .map(|(g, t)| format!("{} {}", graph_name(s, *g), s.type_def(*t).name))
        .collect()
}

fn enum_values(s: &Supergraph, t: &TypeDef) -> BTreeSet<String> {
    t.enum_values
        .iter()
        .map(|v| {
            let graphs: Vec<String> = v.graphs.iter().map(|g| graph_name(s, *g)).collect();
            format!("{} in {:?} {:?}", v.name, graphs, v.meta)
        })
        .collect()
}

fn join_fields(s: &Supergraph, f: &FieldDef) -> BTreeSet<String> {
    f.join_fields
        .iter()
        .map(|j| {
            format!(
                "graph={:?} requires={:?} provides={:?} type={:?} external={} override={:?} label={:?} usedOverridden={} context={:?}",
                j.graph.map(|g| graph_name(s, g)),
                j.requires,
                j.provides,
                j.ty,
                j.external,
                j.override_from,
                j.override_label,
                j.used_overridden,
                j.context_arguments
            )
        })
        .collect()
}

fn join_directives(s: &Supergraph, list: &[JoinDirective]) -> BTreeSet<String> {
    list.iter()
        .map(|j| {
            let graphs: Vec<String> = j.graphs.iter().map(|g| graph_name(s, *g)).collect();
            format!("{} {:?} {:?}", j.name, graphs, j.args)
        })
        .collect()
}
