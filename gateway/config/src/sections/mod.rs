//! One module per section of `weft.yaml` (`subgraphs:`, `limits:`, ...): its types, their
//! defaults and the doc comments the JSON Schema's descriptions come from. Every type is
//! re-exported from [`crate::model`], the path it has always had; `server:`, `headers:`,
//! `auth:` and `entity_cache:` are modules of the crate root ([`crate::server`], ...).

pub mod apq;
pub mod http;
pub mod limits;
pub mod observability;
pub mod rate_limit;
pub mod subgraphs;
pub mod supergraph;
pub mod traffic;
