//! `Subscription.orderStatusChanged(id:)`: the order at each status it has had, then at each new
//! one, until it is settled; so a checkout saga can be watched from any moment.
//!
//! The event store is the source, read by version: first the whole stream (the replay), then
//! whatever was appended after the last version read. Reading by version makes the hand-over
//! from replay to live exact (nothing missed, nothing twice) and lets a watcher that lost its
//! connection resubscribe without losing a change. What wakes it is the store's commit notice
//! ([`store::APPENDED`], sent by every append of this process: checkout, the saga, the recovery
//! pass) and, for appends by another process on the same PostgreSQL database, a look every
//! [`STORE_POLL`].
//!
//! One result per change of what `Order` shows: its status (and the `failureReason` that comes
//! with `CANCELLED`). The saga's inner steps (stock reserved, payment authorized, a failure
//! being compensated) leave the order `PENDING` and give no result of their own.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, Error, ID, Result, Subscription as GraphQLSubscription};
use futures::Stream;
use futures::stream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use weft_subgraph_kit::{Db, Notice};

use crate::order::{self, OrderStatus};
use crate::read_model::OrderView;
use crate::schema::Order;
use crate::store::{self, StoreError};

/// How often a watcher reads the store without having been told of an append (appends by
/// another process).
pub const STORE_POLL: Duration = Duration::from_secs(1);

pub struct Subscription;

#[GraphQLSubscription]
impl Subscription {
    /// The order as it was at each status it has had so far (replayed from its events), then at
    /// each new one as the checkout saga moves it; ends once it is `CONFIRMED` or `CANCELLED`.
    async fn order_status_changed(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<impl Stream<Item = Result<Order>> + use<>> {
        let db = ctx.data::<Db>()?.clone();
        // Listening before the replay: an append committed in between still wakes the watcher.
        let notices = db.listen();
        let mut ticks = tokio::time::interval_at(Instant::now() + STORE_POLL, STORE_POLL);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut watch = Watch {
            db,
            notices,
            ticks,
            order: order::Order::new(&id),
            shown: None,
            due: VecDeque::new(),
            failed: false,
        };
        watch.catch_up().await?;
        if watch.order.version == 0 {
            return Err(Error::new(format!("no order {}", id.0)));
        }
        Ok(stream::unfold(watch, |mut watch| async move {
            let next = watch.next().await?;
            Some((next, watch))
        }))
    }
}

/// One watcher's place in an order's stream.
struct Watch {
    db: Db,
    notices: broadcast::Receiver<Arc<Notice>>,
    ticks: Interval,
    /// The order folded up to the last version read.
    order: order::Order,
    /// What the last result showed: status and failure reason.
    shown: Option<(OrderStatus, Option<String>)>,
    /// Results read but not yet given.
    due: VecDeque<OrderView>,
    /// Reading the store failed: the error was given, the stream ends.
    failed: bool,
}

impl Watch {
    /// The next result, or `None` when the stream is over.
    async fn next(&mut self) -> Option<Result<Order>> {
        loop {
            if let Some(view) = self.due.pop_front() {
                return Some(Ok(Order(view)));
            }
            if self.failed || self.order.is_settled() {
                return None;
            }
            self.appended().await;
            if let Err(err) = self.catch_up().await {
                // Ending is safe: resubscribing replays what this watcher would have missed.
                self.failed = true;
                return Some(Err(err.into()));
            }
        }
    }

    /// Waits until the stream may have grown: a notice about this order, a missed notice, or
    /// the poll.
    async fn appended(&mut self) {
        loop {
            tokio::select! {
                notice = self.notices.recv() => match notice {
                    Ok(notice) if notice.topic == store::APPENDED && notice.key == self.order.id => {
                        return;
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return,
                    // No more notices (cannot happen while `db` is held): the poll still runs.
                    Err(RecvError::Closed) => {
                        self.ticks.tick().await;
                        return;
                    }
                },
                _ = self.ticks.tick() => return,
            }
        }
    }

    /// Reads the events after the last version read, queueing a result for each change of
    /// what the order shows.
    async fn catch_up(&mut self) -> Result<(), StoreError> {
        for (event, at) in store::events_after(&self.db, &self.order.id, self.order.version).await?
        {
            self.order.apply(&event, at);
            let view = OrderView::of(&self.order);
            let shows = (view.status, view.failure_reason.clone());
            if self.shown.as_ref() != Some(&shows) {
                self.shown = Some(shows);
                self.due.push_back(view);
            }
        }
        Ok(())
    }
}
