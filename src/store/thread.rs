//! The store's own thread: the board sends batches and awaits the commit, never blocking an
//! async worker on disk IO.

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{Batch, Store, StoreError};

enum Job {
    Commit(Batch, oneshot::Sender<Result<(), String>>),
    Read(Box<dyn FnOnce(&Store) + Send>),
}

/// A cheap handle to the store thread.
#[derive(Clone)]
pub struct StoreHandle {
    tx: mpsc::Sender<Job>,
}

impl StoreHandle {
    /// Moves the store onto its own thread.
    pub fn spawn(mut store: Store) -> StoreHandle {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    match job {
                        Job::Commit(batch, reply) => {
                            let result = store.commit(&batch).map_err(|e| e.to_string());
                            if let Err(e) = &result {
                                tracing::error!("commit failed: {e}");
                            }
                            let _ = reply.send(result);
                        }
                        Job::Read(f) => f(&store),
                    }
                }
            })
            .map(|_| ())
            .unwrap_or_else(|e| tracing::error!("cannot start the store thread: {e}"));
        StoreHandle { tx }
    }

    /// Commits a batch; resolves once it is durable (or failed).
    pub async fn commit(&self, batch: Batch) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Job::Commit(batch, tx))
            .map_err(|_| "the store thread has stopped".to_string())?;
        rx.await
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
