//! The loads: (a) the classic heavy nested query, identical every time; (b) the same with a
//! different alias each time, so requests rarely coincide; (c) a cache-friendly mix, run with
//! Weft's entity cache on; (d) the same mix with a field no cache may keep.

/// One load.
pub struct Scenario {
    pub name: &'static str,
    pub what: &'static str,
    /// Whether Weft runs with its entity cache for this load.
    pub entity_cache: bool,
    /// The request body for the `n`-th request (a closure: the public benchmark's query is
    /// read from its files at run time).
    pub body: Box<dyn Fn(u64) -> String>,
}

/// The classic query: every subgraph, entity fetches three levels deep, plus topProducts.
pub const HEAVY: &str = "{ users { name reviews { body product { upc name reviews { author { username reviews { product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }";

fn heavy(_: u64) -> String {
    serde_json::json!({ "query": HEAVY }).to_string()
}

fn variant(n: u64) -> String {
    let query = HEAVY.replacen("{ users { name", &format!("{{ users {{ n{n}: name"), 1);
    serde_json::json!({ "query": query }).to_string()
}

/// Products looked up again and again from a handful of shapes: every field is one the
/// subgraphs let caches keep (`Cache-Control: max-age`).
fn mix(n: u64) -> String {
    let first = 1 + n % 5;
    let query = format!(
        "{{ topProducts(first: {first}) {{ upc name price shippingEstimate reviews {{ body author {{ username }} }} }} }}"
    );
    serde_json::json!({ "query": query }).to_string()
}

/// The same mix with `inStock`, which inventory answers with `no-cache` (stock changes with
/// every order): one fetch per request always goes to the subgraph.
fn mix_live(n: u64) -> String {
    let first = 1 + n % 5;
    let query = format!(
        "{{ topProducts(first: {first}) {{ upc name price inStock shippingEstimate reviews {{ body author {{ username }} }} }} }}"
    );
    serde_json::json!({ "query": query }).to_string()
}

pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "a",
            what: "classic heavy query, identical",
            entity_cache: false,
            body: Box::new(heavy),
        },
        Scenario {
            name: "b",
            what: "classic heavy query, a distinct alias per request",
            entity_cache: false,
            body: Box::new(variant),
        },
        Scenario {
            name: "c",
            what: "cache-friendly product mix, Weft's entity cache on",
            entity_cache: true,
            body: Box::new(mix),
        },
        Scenario {
            name: "d",
            what: "the same mix with a never-cached field (inStock), Weft's entity cache on",
            entity_cache: true,
            body: Box::new(mix_live),
        },
    ]
}
