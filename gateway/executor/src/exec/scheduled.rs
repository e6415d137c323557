//! A plan with a schedule (`weft_federation::plan::schedule`) runs fetch by fetch rather than
//! level by level: each fetch is prepared and sent as soon as the fetches it waits for are
//! merged, while others are still in flight. One task still owns the data: answers are
//! merged one at a time, as they arrive.
//!
//! Errors (and fetch timings) are kept in plan order (each fetch's, its preparation's then
//! its answer's), not in the order answers happened to arrive, so a response's errors do not
//! change from one run to the next.

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use weft_federation::plan::model::PlanNode;
use weft_federation::plan::schedule::Schedule;

use super::{Executor, Output, Request};

impl Executor {
    /// Runs `fetches` (the plan's, as `schedule::leaves` lists them) as `schedule` allows.
    pub(super) async fn run_scheduled(
        &self,
        fetches: &[&PlanNode],
        schedule: &Schedule,
        request: Request<'_>,
        out: &mut Output,
    ) {
        let count = fetches.len();
        // How many of its fetches each fetch still waits for, and who waits for it.
        let mut pending: Vec<usize> = schedule.waits.iter().map(Vec::len).collect();
        let mut waiting: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (i, waits) in schedule.waits.iter().enumerate() {
            for &j in waits {
                if let Some(w) = waiting.get_mut(j as usize) {
                    w.push(i);
                }
            }
        }
        // Which fetch each error in `out.errors` came from (it made it, or its answer did),
        // and each timing in `out.timings`.
        let mut origin: Vec<usize> = vec![0; out.errors.len()];
        let mut timed: Vec<usize> = vec![0; out.timings.len()];
        let mut ready: Vec<usize> = (0..count).filter(|&i| pending[i] == 0).collect();
        let mut in_flight = FuturesUnordered::new();
        loop {
            // Start every fetch whose data is there, in plan order.
            ready.sort_unstable_by(|a, b| b.cmp(a));
            while let Some(i) = ready.pop() {
                let jobs = self.job(fetches[i], request, &mut out.data);
                origin.resize(out.errors.len(), i);
                match jobs {
                    Some(mut jobs) if !jobs.is_empty() => in_flight.push(async move {
                        let sent = self.send_jobs(&mut jobs, request).await;
                        (i, jobs, sent)
                    }),
                    // Nothing to fetch for: done at once.
                    _ => finish(i, &waiting, &mut pending, &mut ready),
                }
            }
            let Some((i, jobs, sent)) = in_flight.next().await else {
                break;
            };
            self.merge_jobs(&jobs, sent, request, out);
            origin.resize(out.errors.len(), i);
            timed.resize(out.timings.len(), i);
            finish(i, &waiting, &mut pending, &mut ready);
        }
        in_plan_order(&mut out.errors, origin);
        in_plan_order(&mut out.timings, timed);
    }
}

/// `items` sorted by the fetch each came from (`origin`, one per item), stably.
fn in_plan_order<T>(items: &mut Vec<T>, origin: Vec<usize>) {
    let mut tagged: Vec<(usize, T)> = origin.into_iter().zip(items.drain(..)).collect();
    tagged.sort_by_key(|(i, _)| *i);
    items.extend(tagged.into_iter().map(|(_, item)| item));
}

/// Fetch `i` is merged: those waiting for it that wait for nothing else are ready.
fn finish(i: usize, waiting: &[Vec<usize>], pending: &mut [usize], ready: &mut Vec<usize>) {
    for &k in &waiting[i] {
        pending[k] -= 1;
        if pending[k] == 0 {
            ready.push(k);
        }
    }
}
