//! Weft's federation logic, free of I/O: the supergraph model and its API schema (later the
//! query planner and composition). Everything here is synchronous and deterministic, so it is
//! fast to compile and test in isolation.

pub mod check;
pub mod compose;
pub mod graph;
pub mod operation;
pub mod plan;
pub mod supergraph;
pub mod text;

pub use supergraph::{Supergraph, SupergraphError};
