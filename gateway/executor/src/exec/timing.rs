//! Each fetch's subgraph and time, for a client that asked for them (the server's
//! `extensions.fetchTimings`, docs/http.md): what was sent, not what the plan says, so a
//! fetch that found no object to fetch for has no entry and one the entity cache answered
//! whole says so.

use std::time::{Duration, Instant};

use super::merged::Job;

/// One fetch (or batch fetch) as it ran.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchTiming {
    /// The subgraph's name.
    pub subgraph: String,
    /// `Fetch` or `BatchFetch`, as the plan names the node.
    pub kind: &'static str,
    /// The flatten path it ran at, `.`-joined as in the plan text (`topProducts.@`); empty at
    /// the root and for a batch (whose members have paths of their own).
    pub path: String,
    /// When it was sent, from the start of the execution.
    pub start: Duration,
    /// From sending to the answer (retries included); zero when the cache answered.
    pub duration: Duration,
    /// The entity cache answered all of it: nothing was sent.
    pub cached: bool,
}

impl FetchTiming {
    pub(super) fn of(job: &Job<'_>, clock: Instant, sent: Instant, done: Instant) -> FetchTiming {
        let (subgraph, kind, path) = match job {
            Job::One(r) => (&r.fetch.subgraph, "Fetch", r.path.join(".")),
            Job::Batch(m) => (&m.node().subgraph, "BatchFetch", String::new()),
            // The plan's fetch node, its groups sent in one request.
            Job::Aliased(a) => (&a.fetch.subgraph, "Fetch", a.path.join(".")),
        };
        FetchTiming {
            subgraph: subgraph.clone(),
            kind,
            path,
            start: sent.saturating_duration_since(clock),
            duration: done.saturating_duration_since(sent),
            cached: job.answered_by_cache(),
        }
    }
}
