//! The plan cache is sized by memory (`query_plan.cache_mb`), from an estimate per operation
//! (`weft::operation_weight`): this measures what a prepared operation really holds — its
//! normalized operation, plan and text, and for introspection its validated document too,
//! counted by dhat's allocator — and
//! keeps the estimate within half again of it either way, for small, deep, wide and fragment-heavy
//! operations. An estimate far below would let the cache hold many times its budget.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use weft_federation::Supergraph;
use weft_federation::graph::QueryGraph;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn live() -> i64 {
    dhat::HeapStats::get().curr_bytes as i64
}

#[test]
fn the_plan_cache_estimate_is_within_half_again_of_the_memory_an_operation_holds() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let sdl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/supergraph.graphql"
    ))
    .unwrap();
    let supergraph = Arc::new(Supergraph::parse(&sdl, "supergraph.graphql").unwrap());
    let graph = QueryGraph::new(supergraph.clone());
    let api = supergraph.api_schema();
    let aliases: String = (0..200)
        .map(|i| format!("p{i}: topProducts(first: {i}) {{ name price }}\n"))
        .collect();
    let queries = [
        "{ topProducts(first: 1) { name } }".to_owned(),
        "{ __schema { queryType { name } types { name kind fields { name type { name kind ofType { name } } } } } }".to_owned(),
        "{ users { name reviews { body product { upc name reviews { author { username reviews { product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }".to_owned(),
        format!("{{\n{aliases}}}"),
        "fragment P on Product { upc name price weight inStock shippingEstimate }\n\
         fragment R on Review { id body product { ...P } author { id username } }\n\
         query Q {\n  topProducts(first: 5) {\n    ...P\n    reviews { ...R author { reviews { ...R } } }\n  }\n}"
            .to_owned(),
    ];
    for query in &queries {
        let before = live();
        let document =
            apollo_compiler::ExecutableDocument::parse_and_validate(api, query.as_str(), "q")
                .unwrap();
        let with_document = live();
        let operation = weft_federation::operation::normalize(api, &document, None).unwrap();
        let plan = weft_federation::plan::plan(&graph, &operation, &BTreeSet::new()).unwrap();
        let text: Box<str> = query.as_str().into();
        let all = live() - before;
        let without_document = all - (with_document - before);
        // What the cache keeps of most operations (no document), and of introspection ones.
        for (keeps_document, held) in [(false, without_document), (true, all)] {
            let estimate = i64::from(weft::operation_weight(
                query,
                &operation,
                &plan,
                keeps_document,
            ));
            eprintln!(
                "document kept: {keeps_document}: estimated {estimate}, held {held} ({} chars)",
                query.len()
            );
            assert!(
                held * 2 / 3 <= estimate && estimate <= held * 3 / 2,
                "document kept: {keeps_document}: estimated {estimate} bytes, held {held}, for {query}"
            );
        }
        drop((document, operation, plan, text));
    }
}
