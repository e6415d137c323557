//! Client operations: the normalized form the planner and the engine share.

pub mod defer;
pub mod model;
pub mod normalize;

pub use model::*;
pub use normalize::{DEFAULT_MAX_SELECTIONS, NormalizeError, normalize, normalize_within};
