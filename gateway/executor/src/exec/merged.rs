//! A batch fetch (`PlanNode::BatchFetch`): the entity fetches of one plan level to one
//! subgraph, sent as one request. Each member is prepared as it would be alone (its objects,
//! representations, entity cache hits); then the representations of the members that share
//! an `_entities` field are put in one list, each distinct representation once; the answer is
//! read once and each member gets the results of its own representations, merged as a fetch
//! of its own would merge them.

use bytes::Bytes;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};
use weft_federation::plan::model::{BatchFetchNode, OperationKind};

use super::errors::{FetchFailure, Places, map_error};
use super::outgoing::{Reps, Variables};
use super::{Call, Executor, Fetched, Output, Ready, Request};
use crate::error::ResponseError;
use crate::store::{Store, Val};

/// The leaves of a plan level, ready to send.
pub(super) enum Job<'p> {
    One(Ready<'p>),
    Batch(Merged<'p>),
    /// A `@fromContext` fetch's groups in one request (`aliased`).
    Aliased(super::aliased::Aliased<'p>),
}

/// A batch fetch ready to send.
pub(super) struct Merged<'p> {
    node: &'p BatchFetchNode,
    /// The members that found objects to fetch for: their index in `node.entities`, and
    /// their fetch as prepared alone.
    pub(super) members: Vec<(usize, Ready<'p>)>,
    /// The `_entities` fields of the request: each one's response key and variable.
    sections: Vec<(&'p str, &'p str)>,
    /// For each member (as in `members`): its section, and for each representation it sends,
    /// where that representation is in its section's list.
    positions: Vec<(usize, Vec<usize>)>,
    /// Each section's list length.
    counts: Vec<usize>,
    /// The members' other variables (the client's: the same in each).
    variables: Map<String, Value>,
    /// Each section's representations, under its variable's name.
    lists: Vec<(&'p str, Reps)>,
}

impl Job<'_> {
    /// The entity cache answered all of it: nothing is sent.
    pub(super) fn answered_by_cache(&self) -> bool {
        match self {
            Job::One(r) => r.answered_by_cache(),
            Job::Batch(m) => m.counts.iter().all(|c| *c == 0),
            Job::Aliased(a) => a.answered_by_cache(),
        }
    }
}

impl<'p> Merged<'p> {
    /// The batch fetch node.
    pub(super) fn node(&self) -> &'p BatchFetchNode {
        self.node
    }
}

impl Merged<'_> {
    /// Puts the representations the members still send (after the cache look-ups) in their
    /// sections' lists, each distinct one once (compared as text: each was written once).
    pub(super) fn assemble(&mut self) {
        let mut lists: Vec<Reps> = vec![Vec::new(); self.sections.len()];
        let mut seen: Vec<FxHashMap<String, usize>> = vec![FxHashMap::default(); lists.len()];
        // A section of one member needs no look-up: a fetch's own representations are
        // distinct already.
        let of: Vec<Option<usize>> = self
            .members
            .iter()
            .map(|(e, _)| self.section_of(*e))
            .collect();
        let mut shared = vec![0usize; lists.len()];
        for s in of.iter().flatten() {
            shared[*s] += 1;
        }
        self.positions.clear();
        for ((_, r), s) in self.members.iter_mut().zip(of) {
            let Some(s) = s else {
                self.positions.push((0, Vec::new()));
                continue;
            };
            let representations = std::mem::take(&mut r.representations);
            for (name, value) in &r.variables {
                self.variables
                    .entry(name.clone())
                    .or_insert_with(|| value.clone());
            }
            let list = &mut lists[s];
            let mut at = Vec::with_capacity(representations.len());
            for rep in representations {
                if shared[s] < 2 {
                    at.push(list.len());
                    list.push(rep);
                    continue;
                }
                match seen[s].get(rep.get()) {
                    Some(p) => at.push(*p),
                    None => {
                        seen[s].insert(rep.get().to_owned(), list.len());
                        at.push(list.len());
                        list.push(rep);
                    }
                }
            }
            self.positions.push((s, at));
        }
        self.counts = lists.iter().map(Vec::len).collect();
        self.lists = self
            .sections
            .iter()
            .map(|(_, variable)| *variable)
            .zip(lists)
            .collect();
    }

    fn section_of(&self, entity: usize) -> Option<usize> {
        let alias = &self.node.entities.get(entity)?.alias;
        self.sections.iter().position(|(a, _)| a == alias)
    }

    /// The members that send something, for errors about the whole request.
    fn sending(&self) -> Vec<&Ready<'_>> {
        self.members
            .iter()
            .map(|(_, r)| r)
            .filter(|r| !r.sent.is_empty())
            .collect()
    }
}

impl Executor {
    /// Prepares each member of `batch` as a fetch of its own; `None` when none finds an
    /// object to fetch for.
    pub(super) fn prepare_batch<'p>(
        &self,
        batch: &'p BatchFetchNode,
        request: Request<'_>,
        data: &mut Store,
    ) -> Option<Merged<'p>> {
        let members: Vec<(usize, Ready<'p>)> = batch
            .entities
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, self.prepare(&e.fetch, &e.path, request, data)?)))
            .collect();
        if members.is_empty() {
            return None;
        }
        let mut sections: Vec<(&str, &str)> = Vec::new();
        for e in &batch.entities {
            if !sections.iter().any(|(alias, _)| *alias == e.alias) {
                sections.push((&e.alias, &e.variable));
            }
        }
        Some(Merged {
            node: batch,
            members,
            sections,
            positions: Vec::new(),
            counts: Vec::new(),
            variables: Map::new(),
            lists: Vec::new(),
        })
    }

    /// Sends the batch, unless the cache answered all of it.
    pub(super) async fn fetch_batch(
        &self,
        m: &Merged<'_>,
        client: Request<'_>,
    ) -> Result<Fetched, FetchFailure> {
        if m.counts.iter().all(|c| *c == 0) {
            return Ok(Fetched {
                body: Bytes::new(),
                ttl: None,
            });
        }
        let lists: Vec<(&str, &[_])> = m.lists.iter().map(|(n, l)| (*n, l.as_slice())).collect();
        let call = Call {
            graph: m.node.graph,
            operation: &m.node.operation,
            kind: OperationKind::Query,
            variables: Variables {
                map: &m.variables,
                lists: &lists,
            },
            // One `$representations` list, as a fetch alone sends: it may join other
            // requests' batches.
            coalesce: m.sections.len() == 1,
        };
        self.send(call, client).await
    }

    pub(super) fn merge_batch(
        &self,
        m: &Merged<'_>,
        response: Result<Fetched, FetchFailure>,
        out: &mut Output,
    ) {
        for (_, r) in &m.members {
            self.merge_hits(r, out);
        }
        if m.counts.iter().all(|c| *c == 0) {
            return;
        }
        let sending = m.sending();
        let Some(read) = self.read(&m.node.operation, response, &sending, out) else {
            return;
        };
        let keep = self
            .cache
            .as_ref()
            .zip(read.ttl)
            .filter(|_| !read.had_errors);
        self.batch_errors(m, &read.errors, out);
        let data = match read.data {
            Some(Val::Object(d)) => d,
            Some(_) => {
                self.unusable(&sending, "the response has no `_entities`", out);
                return;
            }
            None => {
                if !read.had_errors {
                    self.unusable(&sending, "the response has no data", out);
                }
                return;
            }
        };
        // Each section's results, checked against what it sent.
        let mut lists: Vec<Option<Vec<Val>>> = Vec::with_capacity(m.sections.len());
        for (s, (alias, _)) in m.sections.iter().enumerate() {
            let count = m.counts.get(s).copied().unwrap_or(0);
            let members: Vec<&Ready<'_>> = m
                .members
                .iter()
                .zip(&m.positions)
                .filter(|((_, r), (section, _))| *section == s && !r.sent.is_empty())
                .map(|((_, r), _)| r)
                .collect();
            let list = match out.data.take(data, alias) {
                Some(Val::List(list)) if list.len() == count => Some(list.into_vec()),
                Some(Val::List(list)) => {
                    let why = format!(
                        "`_entities` returned {} results for {count} representations",
                        list.len()
                    );
                    // Which result belongs to which representation is unknown: none is used.
                    self.unusable(&members, &why, out);
                    None
                }
                _ => {
                    if count > 0 {
                        self.unusable(&members, "the response has no `_entities`", out);
                    }
                    None
                }
            };
            lists.push(list);
        }
        // How many members still need each result: the last one takes it, the others copy.
        let mut uses: Vec<Vec<u32>> = m.counts.iter().map(|c| vec![0; *c]).collect();
        for (s, at) in &m.positions {
            for p in at {
                if let Some(u) = uses.get_mut(*s).and_then(|u| u.get_mut(*p)) {
                    *u += 1;
                }
            }
        }
        for ((_, r), (s, at)) in m.members.iter().zip(&m.positions) {
            let Some(Some(list)) = lists.get_mut(*s) else {
                continue;
            };
            let mut entities = Vec::with_capacity(at.len());
            for p in at {
                let (Some(value), Some(u)) = (
                    list.get_mut(*p),
                    uses.get_mut(*s).and_then(|u| u.get_mut(*p)),
                ) else {
                    entities.push(Val::Null);
                    continue;
                };
                *u -= 1;
                entities.push(if *u == 0 {
                    std::mem::replace(value, Val::Null)
                } else {
                    out.data.copy(value)
                });
            }
            self.merge_entities(r, entities, keep, out);
        }
    }

    /// The subgraph's errors for a batch, each at the objects of every member whose
    /// representation it names (`[field, index, ...]`); an error naming none goes to the
    /// first member that sent something.
    fn batch_errors(&self, m: &Merged<'_>, errors: &[Value], out: &mut Output) {
        if errors.is_empty() {
            return;
        }
        let service = &m.node.subgraph;
        let mut places: Vec<Places> = m.members.iter().map(|_| Places::default()).collect();
        // For each section and list index: the members that sent it, and where in their own
        // list.
        let mut users: Vec<Vec<Vec<(usize, usize)>>> =
            m.counts.iter().map(|c| vec![Vec::new(); *c]).collect();
        for (member, (s, at)) in m.positions.iter().enumerate() {
            for (j, p) in at.iter().enumerate() {
                if let Some(u) = users.get_mut(*s).and_then(|u| u.get_mut(*p)) {
                    u.push((member, j));
                }
            }
        }
        let fallback = m
            .members
            .iter()
            .position(|(_, r)| !r.sent.is_empty())
            .unwrap_or(0);
        for e in errors {
            let named =
                e.get("path")
                    .and_then(Value::as_array)
                    .and_then(|path| match path.as_slice() {
                        [Value::String(field), index, rest @ ..] => {
                            let s = m.sections.iter().position(|(a, _)| a == field)?;
                            let i = usize::try_from(index.as_u64()?).ok()?;
                            Some((users.get(s)?.get(i)?, rest))
                        }
                        _ => None,
                    });
            let targets: Vec<(usize, Value)> = match named {
                Some((users, rest)) if !users.is_empty() => users
                    .iter()
                    .map(|(member, j)| {
                        // The path as the member alone would have got it.
                        let mut local = e.clone();
                        let mut path = vec![Value::from("_entities"), Value::from(*j)];
                        path.extend(rest.iter().cloned());
                        if let Value::Object(fields) = &mut local {
                            fields.insert("path".to_owned(), Value::Array(path));
                        }
                        (*member, local)
                    })
                    .collect(),
                _ => vec![(fallback, e.clone())],
            };
            for (member, error) in targets {
                let (Some((_, r)), Some(places)) = (m.members.get(member), places.get_mut(member))
                else {
                    continue;
                };
                let mapped = map_error(&error, service, r, &out.data, places);
                out.errors
                    .extend(mapped.into_iter().map(ResponseError::passed));
            }
        }
    }
}
