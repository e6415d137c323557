//! Satisfiability: every field a client can select, at every path the API allows, must be
//! resolvable by some subgraph reachable at that point of a plan. Walks the API schema from
//! the roots over the query graph, tracking the set of subgraph positions a plan may be in;
//! a field that none of them can reach is an error naming the query that cannot be planned.

use std::collections::HashSet;

use apollo_compiler::ast::OperationType;

use super::errors::Diagnostics;
use crate::graph::{ClosureCache, Node, QueryGraph};
use crate::supergraph::{FieldId, Supergraph, TypeId, TypeKind};

/// Paths deeper than this are not explored further: every type has been reached by then.
const MAX_DEPTH: usize = 64;

pub fn check(sg: &std::sync::Arc<Supergraph>, d: &mut Diagnostics) {
    let graph = QueryGraph::new(sg.clone());
    let sg: &Supergraph = sg;
    let mut walk = Walk {
        graph: &graph,
        sg,
        seen: HashSet::new(),
        cache: ClosureCache::default(),
        reported: HashSet::new(),
    };
    for kind in [
        OperationType::Query,
        OperationType::Mutation,
        OperationType::Subscription,
    ] {
        if let Some(root) = sg.root(kind) {
            let state = graph.roots(root);
            let keyword = match kind {
                OperationType::Query => "query",
                OperationType::Mutation => "mutation",
                OperationType::Subscription => "subscription",
            };
            walk.explore(root, state, &mut vec![keyword.to_owned()], d);
        }
    }
}

struct Walk<'a, 's> {
    graph: &'a QueryGraph,
    sg: &'s Supergraph,
    seen: HashSet<(TypeId, Vec<Node>)>,
    cache: ClosureCache,
    /// One error per unsatisfiable field, however many paths lead to it.
    reported: HashSet<FieldId>,
}

impl Walk<'_, '_> {
    fn explore(
        &mut self,
        ty: TypeId,
        mut state: Vec<Node>,
        path: &mut Vec<String>,
        d: &mut Diagnostics,
    ) {
        state.sort();
        state.dedup();
        if state.is_empty() || path.len() > MAX_DEPTH || !self.seen.insert((ty, state.clone())) {
            return;
        }
        let def = self.sg.type_def(ty);
        if def.meta.inaccessible {
            return;
        }
        for f in def.fields.clone() {
            let field = self.sg.field(f);
            if field.meta.inaccessible {
                continue;
            }
            let mut targets = Vec::new();
            let mut dead_ends = Vec::new();
            for node in &state {
                let steps = self.graph.reachable(*node, f, &mut self.cache);
                if steps.is_empty() {
                    dead_ends.push(*node);
                }
                targets.extend(steps.into_iter().filter_map(|s| s.target));
            }
            if dead_ends.len() == state.len() {
                if self.reported.insert(f) {
                    self.report(ty, f, path, &dead_ends, d);
                }
                continue;
            }
            if let Some(inner) = self.sg.type_id(field.ty.inner_named_type())
                && matches!(
                    self.sg.type_def(inner).kind,
                    TypeKind::Object | TypeKind::Interface | TypeKind::Union
                )
            {
                path.push(field.name.to_string());
                self.explore(inner, targets, path, d);
                path.pop();
            }
        }
        if matches!(def.kind, TypeKind::Interface | TypeKind::Union) {
            for object in self.possible_objects(ty) {
                let mut next = Vec::new();
                for node in &state {
                    next.extend(self.graph.downcast(*node, object, &mut self.cache));
                }
                path.push(format!("... on {}", self.sg.type_def(object).name));
                self.explore(object, next, path, d);
                path.pop();
            }
        }
    }

    fn possible_objects(&self, ty: TypeId) -> Vec<TypeId> {
        let def = self.sg.type_def(ty);
        match def.kind {
            TypeKind::Union => def.members.clone(),
            _ => self
                .sg
                .types()
                .filter(|(_, t)| t.kind == TypeKind::Object && t.interfaces.contains(&ty))
                .map(|(id, _)| id)
                .collect(),
        }
    }

    fn report(
        &self,
        ty: TypeId,
        field: FieldId,
        path: &[String],
        dead_ends: &[Node],
        d: &mut Diagnostics,
    ) {
        let sg = self.sg;
        let type_name = &sg.type_def(ty).name;
        let field_name = &sg.field(field).name;
        // The query, indented as Apollo prints it.
        let mut query = String::new();
        let mut selections: Vec<String> = path[1..].to_vec();
        selections.push(field_name.to_string());
        query.push_str(if path[0] == "query" { "{\n" } else { &path[0] });
        if path[0] != "query" {
            query.push_str(" {\n");
        }
        for (depth, s) in selections.iter().enumerate() {
            let indent = "  ".repeat(depth + 1);
            if depth + 1 == selections.len() {
                query.push_str(&format!("{indent}{s}\n"));
            } else {
                query.push_str(&format!("{indent}{s} {{\n"));
            }
        }
        for depth in (0..selections.len().saturating_sub(1)).rev() {
            query.push_str(&format!("{}}}\n", "  ".repeat(depth + 1)));
        }
        query.push('}');
        let mut reasons: Vec<String> = dead_ends
            .iter()
            .map(|n| {
                let subgraph = &sg.subgraph(n.graph).name;
                let defined = sg.field_subgraphs(field).iter().any(|p| p.graph == n.graph);
                let why = if defined {
                    format!("field \"{type_name}.{field_name}\" is not resolvable there (it is @external, or its @requires cannot be satisfied)")
                } else {
                    format!("cannot find field \"{type_name}.{field_name}\"")
                };
                format!("- from subgraph \"{subgraph}\": {why}, and no other subgraph defining it can be reached with a @key from there.")
            })
            .collect();
        reasons.sort();
        reasons.dedup();
        d.error_with_hint(
            "SATISFIABILITY_ERROR",
            format!(
                "The following supergraph API query:\n{query}\ncannot be satisfied by the subgraphs because:\n{}",
                reasons.join("\n")
            ),
            Vec::new(),
            "add a @key (resolvable) to the type in a subgraph that defines the field, or define the field where the path leads",
        );
    }
}
