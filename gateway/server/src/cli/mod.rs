//! The top layer: the `weft` subcommands, each a module with its arguments and `run`. They
//! may use every layer below (`http`, `runtime`, `observability`) and the other crates.

pub mod api_schema;
pub mod check;
pub mod compose;
pub mod compose_config;
pub mod config;
pub mod demo;
pub mod plan;
pub mod serve;
