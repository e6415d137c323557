//! Everything that depends on one supergraph, built once and shared by every request:
//! the model, its query graph, the executor with one HTTP pool per subgraph, and the caches
//! of validated documents and plans. Swapped whole when the schema changes.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use apollo_compiler::schema::Implementers;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name};
use weft_federation::Supergraph;
use weft_federation::graph::QueryGraph;
use weft_federation::operation::Operation;
use weft_federation::plan::model::QueryPlan;

use super::engine::Engine;

/// A validated, normalized and planned operation, cached by document and operation name.
pub struct Prepared {
    pub document: Valid<ExecutableDocument>,
    pub operation: Operation,
    pub plan: QueryPlan,
}

/// Cache key: the document text's hash, the operation name, and the progressive-override
/// labels switched on. The schema is implied: each runtime has its own caches, dropped
/// together with it on reload.
pub type CacheKey = (u64, Option<String>, Vec<String>);

pub struct SchemaRuntime {
    pub supergraph: Arc<Supergraph>,
    pub graph: QueryGraph,
    pub implementers: apollo_compiler::collections::HashMap<Name, Implementers>,
    /// Every progressive-override label of the supergraph.
    pub labels: BTreeSet<String>,
    pub engine: Engine,
    pub prepared: moka::sync::Cache<CacheKey, Arc<Prepared>>,
    /// Whether clients may ask for the query plan (`weft-query-plan` request header).
    pub expose_plans: bool,
}

impl SchemaRuntime {
    pub fn new(
        supergraph: Supergraph,
        subgraph_timeout: Duration,
    ) -> Result<SchemaRuntime, String> {
        let supergraph = Arc::new(supergraph);
        let urls: HashMap<String, String> = supergraph
            .subgraphs()
            .iter()
            .map(|s| (s.name.clone(), s.url.clone()))
            .collect();
        let graph = QueryGraph::new(supergraph.clone());
        Ok(SchemaRuntime {
            implementers: supergraph.api_schema().implementers_map(),
            labels: graph.labels(),
            graph,
            engine: Engine::new(urls, subgraph_timeout)?,
            prepared: moka::sync::Cache::new(10_000),
            supergraph,
            expose_plans: false,
        })
    }
}

impl SchemaRuntime {
    /// The labels switched on for one request: `percent(N)` labels with probability N%.
    /// (Other labels need a rule from configuration, which is not there yet: off.)
    pub fn pick_labels(&self) -> BTreeSet<String> {
        self.labels
            .iter()
            .filter(|label| {
                label
                    .strip_prefix("percent(")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .and_then(|n| n.parse::<f64>().ok())
                    .is_some_and(|percent| random_unit() * 100.0 < percent)
            })
            .cloned()
            .collect()
    }
}

/// A uniform number in [0, 1) from a per-thread xorshift generator (no crypto needed).
fn random_unit() -> f64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x9E37_79B9_7F4A_7C15)
                | 1,
        );
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}
