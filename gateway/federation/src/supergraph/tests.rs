//! Unit tests over the committed fixtures (composed by Apollo's JS composition, see
//! `tests/fixtures/README.md`): every join directive argument, the API schema against the
//! oracle's, Federation 1 and 2, and located errors for bad input.

use std::collections::BTreeMap;

use apollo_compiler::Schema;

use super::*;

fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn load(name: &str) -> Supergraph {
    Supergraph::parse(&fixture(&format!("{name}/supergraph.graphql")), name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn field<'a>(sg: &'a Supergraph, ty: &str, name: &str) -> &'a FieldDef {
    let t = sg.type_id(ty).unwrap_or_else(|| panic!("type {ty}"));
    sg.field(
        sg.field_id(t, name)
            .unwrap_or_else(|| panic!("{ty}.{name}")),
    )
}

fn ty<'a>(sg: &'a Supergraph, name: &str) -> &'a TypeDef {
    sg.type_def(sg.type_id(name).unwrap_or_else(|| panic!("type {name}")))
}

fn graph(sg: &Supergraph, name: &str) -> SubgraphId {
    sg.subgraph_by_name(name)
        .unwrap_or_else(|| panic!("subgraph {name}"))
}

/// Each top-level definition printed alone, keyed by kind and name: equal maps mean the same
/// schema whatever the order of definitions.
fn definitions(sdl: &str) -> BTreeMap<String, String> {
    let schema = Schema::parse_and_validate(sdl, "x.graphql").expect("valid schema");
    let mut out = BTreeMap::new();
    for (name, ty) in &schema.types {
        if !ty.is_built_in() {
            out.insert(format!("type {name}"), ty.to_string());
        }
    }
    for (name, d) in &schema.directive_definitions {
        // Apollo's API schema has `@defer` only when asked (`includeDefer`); ours always.
        if !d.is_built_in() && name != "defer" {
            out.insert(format!("directive {name}"), d.to_string());
        }
    }
    let def = &schema.schema_definition;
    out.insert(
        "schema".to_owned(),
        format!("{:?} {:?} {:?}", def.query, def.mutation, def.subscription),
    );
    out
}

#[test]
fn api_schema_matches_apollo_for_every_fixture() {
    for name in ["reference", "fed2-features", "fed1-in-fed2", "fed1-legacy"] {
        let sg = load(name);
        let ours = definitions(&sg.api_sdl());
        let oracle = definitions(&fixture(&format!("{name}/api.graphql")));
        for key in ours.keys().chain(oracle.keys()) {
            assert_eq!(
                ours.get(key),
                oracle.get(key),
                "{name}: API schema differs at `{key}`"
            );
        }
    }
}

#[test]
fn api_schema_round_trips() {
    for name in ["reference", "fed2-features", "fed1-in-fed2", "fed1-legacy"] {
        let printed = load(name).api_sdl();
        let reparsed = Schema::parse_and_validate(&printed, "api.graphql")
            .unwrap_or_else(|e| panic!("{name}: printed API schema is invalid: {e}"));
        assert_eq!(reparsed.to_string(), printed, "{name}");
    }
}

#[test]
fn reference_supergraph() {
    let sg = load("reference");
    // join v0.5: products' `@fromContext` (`contextArguments`).
    assert_eq!(sg.join_version(), (0, 5));
    assert_eq!(sg.bootstrap(), Bootstrap::Link);
    let names: Vec<&str> = sg.subgraphs().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["accounts", "inventory", "products", "reviews"]);
    assert_eq!(
        sg.subgraph(graph(&sg, "products")).url,
        "http://127.0.0.1:4002/graphql"
    );

    let product = sg.type_id("Product").expect("Product");
    assert_eq!(sg.type_subgraphs(product).len(), 3);
    let keys: Vec<_> = sg
        .keys(product, graph(&sg, "inventory"))
        .map(|k| k.key.clone())
        .collect();
    assert_eq!(keys, [Some("upc".to_owned())]);

    let estimate = sg.field_subgraphs(sg.field_id(product, "shippingEstimate").expect("field"));
    assert_eq!(estimate.len(), 1);
    assert_eq!(estimate[0].graph, graph(&sg, "inventory"));
    assert_eq!(estimate[0].requires.as_deref(), Some("price weight"));

    let price = sg.field_subgraphs(sg.field_id(product, "price").expect("field"));
    let external: Vec<_> = price.iter().map(|f| (f.graph, f.external)).collect();
    assert!(external.contains(&(graph(&sg, "inventory"), true)));
    assert!(external.contains(&(graph(&sg, "products"), false)));
    let query = sg
        .root(apollo_compiler::ast::OperationType::Query)
        .expect("query root");
    assert_eq!(ty(&sg, "Query").name, sg.type_def(query).name);
}

#[test]
fn join_type_arguments() {
    let sg = load("fed2-features");
    assert_eq!(sg.join_version(), (0, 5));
    let product = ty(&sg, "Product");
    let join = |g: &str| {
        let g = graph(&sg, g);
        product.join_types.iter().filter(move |j| j.graph == g)
    };
    let inventory: Vec<_> = join("inventory").collect();
    assert!(
        inventory
            .iter()
            .any(|j| j.extension && j.key.as_deref() == Some("upc"))
    );
    assert!(join("orders").any(|j| !j.resolvable));
    let product_keys: Vec<_> = join("products").filter_map(|j| j.key.as_deref()).collect();
    assert!(product_keys.contains(&"upc") && product_keys.contains(&"sku brand"));
    assert!(
        ty(&sg, "Warehouse")
            .join_types
            .iter()
            .any(|j| j.key.as_deref() == Some("code region"))
    );
    assert!(
        ty(&sg, "Team")
            .join_types
            .iter()
            .any(|j| j.key.as_deref() == Some("id organization { id }"))
    );
    let media = ty(&sg, "Media");
    assert!(
        media
            .join_types
            .iter()
            .any(|j| j.is_interface_object && j.graph == graph(&sg, "reviews"))
    );
}

#[test]
fn join_field_arguments() {
    let sg = load("fed2-features");
    let products = graph(&sg, "products");
    let inventory = graph(&sg, "inventory");

    let requires = &field(&sg, "Product", "shippingEstimate").join_fields[0];
    assert_eq!(
        requires.requires.as_deref(),
        Some("weight dimensions { width height }")
    );
    assert_eq!(
        field(&sg, "Review", "author").join_fields[0]
            .provides
            .as_deref(),
        Some("username")
    );

    let name = &field(&sg, "Product", "name").join_fields;
    assert_eq!(name[0].ty.as_deref(), Some("String!"));
    assert_eq!(name[1].ty.as_deref(), Some("String"));
    let currency = &field(&sg, "MoneyInput", "currencyCode").join_fields;
    assert_eq!(currency.len(), 2, "input fields carry @join__field(type:)");

    let weight = &field(&sg, "Product", "weight").join_fields;
    assert!(
        weight
            .iter()
            .any(|j| j.graph == Some(inventory) && j.external)
    );

    let sku = &field(&sg, "Product", "sku").join_fields;
    assert_eq!(sku[0].override_from.as_deref(), Some("products"));
    assert!(sku[1].used_overridden && sku[1].graph == Some(products));

    let price = &field(&sg, "Product", "price").join_fields;
    assert_eq!(price[0].override_label.as_deref(), Some("percent(50)"));
    assert!(price[1].used_overridden);
    let price_in = sg.field_subgraphs(
        sg.field_id(sg.type_id("Product").expect("t"), "price")
            .expect("f"),
    );
    assert_eq!(price_in[0].override_label.as_deref(), Some("percent(50)"));

    let budget = &field(&sg, "Team", "formattedBudget").join_fields[0];
    assert_eq!(
        budget.context_arguments,
        [ContextArgument {
            name: "currency".to_owned(),
            ty: "String".to_owned(),
            context: "accounts__org".to_owned(),
            selection: " { currency }".to_owned(),
        }]
    );

    // `@join__field` without a graph: no subgraph resolves the field itself.
    let book_reviews = field(&sg, "Book", "reviews");
    assert_eq!(book_reviews.join_fields, [JoinField::default()]);
    let book = sg.type_id("Book").expect("Book");
    assert!(
        sg.field_subgraphs(sg.field_id(book, "reviews").expect("f"))
            .is_empty()
    );
}

#[test]
fn implements_union_members_enum_values_and_join_directives() {
    let sg = load("fed2-features");
    let products = graph(&sg, "products");
    let book = ty(&sg, "Book");
    let media = sg.type_id("Media").expect("Media");
    assert!(book.join_implements.contains(&(products, media)));
    assert!(book.interfaces.contains(&media));

    let union = sg
        .types()
        .find(|(_, t)| !t.join_members.is_empty())
        .map(|(_, t)| t)
        .expect("a union with members");
    assert!(union.join_members.len() >= 5);
    assert_eq!(union.members.len(), union.join_members.len());

    let role_admin = sg
        .types()
        .flat_map(|(_, t)| t.enum_values.iter())
        .find(|v| v.name == "ADMIN")
        .expect("ADMIN");
    assert_eq!(
        role_admin.graphs,
        [graph(&sg, "accounts"), graph(&sg, "orders")]
    );

    let org_field = field(&sg, "Query", "organization");
    assert_eq!(
        org_field.join_directives,
        [JoinDirective {
            graphs: vec![graph(&sg, "accounts")],
            name: "federation__cacheTag".to_owned(),
            args: vec![(
                "format".to_owned(),
                "\"organization-{$args.id}\"".to_owned()
            )],
        }]
    );
    assert!(!ty(&sg, "Organization").join_directives.is_empty());
}

#[test]
fn security_cost_and_visibility_directives() {
    let sg = load("fed2-features");
    assert!(field(&sg, "Query", "me").meta.authenticated);
    assert_eq!(
        field(&sg, "Query", "order").meta.requires_scopes,
        [vec!["read:orders".to_owned()], vec!["admin".to_owned()]]
    );
    assert_eq!(
        field(&sg, "Mutation", "cancelOrder").meta.policies,
        [vec!["order_owner".to_owned()], vec!["support".to_owned()]]
    );
    assert_eq!(field(&sg, "Mutation", "placeOrder").meta.cost, Some(10));
    let warehouse = ty(&sg, "Warehouse");
    assert_eq!(warehouse.meta.cost, Some(2));
    assert_eq!(
        warehouse.meta.requires_scopes,
        [vec!["read:warehouse".to_owned()]]
    );
    assert_eq!(field(&sg, "User", "email").meta.tags, ["pii"]);

    let orders = field(&sg, "Query", "orders");
    assert_eq!(orders.arguments[0].meta.cost, Some(1));
    assert_eq!(orders.arguments[1].meta.tags, ["filter"]);
    assert_eq!(
        field(&sg, "Query", "products").list_size,
        Some(ListSize {
            assumed_size: Some(100),
            slicing_arguments: vec!["first".to_owned()],
            sized_fields: vec![],
            require_one_slicing_argument: true,
        })
    );
    let sized = field(&sg, "Query", "reviewsConnection")
        .list_size
        .clone()
        .expect("listSize");
    assert_eq!(sized.sized_fields, ["edges"]);

    assert!(ty(&sg, "AuditRecord").meta.inaccessible);
    let api = sg.api_sdl();
    assert!(!api.contains("AuditRecord") && !api.contains("LEGACY_HOLD") && !api.contains("GUEST"));
    assert!(!api.contains("join__") && !api.contains("@link") && !api.contains("@tag"));
}

#[test]
fn federation_1_supergraph_with_owner() {
    let sg = load("fed1-legacy");
    assert_eq!(sg.bootstrap(), Bootstrap::Core);
    assert_eq!(sg.join_version(), (0, 1));
    let products = graph(&sg, "products");
    let product = ty(&sg, "Product");
    assert_eq!(product.owner, Some(products));
    assert!(
        product
            .join_types
            .iter()
            .any(|j| j.key.as_deref() == Some("sku vendor{id}"))
    );
    assert_eq!(product.meta.tags, ["catalog"]);
    let summary = &field(&sg, "Product", "reviewSummary").join_fields[0];
    assert_eq!(summary.requires.as_deref(), Some("name"));
    // Value types and enums carry no @join__type in join v0.1: every subgraph has them.
    let category = sg.type_id("Category").expect("Category");
    assert_eq!(sg.type_subgraphs(category).len(), sg.subgraphs().len());
}

#[test]
fn federation_1_subgraphs_composed_by_federation_2() {
    let sg = load("fed1-in-fed2");
    assert_eq!(sg.join_version(), (0, 3));
    let external = sg
        .types()
        .flat_map(|(_, t)| t.fields.iter())
        .any(|f| sg.field(*f).join_fields.iter().any(|j| j.external));
    assert!(
        external,
        "fed1 @external shows up as join__field(external: true)"
    );
}

fn error_of(sdl: &str) -> SupergraphError {
    match Supergraph::parse(sdl, "bad.graphql") {
        Ok(_) => panic!("expected an error for:\n{sdl}"),
        Err(e) => e,
    }
}

#[test]
fn syntax_errors_name_line_and_column() {
    let err = error_of(
        "schema @link(url: \"https://specs.apollo.dev/link/v1.0\") {\n  query: Query\n}\ntype Query {\n  a: \n}\n",
    );
    let first = &err.diagnostics[0];
    assert_eq!(first.location.map(|l| l.0), Some(6), "{err}");
    assert!(err.to_string().starts_with("bad.graphql:6:"), "{err}");
}

#[test]
fn a_subgraph_schema_is_not_a_supergraph() {
    let err = error_of(&fixture("reference/subgraphs/products.graphql"));
    assert!(err.to_string().contains("not a supergraph"), "{err}");
}

#[test]
fn unsupported_join_version_is_reported() {
    let sdl = fixture("reference/supergraph.graphql").replace("join/v0.5", "join/v0.9");
    let err = error_of(&sdl);
    assert!(
        err.to_string()
            .contains("unsupported join spec version v0.9"),
        "{err}"
    );
    assert_eq!(err.diagnostics[0].location, Some((1, 1)));
}

#[test]
fn unknown_graph_is_reported_where_it_is_used() {
    let sdl = fixture("reference/supergraph.graphql");
    // A graph that is not a join__Graph value: the schema itself stays valid GraphQL only if
    // the enum has the value, so add it without its @join__graph.
    let sdl = sdl.replacen(
        "  ACCOUNTS @join__graph",
        "  GHOST\n  ACCOUNTS @join__graph",
        1,
    );
    let err = error_of(&sdl);
    assert!(
        err.to_string()
            .contains("subgraph `GHOST` has no @join__graph"),
        "{err}"
    );
    let line = sdl.lines().position(|l| l.trim() == "GHOST").expect("line") + 1;
    assert_eq!(err.diagnostics[0].location.map(|l| l.0), Some(line));
}

#[test]
fn api_schema_rejects_a_visible_reference_to_an_inaccessible_type() {
    // The reference supergraph links inaccessible already (inventory's internal mutations).
    let sdl = fixture("reference/supergraph.graphql").replacen(
        "type Review\n",
        "type Review @inaccessible\n",
        1,
    );
    let err = error_of(&sdl);
    assert!(
        err.to_string().contains("API schema would be invalid"),
        "{err}"
    );
}

#[test]
fn no_panic_on_truncated_or_mangled_input() {
    // Every prefix of a real supergraph (at a stride), and the same with bytes swapped:
    // each must load or fail with diagnostics, never panic.
    let sdl = fixture("fed2-features/supergraph.graphql");
    let mut cut = 0;
    while cut < sdl.len() {
        if sdl.is_char_boundary(cut) {
            let _ = Supergraph::parse(&sdl[..cut], "prefix");
            let mangled: String = sdl[..cut].replace('"', "'").replace('{', "(");
            let _ = Supergraph::parse(&mangled, "mangled");
        }
        cut += 97;
    }
}

#[test]
fn top_level_fields_of_field_sets() {
    assert_eq!(top_level_fields("id"), ["id"]);
    assert_eq!(
        top_level_fields("id organization { id }"),
        ["id", "organization"]
    );
    assert_eq!(
        top_level_fields("sku vendor{id} upc"),
        ["sku", "vendor", "upc"]
    );
    assert_eq!(top_level_fields("a { b { c } } d"), ["a", "d"]);
}

#[test]
fn features_weft_does_not_execute_are_refused_with_their_place() {
    // Issue 19, item 12: a spec linked `for: EXECUTION` that Weft ignores is refused, at its
    // link. `@fromContext` arguments (`contextArguments`) are planned since issue 17: the
    // context link is executed.
    let sg = load("fed2-features");
    let err = sg
        .check_executable("fed2-features")
        .expect_err("cacheTag is not executed");
    let text = err.to_string();
    assert!(!text.contains("formattedBudget"), "{text}");
    assert!(
        text.contains("https://specs.apollo.dev/cacheTag/v0.1` for: EXECUTION")
            || text.contains("https://specs.apollo.dev/cacheTag/v0.1 `for: EXECUTION`"),
        "{text}"
    );
    assert_eq!(err.diagnostics.len(), 1, "{text}");
    let link = &err.diagnostics[0];
    let line = fixture("fed2-features/supergraph.graphql")
        .lines()
        .position(|l| l.contains("https://specs.apollo.dev/cacheTag/v0.1"))
        .unwrap()
        + 1;
    assert_eq!(link.location.map(|(l, _)| l), Some(line));
    assert!(link.hint.is_some());
    for name in ["reference", "fed1-in-fed2", "fed1-legacy"] {
        let sg = load(name);
        assert_eq!(sg.check_executable(name), Ok(()), "{name}");
    }
    // A link for SECURITY to a spec nobody here enforces is refused; without `for:`, it is
    // metadata and served.
    let sdl = fixture("reference/supergraph.graphql");
    let linked = |extra: &str| {
        sdl.replacen(
            "@link(url: \"https://specs.apollo.dev/link/v1.0\")",
            &format!("@link(url: \"https://specs.apollo.dev/link/v1.0\")\n  {extra}"),
            1,
        )
    };
    let secured = linked("@link(url: \"https://example.com/redact/v1.0\", for: SECURITY)");
    let sg = Supergraph::parse(&secured, "x").unwrap();
    let err = sg.check_executable("x").unwrap_err();
    assert!(
        err.to_string().contains("https://example.com/redact/v1.0"),
        "{err}"
    );
    let metadata = linked("@link(url: \"https://example.com/notes/v1.0\")");
    let sg = Supergraph::parse(&metadata, "x").unwrap();
    assert_eq!(sg.check_executable("x"), Ok(()));
}
