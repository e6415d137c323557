//! A subgraph's answer, read and merged: the body parsed keeping only what the fetch asked for
//! (`projection`), its errors made the client's (`errors`), root data merged at the root and
//! each `_entities` result into the objects that sent its representation (the entity cache
//! keeping it when allowed); an answer the gateway cannot use becomes an error at each fetch
//! it was for.

use std::sync::Arc;

use serde_json::Value;

use super::errors::{FetchFailure, Places, fetch_error, held_back, map_error, redacted};
use super::rewrite::rewritten;
use super::{Executor, Fetched, Output, Read, Ready};
use crate::entity_cache::EntityCache;
use crate::error::{ErrorCode, ResponseError};
use crate::metrics::FetchErrorKind;
use crate::projection::Projection;
use crate::store::{Store, Val};

impl Executor {
    /// A subgraph answer the gateway cannot use: an error for the client at each fetch it was
    /// for, a count, and a warning in the log.
    pub(super) fn unusable(&self, members: &[&Ready<'_>], why: &str, out: &mut Output) {
        let Some(first) = members.first() else { return };
        let service = &first.fetch.subgraph;
        self.metrics
            .record_fetch_error(service, FetchErrorKind::Invalid);
        // At most one line per subgraph per window, as for failed fetches.
        let traffic = self.subgraphs.get(first.fetch.graph.index());
        if let Some(not_logged) = traffic.map_or(Some(0), |t| t.traffic.log_failure_now()) {
            tracing::warn!(
                subgraph = %service,
                reason = why,
                not_logged,
                "unusable subgraph answer{}",
                held_back(not_logged)
            );
        }
        let mut shared = Places::shared(members, &out.data);
        for r in members {
            let path = match &mut shared {
                Some(places) => places.first(r, &out.data),
                None => Places::default().first(r, &out.data),
            };
            out.errors
                .push(fetch_error(service, why, &path, ErrorCode::SubrequestHttpError).into());
        }
    }

    /// Merges a fetch's cache hits; `true` when a root fetch was answered by the cache (then
    /// there is nothing else to merge).
    pub(super) fn merge_hits(&self, r: &Ready<'_>, out: &mut Output) -> bool {
        // Cached parts need no answer (kept projected, as the fetch asked).
        for (slot, hit) in &r.hits {
            if !r.entity {
                let value = out.data.thaw(hit);
                out.data.merge_value(Store::ROOT, value);
                return true;
            }
            for target in r.slots.get(*slot).into_iter().flatten() {
                let value = out.data.thaw(hit);
                out.data.merge_value(*target, value);
            }
        }
        false
    }

    /// Reads the answer to `operation`, sent for `members`, keeping only what it asked for.
    /// A failed or unusable answer is reported at each member; `None` then.
    pub(super) fn read(
        &self,
        operation: &str,
        response: Result<Fetched, FetchFailure>,
        members: &[&Ready<'_>],
        out: &mut Output,
    ) -> Option<Read> {
        let first = members.first()?;
        let service = &first.fetch.subgraph;
        let projection = self.projections.of(operation);
        // An operation that cannot be read (never one the planner wrote) keeps nothing.
        let empty = Projection::default();
        let projection = Option::as_ref(&projection).unwrap_or(&empty);
        let (body, ttl) = match response {
            Ok(fetched) => (fetched.body, fetched.ttl),
            Err(failure) => {
                let mut shared = Places::shared(members, &out.data);
                for r in members {
                    let path = match &mut shared {
                        Some(places) => places.first(r, &out.data),
                        None => Places::default().first(r, &out.data),
                    };
                    let error = fetch_error(service, &failure.message, &path, failure.code);
                    out.errors.push(error.into());
                }
                return None;
            }
        };
        let body = match out.data.parse(&body, Some(projection)) {
            Ok(Val::Object(body)) => body,
            Ok(_) => {
                self.unusable(members, "the subgraph's response is not a JSON object", out);
                return None;
            }
            Err(e) => {
                let why = format!("the subgraph's response is not JSON: {e}");
                self.unusable(members, &why, out);
                return None;
            }
        };
        let errors = out.data.get(body, "errors").map(|e| out.data.to_value(e));
        let include = self
            .subgraphs
            .get(first.fetch.graph.index())
            .is_none_or(|t| t.traffic.include_errors());
        let had_errors = errors.is_some();
        let errors = match errors {
            Some(Value::Array(errors)) => errors
                .into_iter()
                .map(|e| if include { e } else { redacted(&e) })
                .collect(),
            _ => Vec::new(),
        };
        let data = match out.data.take(body, "data") {
            Some(d) if !d.is_null() => Some(d),
            _ => None,
        };
        Some(Read {
            data,
            errors,
            had_errors,
            ttl,
        })
    }

    pub(super) fn merge(
        &self,
        r: &Ready<'_>,
        response: Result<Fetched, FetchFailure>,
        out: &mut Output,
    ) {
        if self.merge_hits(r, out) || (r.entity && r.sent.is_empty()) {
            return;
        }
        let service = &r.fetch.subgraph;
        let Some(read) = self.read(&r.fetch.operation, response, &[r], out) else {
            return;
        };
        // Never keep an answer that has errors: some of it may be missing or wrong.
        let keep = self
            .cache
            .as_ref()
            .zip(read.ttl)
            .filter(|_| !read.had_errors);
        let mut places = Places::default();
        for e in &read.errors {
            let mapped = map_error(e, service, r, &out.data, &mut places);
            out.errors
                .extend(mapped.into_iter().map(ResponseError::passed));
        }
        let Some(data) = read.data else {
            if !read.had_errors {
                self.unusable(&[r], "the response has no data", out);
            }
            return;
        };
        if !r.entity {
            let data = rewritten(&mut out.data, data, &r.fetch.output_rewrites);
            if let (Some((cache, ttl)), Some((key, identity))) = (keep, r.cache_keys.first()) {
                let value = Arc::new(out.data.freeze(&data));
                let text = || text_of(&out.data, &data);
                cache.insert(key.clone(), value, text, identity.clone(), ttl);
            }
            out.data.merge_value(Store::ROOT, data);
            return;
        }
        let entities = match data {
            Val::Object(d) => out.data.take(d, "_entities"),
            _ => None,
        };
        let Some(Val::List(entities)) = entities else {
            self.unusable(&[r], "the response has no `_entities`", out);
            return;
        };
        if entities.len() != r.sent.len() {
            let why = format!(
                "`_entities` returned {} results for {} representations",
                entities.len(),
                r.sent.len()
            );
            // Which result belongs to which representation is unknown: none is used.
            self.unusable(&[r], &why, out);
            return;
        }
        self.merge_entities(r, entities.into_vec(), keep, out);
    }

    /// Merges an entity fetch's results (one per representation sent, in order) into the
    /// objects they are for, keeping each in the entity cache when `keep` says so.
    pub(super) fn merge_entities(
        &self,
        r: &Ready<'_>,
        entities: Vec<Val>,
        keep: Option<(&Arc<EntityCache>, std::time::Duration)>,
        out: &mut Output,
    ) {
        let rewrites = &r.fetch.output_rewrites;
        for (i, (entity, slot)) in entities.into_iter().zip(&r.sent).enumerate() {
            if entity.is_null() {
                continue;
            }
            let entity = rewritten(&mut out.data, entity, rewrites);
            if let (Some((cache, ttl)), Some((key, identity))) = (keep, r.cache_keys.get(i)) {
                let value = Arc::new(out.data.freeze(&entity));
                let text = || text_of(&out.data, &entity);
                cache.insert(key.clone(), value, text, identity.clone(), ttl);
            }
            let Some((first, others)) = r.slots.get(*slot).and_then(|t| t.split_first()) else {
                continue;
            };
            // Objects that differ in their own content each get their own copy.
            for target in others {
                let copy = out.data.copy(&entity);
                out.data.merge_value(*target, copy);
            }
            out.data.merge_value(*first, entity);
        }
    }
}

/// A value as JSON text, for Redis (numbers keep the subgraph's text).
pub(super) fn text_of(data: &Store, value: &Val) -> String {
    let mut out = Vec::new();
    data.write(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}
