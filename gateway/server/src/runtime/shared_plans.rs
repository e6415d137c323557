//! Plans shared through Redis (`query_plan.redis`): a second level behind the in-memory plan
//! cache, so that a replica just started, or one loading a supergraph the others already
//! serve, finds the plans they made instead of planning every operation again (Apollo
//! Router's distributed query-plan cache).
//!
//! Only planning is shared. On an in-memory miss the document is still parsed, validated,
//! checked against the limits and normalized here (`pipeline::build`): nothing read from
//! Redis decides whether a request is valid. Then the plan is looked for in Redis under a key
//! naming everything a plan depends on (the supergraph's schema id, Weft's version and plan
//! format, the document, the operation name, the override labels); a plan that does not read
//! back (not JSON of a plan, a subgraph this supergraph lacks) is a miss, counted. A miss is
//! planned here and written to Redis in a task of its own, off the request's path.
//!
//! Redis is a help, never a dependency (`weft_executor::redis_level`): the look-up waits
//! `query_plan.redis.timeout_ms` at most, and after a failure Redis is left alone for 5 s,
//! while every request plans on its own; counted in `weft_query_plan_shared_lookups_total`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use weft_config::model::QueryPlanRedisConfig;
use weft_executor::redis_level::RedisLevel;
use weft_federation::plan::model::QueryPlan;

use crate::observability::metrics::Metrics;
use crate::runtime::SchemaRuntime;

/// The version of the plans' JSON (`weft_federation::plan::model`) in the keys: bumped when
/// the model changes in a way another build would read wrong, so that replicas of two builds
/// during a rolling update never read each other's plans. Weft's version is in the key too.
const PLAN_FORMAT: u32 = 1;

/// How much longer than the Redis timeout a request waits for the look-up's task before it
/// plans without it (the task is late only when the runtime is too busy to run it).
const GRACE: Duration = Duration::from_millis(50);

/// The shared level of one runtime: its Redis, and its supergraph's part of every key.
pub struct SharedPlans {
    redis: Arc<RedisLevel<Metrics>>,
    prefix: String,
    ttl_secs: u64,
    timeout: Duration,
    /// The supergraph's schema id (sha256 of its text).
    schema_id: String,
}

/// What Redis had for one operation.
#[derive(Debug)]
enum Found {
    Plan(Box<QueryPlan>),
    /// Nothing under the key.
    Miss,
    /// An entry that does not read back as a plan of this supergraph: why.
    Invalid(String),
    /// Redis did not answer (down, slow, paused after a failure).
    Unavailable,
}

impl SharedPlans {
    /// The level for `config` over the supergraph `schema_id`; `None` without a URL (or with
    /// one the client refuses, logged).
    pub fn new(config: &QueryPlanRedisConfig, schema_id: &str) -> Option<SharedPlans> {
        let url = config.url.as_deref()?;
        let timeout = Duration::from_millis(config.timeout_ms.get());
        let redis = RedisLevel::new(url, "query_plan.redis", Metrics::record_plan_redis_error)?
            .with_timeout(timeout);
        Some(SharedPlans {
            redis: Arc::new(redis),
            prefix: config.key_prefix.clone(),
            ttl_secs: config.ttl_secs.get(),
            timeout,
            schema_id: schema_id.to_owned(),
        })
    }

    /// The Redis key of the plan of `query`'s operation `operation_name` with `labels` on.
    fn key(&self, query: &str, operation_name: Option<&str>, labels: &BTreeSet<String>) -> String {
        let mut hash = Sha256::new();
        // Each part with its length first, so no two lists of parts hash alike.
        let mut part = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        part(self.schema_id.as_bytes());
        part(env!("CARGO_PKG_VERSION").as_bytes());
        part(&PLAN_FORMAT.to_le_bytes());
        part(query.as_bytes());
        match operation_name {
            Some(name) => part(format!("name:{name}").as_bytes()),
            None => part(b"anonymous"),
        }
        part(&(labels.len() as u64).to_le_bytes());
        for label in labels {
            part(label.as_bytes());
        }
        let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("{}{hex}", self.prefix)
    }

    /// Asks Redis for `key`, waiting the timeout at most (plus [`GRACE`]). Runs the look-up as
    /// a task of the runtime and waits for it on this thread: callers are on a blocking
    /// thread (planning runs there), where an async wait is not possible. Not `block_on`,
    /// which panics on a runtime's own thread: were this ever called there, the wait would
    /// only run out (the task cannot start), and the operation be planned here.
    fn look_up(&self, key: &str, metrics: &Arc<Metrics>) -> Option<Option<String>> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let (send, answer) = std::sync::mpsc::sync_channel(1);
        let (redis, key, metrics) = (self.redis.clone(), key.to_owned(), metrics.clone());
        handle.spawn(async move {
            let _ = send.send(redis.try_get(&key, &metrics).await);
        });
        answer.recv_timeout(self.timeout + GRACE).ok().flatten()
    }

    /// What Redis has under `key`, read back as a plan of `rt`'s supergraph.
    fn find(&self, rt: &SchemaRuntime, key: &str) -> Found {
        let text = match self.look_up(key, &rt.metrics) {
            None => return Found::Unavailable,
            Some(None) => return Found::Miss,
            Some(Some(text)) => text,
        };
        let mut plan: QueryPlan = match serde_json::from_str(&text) {
            Ok(plan) => plan,
            Err(e) => return Found::Invalid(format!("not a plan: {e}")),
        };
        match plan.link_subgraphs(&rt.supergraph) {
            Ok(()) => Found::Plan(Box::new(plan)),
            Err(e) => Found::Invalid(e.to_string()),
        }
    }

    /// Writes `plan` under `key` in a task of its own: the request does not wait for it.
    fn store(&self, key: String, plan: &QueryPlan, metrics: &Arc<Metrics>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Ok(text) = serde_json::to_string(plan) else {
            return;
        };
        let (redis, metrics, ttl) = (self.redis.clone(), metrics.clone(), self.ttl_secs);
        handle.spawn(async move { redis.set(&key, &text, ttl, &metrics).await });
    }
}

/// The plan of an operation `pipeline::build` has parsed, validated, checked and normalized
/// (`query`'s operation `operation_name` with `labels` on): from Redis when `rt` shares plans
/// and Redis has it, else from `plan` (the planner), which is then stored for the others.
pub(crate) fn plan_or_shared<E>(
    rt: &SchemaRuntime,
    query: &str,
    operation_name: Option<&str>,
    labels: &BTreeSet<String>,
    plan: impl FnOnce() -> Result<QueryPlan, E>,
) -> Result<QueryPlan, E> {
    let Some(shared) = &rt.shared_plans else {
        return plan();
    };
    let key = shared.key(query, operation_name, labels);
    let result = match shared.find(rt, &key) {
        Found::Plan(found) => {
            rt.metrics.record_shared_plan("hit");
            return Ok(*found);
        }
        Found::Miss => "miss",
        Found::Unavailable => "unavailable",
        Found::Invalid(why) => {
            tracing::warn!(
                key,
                "query_plan.redis: {why}; planned here, and written again"
            );
            "invalid"
        }
    };
    rt.metrics.record_shared_plan(result);
    let planned = plan()?;
    shared.store(key, &planned, &rt.metrics);
    Ok(planned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn level(schema_id: &str) -> SharedPlans {
        let config = QueryPlanRedisConfig {
            url: Some("redis://127.0.0.1:1".parse().unwrap()),
            ..QueryPlanRedisConfig::default()
        };
        SharedPlans::new(&config, schema_id).unwrap()
    }

    #[test]
    fn keys_differ_with_everything_a_plan_depends_on() {
        let one = level("a");
        let labels = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        let base = one.key("{ a }", None, &labels(&[]));
        assert!(base.starts_with("weft:plan:"), "{base}");
        assert_eq!(base.len(), "weft:plan:".len() + 64);
        assert_eq!(base, one.key("{ a }", None, &labels(&[])));
        let others = [
            level("b").key("{ a }", None, &labels(&[])),
            one.key("{ b }", None, &labels(&[])),
            one.key("{ a }", Some("A"), &labels(&[])),
            one.key("{ a }", Some(""), &labels(&[])),
            one.key("{ a }", None, &labels(&["x"])),
            one.key("{ a }", None, &labels(&["x", "y"])),
            one.key("{ a }", None, &labels(&["xy"])),
        ];
        let mut all: BTreeSet<&String> = others.iter().collect();
        all.insert(&base);
        assert_eq!(all.len(), others.len() + 1, "{all:?}");
    }
}
