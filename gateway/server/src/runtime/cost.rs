//! Demand control: a static estimate of what an operation will cost (IBM's GraphQL cost
//! directive spec, as Apollo Router's `demand_control` reads it), from the supergraph's
//! `@cost` and `@listSize`. Pure: the normalized operation, the supergraph and the variables
//! in, a number out. See docs/traffic.md ("Demand control").
//!
//! - A field costs its `@cost(weight:)`, else its type's, else 1 for an object, interface or
//!   union and 0 for a scalar or enum; a mutation's root fields cost 10 by default.
//! - Arguments add their own `@cost`.
//! - A list multiplies its items' cost (the type's and its sub-selection's) by its size: the
//!   value of a `slicingArguments` argument (the largest, when several are given), else
//!   `assumedSize`, else the configured default. With `sizedFields`, the size applies to those
//!   child fields instead of the field itself.
//! - Inline fragments on different types are alternatives: the dearest counts.
//! - `@skip`/`@include` are ignored (the estimate is an upper bound).

use apollo_compiler::ast;
use serde_json::{Map, Value};
use weft_federation::Supergraph;
use weft_federation::operation::{Field, Operation, OperationKind, Selection, SelectionSet};
use weft_federation::supergraph::{ListSize, TypeId, TypeKind};

/// The default weight of a mutation's root field (Apollo's and IBM's).
const MUTATION_WEIGHT: u64 = 10;

/// An operation the estimate refuses: `@listSize(requireOneSlicingArgument: true)` on a field
/// given no slicing argument, or several.
#[derive(Debug, PartialEq, Eq)]
pub struct SlicingError {
    pub field: String,
    pub arguments: Vec<String>,
    pub given: usize,
}

impl std::fmt::Display for SlicingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Field `{}` needs exactly one of its slicing arguments ({}), given {}.",
            self.field,
            self.arguments.join(", "),
            self.given
        )
    }
}

struct Estimator<'a> {
    supergraph: &'a Supergraph,
    variables: &'a Map<String, Value>,
    default_list_size: u64,
    /// With `requireOneSlicingArgument` broken: the first such field (the estimate goes on
    /// with the fallback size).
    slicing: Option<SlicingError>,
}

/// The estimated cost of `operation` with `variables`; the estimate is computed whole even
/// when a slicing argument is missing, and that error returned beside it.
pub fn estimate(
    supergraph: &Supergraph,
    operation: &Operation,
    variables: &Map<String, Value>,
    default_list_size: u64,
) -> (u64, Option<SlicingError>) {
    let mut e = Estimator {
        supergraph,
        variables,
        default_list_size,
        slicing: None,
    };
    let mutation = operation.kind == OperationKind::Mutation;
    let cost = e.set(&operation.selection_set, None, mutation);
    (cost, e.slicing)
}

impl Estimator<'_> {
    /// `sized`: child field names the parent's `sizedFields` give a size, and that size.
    fn set(&mut self, set: &SelectionSet, sized: Option<(&[String], u64)>, root: bool) -> u64 {
        let parent = self.supergraph.type_id(&set.parent_type);
        let mut fields = 0u64;
        let mut fragments = 0u64;
        for item in &set.items {
            match item {
                Selection::Field(f) => {
                    fields = fields.saturating_add(self.field(parent, f, sized, root));
                }
                Selection::InlineFragment(i) => {
                    fragments = fragments.max(self.set(&i.selection_set, sized, root));
                }
            }
        }
        fields.saturating_add(fragments)
    }

    fn field(
        &mut self,
        parent: Option<TypeId>,
        f: &Field,
        sized: Option<(&[String], u64)>,
        root: bool,
    ) -> u64 {
        if f.name.starts_with("__") {
            return 0;
        }
        let sg = self.supergraph;
        let def = parent
            .and_then(|p| sg.field_id(p, &f.name))
            .map(|id| sg.field(id));
        let ty = sg
            .type_id(f.ty.inner_named_type())
            .map(|id| sg.type_def(id));
        let composite = ty.is_some_and(|t| {
            matches!(
                t.kind,
                TypeKind::Object | TypeKind::Interface | TypeKind::Union
            )
        });
        let default = match (root, composite) {
            (true, _) => MUTATION_WEIGHT,
            (false, true) => 1,
            (false, false) => 0,
        };
        let weight = def
            .and_then(|d| d.meta.cost)
            .or_else(|| ty.and_then(|t| t.meta.cost))
            .map_or(default, |w| u64::try_from(w).unwrap_or(0));
        let arguments: u64 = def.map_or(0, |d| {
            f.arguments
                .iter()
                .filter_map(|(name, _)| d.arguments.iter().find(|a| a.name == name.as_str()))
                .filter_map(|a| a.meta.cost)
                .map(|w| u64::try_from(w).unwrap_or(0))
                .sum()
        });
        let list_size = def.and_then(|d| d.list_size.as_ref());
        let size = list_size.map_or(self.default_list_size, |l| self.size(f, l));
        let child_sized = list_size
            .filter(|l| !l.sized_fields.is_empty())
            .map(|l| (l.sized_fields.as_slice(), size));
        let children = f
            .selection_set
            .as_ref()
            .map_or(0, |s| self.set(s, child_sized, false));
        let count = if !f.ty.is_list() {
            1
        } else if let Some((_, n)) = sized.filter(|(names, _)| names.contains(&f.name)) {
            n
        } else if child_sized.is_some() {
            // The size belongs to the sized child fields, not to this list.
            self.default_list_size
        } else {
            size
        };
        count
            .saturating_mul(weight.saturating_add(children))
            .saturating_add(arguments)
    }

    /// A field's size from its `@listSize`.
    fn size(&mut self, f: &Field, l: &ListSize) -> u64 {
        let given: Vec<u64> = l
            .slicing_arguments
            .iter()
            .filter_map(|name| f.arguments.iter().find(|(n, _)| n == name))
            .filter_map(|(_, value)| self.int(value))
            .collect();
        if l.require_one_slicing_argument
            && !l.slicing_arguments.is_empty()
            && given.len() != 1
            && self.slicing.is_none()
        {
            self.slicing = Some(SlicingError {
                field: f.name.clone(),
                arguments: l.slicing_arguments.clone(),
                given: given.len(),
            });
        }
        given
            .into_iter()
            .max()
            .or_else(|| l.assumed_size.and_then(|n| u64::try_from(n).ok()))
            .unwrap_or(self.default_list_size)
    }

    /// An argument's integer value, a literal or a variable's; negative counts as 0, null as
    /// not given.
    fn int(&self, value: &ast::Value) -> Option<u64> {
        let n = match value {
            ast::Value::Int(i) => i.try_to_i32().ok().map(i64::from),
            ast::Value::Variable(name) => self.variables.get(name.as_str())?.as_i64(),
            _ => None,
        }?;
        Some(u64::try_from(n).unwrap_or(0))
    }
}

/// Demand control refused an operation: the error's code and message, and the estimate.
pub struct Refused {
    pub code: weft_executor::ErrorCode,
    pub message: String,
    pub estimated: u64,
}

/// Demand control for one operation, as `demand_control` configures it: `Ok(None)` when off,
/// `Ok(Some(estimate))` when it may run, `Err` when `enforce` refuses it. Counted in the
/// metrics either way.
pub fn demand_control(
    rt: &crate::runtime::SchemaRuntime,
    prepared: &crate::runtime::Prepared,
    variables: &Map<String, Value>,
) -> Result<Option<u64>, Refused> {
    let config = &rt.config.demand_control;
    // The safety limit (on by default) applies whatever demand control's mode: an operation
    // estimated to answer far more than any real one (lists nested seven deep) is refused
    // before it makes subgraphs and the gateway build it.
    let safety = rt.config.limits.max_estimated_cost;
    if config.mode.is_none() && safety.is_none() {
        return Ok(None);
    }
    let operation = &prepared.operation;
    let list_size = u64::from(config.list_size.get());
    // Without variables the estimate is the operation's own: computed once, with the cached
    // operation (this runtime's configuration is fixed; a reload makes a new cache).
    let computed;
    let (estimated, slicing) = if operation.variables.is_empty() {
        let (estimated, slicing) = prepared
            .cost
            .get_or_init(|| estimate(&rt.supergraph, operation, variables, list_size));
        (*estimated, slicing.as_ref())
    } else {
        computed = estimate(&rt.supergraph, operation, variables, list_size);
        (computed.0, computed.1.as_ref())
    };
    let metrics = &rt.metrics;
    if let Some(max) = safety
        && estimated > u64::from(max.get())
    {
        metrics.record_cost_refused();
        return Err(Refused {
            code: weft_executor::ErrorCode::CostEstimatedTooExpensive,
            message: format!(
                "The operation's estimated cost is {estimated}, over the limit of {max} \
                 (`limits.max_estimated_cost`)."
            ),
            estimated,
        });
    }
    let Some(mode) = config.mode else {
        return Ok(None);
    };
    metrics.record_cost(estimated);
    if mode == weft_config::model::CostMode::Measure {
        return Ok(Some(estimated));
    }
    let max = config.max.get();
    let refused = match slicing {
        Some(e) => Refused {
            code: weft_executor::ErrorCode::CostInvalidSlicingArguments,
            message: e.to_string(),
            estimated,
        },
        None if estimated > max => Refused {
            code: weft_executor::ErrorCode::CostEstimatedTooExpensive,
            message: format!(
                "The operation's estimated cost is {estimated}, over the limit of {max} \
                 (`demand_control.max`)."
            ),
            estimated,
        },
        None => return Ok(Some(estimated)),
    };
    metrics.record_cost_refused();
    Err(refused)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use weft_federation::compose::{SubgraphInput, compose};
    use weft_federation::operation::normalize;

    const SDL: &str = r#"
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@cost", "@listSize"])
type Query {
  book(id: ID!): Book
  books(first: Int, last: Int): [Book!]! @listSize(slicingArguments: ["first", "last"])
  shelf: [Book!]! @listSize(assumedSize: 7)
  anyBooks: [Book!]!
  page(first: Int!): BookPage @listSize(slicingArguments: ["first"], sizedFields: ["items"])
  search(text: String @cost(weight: 4)): [String!]!
  expensive: Int @cost(weight: 50)
}
type Mutation { addBook(title: String!): Book }
type Book @key(fields: "id") { id: ID! title: String! author: Author }
type Author @cost(weight: 3) { name: String }
type BookPage { items: [Book!]! total: Int }
"#;

    fn cost(query: &str, variables: Value) -> (u64, Option<SlicingError>) {
        let supergraph = compose(&[SubgraphInput {
            name: "books".to_owned(),
            url: "http://books/graphql".to_owned(),
            sdl: SDL.to_owned(),
            source: "books".to_owned(),
        }])
        .expect("compose")
        .supergraph_sdl;
        let sg = Supergraph::parse(&supergraph, "sg").expect("supergraph");
        let doc = apollo_compiler::ExecutableDocument::parse_and_validate(
            sg.api_schema(),
            query,
            "q.graphql",
        )
        .expect("valid");
        let op = normalize(sg.api_schema(), &doc, None).expect("normalize");
        let Value::Object(vars) = variables else {
            panic!()
        };
        estimate(&sg, &op, &vars, 10)
    }

    #[test]
    fn objects_cost_one_scalars_nothing_and_weights_override() {
        assert_eq!(cost("{ book(id: 1) { id title } }", obj()).0, 1);
        assert_eq!(cost("{ book(id: 1) { author { name } } }", obj()).0, 1 + 3);
        assert_eq!(cost("{ expensive }", obj()).0, 50);
        assert_eq!(cost("{ search(text: \"x\") }", obj()).0, 4);
        assert_eq!(cost("{ search }", obj()).0, 0);
    }

    #[test]
    fn lists_multiply_by_slicing_arguments_assumed_size_or_the_default() {
        assert_eq!(cost("{ books(first: 5) { title } }", obj()).0, 5);
        assert_eq!(
            cost(
                "query($n: Int) { books(first: $n) { author { name } } }",
                serde_json::json!({ "n": 20 })
            )
            .0,
            20 * (1 + 3)
        );
        assert_eq!(cost("{ shelf { id } }", obj()).0, 7);
        assert_eq!(cost("{ anyBooks { id } }", obj()).0, 10);
        assert_eq!(
            cost("{ page(first: 4) { items { id } total } }", obj()).0,
            1 + 4
        );
    }

    #[test]
    fn mutations_cost_ten_per_root_field() {
        assert_eq!(
            cost("mutation { addBook(title: \"t\") { id } }", obj()).0,
            10
        );
    }

    #[test]
    fn slicing_arguments_required_exactly_once() {
        let (n, err) = cost("{ books(first: 2, last: 3) { id } }", obj());
        assert_eq!(n, 3);
        assert_eq!(err.expect("an error").given, 2);
        let (n, err) = cost("{ books { id } }", obj());
        assert_eq!(n, 10);
        assert_eq!(err.expect("an error").given, 0);
    }

    fn obj() -> Value {
        Value::Object(Map::new())
    }
}
