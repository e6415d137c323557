//! Subgraph schemas recovered from a supergraph: for each subgraph, the types, fields, keys and
//! federation directives the join metadata says it has, printed as a Federation 2 subgraph SDL.
//! `weft check` recomposes them with a proposed change; the planner reads the same facts.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use super::Supergraph;
use super::model::*;

/// The federation directives a recovered subgraph may use. Only those it does use are imported:
/// importing more makes composition hint about them (e.g. a directive the linked version does
/// not define), which would be a hint about nothing the user wrote.
const FEDERATION_DIRECTIVES: [&str; 18] = [
    "key",
    "requires",
    "provides",
    "external",
    "shareable",
    "override",
    "inaccessible",
    "tag",
    "interfaceObject",
    "extends",
    "context",
    "fromContext",
    "authenticated",
    "requiresScopes",
    "policy",
    "cost",
    "listSize",
    "cacheTag",
];

/// The SDL of subgraph `graph` as the supergraph describes it.
pub fn subgraph_sdl(sg: &Supergraph, graph: SubgraphId) -> String {
    let externals = implied_externals(sg, graph);
    let provided = provided_fields(sg);
    let overridden = overridden_away(sg, graph);
    let mut out = executable_directives(sg);
    for (id, ty) in sg.types() {
        if !sg.type_subgraphs(id).contains(&graph) {
            continue;
        }
        let mut body = String::new();
        match ty.kind {
            TypeKind::Object | TypeKind::Interface => {
                for f in &ty.fields {
                    if let Some(line) = field_in(sg, *f, graph, &externals, &provided) {
                        body.push_str(&line);
                    } else if overridden.contains(f) {
                        // Overridden away: the supergraph no longer says this subgraph has it,
                        // but the `@override(from:)` says it did. Without it, a proposal that
                        // drops the `@override` would look like a removed field.
                        let line = overridden_field(sg, *f);
                        body.push_str(&line);
                    }
                }
                if body.is_empty() {
                    continue;
                }
            }
            TypeKind::InputObject => {
                for f in &ty.fields {
                    let def = sg.field(*f);
                    let here: Vec<&JoinField> = def
                        .join_fields
                        .iter()
                        .filter(|j| j.graph == Some(graph))
                        .collect();
                    if !def.join_fields.is_empty() && here.is_empty() {
                        continue;
                    }
                    let ty_str = here
                        .first()
                        .and_then(|j| j.ty.clone())
                        .unwrap_or_else(|| def.ty.to_string());
                    body.push_str(&description(&def.description, "  "));
                    let _ = write!(body, "  {}: {ty_str}", def.name);
                    if let Some(v) = &def.default_value {
                        let _ = write!(body, " = {v}");
                    }
                    body.push_str(&meta(&def.meta));
                    body.push('\n');
                }
            }
            TypeKind::Enum => {
                for v in &ty.enum_values {
                    if v.graphs.is_empty() || v.graphs.contains(&graph) {
                        body.push_str(&description(&v.description, "  "));
                        let _ = writeln!(body, "  {}{}", v.name, meta(&v.meta));
                    }
                }
            }
            TypeKind::Union | TypeKind::Scalar => {}
        }
        let is_interface_object = ty
            .join_types
            .iter()
            .any(|j| j.graph == graph && j.is_interface_object);
        let keyword = match ty.kind {
            TypeKind::Object => "type",
            TypeKind::Interface if is_interface_object => "type",
            TypeKind::Interface => "interface",
            TypeKind::Union => "union",
            TypeKind::Enum => "enum",
            TypeKind::InputObject => "input",
            TypeKind::Scalar => "scalar",
        };
        out.push('\n');
        out.push_str(&description(&ty.description, ""));
        let _ = write!(out, "{keyword} {}", ty.name);
        let interfaces: Vec<String> = if ty.join_implements.is_empty() {
            ty.interfaces
                .iter()
                .map(|i| sg.type_def(*i).name.to_string())
                .collect()
        } else {
            ty.join_implements
                .iter()
                .filter(|(g, _)| *g == graph)
                .map(|(_, i)| sg.type_def(*i).name.to_string())
                .collect()
        };
        if !interfaces.is_empty() && !is_interface_object {
            let _ = write!(out, " implements {}", interfaces.join(" & "));
        }
        for j in ty.join_types.iter().filter(|j| j.graph == graph) {
            if let Some(key) = &j.key {
                let _ = write!(out, " @key(fields: {}", quote(key));
                if !j.resolvable {
                    out.push_str(", resolvable: false");
                }
                out.push(')');
            }
        }
        if is_interface_object {
            out.push_str(" @interfaceObject");
        }
        if ty
            .join_types
            .iter()
            .any(|j| j.graph == graph && j.extension)
        {
            out.push_str(" @extends");
        }
        let prefix = format!("{}__", sg.subgraph(graph).name);
        for context in &ty.contexts {
            if let Some(local) = context.strip_prefix(&prefix) {
                let _ = write!(out, " @context(name: {})", quote(local));
            }
        }
        for jd in ty
            .join_directives
            .iter()
            .filter(|j| j.graphs.contains(&graph))
        {
            out.push_str(&join_directive(jd));
        }
        out.push_str(&meta(&ty.meta));
        if let Some(url) = &ty.specified_by {
            let _ = write!(out, " @specifiedBy(url: {})", quote(url));
        }
        match ty.kind {
            TypeKind::Union => {
                let members: Vec<String> = if ty.join_members.is_empty() {
                    ty.members
                        .iter()
                        .map(|m| sg.type_def(*m).name.to_string())
                        .collect()
                } else {
                    ty.join_members
                        .iter()
                        .filter(|(g, _)| *g == graph)
                        .map(|(_, m)| sg.type_def(*m).name.to_string())
                        .collect()
                };
                let _ = writeln!(out, " = {}", members.join(" | "));
            }
            TypeKind::Scalar => out.push('\n'),
            _ => {
                let _ = write!(out, " {{\n{body}}}\n");
            }
        }
    }
    format!("{}{out}", link(&out))
}

/// The `@link` to federation importing exactly the directives `body` applies.
fn link(body: &str) -> String {
    let used: Vec<String> = FEDERATION_DIRECTIVES
        .iter()
        .filter(|d| applies(body, d))
        .map(|d| format!("\"@{d}\""))
        .collect();
    format!(
        "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.12\", import: [{}])\n",
        used.join(", ")
    )
}

/// Whether `@name` occurs in `sdl` as a whole directive name (not a prefix of a longer one).
fn applies(sdl: &str, name: &str) -> bool {
    let needle = format!("@{name}");
    sdl.match_indices(&needle).any(|(at, _)| {
        !sdl[at + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The supergraph's executable directive definitions (`directive @lowercase on FIELD`), which
/// composition keeps only when every subgraph defines them: each recovered subgraph defines
/// them all, so recomposing keeps them, with the locations and arguments the supergraph has.
fn executable_directives(sg: &Supergraph) -> String {
    let mut out = String::new();
    for def in sg.api_schema().directive_definitions.values() {
        if def.is_built_in() {
            continue;
        }
        let _ = writeln!(out, "\n{def}");
    }
    out
}

/// Fields another subgraph took from `graph` with a plain `@override(from: "<graph>")` (no
/// label: a progressive override keeps the source's `@join__field`), whose types `graph` has.
fn overridden_away(sg: &Supergraph, graph: SubgraphId) -> HashSet<FieldId> {
    let name = &sg.subgraph(graph).name;
    let has = |ty: &str| {
        matches!(ty, "String" | "Int" | "Float" | "Boolean" | "ID")
            || sg
                .type_id(ty)
                .is_some_and(|t| sg.type_subgraphs(t).contains(&graph))
    };
    let mut out = HashSet::new();
    for (id, ty) in sg.types() {
        if !matches!(ty.kind, TypeKind::Object | TypeKind::Interface)
            || !sg.type_subgraphs(id).contains(&graph)
        {
            continue;
        }
        for f in &ty.fields {
            let def = sg.field(*f);
            let taken = def.join_fields.iter().any(|j| {
                j.override_from.as_deref() == Some(name.as_str()) && j.override_label.is_none()
            });
            let here = def.join_fields.iter().any(|j| j.graph == Some(graph));
            let types_known = has(def.ty.inner_named_type())
                && def.arguments.iter().all(|a| has(a.ty.inner_named_type()));
            if taken && !here && types_known {
                out.insert(*f);
            }
        }
    }
    out
}

/// An overridden field as its source subgraph declared it: name, arguments and type, no
/// federation directives (an overridden field is not shared, and its directives are unknown).
fn overridden_field(sg: &Supergraph, field: FieldId) -> String {
    let def = sg.field(field);
    let args: Vec<String> = def
        .arguments
        .iter()
        .map(|a| match &a.default_value {
            Some(v) => format!("{}: {} = {v}", a.name, a.ty),
            None => format!("{}: {}", a.name, a.ty),
        })
        .collect();
    if args.is_empty() {
        format!("  {}: {}\n", def.name, def.ty)
    } else {
        format!("  {}({}): {}\n", def.name, args.join(", "), def.ty)
    }
}

/// One field's line in `graph`, or `None` if the subgraph does not have it.
fn field_in(
    sg: &Supergraph,
    field: FieldId,
    graph: SubgraphId,
    externals: &HashSet<FieldId>,
    provided: &HashMap<FieldId, HashSet<SubgraphId>>,
) -> Option<String> {
    let def = sg.field(field);
    let parent = sg.type_def(def.parent);
    let (join, ty) = if def.join_fields.is_empty() {
        let owner_ok =
            parent.owner.is_none_or(|o| o == graph) || is_key_field(parent, graph, &def.name);
        if !owner_ok {
            return None;
        }
        (None, def.ty.to_string())
    } else {
        match def.join_fields.iter().find(|j| j.graph == Some(graph)) {
            Some(j) => (Some(j), j.ty.clone().unwrap_or_else(|| def.ty.to_string())),
            // Join v0.1 lists key fields under the owner only; the key's subgraph has them too.
            None if is_key_field(parent, graph, &def.name) => (None, def.ty.to_string()),
            // Join v0.1 leaves out @external fields; @requires and @provides imply them.
            None if externals.contains(&field) => {
                return Some(format!("  {}: {} @external\n", def.name, def.ty));
            }
            None => return None,
        }
    };
    let mut line = description(&def.description, "  ");
    let _ = write!(line, "  {}", def.name);
    let mut args: Vec<String> = def
        .arguments
        .iter()
        .map(|a| {
            let mut s = match &a.description {
                Some(d) => format!("{} ", quote(d)),
                None => String::new(),
            };
            let _ = write!(s, "{}: {}", a.name, a.ty);
            if let Some(v) = &a.default_value {
                let _ = write!(s, " = {v}");
            }
            s.push_str(&meta(&a.meta));
            s
        })
        .collect();
    // Arguments filled from a context are not in the supergraph's field: recreate them.
    let prefix = format!("{}__", sg.subgraph(graph).name);
    for c in join
        .map(|j| j.context_arguments.as_slice())
        .unwrap_or_default()
    {
        let local = c.context.strip_prefix(&prefix).unwrap_or(&c.context);
        args.push(format!(
            "{}: {} @fromContext(field: {})",
            c.name,
            c.ty,
            quote(&format!("${local}{}", c.selection))
        ));
    }
    if !args.is_empty() {
        let _ = write!(line, "({})", args.join(", "));
    }
    let _ = write!(line, ": {ty}");
    if let Some(j) = join {
        if j.external {
            line.push_str(" @external");
        }
        if let Some(r) = &j.requires {
            let _ = write!(line, " @requires(fields: {})", quote(r));
        }
        if let Some(p) = &j.provides {
            let _ = write!(line, " @provides(fields: {})", quote(p));
        }
        if let Some(from) = &j.override_from {
            let _ = write!(line, " @override(from: {}", quote(from));
            if let Some(label) = &j.override_label {
                let _ = write!(line, ", label: {}", quote(label));
            }
            line.push(')');
        }
    }
    let external = join.is_some_and(|j| j.external);
    if parent.kind == TypeKind::Object && !external && resolvers(sg, field, provided) > 1 {
        line.push_str(" @shareable");
    }
    for jd in def
        .join_directives
        .iter()
        .filter(|j| j.graphs.contains(&graph))
    {
        line.push_str(&join_directive(jd));
    }
    // The supergraph's merged directives belong to the subgraphs that define the field, never
    // to an `@external` copy of it (composition rejects them there).
    if !external {
        line.push_str(&meta(&def.meta));
    }
    line.push('\n');
    Some(line)
}

/// How many subgraphs resolve a field themselves (not external, not overridden away).
fn resolvers(
    sg: &Supergraph,
    field: FieldId,
    provided: &HashMap<FieldId, HashSet<SubgraphId>>,
) -> usize {
    let def = sg.field(field);
    if def.join_fields.is_empty() {
        let parent = sg.type_def(def.parent);
        return if parent.owner.is_some() {
            1
        } else {
            sg.type_subgraphs(def.parent).len()
        };
    }
    def.join_fields
        .iter()
        .filter(|j| !j.external && !j.used_overridden)
        .filter_map(|j| j.graph)
        .chain(provided.get(&field).into_iter().flatten().copied())
        .collect::<HashSet<_>>()
        .len()
}

fn is_key_field(ty: &TypeDef, graph: SubgraphId, name: &str) -> bool {
    ty.join_types.iter().filter(|j| j.graph == graph).any(|j| {
        j.key
            .as_deref()
            .is_some_and(|k| super::top_level_fields(k).contains(&name))
    })
}

fn join_directive(j: &JoinDirective) -> String {
    let name = j.name.strip_prefix("federation__").unwrap_or(&j.name);
    let args: Vec<String> = j.args.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    if args.is_empty() {
        format!(" @{name}")
    } else {
        format!(" @{name}({})", args.join(", "))
    }
}

fn meta(m: &Meta) -> String {
    let mut out = String::new();
    if m.inaccessible {
        out.push_str(" @inaccessible");
    }
    for t in &m.tags {
        let _ = write!(out, " @tag(name: {})", quote(t));
    }
    if m.authenticated {
        out.push_str(" @authenticated");
    }
    let lists = |l: &[Vec<String>]| {
        let inner: Vec<String> = l
            .iter()
            .map(|x| {
                format!(
                    "[{}]",
                    x.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        format!("[{}]", inner.join(", "))
    };
    if !m.requires_scopes.is_empty() {
        let _ = write!(
            out,
            " @requiresScopes(scopes: {})",
            lists(&m.requires_scopes)
        );
    }
    if !m.policies.is_empty() {
        let _ = write!(out, " @policy(policies: {})", lists(&m.policies));
    }
    if let Some(c) = m.cost {
        let _ = write!(out, " @cost(weight: {c})");
    }
    match &m.deprecated {
        Some(Some(reason)) => {
            let _ = write!(out, " @deprecated(reason: {})", quote(reason));
        }
        Some(None) => out.push_str(" @deprecated"),
        None => {}
    }
    out
}

/// A block-string description line (with a newline), or nothing.
fn description(text: &Option<String>, indent: &str) -> String {
    match text {
        Some(t) => format!("{indent}{}\n", block_string(t)),
        None => String::new(),
    }
}

fn block_string(text: &str) -> String {
    format!("\"\"\"{}\"\"\"", text.replace("\"\"\"", "\\\"\"\""))
}

fn quote(s: &str) -> String {
    crate::compose::applied::quote(s)
}

/// Fields that `@requires` and `@provides` in `graph` select: the subgraph declares them
/// `@external`, which join v0.1 supergraphs do not record.
fn implied_externals(sg: &Supergraph, graph: SubgraphId) -> HashSet<FieldId> {
    let mut out = HashSet::new();
    for (_, ty) in sg.types() {
        for f in &ty.fields {
            let def = sg.field(*f);
            for j in def.join_fields.iter().filter(|j| j.graph == Some(graph)) {
                if let Some(requires) = &j.requires {
                    select_fields(sg, def.parent, requires, &mut out);
                }
                if let Some(provides) = &j.provides
                    && let Some(target) = sg.type_id(def.ty.inner_named_type())
                {
                    select_fields(sg, target, provides, &mut out);
                }
            }
        }
    }
    out
}

/// Fields each subgraph's `@provides` select: that subgraph resolves them too (on those
/// paths), so composition requires their other resolvers to be `@shareable`.
fn provided_fields(sg: &Supergraph) -> HashMap<FieldId, HashSet<SubgraphId>> {
    let mut out: HashMap<FieldId, HashSet<SubgraphId>> = HashMap::new();
    for (_, ty) in sg.types() {
        for f in &ty.fields {
            let def = sg.field(*f);
            for j in &def.join_fields {
                if let (Some(graph), Some(provides)) = (j.graph, &j.provides)
                    && let Some(target) = sg.type_id(def.ty.inner_named_type())
                {
                    let mut selected = HashSet::new();
                    select_fields(sg, target, provides, &mut selected);
                    for s in selected {
                        out.entry(s).or_default().insert(graph);
                    }
                }
            }
        }
    }
    out
}

/// Every field a field set selects, nested selections and `... on T` included.
fn select_fields(sg: &Supergraph, ty: TypeId, field_set: &str, out: &mut HashSet<FieldId>) {
    let spaced = field_set.replace('{', " { ").replace('}', " } ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut i = 0;
    walk(sg, ty, &tokens, &mut i, out);
}

fn walk(sg: &Supergraph, ty: TypeId, tokens: &[&str], i: &mut usize, out: &mut HashSet<FieldId>) {
    let mut last: Option<FieldId> = None;
    while *i < tokens.len() {
        let token = tokens[*i];
        *i += 1;
        match token {
            "}" => return,
            "{" => {
                let inner = last
                    .and_then(|f| sg.type_id(sg.field(f).ty.inner_named_type()))
                    .unwrap_or(ty);
                walk(sg, inner, tokens, i, out);
            }
            "..." => {
                // `... on T { ... }`
                if tokens.get(*i) == Some(&"on") {
                    let target = tokens.get(*i + 1).and_then(|t| sg.type_id(t)).unwrap_or(ty);
                    *i += 2;
                    if tokens.get(*i) == Some(&"{") {
                        *i += 1;
                        walk(sg, target, tokens, i, out);
                    }
                }
                last = None;
            }
            name => {
                last = sg.field_id(ty, name);
                out.extend(last);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{SubgraphInput, compose};

    /// Descriptions survive the round trip subgraph → supergraph → subgraph, input fields
    /// included (`weft check` compares against what this rebuilds).
    #[test]
    fn descriptions_survive_extraction() {
        let sdl = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
"A query."
type Query { "Find one." find(by: Filter): Int }
"How to find."
input Filter { "The id to find." id: ID }
"#;
        let composed = compose(&[SubgraphInput {
            name: "a".into(),
            url: "http://a".into(),
            sdl: sdl.into(),
            source: "a.graphql".into(),
        }]);
        let Ok(composed) = composed else {
            unreachable!("composes")
        };
        let Ok(sg) = Supergraph::parse(&composed.supergraph_sdl, "sg") else {
            unreachable!("parses")
        };
        let Some(graph) = sg.subgraph_by_name("a") else {
            unreachable!("has subgraph a")
        };
        let out = subgraph_sdl(&sg, graph);
        for text in ["How to find.", "The id to find.", "Find one."] {
            assert!(out.contains(text), "{text} missing from:\n{out}");
        }
    }
}
