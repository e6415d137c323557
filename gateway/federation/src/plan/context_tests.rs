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
    rest[..end].to_owned()
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
