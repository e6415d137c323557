//! The RabbitMQ bus: one topic exchange, events routed by kind, one durable queue per consumer
//! name, publisher confirms, and manual acknowledgements (at-least-once both ways).

use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::{Mutex, mpsc};

use super::bus::Delivery;
use super::{Event, EventError};

/// A connection to RabbitMQ and the channel events are published on.
pub struct RabbitBus {
    connection: Connection,
    publisher: Mutex<Channel>,
    exchange: String,
}

impl std::fmt::Debug for RabbitBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RabbitBus")
            .field("exchange", &self.exchange)
            .finish()
    }
}

impl RabbitBus {
    pub(super) async fn connect(url: &str, exchange: &str) -> Result<RabbitBus, EventError> {
        let connection = Connection::connect(url, ConnectionProperties::default()).await?;
        let publisher = connection.create_channel().await?;
        publisher
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
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(RabbitBus {
            connection,
            publisher: Mutex::new(publisher),
            exchange: exchange.to_owned(),
        })
    }

    pub(super) async fn publish(&self, event: &Event) -> Result<(), EventError> {
        let body = serde_json::to_vec(event)?;
        let channel = self.publisher.lock().await;
        let confirm = channel
            .basic_publish(
                self.exchange.as_str().into(),
                event.kind.as_str().into(),
                BasicPublishOptions::default(),
                &body,
                // Persistent, so an event survives a broker restart once confirmed.
                BasicProperties::default().with_delivery_mode(2),
            )
            .await?
            .await?;
        if confirm.is_ack() {
            Ok(())
        } else {
            Err(EventError::NotConfirmed(event.id.clone()))
        }
    }

    pub(super) async fn subscribe(
        &self,
        consumer: &str,
        kinds: &[&str],
    ) -> Result<mpsc::Receiver<Delivery>, EventError> {
        let channel = self.connection.create_channel().await?;
        channel.basic_qos(32, BasicQosOptions::default()).await?;
        let queue = format!("{}.{consumer}", self.exchange);
        channel
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
        for kind in kinds {
            channel
                .queue_bind(
                    queue.as_str().into(),
                    self.exchange.as_str().into(),
                    (*kind).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        let mut stream = channel
            .basic_consume(
                queue.as_str().into(),
                format!("{consumer}-{}", super::new_id()).as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            // Keeps the channel open as long as the consumer reads.
            let _channel = channel;
            while let Some(Ok(delivery)) = stream.next().await {
                let acker = RabbitAcker(delivery.acker.clone());
                let event = match serde_json::from_slice::<Event>(&delivery.data) {
                    Ok(event) => event,
                    Err(err) => {
                        // Not ours to understand: drop it rather than redeliver it forever.
                        tracing::warn!(%err, "dropping a message that is not an event");
                        let _ = acker.ack().await;
                        continue;
                    }
                };
                let delivery = Delivery {
                    event,
                    acker: Some(acker),
                };
                if tx.send(delivery).await.is_err() {
                    break;
                }
            }
        });
        Ok(rx)
    }
}

/// Acknowledges one RabbitMQ delivery.
#[derive(Debug)]
pub struct RabbitAcker(lapin::Acker);

impl RabbitAcker {
    pub(super) async fn ack(self) -> Result<(), EventError> {
        self.0.ack(BasicAckOptions::default()).await?;
        Ok(())
    }

    pub(super) async fn requeue(self) -> Result<(), EventError> {
        self.0
            .nack(BasicNackOptions {
                requeue: true,
                ..Default::default()
            })
            .await?;
        Ok(())
    }
}
