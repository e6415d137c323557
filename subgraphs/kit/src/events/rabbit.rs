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

/// A connection to RabbitMQ and the channel events are published on, re-established on the
/// next call after either breaks (a broker restart must not stop a service's relay for good).
pub struct RabbitBus {
    url: String,
    exchange: String,
    link: Mutex<Option<Link>>,
}

/// One live connection and its publishing channel (in confirm mode).
struct Link {
    connection: Connection,
    publisher: Channel,
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
        let bus = RabbitBus {
            url: url.to_owned(),
            exchange: exchange.to_owned(),
            link: Mutex::new(None),
        };
        // Connect now, so a wrong URL is reported at start-up.
        drop(bus.link().await?);
        Ok(bus)
    }

    /// The live link, connecting (and declaring the exchange) when there is none or it broke.
    async fn link(&self) -> Result<tokio::sync::MutexGuard<'_, Option<Link>>, EventError> {
        let mut link = self.link.lock().await;
        let alive = link
            .as_ref()
            .is_some_and(|l| l.connection.status().connected() && l.publisher.status().connected());
        if !alive {
            *link = None;
            let connection =
                Connection::connect(&self.url, ConnectionProperties::default()).await?;
            let publisher = connection.create_channel().await?;
            publisher
                .exchange_declare(
                    self.exchange.as_str().into(),
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
            *link = Some(Link {
                connection,
                publisher,
            });
        }
        Ok(link)
    }

    /// A new channel on the live connection.
    async fn channel(&self) -> Result<Channel, EventError> {
        let link = self.link().await?;
        match link.as_ref() {
            Some(link) => Ok(link.connection.create_channel().await?),
            None => Err(EventError::NotConnected),
        }
    }

    pub(super) async fn publish(&self, event: &Event) -> Result<(), EventError> {
        let body = serde_json::to_vec(event)?;
        let mut link = self.link().await?;
        let Some(live) = link.as_ref() else {
            return Err(EventError::NotConnected);
        };
        let published = async {
            live.publisher
                .basic_publish(
                    self.exchange.as_str().into(),
                    event.kind.as_str().into(),
                    BasicPublishOptions::default(),
                    &body,
                    // Persistent, so an event survives a broker restart once confirmed.
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await?
                .await
        }
        .await;
        match published {
            Ok(confirm) if confirm.is_ack() => Ok(()),
            Ok(_) => Err(EventError::NotConfirmed(event.id.clone())),
            Err(err) => {
                // Reconnect on the next call; the relay retries this event then.
                *link = None;
                Err(err.into())
            }
        }
    }

    /// Deletes the consumers' queues and the exchange (test teardown).
    pub(super) async fn remove(&self, consumers: &[&str]) -> Result<(), EventError> {
        let channel = self.channel().await?;
        for consumer in consumers {
            channel
                .queue_delete(
                    format!("{}.{consumer}", self.exchange).as_str().into(),
                    lapin::options::QueueDeleteOptions::default(),
                )
                .await?;
        }
        channel
            .exchange_delete(
                self.exchange.as_str().into(),
                lapin::options::ExchangeDeleteOptions::default(),
            )
            .await?;
        Ok(())
    }

    pub(super) async fn subscribe(
        &self,
        consumer: &str,
        kinds: &[&str],
    ) -> Result<mpsc::Receiver<Delivery>, EventError> {
        let channel = self.channel().await?;
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
