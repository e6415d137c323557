//! Plan snapshots for `@defer` (incremental delivery) and conditions on variables, over the
//! reference fixture (and fed2-features for abstract types). Each was
//! reviewed against `@apollo/query-planner`'s plan of the same operation with defer
//! enabled (docs/decisions.md, "`@defer` plans against Apollo's"); Apollo's plans are kept in
//! tests/fixtures/planner-apollo/.

use super::tests::plan_text;

macro_rules! snapshot {
    ($name:ident, $query:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(plan_text("reference", $query));
        }
    };
}

// A field of the entity's own subgraph, deferred: fetched again through the key.
snapshot!(
    defer_a_field_of_the_same_subgraph,
    "{ topProducts { name ... @defer(label: \"price\") { price } } }"
);
// A field of another subgraph, deferred: its entity fetch is the deferred part's.
snapshot!(
    defer_a_field_of_another_subgraph,
    "{ topProducts { name ... @defer { reviews { body } } } }"
);
// `@requires` inside a deferred fragment: the required fields and the field, deferred.
snapshot!(
    defer_a_field_with_requires,
    "{ topProducts { name ... @defer { shippingEstimate } } }"
);
// Nested: a deferred fragment inside a deferred fragment.
snapshot!(
    defer_nested,
    "{ me { name ... @defer(label: \"outer\") { reviews { body ... @defer(label: \"inner\") { product { name } } } } } }"
);
// `@defer(if: $v)`: one plan for both values.
snapshot!(
    defer_with_a_condition,
    "query Q($v: Boolean!) { me { name ... @defer(if: $v) { reviews { body } } } }"
);
// At the root: the deferred root fields get a root fetch of their own.
snapshot!(
    defer_root_fields,
    "{ me { name } ... @defer { topProducts { name } } }"
);
// A named fragment spread with `@defer`.
snapshot!(
    defer_a_fragment_spread,
    "query { me { id ...Reviews @defer(label: \"r\") } } fragment Reviews on User { reviews { body } }"
);

// Deferred fragments on the possible types of abstract types.
#[test]
fn defer_on_an_interface_implementation() {
    insta::assert_snapshot!(plan_text(
        "fed2-features",
        "{ topMedia { title ... on Book @defer(label: \"book\") { isbn reviews { body } } } }"
    ));
}

#[test]
fn defer_on_a_union_member() {
    insta::assert_snapshot!(plan_text(
        "fed2-features",
        "{ searchCatalog(text: \"x\") { ... on Product @defer { upc weight } ... on User { id } } }"
    ));
}

// Conditions on variables: a fetch needed only under `@skip`/`@include` is a `Condition` node,
// its requirements' fetches with it.
snapshot!(
    condition_around_a_skipped_fields_fetches_and_its_requirements,
    "query Q($v: Boolean!) { me { reviews { product { shippingEstimate @include(if: $v) } } } }"
);
