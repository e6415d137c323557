//! The committed `schema/<name>.graphql` files must equal what the subgraphs print, so the
//! supergraph is always composed from the code that runs.

use std::path::PathBuf;

use weft_subgraph_kit::Subgraph;

fn check<S: Subgraph>() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../schema")
        .join(format!("{}.graphql", S::NAME));
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        committed == S::sdl(),
        "{} drifted from the {} subgraph's code.\nhint: cargo run -q -p weft-{} -- --print-sdl > schema/{}.graphql",
        path.display(),
        S::NAME,
        S::NAME,
        S::NAME,
    );
}

#[test]
fn accounts_sdl_is_committed() {
    check::<weft_accounts::Accounts>();
}

#[test]
fn products_sdl_is_committed() {
    check::<weft_products::Products>();
}

#[test]
fn inventory_sdl_is_committed() {
    check::<weft_inventory::Inventory>();
}

#[test]
fn reviews_sdl_is_committed() {
    check::<weft_reviews::Reviews>();
}

#[test]
fn orders_sdl_is_committed() {
    check::<weft_orders::Orders>();
}
