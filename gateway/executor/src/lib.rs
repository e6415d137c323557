//! Weft's execution engine: runs query plans against subgraphs over HTTP. For now it holds the
//! subgraph transport; plan execution builds on it.

pub mod inflight;
pub mod transport;

pub use inflight::Inflight;
pub use transport::{FetchError, GraphQLRequest, SubgraphClient, SubgraphResponse};
