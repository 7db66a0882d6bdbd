//! A board's `Changes` as one store `Batch`: the driver's commit after every drain and the
//! offline add (no board running) go through the same code.

use crate::board::{Board, Changes};
use crate::datadir::DataDir;
use crate::failure::Failure;
use crate::store::{Batch, IdempotentAnswer, Store};

/// The batch that stores `changes` of `board` (and the drain's idempotent answers); takes
/// what it stores out of `changes`, leaving the notices (transitions, attention, conflicts).
pub fn batch_of(board: &Board, changes: &mut Changes, idempotency: Vec<IdempotentAnswer>) -> Batch {
    Batch {
        tasks: std::mem::take(&mut changes.dirty)
            .iter()
            .filter_map(|id| board.task(*id).cloned())
            .collect(),
        deleted: std::mem::take(&mut changes.deleted),
        audit: std::mem::take(&mut changes.audit),
        meta: changes
            .paused
            .take()
            .map(|p| vec![("paused".to_string(), p.to_string())])
            .unwrap_or_default(),
        idempotency,
    }
}

/// Adds a goal straight into the store of a data dir no board runs on.
pub fn add_offline(data: &DataDir, goal: crate::model::NewTask) -> Result<u64, Failure> {
    let _lock = data.lock().map_err(|e| Failure {
        message: e.to_string(),
        code: 3,
    })?;
    let mut store = Store::open(&data.db()).map_err(Failure::usage)?;
    let mut board = Board::from_tasks(store.load_tasks().map_err(Failure::usage)?, false);
    let id = board.add_goal_offline(goal, "cli", crate::model::now_millis());
    let mut changes = board.take_changes();
    store
        .commit(&batch_of(&board, &mut changes, Vec::new()))
        .map_err(Failure::usage)?;
    Ok(id)
}
