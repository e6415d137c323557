//! In-process notices of committed changes: a transaction queues a notice ([`crate::Tx::notify`])
//! and every listener of the database handle ([`crate::Db::listen`]) receives it once the
//! transaction has committed: never for a change that rolled back, never before the change can
//! be read. GraphQL subscriptions use them to learn, without polling, that what they watch
//! changed (inventory's stock, an order's event stream).
//!
//! Notices reach the clones of one [`crate::Db`] in this process only. Another process writing
//! the same database (a second replica on PostgreSQL) is not heard: a reader that must see its
//! changes too also looks at the database now and then. Notices are not events between services
//! (that is the outbox, [`crate::events`]): they may be lost by a listener that falls behind
//! (see [`CAPACITY`]), so a listener treats one as "look again", or re-reads what it watches when
//! it lagged.

use std::sync::Arc;

use tokio::sync::{Mutex, broadcast};

/// How many notices a listener may fall behind before it misses some (it is then told how many
/// with [`broadcast::error::RecvError::Lagged`]).
pub const CAPACITY: usize = 1024;

/// Something that changed, told after its transaction committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// What kind of change (a constant of the service: `StockChanged`, ...).
    pub topic: &'static str,
    /// What it is about (a upc, an order id).
    pub key: String,
    /// What the listener needs to know besides (e.g. the new stock level).
    pub payload: serde_json::Value,
}

/// The sending side, shared by every clone of a [`crate::Db`].
#[derive(Debug, Clone)]
pub(crate) struct Notices {
    sender: broadcast::Sender<Arc<Notice>>,
    /// Held from a notifying transaction's commit until its notices are sent, so listeners get
    /// them in commit order: two commits of one stock row must not be told the other way round,
    /// or a watcher would end on the older level.
    ordered: Arc<Mutex<()>>,
}

impl Default for Notices {
    fn default() -> Notices {
        Notices {
            sender: broadcast::channel(CAPACITY).0,
            ordered: Arc::default(),
        }
    }
}

impl Notices {
    /// A receiver of every notice sent from now on.
    pub(crate) fn listen(&self) -> broadcast::Receiver<Arc<Notice>> {
        self.sender.subscribe()
    }

    /// Runs `commit`, then tells `pending` to the current listeners (none listening is not an
    /// error); nothing is told if the commit fails.
    pub(crate) async fn commit_then_send<E>(
        &self,
        commit: impl Future<Output = Result<(), E>>,
        pending: Vec<Notice>,
    ) -> Result<(), E> {
        if pending.is_empty() {
            return commit.await;
        }
        let _order = self.ordered.lock().await;
        commit.await?;
        for notice in pending {
            let _ = self.sender.send(Arc::new(notice));
        }
        Ok(())
    }
}
