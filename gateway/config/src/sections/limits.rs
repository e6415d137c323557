//! `limits:`: how big an operation and a request may be.

use std::num::{NonZeroU32, NonZeroU64};

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::values::nonzero64;

/// Request limits: operation limits (checked before planning; absent means no limit) and HTTP
/// sizes.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The deepest field nesting an operation may have (a root field is depth 1; fragments add no
    /// depth). Over it: `MAX_DEPTH_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(10))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_depth: Option<NonZeroU32>,
    /// How many aliased fields an operation may have, each fragment counted every time it is
    /// spread. Over it: `MAX_ALIASES_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(30))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_aliases: Option<NonZeroU32>,
    /// How many root fields an operation may select, fragments included, each use counted. Over it:
    /// `MAX_ROOT_FIELDS_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(20))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_root_fields: Option<NonZeroU32>,
    /// How many unique fields an operation may select: fields with the same response key in the
    /// same place count once, through fragments. Over it: `MAX_HEIGHT_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(200))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_height: Option<NonZeroU32>,
    /// How many deferred fragments (`@defer`) an operation may have, each place a fragment is
    /// spread counted: each is a part of the response and fetches of its own. Over it:
    /// `MAX_DEFERS_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(8))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_defers: Option<NonZeroU32>,
    /// How many tokens the document may have, as the GraphQL lexer counts them (names, punctuation,
    /// values, and each run of whitespace, commas or comments); parsing stops past it. Over it:
    /// `MAX_TOKENS_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(5000))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_tokens: Option<NonZeroU32>,
    /// How deeply the parser may nest selection sets, lists and input objects; parsing stops past
    /// it. Over it: `MAX_RECURSION_LIMIT`. `0`: no limit (the parser's own stack guard still
    /// applies).
    #[schemars(example = serde_json::json!(100))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_recursion: Option<NonZeroU32>,
    /// How many selections (fields and fragments) the operation may have once its fragments are
    /// inlined and merged; normalization stops past it. Over it: `MAX_SELECTIONS_LIMIT`. `0`: no
    /// limit.
    #[schemars(example = serde_json::json!(10000))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_selections: Option<NonZeroU32>,
    /// How many steps the query planner may take for one operation (a field planned, an alternative
    /// subgraph tried); planning stops past it. Over it: `QUERY_PLANNING_BUDGET_EXCEEDED`. `0`: no
    /// limit.
    #[schemars(example = serde_json::json!(10000))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_planning_steps: Option<NonZeroU32>,
    /// The highest cost an operation may be estimated at (demand control's estimate, lists without
    /// `@listSize` assumed `demand_control.list_size` long), whatever `demand_control.mode`: a
    /// guard against answers that multiply through nested lists. Over it:
    /// `COST_ESTIMATED_TOO_EXPENSIVE`. `0`: no limit.
    #[schemars(example = serde_json::json!(100000))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_estimated_cost: Option<NonZeroU32>,
    /// How many subscriptions the gateway serves at once, over every transport. One more is
    /// refused with `MAX_SUBSCRIPTIONS_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(50000))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_subscriptions: Option<NonZeroU32>,
    /// How many operations one WebSocket connection may run at once. One more gets `error` with
    /// `MAX_SUBSCRIPTIONS_LIMIT`. `0`: no limit.
    #[schemars(example = serde_json::json!(20))]
    #[serde(deserialize_with = "limit")]
    #[schemars(with = "u32")]
    pub max_operations_per_connection: Option<NonZeroU32>,
    /// The largest request body, in bytes (2 MiB by default). Over it: 413 with
    /// `PAYLOAD_TOO_LARGE`.
    #[schemars(example = serde_json::json!(65536))]
    pub max_body_bytes: NonZeroU64,
    /// The most bytes of request headers (names and values together). Over it: 431 with
    /// `REQUEST_HEADER_FIELDS_TOO_LARGE`.
    #[schemars(example = serde_json::json!(8192))]
    pub max_header_bytes: NonZeroU64,
}

/// A limit's value: a whole number, `0` for none.
fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NonZeroU32>, D::Error> {
    Ok(NonZeroU32::new(u32::deserialize(d)?))
}

/// 2 MiB, axum's default body limit.
pub const DEFAULT_MAX_BODY_BYTES: NonZeroU64 = nonzero64(2 * 1024 * 1024);

pub const DEFAULT_MAX_HEADER_BYTES: NonZeroU64 = nonzero64(32 * 1024);

impl Default for Limits {
    /// Far above what real operations need (the public gateways benchmark's heavy query and
    /// the README's classic query pass them many times over), low enough that no operation
    /// within them can take the process down. Apollo Router's parser limits (15,000 tokens,
    /// recursion 500) are the same; it has no default for the others.
    fn default() -> Limits {
        Limits {
            max_depth: NonZeroU32::new(DEFAULT_MAX_DEPTH),
            max_aliases: NonZeroU32::new(DEFAULT_MAX_ALIASES),
            max_root_fields: NonZeroU32::new(DEFAULT_MAX_ROOT_FIELDS),
            max_height: NonZeroU32::new(DEFAULT_MAX_HEIGHT),
            max_defers: NonZeroU32::new(DEFAULT_MAX_DEFERS),
            max_tokens: NonZeroU32::new(DEFAULT_MAX_TOKENS),
            max_recursion: NonZeroU32::new(DEFAULT_MAX_RECURSION),
            max_selections: NonZeroU32::new(DEFAULT_MAX_SELECTIONS),
            max_planning_steps: NonZeroU32::new(DEFAULT_MAX_PLANNING_STEPS),
            max_estimated_cost: NonZeroU32::new(DEFAULT_MAX_ESTIMATED_COST),
            max_subscriptions: NonZeroU32::new(DEFAULT_MAX_SUBSCRIPTIONS),
            max_operations_per_connection: NonZeroU32::new(DEFAULT_MAX_OPERATIONS_PER_CONNECTION),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

impl Limits {
    /// Every operation limit off (`0` for each in a file); the body and header sizes keep
    /// their defaults. For tests and fuzzing: what "with every limit switched off" means.
    pub fn off() -> Limits {
        Limits {
            max_depth: None,
            max_aliases: None,
            max_root_fields: None,
            max_height: None,
            max_defers: None,
            max_tokens: None,
            max_recursion: None,
            max_selections: None,
            max_planning_steps: None,
            max_estimated_cost: None,
            max_subscriptions: None,
            max_operations_per_connection: None,
            ..Limits::default()
        }
    }
}

pub const DEFAULT_MAX_DEPTH: u32 = 15;

pub const DEFAULT_MAX_ALIASES: u32 = 200;

pub const DEFAULT_MAX_ROOT_FIELDS: u32 = 200;

pub const DEFAULT_MAX_HEIGHT: u32 = 2_000;

/// Real operations defer a handful of fragments; each one more is a subgraph request and a
/// part of the response.
pub const DEFAULT_MAX_DEFERS: u32 = 32;
/// Each subscription holds a task, a subgraph stream and a queue of a few events: 10,000 at
/// once is some hundreds of megabytes at most, far below what would take the process down.
pub const DEFAULT_MAX_SUBSCRIPTIONS: u32 = 10_000;
/// What one client (a browser tab, an app) needs at once, with room to spare.
pub const DEFAULT_MAX_OPERATIONS_PER_CONNECTION: u32 = 100;

pub const DEFAULT_MAX_TOKENS: u32 = 15_000;

pub const DEFAULT_MAX_RECURSION: u32 = 500;

pub const DEFAULT_MAX_SELECTIONS: u32 = 100_000;

pub const DEFAULT_MAX_PLANNING_STEPS: u32 = 100_000;

/// Demand control's estimate with lists assumed 10 long: the public benchmark's heavy query
/// and the README's classic query are about 25,000; lists nested seven deep are 10,000,000.
pub const DEFAULT_MAX_ESTIMATED_COST: u32 = 1_000_000;
