//! Sharing identical work in flight: the first caller with a key starts the work; callers
//! with the same key before it finishes wait for the same result instead of starting their
//! own. Used for identical subgraph requests and identical client queries (Hive Router and
//! Apollo Router call this deduplication). The entry leaves the table when the work
//! finishes, whoever is still waiting — a caller that gives up does not strand the others.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

pub struct Inflight<K, T: Clone> {
    table: Arc<Mutex<HashMap<K, Shared<BoxFuture<'static, T>>>>>,
}

impl<K, T: Clone> Default for Inflight<K, T> {
    fn default() -> Self {
        Inflight {
            table: Arc::default(),
        }
    }
}

impl<K, T> Inflight<K, T>
where
    K: Hash + Eq + Clone + Send + 'static,
    T: Clone + Send + Sync + 'static,
{
    /// The result of the work for `key`: joined if some is in flight, else `work()` started.
    /// The second value says whether this call joined another's work.
    pub async fn run(&self, key: K, work: impl FnOnce() -> BoxFuture<'static, T>) -> (T, bool) {
        let (shared, joined) = {
            let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
            match table.get(&key) {
                Some(existing) => (existing.clone(), true),
                None => {
                    let inner = work();
                    let table_ref = Arc::clone(&self.table);
                    let k = key.clone();
                    let shared = async move {
                        let out = inner.await;
                        table_ref
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .remove(&k);
                        out
                    }
                    .boxed()
                    .shared();
                    table.insert(key, shared.clone());
                    (shared, false)
                }
            }
        };
        (shared.await, joined)
    }

    /// How many keys are in flight (tests).
    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn concurrent_callers_share_one_run_and_later_ones_start_anew() {
        let runs = Arc::new(AtomicUsize::new(0));
        let inflight: Inflight<u64, usize> = Inflight::default();
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let rx = rx.shared();
        let work = |runs: Arc<AtomicUsize>,
                    gate: Shared<futures::channel::oneshot::Receiver<()>>| {
            move || -> BoxFuture<'static, usize> {
                async move {
                    let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                    let _ = gate.await;
                    n
                }
                .boxed()
            }
        };
        let a = inflight.run(1, work(runs.clone(), rx.clone()));
        let b = inflight.run(1, work(runs.clone(), rx.clone()));
        let c = inflight.run(2, work(runs.clone(), rx.clone()));
        // The gate opens only after all three have started.
        let open = async move {
            let _ = tx.send(());
        };
        let (ra, rb, rc, ()) = futures::executor::block_on(async { futures::join!(a, b, c, open) });
        assert_eq!((ra.0, ra.1), (1, false));
        assert_eq!(rb.0, 1);
        assert!(rb.1, "the second caller joined");
        assert!(!rc.1);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(inflight.is_empty());
        let (again, joined) = futures::executor::block_on(inflight.run(1, work(runs.clone(), rx)));
        assert!(!joined);
        assert_eq!(again, 3);
    }
}
