//! Validated document → normalized [`Operation`]: picks the operation, inlines named
//! fragments, applies `@skip`/`@include` with literal arguments, keeps variable ones as
//! conditions, and resolves each fragment's possible types.

use apollo_compiler::ast::Value;
use apollo_compiler::executable::{self, Directive};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

use super::model::*;

/// Why normalization failed (the document itself was valid).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error("{0}")]
    OperationNotFound(String),
}

impl NormalizeError {
    /// A stable `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            NormalizeError::OperationNotFound(_) => "GRAPHQL_UNKNOWN_OPERATION_NAME",
        }
    }
}

pub fn normalize(
    schema: &Valid<Schema>,
    doc: &Valid<ExecutableDocument>,
    operation_name: Option<&str>,
) -> Result<Operation, NormalizeError> {
    let op = doc.operations.get(operation_name).map_err(|_| {
        NormalizeError::OperationNotFound(match operation_name {
            Some(name) => format!("Unknown operation named \"{name}\"."),
            None => "Must provide operation name if query contains multiple operations.".to_owned(),
        })
    })?;
    let kind = match op.operation_type {
        executable::OperationType::Query => OperationKind::Query,
        executable::OperationType::Mutation => OperationKind::Mutation,
        executable::OperationType::Subscription => OperationKind::Subscription,
    };
    let n = Normalizer { schema, doc };
    Ok(Operation {
        kind,
        name: op.name.as_ref().map(|n| n.to_string()),
        variables: op
            .variables
            .iter()
            .map(|v| VariableDefinition {
                name: v.name.to_string(),
                ty: (*v.ty).clone(),
                default_value: v.default_value.clone(),
            })
            .collect(),
        selection_set: n.selection_set(&op.selection_set, &[]),
    })
}

struct Normalizer<'a> {
    schema: &'a Valid<Schema>,
    doc: &'a Valid<ExecutableDocument>,
}

/// What `@skip`/`@include` say: excluded outright, or included under conditions.
fn conditions(directives: &executable::DirectiveList) -> Option<Vec<Condition>> {
    let mut out = Vec::new();
    for d in directives.iter() {
        let include = match d.name.as_str() {
            "include" => true,
            "skip" => false,
            _ => continue,
        };
        match d.specified_argument_by_name("if").map(|v| v.as_ref()) {
            Some(Value::Boolean(b)) if *b != include => {
                return None;
            }
            Some(Value::Variable(v)) => out.push(Condition {
                variable: v.to_string(),
                passes_when: include,
            }),
            _ => {}
        }
    }
    Some(out)
}

fn other_directives(directives: &executable::DirectiveList) -> Vec<String> {
    directives
        .iter()
        .filter(|d| d.name != "skip" && d.name != "include")
        .map(|d: &apollo_compiler::Node<Directive>| d.to_string())
        .collect()
}

impl Normalizer<'_> {
    fn selection_set(&self, set: &executable::SelectionSet, visiting: &[&str]) -> SelectionSet {
        let mut items = Vec::new();
        for selection in &set.selections {
            match selection {
                executable::Selection::Field(f) => {
                    let Some(conditions) = conditions(&f.directives) else {
                        continue;
                    };
                    let selection_set = (!f.selection_set.selections.is_empty())
                        .then(|| self.selection_set(&f.selection_set, visiting));
                    items.push(Selection::Field(Field {
                        response_key: f.response_key().to_string(),
                        name: f.name.to_string(),
                        arguments: f
                            .arguments
                            .iter()
                            .map(|a| (a.name.to_string(), a.value.clone()))
                            .collect(),
                        ty: f.definition.ty.clone(),
                        conditions,
                        directives: other_directives(&f.directives),
                        selection_set,
                    }));
                }
                executable::Selection::InlineFragment(i) => {
                    let Some(conditions) = conditions(&i.directives) else {
                        continue;
                    };
                    let type_condition = i.type_condition.as_ref().map(|t| t.to_string());
                    items.push(Selection::InlineFragment(InlineFragment {
                        possible_types: type_condition
                            .as_deref()
                            .map(|t| self.possible_types(t))
                            .unwrap_or_default(),
                        type_condition,
                        conditions,
                        selection_set: self.selection_set(&i.selection_set, visiting),
                    }));
                }
                executable::Selection::FragmentSpread(s) => {
                    let Some(conditions) = conditions(&s.directives) else {
                        continue;
                    };
                    let name = s.fragment_name.as_str();
                    // Validation rejects cycles; this guard only keeps a bad input finite.
                    if visiting.contains(&name) {
                        continue;
                    }
                    let Some(fragment) = self.doc.fragments.get(name) else {
                        continue;
                    };
                    let mut inner = visiting.to_vec();
                    inner.push(name);
                    let type_condition = fragment.type_condition().to_string();
                    items.push(Selection::InlineFragment(InlineFragment {
                        possible_types: self.possible_types(&type_condition),
                        type_condition: Some(type_condition),
                        conditions,
                        selection_set: self.selection_set(&fragment.selection_set, &inner),
                    }));
                }
            }
        }
        SelectionSet {
            parent_type: set.ty.to_string(),
            items,
        }
    }

    /// The object types a type condition matches.
    fn possible_types(&self, ty: &str) -> Vec<String> {
        use apollo_compiler::schema::ExtendedType;
        match self.schema.types.get(ty) {
            Some(ExtendedType::Object(_)) => vec![ty.to_owned()],
            Some(ExtendedType::Union(u)) => u.members.iter().map(|m| m.to_string()).collect(),
            Some(ExtendedType::Interface(_)) => {
                let mut out: Vec<String> = self
                    .schema
                    .types
                    .iter()
                    .filter(|(_, t)| matches!(t, ExtendedType::Object(o) if o.implements_interfaces.contains(ty)))
                    .map(|(n, _)| n.to_string())
                    .collect();
                out.sort();
                out
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = "type Query { me: User node(id: ID!): Node } interface Node { id: ID! } type User implements Node { id: ID! name: String friends: [User!]! } type Bot implements Node { id: ID! }";

    fn norm(query: &str, name: Option<&str>) -> Result<Operation, NormalizeError> {
        let schema = Schema::parse_and_validate(SCHEMA, "s").expect("schema");
        let doc = ExecutableDocument::parse_and_validate(&schema, query, "q").expect("doc");
        normalize(&schema, &doc, name)
    }

    #[test]
    fn fragments_inline_and_conditions() {
        let op = norm(
            "query Q($withName: Boolean!) { me { ...F friends @skip(if: true) { id } x: id @include(if: true) } node(id: 1) { ... on User { name } } }
             fragment F on User { name @include(if: $withName) }",
            None,
        )
        .expect("normalizes");
        let me = match &op.selection_set.items[0] {
            Selection::Field(f) => f,
            _ => panic!("field"),
        };
        let items = &me.selection_set.as_ref().expect("selections").items;
        assert_eq!(
            items.len(),
            2,
            "friends skipped, fragment and alias kept: {items:?}"
        );
        let Selection::InlineFragment(frag) = &items[0] else {
            panic!("fragment")
        };
        assert_eq!(frag.type_condition.as_deref(), Some("User"));
        let Selection::Field(name) = &frag.selection_set.items[0] else {
            panic!("field")
        };
        assert_eq!(
            name.conditions,
            [Condition {
                variable: "withName".to_owned(),
                passes_when: true
            }]
        );
        let Selection::Field(x) = &items[1] else {
            panic!("field")
        };
        assert_eq!((x.response_key.as_str(), x.name.as_str()), ("x", "id"));
        let Selection::Field(node) = &op.selection_set.items[1] else {
            panic!("field")
        };
        let Selection::InlineFragment(on_user) =
            &node.selection_set.as_ref().expect("set").items[0]
        else {
            panic!()
        };
        assert_eq!(on_user.possible_types, ["User"]);
    }

    #[test]
    fn interface_possible_types_and_unknown_operation() {
        let op = norm("{ node(id: 1) { ... on Node { id } } }", None).expect("ok");
        let Selection::Field(node) = &op.selection_set.items[0] else {
            panic!()
        };
        let Selection::InlineFragment(f) = &node.selection_set.as_ref().expect("set").items[0]
        else {
            panic!()
        };
        assert_eq!(f.possible_types, ["Bot", "User"]);
        let err = norm("query A { me { id } }", Some("B")).expect_err("unknown");
        assert_eq!(err.code(), "GRAPHQL_UNKNOWN_OPERATION_NAME");
    }
}
