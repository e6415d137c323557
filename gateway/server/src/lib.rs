//! The Weft gateway as a library: what the `weft` binary runs, and what the fuzz targets and
//! benchmarks reach without going through a process (the request decoder, the operation
//! pipeline, subgraph answers).
//!
//! Its modules are layers, each using only those below it (checked by `tests/module_layers.rs`):
//! `cli` (the subcommands) -> `http` (axum routes, connections, the edge) -> `runtime` (the
//! live schema, reload, the operation pipeline, auth, APQ) -> `observability` (metrics,
//! traces, logs). `report` (printing that survives a closed pipe) is used by all; `fuzzing`
//! sits on top.

pub mod cli;
pub mod fuzzing;
pub mod http;
pub(crate) mod observability;
pub mod report;
pub(crate) mod runtime;

/// The plan cache's memory estimate, for the test that measures it (`tests/plan_cache_weight.rs`).
pub use runtime::plan_cache::{live_bytes, operation_weight};
