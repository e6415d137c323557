//! RabbitMQ consumers as the gateway makes them (entity cache invalidation events, broker-fed
//! subscriptions): a queue of its own for one binding, gone with the connection.

use lapin::options::{
    BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties, Consumer, ExchangeKind};

/// A consumer of `exchange`'s messages routed by `binding` (a routing key, or a pattern),
/// tagged `tag`, on an exclusive auto-deleted queue, without acknowledgements. The exchange
/// is declared as the services declare theirs (a durable topic exchange), so the gateway may
/// start first. The connection is returned with it: dropping it ends the consumer.
pub async fn consumer(
    url: &str,
    exchange: &str,
    binding: &str,
    tag: &str,
) -> Result<(Connection, Consumer), lapin::Error> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            queue.name().as_str().into(),
            exchange.into(),
            binding.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let consumer = channel
        .basic_consume(
            queue.name().as_str().into(),
            tag.into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    Ok((connection, consumer))
}
