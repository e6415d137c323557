//! Planned steps → the [`QueryPlan`]: fetches ordered by their dependencies (each level of
//! the dependency DAG in parallel), entity fetches under `Flatten`, mutation root fields in
//! order; every step's subgraph operation printed.

use std::fmt::Write;

use super::model::*;
use super::steps::{SelList, Step, SubSel};
use crate::operation::{Condition, Operation};
use crate::supergraph::{SubgraphId, Supergraph, TypeKind};

pub fn emit(sg: &Supergraph, op: &Operation, steps: &[Step]) -> QueryPlan {
    let guards = guards(steps);
    let deferred = crate::operation::defer::deferred(op);
    if deferred.is_empty() {
        return QueryPlan::new(part_node(sg, op, steps, &guards, None), contextual(steps));
    }
    // `@defer`: the primary part's steps, then each deferred fragment's; a step's
    // dependencies in another part are met before its part starts.
    let deferred = deferred
        .into_iter()
        .map(|d| {
            let id = d.defer.id;
            let mut depends: Vec<u32> = steps
                .iter()
                .filter(|s| s.defer == Some(id))
                .flat_map(|s| s.deps.iter())
                .filter(|&&dep| steps[dep].defer != Some(id))
                .map(|&dep| dep as u32)
                .collect();
            depends.sort_unstable();
            depends.dedup();
            DeferredNode {
                id,
                label: d.defer.label,
                query_path: d.path,
                parent: d.parent,
                condition: d.defer.condition,
                depends,
                node: part_node(sg, op, steps, &guards, Some(id)).map(Box::new),
            }
        })
        .collect();
    QueryPlan::new(
        Some(PlanNode::Defer {
            primary: PrimaryNode {
                node: part_node(sg, op, steps, &guards, None).map(Box::new),
            },
            deferred,
        }),
        contextual(steps),
    )
}

/// Whether a fetch reads `@fromContext` arguments ([`QueryPlan::contextual`]).
fn contextual(steps: &[Step]) -> bool {
    steps.iter().any(|s| !s.context.is_empty())
}

/// The node running the steps of one part (`defer`: `None` for the primary, else the
/// deferred fragment's id), by levels of their dependencies within the part.
fn part_node(
    sg: &Supergraph,
    op: &Operation,
    steps: &[Step],
    guards: &[Vec<Condition>],
    defer: Option<u32>,
) -> Option<PlanNode> {
    let member = |i: usize| steps[i].defer == defer;
    let mut level = vec![0usize; steps.len()];
    // Steps are created after their dependencies, except when a shared entity fetch gains a
    // dependency later: iterate to a fixed point.
    loop {
        let mut changed = false;
        for (i, s) in steps.iter().enumerate().filter(|(i, _)| member(*i)) {
            let l = s
                .deps
                .iter()
                .filter(|d| member(**d))
                .map(|d| level[*d] + 1)
                .max()
                .unwrap_or(0);
            if l > level[i] {
                level[i] = l;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut groups: Vec<usize> = (0..steps.len())
        .filter(|i| member(*i))
        .map(|i| steps[i].group)
        .collect();
    groups.sort();
    groups.dedup();
    let mut sequence = Vec::new();
    for g in groups {
        let max = steps
            .iter()
            .enumerate()
            .filter(|(i, s)| s.group == g && member(*i))
            .map(|(i, _)| level[i])
            .max()
            .unwrap_or(0);
        for l in 0..=max {
            let at_level: Vec<usize> = (0..steps.len())
                .filter(|i| member(*i) && steps[*i].group == g && level[*i] == l)
                .collect();
            // A step needed only under conditions goes alone, inside `Condition` nodes: not
            // sent when they fail (a skipped field's fetches and its requirements').
            let (guarded, free): (Vec<usize>, Vec<usize>) =
                at_level.iter().partition(|i| !guards[**i].is_empty());
            let mut nodes = level_nodes(sg, op, steps, &free);
            for i in guarded {
                nodes.extend(level_nodes(sg, op, steps, &[i]).into_iter().map(|node| {
                    guards[i].iter().rev().fold(node, |node, c| {
                        let node = Some(Box::new(node));
                        let (if_clause, else_clause) = if c.passes_when {
                            (node, None)
                        } else {
                            (None, node)
                        };
                        PlanNode::Condition {
                            condition: c.variable.clone(),
                            if_clause,
                            else_clause,
                        }
                    })
                }));
            }
            match nodes.len() {
                0 => {}
                1 => sequence.extend(nodes),
                _ => sequence.push(PlanNode::Parallel { nodes }),
            }
        }
    }
    match sequence.len() {
        0 => None,
        1 => sequence.pop(),
        _ => Some(PlanNode::Sequence { nodes: sequence }),
    }
}

/// Each step's conditions: those every field put in it needs (its guard) that every step
/// depending on it needs too (it cannot be left out while one of them runs). A step with
/// nothing recorded needs none.
fn guards(steps: &[Step]) -> Vec<Vec<Condition>> {
    let mut out: Vec<Vec<Condition>> = steps
        .iter()
        .map(|s| {
            let mut g = s.guard.clone().unwrap_or_default();
            let mut seen = Vec::new();
            g.retain(|c| {
                let new = !seen.contains(c);
                seen.push(c.clone());
                new
            });
            g
        })
        .collect();
    // Dependencies point to earlier steps but may be added later: to a fixed point.
    loop {
        let mut changed = false;
        for (t, s) in steps.iter().enumerate() {
            for &d in &s.deps {
                let before = out[d].len();
                let needed = out[t].clone();
                out[d].retain(|c| needed.contains(c));
                changed |= out[d].len() != before;
            }
        }
        if !changed {
            return out;
        }
    }
}

/// The nodes of one plan level (steps that run at the same moment): each root fetch alone;
/// the entity fetches to one subgraph in one request (a [`BatchFetchNode`] when there are
/// several), in the order their subgraphs first appear.
fn level_nodes(
    sg: &Supergraph,
    op: &Operation,
    steps: &[Step],
    at_level: &[usize],
) -> Vec<PlanNode> {
    let mut nodes = Vec::new();
    // Entity fetches by subgraph: where the subgraph's node goes, and its members.
    let mut batches: Vec<(SubgraphId, usize, Vec<Fetch>)> = Vec::new();
    // Query root fetches by subgraph, likewise, with their root response keys.
    let mut roots: Vec<RootGroup> = Vec::new();
    for &i in at_level {
        let step = &steps[i];
        let fetch = fetch_node(sg, op, step, i);
        if step.entity.is_none() {
            if fetch.node.operation_kind != OperationKind::Query {
                nodes.push(PlanNode::Fetch(fetch.node));
                continue;
            }
            let keys = root_keys(step);
            match roots.iter_mut().find(|(graph, _, _)| *graph == step.graph) {
                Some((_, _, members)) => members.push((fetch, keys)),
                None => {
                    roots.push((step.graph, nodes.len(), vec![(fetch, keys)]));
                    nodes.push(PlanNode::Parallel { nodes: Vec::new() });
                }
            }
            continue;
        }
        if !step.context.is_empty() {
            // Sent once per distinct set of context values: not merged with other fetches.
            nodes.push(PlanNode::Flatten(FlattenNode {
                path: fetch.path,
                node: Box::new(PlanNode::Fetch(fetch.node)),
            }));
            continue;
        }
        match batches
            .iter_mut()
            .find(|(graph, _, _)| *graph == step.graph)
        {
            Some((_, _, members)) => members.push(fetch),
            None => {
                batches.push((step.graph, nodes.len(), vec![fetch]));
                // A placeholder, replaced below once every member is known.
                nodes.push(PlanNode::Parallel { nodes: Vec::new() });
            }
        }
    }
    for (_, at, members) in roots {
        let mut merged = merge_roots(op, members).into_iter().map(PlanNode::Fetch);
        if let (Some(first), Some(slot)) = (merged.next(), nodes.get_mut(at)) {
            *slot = first;
        }
        nodes.extend(merged);
    }
    for (_, at, mut members) in batches {
        let node = if members.len() == 1 {
            let fetch = members.remove(0);
            PlanNode::Flatten(FlattenNode {
                path: fetch.path,
                node: Box::new(PlanNode::Fetch(fetch.node)),
            })
        } else {
            PlanNode::BatchFetch(batch_node(op, members))
        };
        if let Some(slot) = nodes.get_mut(at) {
            *slot = node;
        }
    }
    nodes
}

/// Query root fetches to one subgraph at one level: where their node goes, and each with its
/// root response keys.
type RootGroup = (SubgraphId, usize, Vec<(Fetch, Option<Vec<String>>)>);

/// The response keys a root step selects at the root; `None` when it has a fragment there
/// (its keys depend on types: it is not merged with another).
fn root_keys(step: &Step) -> Option<Vec<String>> {
    step.selections
        .iter()
        .map(|s| match s {
            SubSel::Field { alias, name, .. } => Some(alias.as_ref().unwrap_or(name).clone()),
            SubSel::Fragment { .. } => None,
        })
        .collect()
}

/// Query root fetches to one subgraph at one level as one request when their root response
/// keys are disjoint (then their selections cannot conflict): one operation selecting what
/// each selected, with the variables and output rewrites of all. The others stay apart.
fn merge_roots(op: &Operation, members: Vec<(Fetch, Option<Vec<String>>)>) -> Vec<FetchNode> {
    let mut keys: Vec<String> = Vec::new();
    let mut merged: Vec<Fetch> = Vec::new();
    let mut apart: Vec<FetchNode> = Vec::new();
    for (fetch, own) in members {
        match own {
            Some(own) if own.iter().all(|k| !keys.contains(k)) => {
                keys.extend(own);
                merged.push(fetch);
            }
            _ => apart.push(fetch.node),
        }
    }
    let mut nodes = Vec::with_capacity(apart.len() + 1);
    if merged.len() == 1 {
        nodes.extend(merged.pop().map(|f| f.node));
    } else if let Some(first) = merged.first() {
        let mut node = first.node.clone();
        let mut defs: Vec<String> = Vec::new();
        let mut inner = String::new();
        node.variable_usages.clear();
        node.output_rewrites.clear();
        for m in &merged {
            for name in &m.node.variable_usages {
                if !node.variable_usages.contains(name) {
                    node.variable_usages.push(name.clone());
                }
            }
            for (name, def) in &m.client_defs {
                if !defs.contains(def) && node.variable_usages.contains(name) {
                    defs.push(def.clone());
                }
            }
            node.output_rewrites
                .extend(m.node.output_rewrites.iter().cloned());
            // ` { a b { c } }` without its braces.
            let body = m.body.trim();
            let body = body.strip_prefix('{').unwrap_or(body);
            let body = body.strip_suffix('}').unwrap_or(body);
            inner.push(' ');
            inner.push_str(body.trim());
        }
        let mut text = String::from("query");
        if let Some(name) = &op.name {
            let _ = write!(
                text,
                " {name}__{}__{}",
                sanitize(&node.subgraph),
                node.id.unwrap_or(0)
            );
        }
        if !defs.is_empty() {
            let _ = write!(text, "({})", defs.join(", "));
        }
        let _ = write!(text, " {{{inner} }}");
        node.operation = text;
        nodes.push(node);
    }
    nodes.extend(apart);
    nodes
}

/// Entity fetches to one subgraph as one request: members with the same `_entities`
/// selection share a field and a representation list; each other selection gets an aliased
/// field of its own.
fn batch_node(op: &Operation, members: Vec<Fetch>) -> BatchFetchNode {
    let mut bodies: Vec<String> = Vec::new();
    let mut section_of = Vec::with_capacity(members.len());
    for m in &members {
        let section = match bodies.iter().position(|b| *b == m.body) {
            Some(s) => s,
            None => {
                bodies.push(m.body.clone());
                bodies.len() - 1
            }
        };
        section_of.push(section);
    }
    let names = |s: usize| -> (String, String) {
        if bodies.len() == 1 {
            ("_entities".to_owned(), "representations".to_owned())
        } else {
            (format!("_entities_{s}"), format!("representations_{s}"))
        }
    };
    let mut defs: Vec<String> = (0..bodies.len())
        .map(|s| format!("${}: [_Any!]!", names(s).1))
        .collect();
    let mut variable_usages: Vec<String> = Vec::new();
    for m in &members {
        for name in &m.node.variable_usages {
            if !variable_usages.contains(name) {
                variable_usages.push(name.clone());
            }
        }
        for (name, def) in &m.client_defs {
            if !defs.contains(def) && variable_usages.contains(name) {
                defs.push(def.clone());
            }
        }
    }
    let first = &members[0].node;
    let mut text = String::from("query");
    if let Some(name) = &op.name {
        let _ = write!(
            text,
            " {name}__{}__{}",
            sanitize(&first.subgraph),
            first.id.unwrap_or(0)
        );
    }
    let _ = write!(text, "({}) {{", defs.join(", "));
    for (s, body) in bodies.iter().enumerate() {
        let (alias, variable) = names(s);
        text.push(' ');
        if bodies.len() > 1 {
            let _ = write!(text, "{alias}: ");
        }
        let _ = write!(text, "_entities(representations: ${variable}) {{{body} }}");
    }
    text.push_str(" }");
    let (subgraph, graph, id) = (first.subgraph.clone(), first.graph, first.id);
    let entities = members
        .into_iter()
        .zip(section_of)
        .map(|(m, s)| {
            let (alias, variable) = names(s);
            BatchEntity {
                alias,
                variable,
                path: m.path,
                fetch: m.node,
            }
        })
        .collect();
    BatchFetchNode {
        subgraph,
        graph,
        operation: text,
        variable_usages,
        entities,
        id,
    }
}

/// A step's fetch, with the parts a batch combines.
struct Fetch {
    node: FetchNode,
    path: Vec<String>,
    /// Entity fetches: the `_entities` field's selection (` ... on T { ... }`); root fetches:
    /// the root selection (` { ... }`).
    body: String,
    /// The definitions of the client variables it uses, by name.
    client_defs: Vec<(String, String)>,
}

fn fetch_node(sg: &Supergraph, op: &Operation, step: &Step, index: usize) -> Fetch {
    let subgraph = sg.subgraph(step.graph).name.clone();
    // Context variables are the gateway's own, not the client's.
    let variables: Vec<String> = step
        .variables
        .iter()
        .filter(|v| !step.context.iter().any(|c| c.variable == **v))
        .cloned()
        .collect();
    let mut client_defs = Vec::new();
    for v in &variables {
        if let Some(def) = op.variables.iter().find(|d| d.name == *v) {
            let mut text = format!("${}: {}", def.name, def.ty);
            if let Some(default) = &def.default_value {
                let _ = write!(text, " = {default}");
            }
            client_defs.push((v.clone(), text));
        }
    }
    let mut defs = String::new();
    if step.entity.is_some() {
        defs.push_str("$representations: [_Any!]!");
    }
    for (_, def) in &client_defs {
        if !defs.is_empty() {
            defs.push_str(", ");
        }
        defs.push_str(def);
    }
    for c in &step.context {
        let _ = write!(defs, ", ${}: {}", c.variable, c.ty);
    }
    let kind = match (op.kind, step.entity) {
        (_, Some(_)) => OperationKind::Query,
        (k, None) => k,
    };
    let mut text = String::from(match kind {
        OperationKind::Query => "query",
        OperationKind::Mutation => "mutation",
        OperationKind::Subscription => "subscription",
    });
    if let Some(name) = &op.name {
        let _ = write!(text, " {name}__{}__{index}", sanitize(&subgraph));
    }
    if !defs.is_empty() {
        let _ = write!(text, "({defs})");
    }
    let mut requires = Vec::new();
    let mut input_rewrites = Vec::new();
    let parent = step.entity.or_else(|| {
        sg.root(match kind {
            OperationKind::Query => apollo_compiler::ast::OperationType::Query,
            OperationKind::Mutation => apollo_compiler::ast::OperationType::Mutation,
            OperationKind::Subscription => apollo_compiler::ast::OperationType::Subscription,
        })
    });
    let mut body = String::new();
    // Most fetches have nothing that could conflict: no copy to resolve them in.
    let mut resolved = None;
    let output_rewrites = match parent {
        Some(parent) if super::conflicts::possible(&step.selections) => {
            let selections = resolved.insert(step.selections.clone());
            super::conflicts::resolve(sg, step.graph, parent, selections)
        }
        _ => Vec::new(),
    };
    let selections: &SelList = resolved.as_ref().unwrap_or(&step.selections);
    match step.entity {
        Some(ty) => {
            let type_name = sg.type_def(ty).name.to_string();
            body.push_str(" ... on ");
            body.push_str(&type_name);
            print_selections(&mut body, selections);
            let _ = write!(
                text,
                " {{ _entities(representations: $representations) {{{body} }} }}"
            );
            let def = sg.type_def(ty);
            let mut possible_types = match def.kind {
                TypeKind::Object => vec![type_name.clone()],
                _ => sg
                    .types()
                    .filter(|(_, t)| {
                        t.kind == TypeKind::Object
                            && (t.interfaces.contains(&ty)
                                || def.members.contains(&sg.type_id(&t.name).unwrap_or(ty)))
                    })
                    .map(|(_, t)| t.name.to_string())
                    .collect(),
            };
            if let Some(only) = &step.only_types {
                possible_types = only
                    .iter()
                    .map(|t| sg.type_def(*t).name.to_string())
                    .collect();
            } else if def.kind == TypeKind::Interface {
                // Values from an @interfaceObject carry the interface's own name.
                possible_types.push(type_name.clone());
            }
            // An @interfaceObject knows only the interface: representations of the
            // implementations go in under the interface's name.
            if def.kind == TypeKind::Interface
                && def
                    .join_types
                    .iter()
                    .any(|j| j.graph == step.graph && j.is_interface_object)
            {
                for p in &possible_types {
                    input_rewrites.push(Rewrite::ValueSetter {
                        path: vec![format!("... on {p}"), "__typename".to_owned()],
                        set_value_to: serde_json::Value::String(type_name.clone()),
                    });
                }
            }
            requires.push(Selection::InlineFragment {
                type_condition: type_name,
                possible_types,
                selections: to_requires(sg, &step.representation),
            });
        }
        None => {
            print_selections(&mut body, selections);
            text.push_str(&body);
        }
    }
    let node = FetchNode {
        subgraph,
        graph: step.graph,
        operation: text,
        operation_kind: kind,
        variable_usages: variables,
        requires,
        key_fields: step.key_fields.iter().cloned().collect(),
        input_rewrites,
        output_rewrites,
        context_rewrites: step
            .context
            .iter()
            .flat_map(|c| c.rewrites.iter().cloned())
            .collect(),
        id: Some(index as u32),
    };
    Fetch {
        node,
        path: step.path.clone(),
        body,
        client_defs,
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Whether a selection prints as nothing: a fragment with nothing (printable) inside. Such
/// fragments are left behind when every field planned under them went to another fetch.
fn is_empty(selection: &SubSel) -> bool {
    match selection {
        SubSel::Fragment { children, .. } => children.iter().all(is_empty),
        SubSel::Field { .. } => false,
    }
}

fn print_selections(out: &mut String, selections: &[SubSel]) {
    out.push_str(" {");
    for s in selections.iter().filter(|s| !is_empty(s)) {
        out.push(' ');
        match s {
            SubSel::Field {
                alias,
                name,
                args,
                directives,
                children,
            } => {
                if let Some(a) = alias {
                    let _ = write!(out, "{a}: ");
                }
                out.push_str(name);
                out.push_str(args);
                out.push_str(directives);
                if !children.is_empty() {
                    print_selections(out, children);
                }
            }
            SubSel::Fragment {
                on,
                directives,
                children,
            } => {
                out.push_str("...");
                if let Some(t) = on {
                    let _ = write!(out, " on {t}");
                }
                out.push_str(directives);
                print_selections(out, children);
            }
        }
    }
    out.push_str(" }");
}

fn to_requires(sg: &Supergraph, selections: &[SubSel]) -> Vec<Selection> {
    selections
        .iter()
        .map(|s| match s {
            SubSel::Field {
                alias,
                name,
                children,
                ..
            } => Selection::Field {
                name: name.clone(),
                alias: alias.clone(),
                selections: to_requires(sg, children),
            },
            SubSel::Fragment { on, children, .. } => Selection::InlineFragment {
                type_condition: on.clone().unwrap_or_default(),
                possible_types: on
                    .as_deref()
                    .map(|t| object_types(sg, t))
                    .unwrap_or_default(),
                selections: to_requires(sg, children),
            },
        })
        .collect()
}

/// The object types a type condition matches.
pub(super) fn object_types(sg: &Supergraph, name: &str) -> Vec<String> {
    let Some(id) = sg.type_id(name) else {
        return vec![name.to_owned()];
    };
    let def = sg.type_def(id);
    match def.kind {
        TypeKind::Object => vec![name.to_owned()],
        TypeKind::Union => def
            .members
            .iter()
            .map(|m| sg.type_def(*m).name.to_string())
            .collect(),
        _ => sg
            .types()
            .filter(|(_, t)| t.kind == TypeKind::Object && t.interfaces.contains(&id))
            .map(|(_, t)| t.name.to_string())
            .collect(),
    }
}
