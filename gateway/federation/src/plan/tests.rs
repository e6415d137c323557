//! Planner snapshots: one per federation feature, over the committed fixtures. A changed plan
//! shows up as a snapshot diff (`cargo insta review`).

use apollo_compiler::ExecutableDocument;

use crate::Supergraph;
use crate::graph::QueryGraph;
use crate::operation::normalize;

pub(crate) fn plan_text(fixture: &str, query: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/{fixture}/supergraph.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    let sdl = std::fs::read_to_string(&path).expect("fixture");
    let sg = Supergraph::parse(&sdl, fixture).expect("supergraph");
    let doc = ExecutableDocument::parse_and_validate(sg.api_schema(), query, "q.graphql")
        .expect("valid query");
    let op = normalize(sg.api_schema(), &doc, None).expect("normalizes");
    let graph = QueryGraph::new(std::sync::Arc::new(sg.clone()));
    format!(
        "{query}\n\n{}",
        super::plan(&graph, &op, &Default::default()).expect("plans")
    )
}

macro_rules! snapshot {
    ($name:ident, $fixture:expr, $query:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(plan_text($fixture, $query));
        }
    };
}

snapshot!(
    root_fields_of_one_subgraph,
    "reference",
    "{ users { id name } me { username } }"
);
snapshot!(
    root_fields_across_subgraphs,
    "reference",
    "{ users { name } topProducts(first: 2) { name } }"
);
snapshot!(
    entity_jump_by_key,
    "reference",
    "{ topProducts { name reviews { body } } }"
);
snapshot!(
    requires_fetches_required_fields_first,
    "reference",
    "{ topProducts { shippingEstimate } }"
);
snapshot!(
    requires_deep_in_the_tree_waits_for_its_inputs,
    "reference",
    "{ users { reviews { product { shippingEstimate } } } }"
);
snapshot!(
    classic_nested_query,
    "reference",
    "{ users { name reviews { body product { upc name reviews { author { username reviews { product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }"
);
snapshot!(
    aliases_and_arguments,
    "reference",
    "{ top: topProducts(first: 3) { n: name cost: price } one: product(upc: \"1\") { name } }"
);
snapshot!(
    skip_include_with_variables,
    "reference",
    "query Q($a: Boolean!, $b: Boolean!) { me { id name @include(if: $a) reviews @skip(if: $b) { body } } }"
);
snapshot!(
    typename_everywhere,
    "reference",
    "{ __typename me { __typename reviews { __typename } } }"
);
snapshot!(
    fragments_are_inlined,
    "reference",
    "query { me { ...U } } fragment U on User { name reviews { ...R } } fragment R on Review { body }"
);
snapshot!(
    mutation_root_fields_in_order,
    "fed2-features",
    "mutation { placeOrder(input: { lines: [] }) { id } cancelOrder(id: \"1\") { id } }"
);

/// Plans with progressive-override labels switched on.
fn plan_with_labels(fixture: &str, query: &str, labels: &[&str]) -> String {
    let path = format!(
        "{}/tests/fixtures/{fixture}/supergraph.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    let sg = Supergraph::parse(&std::fs::read_to_string(&path).expect("fixture"), fixture)
        .expect("supergraph");
    let doc = ExecutableDocument::parse_and_validate(sg.api_schema(), query, "q.graphql")
        .expect("valid query");
    let op = normalize(sg.api_schema(), &doc, None).expect("normalizes");
    let graph = QueryGraph::new(std::sync::Arc::new(sg.clone()));
    let labels = labels.iter().map(|l| (*l).to_owned()).collect();
    format!(
        "{query} with labels {labels:?}\n\n{}",
        super::plan(&graph, &op, &labels).expect("plans")
    )
}

#[test]
fn progressive_override_follows_the_label() {
    let q = "{ product(upc: \"1\") { price { amount } } }";
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        plan_with_labels("fed2-features", q, &[]),
        plan_with_labels("fed2-features", q, &["percent(50)"])
    ));
}

snapshot!(
    override_moves_a_field,
    "fed2-features",
    "{ product(upc: \"1\") { sku } }"
);
snapshot!(
    interface_object_field_on_an_implementation,
    "fed2-features",
    "{ topMedia { ... on Book { reviews { body } } } }"
);
snapshot!(
    interface_object_field_on_the_interface,
    "fed2-features",
    "{ topMedia { id title reviews { body } } }"
);
snapshot!(
    union_members_a_subgraph_cannot_return_are_dropped,
    "fed2-features",
    "{ searchCatalog(text: \"x\") { __typename ... on Product { name } ... on User { id } } }"
);
snapshot!(
    requires_with_nested_selection,
    "fed2-features",
    "{ product(upc: \"1\") { shippingEstimate } }"
);
snapshot!(
    provides_avoids_a_fetch,
    "fed2-features",
    "{ latestReviews { author { username } } }"
);
