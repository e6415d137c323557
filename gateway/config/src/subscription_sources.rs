//! Subscription fields fed by a message broker at the gateway (docs/subscriptions.md#event-sources):
//! instead of subscribing on the subgraph, the gateway consumes the broker's messages, reads
//! each message's entity key, and fetches the entity (and everything else the client selected)
//! from the subgraphs, as for any event.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

/// One `Subscription` field fed by a broker.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSource {
    /// The `Subscription` root field of the supergraph it feeds. Its type must be an entity
    /// its subgraph resolves by a key of top-level fields.
    pub field: String,
    /// Messages from RabbitMQ (this or `nats`).
    #[serde(default)]
    pub rabbitmq: Option<RabbitSource>,
    /// Messages from NATS (this or `rabbitmq`).
    #[serde(default)]
    pub nats: Option<NatsSource>,
    /// Where each key field's value is in a message (a path of object keys, dot-separated),
    /// by key field. A key field not listed is read from the message's top-level field of
    /// the same name.
    #[serde(default)]
    pub key: BTreeMap<String, String>,
    /// Which messages a subscription gets: for each argument of the field named here, only
    /// messages whose value at the path (dot-separated) equals the argument's value.
    #[serde(default)]
    pub arguments: BTreeMap<String, String>,
}

/// A NATS subject (core NATS: messages published while the gateway is subscribed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NatsSource {
    /// The server (`nats://127.0.0.1:4222`).
    pub url: String,
    /// The subject, or a pattern with `*` and `>`.
    pub subject: String,
}

/// A RabbitMQ topic exchange and the routing keys of the messages to consume.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RabbitSource {
    /// The broker (`amqp://user:password@host:5672/%2f`).
    pub url: String,
    /// The topic exchange the services publish to (declared durable if absent, as they
    /// declare it).
    pub exchange: String,
    /// The binding key: a routing key, or a pattern with `*` and `#`.
    pub routing_key: String,
}
