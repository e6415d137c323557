//! Where events travel between services: an in-process log by default (every subgraph of one
//! process, as in `weft demo` and the tests), RabbitMQ when configured (services in separate
//! processes or machines).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::rabbit::{RabbitAcker, RabbitBus};
use super::{Event, EventError};

/// How many events the in-process bus remembers for consumers that subscribe late.
const IN_PROCESS_HISTORY: usize = 10_000;

/// The event bus a service publishes to and consumes from.
#[derive(Clone, Debug)]
pub enum Bus {
    InProcess(Arc<InProcessBus>),
    Rabbit(Arc<RabbitBus>),
}

impl Bus {
    /// A fresh in-process bus (shared by cloning it).
    pub fn in_process() -> Bus {
        Bus::InProcess(Arc::new(InProcessBus::default()))
    }

    /// A RabbitMQ bus on `url` (`amqp://...`), publishing to the topic exchange `exchange`.
    pub async fn rabbit(url: &str, exchange: &str) -> Result<Bus, EventError> {
        Ok(Bus::Rabbit(Arc::new(
            RabbitBus::connect(url, exchange).await?,
        )))
    }

    /// Publishes one event; returns once the bus has it (RabbitMQ: once the broker confirmed).
    pub async fn publish(&self, event: &Event) -> Result<(), EventError> {
        match self {
            Bus::InProcess(bus) => {
                bus.publish(event);
                Ok(())
            }
            Bus::Rabbit(bus) => bus.publish(event).await,
        }
    }

    /// The deliveries of events of `kinds` to the consumer `consumer`. Each consumer name gets
    /// every event once (more after a failure): RabbitMQ keeps a durable queue per consumer; the
    /// in-process bus replays its history to a late subscriber.
    pub async fn subscribe(
        &self,
        consumer: &str,
        kinds: &[&str],
    ) -> Result<mpsc::Receiver<Delivery>, EventError> {
        match self {
            Bus::InProcess(bus) => Ok(bus.subscribe(kinds)),
            Bus::Rabbit(bus) => bus.subscribe(consumer, kinds).await,
        }
    }
}

impl Bus {
    /// Deletes what the bus keeps for `consumers` (their RabbitMQ queues) and the exchange:
    /// teardown for tests and retired deployments. Nothing to do in process.
    pub async fn remove(&self, consumers: &[&str]) -> Result<(), EventError> {
        match self {
            Bus::InProcess(_) => Ok(()),
            Bus::Rabbit(bus) => bus.remove(consumers).await,
        }
    }
}

/// One event handed to a consumer; acknowledge it once applied, or it is delivered again.
#[derive(Debug)]
pub struct Delivery {
    pub event: Event,
    pub(super) acker: Option<RabbitAcker>,
}

impl Delivery {
    /// The event is applied: the bus may forget it.
    pub async fn ack(self) -> Result<(), EventError> {
        match self.acker {
            Some(acker) => acker.ack().await,
            None => Ok(()),
        }
    }

    /// Applying failed: deliver it again later.
    pub async fn retry(self) -> Result<(), EventError> {
        match self.acker {
            Some(acker) => acker.requeue().await,
            None => Ok(()),
        }
    }
}

/// The in-process bus: a bounded log of published events plus the live subscribers.
#[derive(Debug, Default)]
pub struct InProcessBus {
    state: Mutex<InProcessState>,
}

#[derive(Debug, Default)]
struct InProcessState {
    history: VecDeque<Event>,
    subscribers: Vec<(Vec<String>, mpsc::Sender<Delivery>)>,
}

impl InProcessBus {
    fn publish(&self, event: &Event) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.history.len() >= IN_PROCESS_HISTORY {
            state.history.pop_front();
        }
        state.history.push_back(event.clone());
        state.subscribers.retain(|(kinds, tx)| {
            if !kinds.contains(&event.kind) {
                return !tx.is_closed();
            }
            // A full queue means a stuck consumer; dropping the event here would lose it, so
            // the subscriber is dropped instead (it re-reads history when it resubscribes).
            tx.try_send(Delivery {
                event: event.clone(),
                acker: None,
            })
            .is_ok()
        });
    }

    fn subscribe(&self, kinds: &[&str]) -> mpsc::Receiver<Delivery> {
        let (tx, rx) = mpsc::channel(IN_PROCESS_HISTORY + 1024);
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        if let Ok(mut state) = self.state.lock() {
            for event in state.history.iter().filter(|e| kinds.contains(&e.kind)) {
                let _ = tx.try_send(Delivery {
                    event: event.clone(),
                    acker: None,
                });
            }
            state.subscribers.push((kinds, tx));
        }
        rx
    }
}
