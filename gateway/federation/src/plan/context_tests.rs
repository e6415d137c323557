//! Plan snapshots for `@context`/`@fromContext`, over the `context` fixture: one per operation
//! of tests/fixtures/context/operations.graphql (each names the case it covers). Each was
//! reviewed against `@apollo/query-planner`'s plan of the same operation
//! (tests/fixtures/planner-apollo/context.txt); docs/decisions.md says where they differ.

use super::tests::plan_text;

/// The operation named `name` in the fixture's operations file.
fn operation(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/context/operations.graphql",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("operations");
    let start = text
        .find(&format!("query {name} "))
        .unwrap_or_else(|| panic!("no operation {name}"));
    let rest = &text[start..];
    let end = rest.find("\n}").map_or(rest.len(), |e| e + 2);
    // On one line, as the other snapshots have their operations (plan-compare reads them).
    rest[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

macro_rules! snapshot {
    ($name:ident, $operation:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(plan_text("context", &operation($operation)));
        }
    };
}

snapshot!(context_same_subgraph, "Case1SameSubgraph");
snapshot!(context_two_readers, "Case1TwoReaders");
snapshot!(context_external_selection, "Case2ExternalSelection");
snapshot!(
    context_list_setter_list_argument,
    "Case3ListSetterListArgument"
);
snapshot!(context_interface_setter, "Case4Interface");
snapshot!(context_union_setter, "Case4Union");
snapshot!(context_query_setter, "Case5QuerySetter");
snapshot!(context_deep_selection, "Case6DeepSelection");
snapshot!(context_several_setters, "Case7SeveralSetters");
snapshot!(
    context_setters_through_fragments,
    "Case7SettersThroughFragments"
);
snapshot!(
    context_setters_through_interface,
    "Case7SettersThroughInterface"
);
snapshot!(context_two_levels_below, "Case8TwoLevelsBelow");
snapshot!(context_two_contexts_one_setter, "TwoContextsOneSetter");

/// The plan of `query` over a supergraph composed (by Weft's composer) from one `stores`
/// subgraph with `sdl`.
fn composed_plan(sdl: &str, query: &str) -> String {
    let link = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext"])"#;
    let input = crate::compose::SubgraphInput {
        name: "stores".to_owned(),
        url: "http://stores/graphql".to_owned(),
        sdl: format!("{link}\n{sdl}"),
        source: "stores".to_owned(),
    };
    let composed = crate::compose::compose(&[input]).expect("composes");
    let sg = crate::Supergraph::parse(&composed.supergraph_sdl, "composed").expect("supergraph");
    format!("{query}\n\n{}", super::tests::plan_over(sg, query, &[]))
}

/// An object whose type does not set the context takes it from further up: stalls of a
/// kiosk (which sets nothing) read the mall's currency, stalls of a market their market's.
/// One variable, nearest setter first (the executor takes the first rewrite that finds its
/// ancestor).
#[test]
fn context_from_an_outer_setter_where_the_nearer_one_does_not_set_it() {
    let sdl = r#"
        type Query { mall: Mall }
        type Mall @key(fields: "id") @context(name: "seller") { id: ID! currency: String venues: [Venue] }
        interface Venue { id: ID! stalls: [Stall] }
        type Market implements Venue @key(fields: "id") @context(name: "seller") { id: ID! currency: String stalls: [Stall] }
        type Kiosk implements Venue @key(fields: "id") { id: ID! stalls: [Stall] }
        type Stall @key(fields: "id") { id: ID! fee(currency: String @fromContext(field: "$seller { currency }")): Float }
    "#;
    let rewrites = "        $contextualArgument_1_0 <= ../... on Market/currency_context\n        \
                    $contextualArgument_1_0 <= ../../... on Mall/currency_context\n";
    for query in [
        "{ mall { venues { stalls { fee } } } }",
        "{ mall { venues { ... on Market { stalls { fee } } ... on Kiosk { stalls { fee } } } } }",
    ] {
        let plan = composed_plan(sdl, query);
        assert!(plan.contains(rewrites), "{plan}");
        assert!(
            plan.contains("{ ... on Stall { fee(currency: $contextualArgument_1_0) } }"),
            "{plan}"
        );
        assert!(!plan.contains("contextualArgument_1_1"), "{plan}");
    }
}

/// Two contexts read with the same selection are two variables, never one.
#[test]
fn two_contexts_read_alike_are_two_variables() {
    let sdl = r#"
        type Query { team: Team }
        type Team @key(fields: "id") @context(name: "org") { id: ID! lead: Member }
        type Member @key(fields: "id") @context(name: "user") { id: ID! docs: [Doc] }
        type Doc @key(fields: "id") {
          id: ID!
          canEdit(orgId: ID @fromContext(field: "$org { id }"), userId: ID @fromContext(field: "$user { id }")): Boolean
        }
    "#;
    let plan = composed_plan(sdl, "{ team { lead { docs { canEdit } } } }");
    assert!(
        plan.contains(
            "        $contextualArgument_1_0 <= ../../... on Team/id_context\n        \
             $contextualArgument_1_1 <= ../... on Member/id_context\n"
        ) && plan
            .contains("canEdit(orgId: $contextualArgument_1_0, userId: $contextualArgument_1_1)"),
        "{plan}"
    );
}

/// A client alias cannot put another value where a context is read: the context's field is
/// fetched under a key of its own, one the operation does not use.
#[test]
fn a_client_alias_does_not_take_the_contexts_key() {
    let plan = plan_text(
        "context",
        "{ store(id: \"s1\") { currency: name currency_context: id featured { price } } }",
    );
    assert!(
        plan.contains("currency: name currency_context: id")
            && plan.contains("currency_context_: currency")
            && plan.contains("$contextualArgument_3_0 <= ../... on Store/currency_context_\n"),
        "{plan}"
    );
}
