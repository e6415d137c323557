//! Planner snapshots: one per federation feature, over the committed fixtures. A changed plan
//! shows up as a snapshot diff (`cargo insta review`).

use apollo_compiler::ExecutableDocument;

use crate::Supergraph;
use crate::graph::QueryGraph;
use crate::operation::normalize;
use crate::plan::model::{PlanNode, QueryPlan};

/// The plan of `query` over the fixture's supergraph with the progressive-override `labels`
/// on.
pub(super) fn planned(fixture: &str, query: &str, labels: &[&str]) -> QueryPlan {
    let path = format!(
        "{}/tests/fixtures/{fixture}/supergraph.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    let sdl = std::fs::read_to_string(&path).expect("fixture");
    let sg = Supergraph::parse(&sdl, fixture).expect("supergraph");
    plan_over(sg, query, labels)
}

/// The plan of `query` over `sg` with the progressive-override `labels` on, its fetches' ids
/// checked against the subgraphs they name.
pub(super) fn plan_over(sg: Supergraph, query: &str, labels: &[&str]) -> QueryPlan {
    let doc = ExecutableDocument::parse_and_validate(sg.api_schema(), query, "q.graphql")
        .expect("valid query");
    let op = normalize(sg.api_schema(), &doc, None).expect("normalizes");
    let graph = QueryGraph::new(std::sync::Arc::new(sg.clone()));
    let labels = labels.iter().map(|l| (*l).to_owned()).collect();
    let plan = super::plan(&graph, &op, &labels).expect("plans");
    if let Some(node) = &plan.node {
        ids_name_their_subgraphs(&sg, node);
    }
    reads_back(&sg, &plan);
    plan
}

/// `plan` written as JSON and read back, its subgraph ids restored from the names, is the
/// same plan: what gateways sharing plans through Redis rely on (every snapshot's plan is
/// checked so).
fn reads_back(sg: &Supergraph, plan: &QueryPlan) {
    let text = serde_json::to_string(plan).expect("serializes");
    let mut read: QueryPlan = serde_json::from_str(&text).expect("deserializes");
    read.link_subgraphs(sg).expect("names known subgraphs");
    assert_eq!(&read, plan, "{text}");
}

#[test]
fn a_plan_read_back_naming_an_unknown_subgraph_is_refused() {
    let plan = planned("reference", "{ me { username reviews { body } } }", &[]);
    let text = serde_json::to_string(&plan).expect("serializes").replace(
        "\"serviceName\":\"reviews\"",
        "\"serviceName\":\"elsewhere\"",
    );
    assert!(text.contains("elsewhere"), "{text}");
    let mut read: QueryPlan = serde_json::from_str(&text).expect("deserializes");
    let path = format!(
        "{}/tests/fixtures/reference/supergraph.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    let sg = Supergraph::parse(
        &std::fs::read_to_string(path).expect("fixture"),
        "reference",
    )
    .expect("supergraph");
    assert_eq!(
        read.link_subgraphs(&sg),
        Err(crate::plan::model::UnknownSubgraph("elsewhere".to_owned()))
    );
}

pub(crate) fn plan_text(fixture: &str, query: &str) -> String {
    format!("{query}\n\n{}", planned(fixture, query, &[]))
}

/// Every fetch's `SubgraphId` is the supergraph's id of the subgraph it names (the executor
/// goes by the id, output by the name).
fn ids_name_their_subgraphs(sg: &Supergraph, node: &PlanNode) {
    match node {
        PlanNode::Fetch(f) => assert_eq!(sg.subgraph(f.graph).name, f.subgraph, "{f:?}"),
        PlanNode::Flatten(f) => ids_name_their_subgraphs(sg, &f.node),
        PlanNode::BatchFetch(b) => {
            assert_eq!(sg.subgraph(b.graph).name, b.subgraph, "{b:?}");
            for e in &b.entities {
                assert_eq!(e.fetch.graph, b.graph, "{b:?}");
            }
        }
        PlanNode::Sequence { nodes } | PlanNode::Parallel { nodes } => {
            nodes.iter().for_each(|n| ids_name_their_subgraphs(sg, n));
        }
        PlanNode::Condition {
            if_clause,
            else_clause,
            ..
        } => [if_clause, else_clause]
            .into_iter()
            .flatten()
            .for_each(|n| ids_name_their_subgraphs(sg, n)),
        PlanNode::Defer { primary, deferred } => primary
            .node
            .iter()
            .chain(deferred.iter().filter_map(|d| d.node.as_ref()))
            .for_each(|n| ids_name_their_subgraphs(sg, n)),
        PlanNode::Subscription { primary, rest } => {
            ids_name_their_subgraphs(sg, &PlanNode::Fetch(primary.clone()));
            rest.iter().for_each(|n| ids_name_their_subgraphs(sg, n));
        }
    }
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
    // Shown as the planner takes them: a set.
    let set: std::collections::BTreeSet<&str> = labels.iter().copied().collect();
    format!(
        "{query} with labels {set:?}\n\n{}",
        planned(fixture, query, labels)
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

// The `planner` fixture: a bookstore of five subgraphs written for these snapshots (see
// tests/fixtures/planner/subgraphs/). Book is keyed by "id" in catalog and stores, by "isbn"
// in catalog, inventory and pricing; Shelf by the compound "storeId aisle"; Printing by the
// nested "edition { code year }"; Media is an entity interface in catalog and an
// @interfaceObject in reviews.

/// The plan as JSON (Apollo's field names: `keyFields`, `requires`, `inputRewrites`, ...).
pub(crate) fn plan_json(fixture: &str, query: &str) -> String {
    let plan = planned(fixture, query, &[]);
    format!(
        "{query}\n\n{}",
        serde_json::to_string_pretty(&plan).expect("serializes")
    )
}

macro_rules! snapshot_json {
    ($name:ident, $fixture:expr, $query:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(plan_json($fixture, $query));
        }
    };
}

// Entity jumps.
snapshot!(
    entity_jump_by_compound_key,
    "planner",
    "{ book(id: \"1\") { location { humidity label } } }"
);
snapshot!(
    entity_jump_by_nested_key,
    "planner",
    "{ book(id: \"1\") { printings { copies inWarehouse } } }"
);
snapshot!(
    entity_jumps_use_each_subgraphs_own_key,
    "planner",
    "{ book(id: \"1\") { stock availableIn { name } } }"
);
snapshot!(
    entity_jump_through_a_middle_subgraph_for_another_key,
    "planner",
    "{ stores { books { price(currency: EUR) } } }"
);
snapshot!(
    entity_jump_through_a_middle_subgraph_the_other_way,
    "planner",
    "{ lowStock { availableIn { name } } }"
);
snapshot!(
    entity_jump_never_enters_a_non_resolvable_key,
    "planner",
    "{ topReviews { author { name born } } }"
);

// @requires.
snapshot!(
    requires_chain,
    "planner",
    "{ book(id: \"1\") { shippingCost } }"
);
snapshot!(
    requires_with_field_arguments,
    "planner",
    "{ book(id: \"1\") { insuredValue } }"
);
snapshot!(
    requires_arguments_conflicting_with_the_client_selection,
    "planner",
    "{ book(id: \"1\") { price(currency: GBP) insuredValue } }"
);
snapshot!(
    requires_same_field_with_two_argument_sets,
    "planner",
    "{ book(id: \"1\") { insuredValue customsValue } }"
);
snapshot!(
    requires_on_an_interface_object_field_of_an_implementation,
    "planner",
    "{ book(id: \"1\") { reviewDigest } }"
);
snapshot!(
    requires_on_an_interface_object_field_of_the_interface,
    "planner",
    "{ media { id reviewDigest } }"
);
snapshot!(
    requires_on_an_interface_object_value_from_its_own_subgraph,
    "planner",
    "{ mostReviewed { reviewDigest } }"
);

// @provides.
snapshot!(
    provides_nested,
    "planner",
    "{ stores { bestseller { title author { name } } } }"
);
snapshot!(
    provides_nested_and_a_field_beyond_it,
    "planner",
    "{ stores { bestseller { title author { name born } } } }"
);
snapshot!(
    provides_on_an_interface_typed_field,
    "planner",
    "{ stores { staffPick { title } } }"
);
snapshot!(
    provides_on_a_union_typed_field,
    "planner",
    "{ stores { recommendations { ... on Book { title } ... on Magazine { title } } } }"
);

snapshot!(
    provides_on_a_union_typed_field_and_a_field_beyond_it,
    "planner",
    "{ stores { recommendations { ... on Book { title pageCount } } } }"
);

// @external and @shareable.
snapshot!(
    external_field_used_only_by_provides_is_fetched_from_its_owner,
    "planner",
    "{ stores { books { title } } }"
);
snapshot!(
    external_field_used_only_by_requires_is_fetched_from_its_owner,
    "planner",
    "{ lowStock { pageCount weight } }"
);
snapshot!(
    shareable_field_from_the_fetch_already_made,
    "planner",
    "{ lowStock { title stock } }"
);
snapshot!(
    shareable_field_from_a_subgraph_already_on_the_path,
    "planner",
    "{ stores { books { stock title } } }"
);

// @interfaceObject.
snapshot!(
    interface_object_typename_from_the_entity_interface,
    "planner",
    "{ mostReviewed { __typename id } }"
);
// The representation of a Book goes in as a `Media` (`inputRewrites`), keyed by `id`.
snapshot_json!(
    interface_object_field_of_an_implementation_json,
    "planner",
    "{ book(id: \"1\") { averageRating } }"
);
snapshot!(
    interface_object_value_with_concrete_fragments,
    "planner",
    "{ mostReviewed { averageRating ... on Book { isbn title } ... on Magazine { issue } } }"
);

// Interfaces and unions spread over subgraphs.
snapshot!(
    partial_union_members_of_the_resolving_subgraph,
    "planner",
    "{ storeSearch(text: \"x\") { __typename ... on Book { title } ... on Store { name } ... on Author { name } } }"
);
snapshot!(
    type_condition_on_a_type_only_another_subgraph_knows,
    "planner",
    "{ search(text: \"x\") { ... on Store { name } ... on Magazine { title } } }"
);
snapshot!(
    interface_condition_an_implementation_lacks_in_the_subgraph,
    "planner",
    "{ storeSearch(text: \"x\") { ... on Node { id } } }"
);
snapshot!(
    interface_condition_the_subgraph_does_not_know,
    "planner",
    "{ search(text: \"x\") { ... on Publication { title } } }"
);

// Enum and input-object intersections.
snapshot!(
    enum_and_input_object_arguments,
    "planner",
    "{ books(filter: { genre: SCIENCE, minPages: 100 }, sort: YEAR) { title } storeBooks(filter: { genre: FICTION }) { id } }"
);
snapshot!(
    enum_and_input_object_variables,
    "planner",
    "query Q($f: BookFilter, $s: SortOrder = YEAR) { books(filter: $f, sort: $s) { title } storeBooks(filter: $f) { id } }"
);

// Circular references.
snapshot!(
    circular_references_in_one_subgraph,
    "planner",
    "{ book(id: \"1\") { related { title related { title author { books { author { name } } } } } } }"
);
snapshot!(
    circular_references_across_subgraphs,
    "planner",
    "{ book(id: \"1\") { title reviews { body media { title reviews { body author { name books { title } } } } } } }"
);

// Key fields that may be null (`isbn` is nullable): `keyFields` on the entity fetches.
snapshot_json!(
    nullable_key_fields_json,
    "planner",
    "{ book(id: \"1\") { stock printings { inWarehouse } } }"
);

// A condition on an abstract type over an object value: it holds or it never does.
snapshot!(
    interface_condition_on_an_object_value,
    "planner",
    "{ stores { books { ... on Node { id } } } book(id: \"1\") { ... on Publication { title } } }"
);

// An @interfaceObject field whose key this subgraph lacks: the key is gathered first.
snapshot!(
    interface_object_field_with_a_gathered_key,
    "planner",
    "{ lowStock { reviews { body } } }"
);

// An @interfaceObject field asked under one implementation: representations of that type only.
snapshot_json!(
    interface_object_field_under_a_type_condition_json,
    "planner",
    "{ media { id ... on Magazine { averageRating } } }"
);

// `keyFields` hold the key only: a null required field still goes to the subgraph.
snapshot_json!(
    key_fields_exclude_required_fields_json,
    "planner",
    "{ book(id: \"1\") { shippingCost } }"
);

/// A shareable root field planned apart from the subgraph's other root field of the same
/// level goes out in the same request (docs/decisions.md, "Fetch merging"): `b` gets one
/// operation with `rootB` and `shared`, not two.
#[test]
fn root_fetches_to_one_subgraph_at_one_level_are_one_request() {
    let link = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", "@shareable"])"#;
    let input = |name: &str, sdl: String| crate::compose::SubgraphInput {
        name: name.to_owned(),
        url: format!("http://{name}/graphql"),
        sdl,
        source: name.to_owned(),
    };
    let a = format!(
        "{link}\ntype Query {{ rootA: Container shared: Container @shareable }}\n\
         type Container @key(fields: \"id\") {{ id: ID! wrapper: Wrapper @shareable }}\n\
         type Wrapper @shareable {{ label: String }}"
    );
    let b = format!(
        "{link}\ntype Query {{ rootB: Container shared: Container @shareable }}\n\
         type Container @key(fields: \"id\") {{ id: ID! wrapper: Wrapper @shareable bWrapper: Wrapper }}\n\
         type Wrapper @shareable {{ label: String }}"
    );
    let composed = crate::compose::compose(&[input("a", a), input("b", b)]).expect("composes");
    let sg = Supergraph::parse(&composed.supergraph_sdl, "composed").expect("supergraph");
    let query = "query Q($l: Boolean!) { rootA { id } rootB { id } shared { bWrapper @include(if: $l) { label } } }";
    let plan = plan_over(sg, query, &[]);
    assert_eq!(
        plan.to_string(),
        "QueryPlan {\n  Parallel {\n    Fetch(service: \"a\") {\n      query Q__a__0 { rootA { __typename id } }\n    },\n    \
         Fetch(service: \"b\") {\n      query Q__b__1($l: Boolean!) { rootB { __typename id } shared { __typename bWrapper @include(if: $l) { __typename label } } }\n    },\n  },\n}"
    );
}

// Subscriptions: the primary fetch subscribes on inventory; the rest runs per event (Apollo's
// plans for both, by @apollo/query-planner 2.14.4: the same fetches, printed in
// tests/fixtures/planner-apollo/subscriptions.txt).
snapshot!(
    subscription_alone,
    "reference",
    "subscription { stockChanged(upc: \"1\") { upc stock inStock } }"
);
snapshot!(
    subscription_with_entity_fetches_per_event,
    "reference",
    "subscription($u: ID!) { stockChanged(upc: $u) { stock name shippingEstimate reviews { body author { username } } } }"
);
