//! Printing the merged supergraph as SDL: link v1.0 + join v0.5, the specs the merged
//! directives need, then every type in name order.

use std::fmt::Write;

use super::applied::quote;
use super::merged::*;

const JOIN_DEFINITIONS: &str = r#"directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
"#;

const JOIN_TYPES: &str = r#"input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}

scalar join__DirectiveArguments

scalar join__FieldSet

scalar join__FieldValue
"#;

const LINK_TYPES: &str = r#"scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}
"#;

const ELEMENTS: &str = "FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION";

/// The supergraph SDL.
pub fn emit(m: &Merged) -> String {
    let mut out = String::new();
    let f = &m.features;
    out.push_str("schema\n  @link(url: \"https://specs.apollo.dev/link/v1.0\")\n");
    out.push_str("  @link(url: \"https://specs.apollo.dev/join/v0.5\", for: EXECUTION)\n");
    if f.tag {
        out.push_str("  @link(url: \"https://specs.apollo.dev/tag/v0.3\")\n");
    }
    if f.inaccessible {
        out.push_str(
            "  @link(url: \"https://specs.apollo.dev/inaccessible/v0.2\", for: SECURITY)\n",
        );
    }
    if f.authenticated {
        out.push_str(
            "  @link(url: \"https://specs.apollo.dev/authenticated/v0.1\", for: SECURITY)\n",
        );
    }
    if f.requires_scopes {
        out.push_str(
            "  @link(url: \"https://specs.apollo.dev/requiresScopes/v0.1\", for: SECURITY)\n",
        );
    }
    if f.policy {
        out.push_str("  @link(url: \"https://specs.apollo.dev/policy/v0.1\", for: SECURITY)\n");
    }
    if f.cost || f.list_size {
        out.push_str(
            "  @link(url: \"https://specs.apollo.dev/cost/v0.1\", import: [\"@listSize\"])\n",
        );
    }
    if f.context {
        out.push_str("  @link(url: \"https://specs.apollo.dev/context/v0.1\", for: SECURITY)\n");
    }
    for link in &f.custom_links {
        let _ = writeln!(out, "  {link}");
    }
    out.push_str("{\n");
    for (i, root) in ["query", "mutation", "subscription"].iter().enumerate() {
        let name = ["Query", "Mutation", "Subscription"][i];
        if m.roots[i] && m.types.contains_key(name) {
            let _ = writeln!(out, "  {root}: {name}");
        }
    }
    out.push_str("}\n\n");

    if f.authenticated {
        out.push_str(
            "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\n\n",
        );
    }
    for def in &f.custom_definitions {
        let _ = writeln!(out, "{}\n", def.trim_end());
    }
    if f.context {
        out.push_str(
            "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION\n\n",
        );
        out.push_str("directive @context__fromContext(field: context__ContextFieldValue) on ARGUMENT_DEFINITION\n\n");
    }
    if f.cost || f.list_size {
        out.push_str("directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR\n\n");
    }
    if f.inaccessible {
        let _ = writeln!(out, "directive @inaccessible on {ELEMENTS}\n");
    }
    out.push_str(JOIN_DEFINITIONS);
    out.push('\n');
    if f.cost || f.list_size {
        out.push_str("directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION\n\n");
    }
    if f.policy {
        out.push_str("directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\n\n");
    }
    if f.requires_scopes {
        out.push_str("directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\n\n");
    }
    if f.tag {
        let _ = writeln!(
            out,
            "directive @tag(name: String!) repeatable on {ELEMENTS} | SCHEMA\n"
        );
    }
    out.push_str(JOIN_TYPES);
    out.push_str("\nenum join__Graph {\n");
    for g in &m.graphs {
        let _ = writeln!(
            out,
            "  {} @join__graph(name: {}, url: {})",
            g.enum_value,
            quote(&g.name),
            quote(&g.url)
        );
    }
    out.push_str("}\n\n");
    out.push_str(LINK_TYPES);
    if f.context {
        out.push_str("\nscalar context__ContextFieldValue\n");
    }
    if f.policy {
        out.push_str("\nscalar policy__Policy\n");
    }
    if f.requires_scopes {
        out.push_str("\nscalar requiresScopes__Scope\n");
    }
    for (name, ty) in &m.types {
        out.push('\n');
        emit_type(&mut out, m, name, ty);
    }
    out
}

fn graph(m: &Merged, i: usize) -> &str {
    m.graphs.get(i).map_or("", |g| g.enum_value.as_str())
}

fn description(out: &mut String, text: &Option<String>, indent: &str) {
    if let Some(text) = text {
        let escaped = text.replace("\"\"\"", "\\\"\"\"");
        let _ = writeln!(
            out,
            "{indent}\"\"\"\n{indent}{}\n{indent}\"\"\"",
            escaped.replace('\n', &format!("\n{indent}"))
        );
    }
}

fn emit_type(out: &mut String, m: &Merged, name: &str, ty: &MergedType) {
    description(out, &ty.description, "");
    let keyword = match ty.kind {
        Kind::Scalar => "scalar",
        Kind::Object => "type",
        Kind::Interface => "interface",
        Kind::Union => "union",
        Kind::Enum => "enum",
        Kind::InputObject => "input",
    };
    out.push_str(keyword);
    out.push(' ');
    out.push_str(name);
    if !ty.implements.is_empty() {
        let _ = write!(out, " implements {}", ty.implements.join(" & "));
    }
    out.push('\n');
    for j in &ty.joins {
        let mut args = vec![format!("graph: {}", graph(m, j.graph))];
        if let Some(key) = &j.key {
            args.push(format!("key: {}", quote(key)));
        }
        if j.extension {
            args.push("extension: true".to_owned());
        }
        if !j.resolvable {
            args.push("resolvable: false".to_owned());
        }
        if j.is_interface_object {
            args.push("isInterfaceObject: true".to_owned());
        }
        let _ = writeln!(out, "  @join__type({})", args.join(", "));
    }
    for (g, i) in &ty.join_implements {
        let _ = writeln!(
            out,
            "  @join__implements(graph: {}, interface: {})",
            graph(m, *g),
            quote(i)
        );
    }
    for (g, member) in &ty.join_members {
        let _ = writeln!(
            out,
            "  @join__unionMember(graph: {}, member: {})",
            graph(m, *g),
            quote(member)
        );
    }
    for j in &ty.join_directives {
        let _ = writeln!(out, "  {}", join_directive(m, j));
    }
    for d in &ty.directives {
        let _ = writeln!(out, "  {d}");
    }
    match ty.kind {
        Kind::Scalar => {}
        Kind::Union => {
            let _ = writeln!(out, " = {}", ty.members.join(" | "));
        }
        Kind::Enum => {
            out.push_str("{\n");
            for (vname, v) in &ty.values {
                description(out, &v.description, "  ");
                let _ = write!(out, "  {vname}");
                for g in &v.graphs {
                    let _ = write!(out, " @join__enumValue(graph: {})", graph(m, *g));
                }
                for d in &v.directives {
                    let _ = write!(out, " {d}");
                }
                out.push('\n');
            }
            out.push_str("}\n");
        }
        Kind::Object | Kind::Interface | Kind::InputObject => {
            out.push_str("{\n");
            for (fname, f) in &ty.fields {
                emit_field(out, m, fname, f);
            }
            out.push_str("}\n");
        }
    }
}

fn emit_field(out: &mut String, m: &Merged, name: &str, f: &MergedField) {
    description(out, &f.description, "  ");
    let _ = write!(out, "  {name}");
    if !f.arguments.is_empty() {
        let args: Vec<String> = f
            .arguments
            .iter()
            .map(|(aname, a)| {
                let mut s = String::new();
                if let Some(d) = &a.description {
                    let _ = write!(s, "{} ", quote(d));
                }
                let _ = write!(s, "{aname}: {}", a.ty);
                if let Some(v) = &a.default_value {
                    let _ = write!(s, " = {v}");
                }
                for d in &a.directives {
                    let _ = write!(s, " {d}");
                }
                s
            })
            .collect();
        let _ = write!(out, "({})", args.join(", "));
    }
    let _ = write!(out, ": {}", f.ty);
    if let Some(v) = &f.default_value {
        let _ = write!(out, " = {v}");
    }
    for j in &f.joins {
        let mut args = Vec::new();
        if let Some(g) = j.graph {
            args.push(format!("graph: {}", graph(m, g)));
        }
        if let Some(r) = &j.requires {
            args.push(format!("requires: {}", quote(r)));
        }
        if let Some(p) = &j.provides {
            args.push(format!("provides: {}", quote(p)));
        }
        if let Some(t) = &j.ty {
            args.push(format!("type: {}", quote(t)));
        }
        if j.external {
            args.push("external: true".to_owned());
        }
        if let Some(o) = &j.override_from {
            args.push(format!("override: {}", quote(o)));
        }
        if j.used_overridden {
            args.push("usedOverridden: true".to_owned());
        }
        if let Some(l) = &j.override_label {
            args.push(format!("overrideLabel: {}", quote(l)));
        }
        if !j.context_arguments.is_empty() {
            args.push(format!(
                "contextArguments: [{}]",
                j.context_arguments.join(", ")
            ));
        }
        if args.is_empty() {
            out.push_str(" @join__field");
        } else {
            let _ = write!(out, " @join__field({})", args.join(", "));
        }
    }
    for j in &f.join_directives {
        let _ = write!(out, " {}", join_directive(m, j));
    }
    for d in &f.directives {
        let _ = write!(out, " {d}");
    }
    out.push('\n');
}

fn join_directive(m: &Merged, j: &JoinDirectiveOut) -> String {
    let graphs: Vec<&str> = j.graphs.iter().map(|g| graph(m, *g)).collect();
    format!(
        "@join__directive(graphs: [{}], name: {}, args: {})",
        graphs.join(", "),
        quote(&j.name),
        j.args
    )
}
