//! An order as the fold of its events: the events are the truth, this is what they add up to.

use serde::{Deserialize, Serialize};

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub upc: String,
    pub quantity: i64,
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum OrderStatus {
    /// Placed; the checkout saga is still running.
    Pending,
    /// Stock reserved and payment authorized.
    Confirmed,
    /// The saga failed and its compensations ran.
    Cancelled,
}

impl OrderStatus {
    /// The stored spelling (also the GraphQL enum value).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::Confirmed => "CONFIRMED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }

    /// The status stored as `s`.
    pub fn parse(s: &str) -> Option<OrderStatus> {
        match s {
            "PENDING" => Some(OrderStatus::Pending),
            "CONFIRMED" => Some(OrderStatus::Confirmed),
            "CANCELLED" => Some(OrderStatus::Cancelled),
            _ => None,
        }
    }
}

/// What happened to an order; stored in `order_events`, one per version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OrderEvent {
    OrderPlaced {
        user_id: String,
        items: Vec<Item>,
        payment_token: String,
    },
    StockReserved,
    PaymentAuthorized {
        authorization: String,
    },
    /// A step failed: from here the saga only compensates.
    OrderFailed {
        reason: String,
    },
    StockReleased,
    OrderConfirmed,
    OrderCancelled {
        reason: String,
    },
}

impl OrderEvent {
    /// The event's name, stored in `order_events.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            OrderEvent::OrderPlaced { .. } => "OrderPlaced",
            OrderEvent::StockReserved => "StockReserved",
            OrderEvent::PaymentAuthorized { .. } => "PaymentAuthorized",
            OrderEvent::OrderFailed { .. } => "OrderFailed",
            OrderEvent::StockReleased => "StockReleased",
            OrderEvent::OrderConfirmed => "OrderConfirmed",
            OrderEvent::OrderCancelled { .. } => "OrderCancelled",
        }
    }
}

/// The state of one order, rebuilt from its events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Order {
    pub id: String,
    /// How many events the stream holds: the version the next append expects.
    pub version: i64,
    pub user_id: String,
    pub items: Vec<Item>,
    pub payment_token: String,
    pub status: Option<OrderStatus>,
    pub reserved: bool,
    pub authorized: bool,
    pub released: bool,
    /// Why the saga failed, once it has.
    pub failure: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Order {
    /// An order with no events yet.
    pub fn new(id: &str) -> Order {
        Order {
            id: id.to_owned(),
            ..Order::default()
        }
    }

    /// The state after `event`, which happened at `at_ms`.
    pub fn apply(&mut self, event: &OrderEvent, at_ms: i64) {
        self.version += 1;
        if self.version == 1 {
            self.created_ms = at_ms;
        }
        self.updated_ms = at_ms;
        match event {
            OrderEvent::OrderPlaced {
                user_id,
                items,
                payment_token,
            } => {
                self.user_id = user_id.clone();
                self.items = items.clone();
                self.payment_token = payment_token.clone();
                self.status = Some(OrderStatus::Pending);
            }
            OrderEvent::StockReserved => self.reserved = true,
            OrderEvent::PaymentAuthorized { .. } => self.authorized = true,
            OrderEvent::OrderFailed { reason } => self.failure = Some(reason.clone()),
            OrderEvent::StockReleased => self.released = true,
            OrderEvent::OrderConfirmed => self.status = Some(OrderStatus::Confirmed),
            OrderEvent::OrderCancelled { reason } => {
                self.status = Some(OrderStatus::Cancelled);
                self.failure = Some(reason.clone());
            }
        }
    }

    /// Whether the saga is over.
    pub fn is_settled(&self) -> bool {
        matches!(
            self.status,
            Some(OrderStatus::Confirmed | OrderStatus::Cancelled)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_events_gives_the_state() {
        let mut order = Order::new("o1");
        order.apply(
            &OrderEvent::OrderPlaced {
                user_id: "u".into(),
                items: vec![Item {
                    upc: "1".into(),
                    quantity: 2,
                }],
                payment_token: "tok_ok".into(),
            },
            10,
        );
        order.apply(&OrderEvent::StockReserved, 11);
        order.apply(
            &OrderEvent::OrderFailed {
                reason: "declined".into(),
            },
            12,
        );
        assert_eq!(order.version, 3);
        assert_eq!(order.status, Some(OrderStatus::Pending));
        assert!(order.reserved && !order.released && !order.is_settled());
        order.apply(&OrderEvent::StockReleased, 13);
        order.apply(
            &OrderEvent::OrderCancelled {
                reason: "declined".into(),
            },
            14,
        );
        assert!(order.is_settled());
        assert_eq!((order.created_ms, order.updated_ms), (10, 14));
    }
}
