//! The store's own thread: the board hands it batches without waiting, and it commits
//! whatever has queued up as one transaction (group commit), answering each batch.

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{Batch, Store, StoreError};

type Done = oneshot::Sender<Result<(), String>>;

enum Job {
    Commit(Batch, Done),
    Read(Box<dyn FnOnce(&Store) + Send>),
}

/// A cheap handle to the store thread.
#[derive(Clone)]
pub struct StoreHandle {
    tx: mpsc::Sender<Job>,
}

/// Most batches merged into one transaction.
const MAX_GROUP: usize = 256;

/// Commits the group. A batch that failed for want of disk (full, read-only, I/O error) is
/// already applied in the board's memory, so it goes again in front of the next group: the
/// store catches up with what the board shows once the disk is back. Its callers were told it
/// failed, so its idempotency answers are dropped.
fn commit_group(store: &mut Store, group: &mut Vec<(Batch, Done)>, carried: &mut Option<Batch>) {
    if group.is_empty() {
        return;
    }
    let (batches, dones): (Vec<Batch>, Vec<Done>) = std::mem::take(group).into_iter().unzip();
    let mut all: Vec<Batch> = carried.take().into_iter().collect();
    all.extend(batches);
    let result = store.commit_many(&all);
    if let Err(e) = &result {
        tracing::error!("commit failed: {e}");
        if e.is_disk_trouble() {
            *carried = Some(merge(all));
        }
    }
    let result = result.map_err(|e| e.to_string());
    for d in dones {
        let _ = d.send(result.clone());
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

impl StoreHandle {
    /// Moves the store onto its own thread.
    pub fn spawn(mut store: Store) -> StoreHandle {
        let (tx, rx) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                let mut group: Vec<(Batch, Done)> = Vec::new();
                let mut carried: Option<Batch> = None;
                while let Ok(first) = rx.recv() {
                    let mut next = Some(first);
                    while let Some(job) = next.take() {
                        match job {
                            Job::Commit(b, d) => group.push((b, d)),
                            Job::Read(f) => {
                                // Reads see every commit sent before them.
                                commit_group(&mut store, &mut group, &mut carried);
                                f(&store);
                            }
                        }
                        if group.len() < MAX_GROUP {
                            next = rx.try_recv().ok();
                        }
                    }
                    commit_group(&mut store, &mut group, &mut carried);
                }
            });
        if let Err(e) = started {
            tracing::error!("cannot start the store thread: {e}");
        }
        StoreHandle { tx }
    }

    /// Queues a batch; the receiver resolves once it is durable (or failed).
    pub fn submit(&self, batch: Batch) -> oneshot::Receiver<Result<(), String>> {
        let (tx, rx) = oneshot::channel();
        if let Err(mpsc::SendError(Job::Commit(_, tx))) = self.tx.send(Job::Commit(batch, tx)) {
            let _ = tx.send(Err("the store thread has stopped".to_string()));
        }
        rx
    }

    /// Commits a batch; resolves once it is durable (or failed).
    pub async fn commit(&self, batch: Batch) -> Result<(), String> {
        self.submit(batch)
            .await
            .map_err(|_| "the store thread has stopped".to_string())?
    }

    /// Runs a read on the store thread and returns its result.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, String> {
        let (tx, rx) = oneshot::channel();
        let job = Job::Read(Box::new(move |s| {
            let _ = tx.send(f(s).map_err(|e| e.to_string()));
        }));
        self.tx
            .send(job)
            .map_err(|_| "the store thread has stopped".to_string())?;
        rx.await
            .map_err(|_| "the store thread has stopped".to_string())?
    }
}
