//! The checkout saga, orchestrated by orders: place the order (pending) → reserve stock in
//! inventory → authorize payment → confirm. When a step fails, the compensations run in
//! reverse: release the stock, cancel the order with the reason.
//!
//! The saga's state is the order's event stream: after every step its event is appended, so
//! a process that crashes between steps finds, on restart, exactly where it stopped
//! ([`next_step`]) and resumes or compensates. Every step is idempotent (inventory keys
//! reservations by order id; payment answers the same for the same token), so repeating the
//! step whose event was not written is harmless.

use std::time::Duration;

use weft_subgraph_kit::Db;

use crate::inventory::{Inventory, InventoryError};
use crate::order::{Order, OrderEvent};
use crate::payment;
use crate::store::{self, StoreError};

/// What the saga does next for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Reserve,
    Authorize,
    Confirm,
    /// Compensation: put the reserved stock back.
    Release,
    /// Compensation: close the order as cancelled.
    Cancel,
    Done,
}

impl Step {
    /// The name used by `WEFT_ORDERS_CRASH_AFTER`.
    pub fn name(self) -> &'static str {
        match self {
            Step::Reserve => "reserve",
            Step::Authorize => "authorize",
            Step::Confirm => "confirm",
            Step::Release => "release",
            Step::Cancel => "cancel",
            Step::Done => "done",
        }
    }
}

/// Decides the next step from the order's state alone.
pub fn next_step(order: &Order) -> Step {
    if order.version == 0 || order.is_settled() {
        return Step::Done;
    }
    if order.failure.is_some() {
        // Released even if the reservation was never recorded: the crash may have come
        // after inventory reserved and before StockReserved was written.
        return if order.released {
            Step::Cancel
        } else {
            Step::Release
        };
    }
    if !order.reserved {
        Step::Reserve
    } else if !order.authorized {
        Step::Authorize
    } else {
        Step::Confirm
    }
}

/// An error that stops the saga for now (it stays pending and is retried later).
#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
}

/// Runs an order's saga and the crash injection tests use.
#[derive(Debug, Clone)]
pub struct Saga {
    pub db: Db,
    pub inventory: Inventory,
    /// Exit the process right after this step's event is stored (tests of crash recovery).
    pub crash_after: Option<String>,
}

impl Saga {
    /// Drives the order until it is confirmed or cancelled, or a step cannot complete now.
    pub async fn drive(&self, order_id: &str) -> Result<Order, SagaError> {
        let mut conflicts = 0;
        loop {
            let order = store::load(&self.db, order_id).await?;
            let step = next_step(&order);
            if step == Step::Done {
                return Ok(order);
            }
            let events = self.run(step, &order).await?;
            match store::append(&self.db, &order, &events).await {
                Ok(_) => {}
                // Another driver (a recovery pass) moved the order on: decide again.
                Err(StoreError::Conflict { .. }) if conflicts < 10 => {
                    conflicts += 1;
                    continue;
                }
                Err(err) => return Err(err.into()),
            }
            if self.crash_after.as_deref() == Some(step.name()) {
                tracing::error!(order_id, step = step.name(), "crash injected after step");
                std::process::exit(3);
            }
        }
    }

    /// Performs one step; the events recording its outcome.
    async fn run(&self, step: Step, order: &Order) -> Result<Vec<OrderEvent>, SagaError> {
        Ok(match step {
            Step::Reserve => match self.inventory.reserve(&order.id, &order.items).await {
                Ok(None) => vec![OrderEvent::StockReserved],
                Ok(Some(reason)) => vec![OrderEvent::OrderFailed { reason }],
                // Unreachable inventory fails the order: holding the customer's checkout open
                // on an outage is worse than cancelling it.
                Err(err) => vec![OrderEvent::OrderFailed {
                    reason: format!("stock could not be reserved: {err}"),
                }],
            },
            Step::Authorize => match payment::authorize(&order.id, &order.payment_token).await {
                Ok(authorization) => vec![OrderEvent::PaymentAuthorized { authorization }],
                Err(reason) => vec![OrderEvent::OrderFailed { reason }],
            },
            Step::Confirm => vec![OrderEvent::OrderConfirmed],
            Step::Release => {
                // A failed release leaves the order pending and failed; a later pass retries.
                self.inventory.release(&order.id).await?;
                vec![OrderEvent::StockReleased]
            }
            Step::Cancel => vec![OrderEvent::OrderCancelled {
                reason: order.failure.clone().unwrap_or_default(),
            }],
            Step::Done => Vec::new(),
        })
    }

    /// Drives every pending order last changed before `older_than` ago; returns how many it
    /// settled.
    pub async fn recover(&self, older_than: Duration) -> Result<usize, SagaError> {
        let cutoff = weft_subgraph_kit::events::now_ms()
            - i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
        let mut settled = 0;
        let stalled = crate::read_model::stalled(&self.db, cutoff)
            .await
            .map_err(StoreError::from)?;
        for id in stalled {
            match self.drive(&id).await {
                Ok(order) if order.is_settled() => settled += 1,
                Ok(_) => {}
                Err(err) => tracing::warn!(order = %id, %err, "saga still cannot finish"),
            }
        }
        Ok(settled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::Item;

    fn placed() -> Order {
        let mut order = Order::new("o");
        order.apply(
            &OrderEvent::OrderPlaced {
                user_id: "u".into(),
                items: vec![Item {
                    upc: "1".into(),
                    quantity: 1,
                }],
                payment_token: "tok_ok".into(),
            },
            1,
        );
        order
    }

    #[test]
    fn steps_follow_the_stream() {
        let mut order = placed();
        assert_eq!(next_step(&order), Step::Reserve);
        order.apply(&OrderEvent::StockReserved, 2);
        assert_eq!(next_step(&order), Step::Authorize);
        order.apply(
            &OrderEvent::PaymentAuthorized {
                authorization: "a".into(),
            },
            3,
        );
        assert_eq!(next_step(&order), Step::Confirm);
        order.apply(&OrderEvent::OrderConfirmed, 4);
        assert_eq!(next_step(&order), Step::Done);
    }

    #[test]
    fn a_failure_compensates_in_reverse() {
        let mut order = placed();
        order.apply(&OrderEvent::StockReserved, 2);
        order.apply(
            &OrderEvent::OrderFailed {
                reason: "payment declined".into(),
            },
            3,
        );
        assert_eq!(next_step(&order), Step::Release);
        order.apply(&OrderEvent::StockReleased, 4);
        assert_eq!(next_step(&order), Step::Cancel);
        assert_eq!(next_step(&Order::new("missing")), Step::Done);
    }
}
