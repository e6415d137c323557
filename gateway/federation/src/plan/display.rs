//! Apollo-style text rendering of a query plan, for `weft plan` and snapshots.

use std::fmt::{self, Write};

use super::model::*;

impl fmt::Display for QueryPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::from("QueryPlan {\n");
        if let Some(node) = &self.node {
            render(&mut out, node, 1);
        }
        out.push('}');
        f.write_str(&out)
    }
}

fn render(out: &mut String, node: &PlanNode, depth: usize) {
    let pad = "  ".repeat(depth);
    match node {
        PlanNode::Fetch(fetch) => {
            let _ = writeln!(out, "{pad}Fetch(service: \"{}\") {{", fetch.subgraph);
            if !fetch.requires.is_empty() {
                let _ = writeln!(out, "{pad}  {} =>", requires_text(&fetch.requires));
            }
            // Where each `@fromContext` variable is read, from each object: Apollo's
            // relative path (`..` up, `... on T`, keys down).
            for r in &fetch.context_rewrites {
                let _ = write!(out, "{pad}  ${} <= {}", r.rename_key_to, r.path.join("/"));
                if !r.selections.is_empty() {
                    let _ = write!(out, " {}", requires_text(&r.selections));
                }
                out.push('\n');
            }
            let _ = writeln!(out, "{pad}  {}", fetch.operation);
            let _ = writeln!(out, "{pad}}},");
        }
        PlanNode::BatchFetch(batch) => {
            // Each member: its path, what its representations carry, and the field its
            // results come back under.
            let _ = writeln!(out, "{pad}BatchFetch(service: \"{}\") {{", batch.subgraph);
            for e in &batch.entities {
                let _ = writeln!(
                    out,
                    "{pad}  Flatten(path: \"{}\") {} => {},",
                    e.path.join("."),
                    requires_text(&e.fetch.requires),
                    e.alias
                );
            }
            let _ = writeln!(out, "{pad}  {}", batch.operation);
            let _ = writeln!(out, "{pad}}},");
        }
        PlanNode::Flatten(flatten) => {
            let _ = writeln!(out, "{pad}Flatten(path: \"{}\") {{", flatten.path.join("."));
            render(out, &flatten.node, depth + 1);
            let _ = writeln!(out, "{pad}}},");
        }
        PlanNode::Sequence { nodes } | PlanNode::Parallel { nodes } => {
            let name = if matches!(node, PlanNode::Sequence { .. }) {
                "Sequence"
            } else {
                "Parallel"
            };
            let _ = writeln!(out, "{pad}{name} {{");
            for n in nodes {
                render(out, n, depth + 1);
            }
            let _ = writeln!(out, "{pad}}},");
        }
        PlanNode::Condition {
            condition,
            if_clause,
            else_clause,
        } => {
            match (if_clause, else_clause) {
                // Apollo's `@skip` rendering.
                (None, Some(n)) => {
                    let _ = writeln!(out, "{pad}Skip(if: ${condition}) {{");
                    render(out, n, depth + 1);
                }
                _ => {
                    let _ = writeln!(out, "{pad}Include(if: ${condition}) {{");
                    if let Some(n) = if_clause {
                        render(out, n, depth + 1);
                    }
                    if let Some(n) = else_clause {
                        let _ = writeln!(out, "{pad}}} Else {{");
                        render(out, n, depth + 1);
                    }
                }
            }
            let _ = writeln!(out, "{pad}}},");
        }
        PlanNode::Defer { primary, deferred } => {
            let _ = writeln!(out, "{pad}Defer {{");
            let _ = writeln!(out, "{pad}  Primary {{");
            if let Some(n) = &primary.node {
                render(out, n, depth + 2);
            }
            let _ = writeln!(out, "{pad}  }}, [");
            for d in deferred {
                let mut head = format!("id: {}", d.id);
                if let Some(parent) = d.parent {
                    let _ = write!(head, ", parent: {parent}");
                }
                if !d.depends.is_empty() {
                    let ids: Vec<String> = d.depends.iter().map(u32::to_string).collect();
                    let _ = write!(head, ", depends: [{}]", ids.join(", "));
                }
                let _ = write!(head, ", path: \"{}\"", d.query_path.join("/"));
                if let Some(label) = &d.label {
                    let _ = write!(head, ", label: \"{label}\"");
                }
                if let Some(condition) = &d.condition {
                    let _ = write!(head, ", if: ${condition}");
                }
                let _ = writeln!(out, "{pad}    Deferred({head}) {{");
                if let Some(n) = &d.node {
                    render(out, n, depth + 3);
                }
                let _ = writeln!(out, "{pad}    }},");
            }
            let _ = writeln!(out, "{pad}  ]");
            let _ = writeln!(out, "{pad}}},");
        }
        // Apollo's rendering: the subscribing fetch, then what runs per event.
        PlanNode::Subscription { primary, rest } => {
            let _ = writeln!(out, "{pad}Subscription {{");
            let _ = writeln!(out, "{pad}  Primary: {{");
            render(out, &PlanNode::Fetch(primary.clone()), depth + 2);
            let _ = writeln!(out, "{pad}  }},");
            if let Some(n) = rest {
                let _ = writeln!(out, "{pad}  Rest: {{");
                render(out, n, depth + 2);
                let _ = writeln!(out, "{pad}  }},");
            }
            let _ = writeln!(out, "{pad}}},");
        }
    }
}

fn requires_text(selections: &[Selection]) -> String {
    let mut out = String::from("{");
    for s in selections {
        out.push(' ');
        match s {
            Selection::Field {
                name,
                alias,
                selections,
            } => {
                if let Some(alias) = alias {
                    let _ = write!(out, "{name}: {alias}");
                } else {
                    out.push_str(name);
                }
                if !selections.is_empty() {
                    out.push(' ');
                    out.push_str(&requires_text(selections));
                }
            }
            Selection::InlineFragment {
                type_condition,
                selections,
                ..
            } => {
                let _ = write!(out, "... on {type_condition} {}", requires_text(selections));
            }
        }
    }
    out.push_str(" }");
    out
}
