//! The store as the board's thread uses it: one transaction per drain, committed in place
//! (the board's thread blocks on it, so no other thread hears of a change before it is
//! durable), and reads from other tasks run on that same thread between drains.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::{Batch, Store, StoreError};

/// A read to run on the thread that owns the store.
pub type ReadJob = Box<dyn FnOnce(&Store) + Send>;

/// Commits drains. A batch that failed for want of disk (full, read-only, I/O error) is
/// already applied in the board's memory, so it goes again in front of the next one: the
/// store catches up with what the board shows once the disk is back. Its callers were told
/// it failed, so its idempotency answers are dropped.
pub struct Committer {
    store: Store,
    carried: Option<Batch>,
}

impl Committer {
    pub fn new(store: Store) -> Committer {
        Committer {
            store,
            carried: None,
        }
    }

    /// Commits `batch` (after any batch carried from a failed commit) as one transaction.
    pub fn commit(&mut self, batch: Batch) -> Result<(), StoreError> {
        let mut all: Vec<Batch> = self.carried.take().into_iter().collect();
        all.push(batch);
        let result = self.store.commit_many(&all);
        if let Err(e) = &result {
            tracing::error!("commit failed: {e}");
            if e.is_disk_trouble() {
                self.carried = Some(merge(all));
            }
        }
        result
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// One batch with the effect of `batches` in order (a task in its last state).
fn merge(batches: Vec<Batch>) -> Batch {
    let mut out = Batch::default();
    for b in batches {
        out.tasks.retain(|t| !b.deleted.contains(&t.id));
        for t in b.tasks {
            out.tasks.retain(|x| x.id != t.id);
            out.tasks.push(t);
        }
        out.deleted.extend(b.deleted);
        out.audit.extend(b.audit);
        out.meta.extend(b.meta);
    }
    out.tasks.sort_by_key(|t| t.id);
    out
}

/// A cheap handle for reads: each runs on the store's thread and sees every acknowledged
/// change.
#[derive(Clone)]
pub struct StoreHandle {
    send: Arc<dyn Fn(ReadJob) -> bool + Send + Sync>,
}

impl StoreHandle {
    /// `send` queues a job for the store's thread; false when that thread has stopped.
    pub fn new(send: impl Fn(ReadJob) -> bool + Send + Sync + 'static) -> StoreHandle {
        StoreHandle {
            send: Arc::new(send),
        }
    }

    /// Runs a read on the store's thread and returns its result.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |s| {
            let _ = tx.send(f(s).map_err(|e| e.to_string()));
        });
        if !(self.send)(job) {
            return Err("the store thread has stopped".to_string());
        }
        rx.await
            .map_err(|_| "the store thread has stopped".to_string())?
    }
}
