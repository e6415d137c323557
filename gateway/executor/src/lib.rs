//! Weft's executor: runs query plans against subgraphs and shapes the answer (DESIGN §5).
//! The HTTP transport to subgraphs (`transport`) and identical requests in flight sharing one
//! answer (`inflight`); the plan walker (`exec`) over one store per request (`store`, with its
//! JSON reader `store::read` keeping what each fetch's `projection` asks for); the shaping of
//! the merged data into the client's response (`shape`); the entity cache (`entity_cache`:
//! memory, Redis, events), entity fetches batched across requests (`batch`), each subgraph's
//! retries and circuit breaker (`traffic`), the headers subgraph requests carry (`headers`,
//! `forwarded`), what it reports (`metrics`: a trait the server implements), and the errors
//! of executor and server alike (`error`: `ErrorCode`, `GraphQLError`, `ResponseError`).
//! No HTTP server here: the server (crate `weft`) decodes requests, plans them and calls
//! [`Engine::execute`].

// (Not in test builds: the dev-dependencies serve tests/ and would count as unused.)
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod amqp;
pub mod batch;
pub mod engine;
pub mod entity_cache;
pub mod error;
mod exec;
pub mod forwarded;
pub mod headers;
pub mod inflight;
pub mod metrics;
mod projection;
pub mod rate_limit;
pub mod redis_level;
mod shape;
mod store;
pub mod subscription;
pub mod trace;
pub mod traffic;
pub mod transport;

pub use engine::{Engine, Execution, subscription_subgraph};
pub use engine::{Event, Part};
pub use error::{ErrorCode, GraphQLError, ResponseError};
pub use exec::FetchTiming;
pub use forwarded::Forwarded;
pub use inflight::Inflight;
pub use metrics::{ExecutorMetrics, FetchErrorKind};
pub use shape::PartItem;
pub use store::Seg;
pub use transport::{
    ClientError, Connection, FetchError, GraphQLRequest, SubgraphClient, SubgraphResponse,
};
