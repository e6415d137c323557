//! Composition unit tests on small inline subgraphs.

use super::*;

const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@override", "@interfaceObject", "@inaccessible"])"#;

fn run(subgraphs: &[(&str, &str)]) -> Result<Composed, CompositionErrors> {
    let inputs: Vec<SubgraphInput> = subgraphs
        .iter()
        .map(|(name, sdl)| SubgraphInput {
            name: (*name).to_owned(),
            url: format!("http://{name}"),
            sdl: format!("{LINK}\n{sdl}"),
            source: format!("{name}.graphql"),
        })
        .collect();
    compose(&inputs)
}

fn codes(result: Result<Composed, CompositionErrors>) -> Vec<&'static str> {
    match result {
        Ok(_) => Vec::new(),
        Err(e) => e.errors.iter().map(|d| d.code).collect(),
    }
}

#[test]
fn value_type_field_only_in_another_subgraph_is_unsatisfiable() {
    let result = run(&[
        ("a", "type Query { a: T } type T @shareable { id: ID! }"),
        (
            "b",
            "type Query { b: Int } type T @shareable { id: ID! y: Int }",
        ),
    ]);
    let err = result.expect_err("unsatisfiable");
    assert_eq!(err.errors[0].code, "SATISFIABILITY_ERROR");
    let message = &err.errors[0].message;
    assert!(message.contains("{\n  a {\n    y\n  }\n}"), "{message}");
    assert!(
        message.contains("from subgraph \"a\": cannot find field \"T.y\""),
        "{message}"
    );
}

#[test]
fn a_key_makes_it_satisfiable() {
    let result = run(&[
        (
            "a",
            "type Query { a: T } type T @key(fields: \"id\") { id: ID! }",
        ),
        (
            "b",
            "type Query { b: Int } type T @key(fields: \"id\") { id: ID! y: Int }",
        ),
    ]);
    assert_eq!(codes(result), Vec::<&str>::new());
}

#[test]
fn a_non_resolvable_key_does_not() {
    let result = run(&[
        (
            "a",
            "type Query { a: T } type T @key(fields: \"id\") { id: ID! x: Int }",
        ),
        (
            "b",
            "type Query { t: T } type T @key(fields: \"id\", resolvable: false) { id: ID! }",
        ),
    ]);
    // From b's `t`, the gateway can jump to a (a's key is resolvable): fine.
    assert_eq!(codes(result), Vec::<&str>::new());
    let result = run(&[
        (
            "a",
            "type Query { a: T } type T @key(fields: \"id\", resolvable: false) { id: ID! }",
        ),
        (
            "b",
            "type Query { b: Int } type T @key(fields: \"id\", resolvable: false) { id: ID! y: Int }",
        ),
    ]);
    assert_eq!(codes(result), ["SATISFIABILITY_ERROR"]);
}

#[test]
fn requires_must_be_collectable() {
    let ok = run(&[
        (
            "a",
            "type Query { a: T } type T @key(fields: \"id\") { id: ID! w: Int }",
        ),
        (
            "b",
            "type T @key(fields: \"id\") { id: ID! w: Int @external s: Int @requires(fields: \"w\") }",
        ),
    ]);
    assert_eq!(codes(ok), Vec::<&str>::new());
}

#[test]
fn provides_makes_external_fields_reachable() {
    let ok = run(&[
        (
            "a",
            "type Query { u: U } type U @key(fields: \"id\", resolvable: false) { id: ID! }",
        ),
        (
            "b",
            "type Query { r: R } type R @shareable { u: U @provides(fields: \"name\") } type U @key(fields: \"id\", resolvable: false) { id: ID! name: String @external }",
        ),
        // A field another subgraph provides is resolved there too: it must be shareable.
        (
            "c",
            "type U @key(fields: \"id\") { id: ID! name: String @shareable }",
        ),
    ]);
    assert_eq!(codes(ok), Vec::<&str>::new());
}

#[test]
fn every_error_of_a_run_is_reported() {
    let result = run(&[
        ("a", "type Query { x: Int y: String }"),
        ("b", "type Query { x: Int y: String }"),
    ]);
    assert_eq!(
        codes(result),
        ["INVALID_FIELD_SHARING", "INVALID_FIELD_SHARING"]
    );
}

#[test]
fn merge_errors_stop_before_satisfiability() {
    // `weight` is @external everywhere: no subgraph resolves it. Only the merge error is
    // reported, not the unsatisfiable queries that follow from it.
    let result = run(&[
        (
            "a",
            "type Query { p: P } type P @key(fields: \"id\") { id: ID! }",
        ),
        (
            "b",
            "type P @key(fields: \"id\") { id: ID! weight: Int @external s: Int @requires(fields: \"weight\") }",
        ),
    ]);
    assert_eq!(codes(result), ["EXTERNAL_MISSING_ON_BASE"]);
}

#[test]
fn external_arguments_must_match() {
    let result = run(&[
        (
            "a",
            "type Query { p: P } type P @key(fields: \"id\") { id: ID! w(unit: String): Int }",
        ),
        (
            "b",
            "type P @key(fields: \"id\") { id: ID! w: Int @external s: Int @requires(fields: \"w\") }",
        ),
    ]);
    assert_eq!(codes(result), ["EXTERNAL_ARGUMENT_MISSING"]);
}

#[test]
fn defaults_in_only_some_subgraphs_are_dropped_with_a_hint() {
    let composed = run(&[
        ("a", "type Query { a(f: F): Int } input F { n: Int = 1 }"),
        ("b", "type Query { b(f: F): Int } input F { n: Int }"),
    ])
    .expect("composes");
    assert!(composed.supergraph_sdl.contains("  n: Int\n"));
    assert_eq!(
        composed.hints[0].code,
        "INCONSISTENT_DEFAULT_VALUE_PRESENCE"
    );
}

#[test]
fn unused_progressive_override_source_is_kept_with_its_label_only() {
    let composed = run(&[
        (
            "a",
            "type Query { p: P } type P @key(fields: \"id\") { id: ID! n: String }",
        ),
        (
            "b",
            "type P @key(fields: \"id\") { id: ID! n: String @override(from: \"a\", label: \"beta\") }",
        ),
    ])
    .expect("composes");
    let field = composed
        .supergraph_sdl
        .lines()
        .find(|l| l.trim_start().starts_with("n: String"))
        .unwrap_or_default();
    assert_eq!(
        field.trim(),
        "n: String @join__field(graph: A, overrideLabel: \"beta\") @join__field(graph: B, override: \"a\", overrideLabel: \"beta\")"
    );
}

#[test]
fn inaccessible_must_leave_a_valid_api_schema() {
    let result = run(&[(
        "a",
        "type Query { a: Int b(x: Int! @inaccessible): Int } enum E { X @inaccessible } type T { e(v: E = X): Int }",
    )]);
    let mut got = codes(result);
    got.sort();
    assert_eq!(
        got,
        [
            "DEFAULT_VALUE_USES_INACCESSIBLE",
            "ONLY_INACCESSIBLE_CHILDREN",
            "REQUIRED_INACCESSIBLE"
        ]
    );
}

/// `federation_version` in supergraph.yaml: a composition of 2.5 does not know a subgraph
/// linking federation v2.7 (as Rover's composition 2.5 does not), and composes it at 2.7.
#[test]
fn compose_at_rejects_later_federation_links() {
    let input = SubgraphInput {
        name: "a".into(),
        url: "http://a".into(),
        sdl: "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.7\", import: [\"@key\"])\ntype Query { a: Int }\n".into(),
        source: "a.graphql".into(),
    };
    let at = |v| codes(compose_at(std::slice::from_ref(&input), v));
    assert_eq!(at((2, 5)), ["UNKNOWN_FEDERATION_LINK_VERSION"]);
    assert!(at((2, 7)).is_empty());
    assert!(at(subgraph::LATEST_FEDERATION_VERSION).is_empty());
}
