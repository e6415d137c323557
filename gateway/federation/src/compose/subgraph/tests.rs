use super::*;

fn input(name: &str, sdl: &str) -> SubgraphInput {
    SubgraphInput {
        name: name.to_owned(),
        url: format!("http://{name}"),
        sdl: sdl.to_owned(),
        source: format!("{name}.graphql"),
    }
}

#[test]
fn fed2_names_follow_imports_and_renames() {
    let mut d = Diagnostics::default();
    let sg = load(
        &input(
            "a",
            r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [{name: "@key", as: "@primaryKey"}, "@shareable"])
                type Query { t: T }
                type T @primaryKey(fields: "id") { id: ID! x: Int @shareable @federation__external }"#,
        ),
        &mut d,
    )
    .unwrap_or_else(|| panic!("{:?}", d.errors));
    assert!(sg.fed2);
    assert_eq!(sg.version, (2, 3));
    assert_eq!(sg.names.key, "primaryKey");
    assert_eq!(sg.names.shareable, "shareable");
    assert_eq!(sg.names.external, "federation__external");
}

#[test]
fn fed1_orphan_extensions_and_plumbing() {
    let mut d = Diagnostics::default();
    let sg = load(
        &input(
            "b",
            r#"scalar _Any
                type _Service { sdl: String }
                extend type Query { me: User _service: _Service! }
                extend type User @key(fields: "id") { id: ID! @external reviews: [String] }"#,
        ),
        &mut d,
    )
    .unwrap_or_else(|| panic!("{:?}", d.errors));
    assert!(!sg.fed2);
    assert!(sg.schema.types.contains_key("User"));
    assert!(!sg.schema.types.contains_key("_Service"));
    let query = sg.schema.get_object("Query").expect("Query");
    assert!(!query.fields.contains_key("_service"));
}

#[test]
fn invalid_graphql_is_located() {
    let mut d = Diagnostics::default();
    assert!(load(&input("c", "type Query {\n  a: Nope\n}"), &mut d).is_none());
    assert_eq!(d.errors[0].code, "INVALID_GRAPHQL");
    assert_eq!(
        (d.errors[0].places[0].line, d.errors[0].places[0].column),
        (2, 6)
    );
}
