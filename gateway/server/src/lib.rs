//! The Weft gateway as a library: what the `weft` binary runs, and what the fuzz targets and
//! benchmarks reach without going through a process (the request decoder, the operation
//! pipeline, subgraph answers).

pub mod api_schema;
pub mod check_cmd;
pub mod compose_cmd;
pub mod compose_config;
pub mod config_cmd;
pub mod demo;
pub mod fuzzing;
pub mod plan_cmd;
pub mod report;
pub mod serve;
