//! A process-wide lock for tests that need the machine to themselves (timing bounds, tmux
//! screens, draw counts): each takes it first, so a plain `cargo test` runs them one at a
//! time instead of making them flaky. It is a file lock, so it also holds across test
//! binaries run side by side.

use std::fs::{File, OpenOptions};

/// Held for the life of a test; dropped (also on panic), it lets the next one in.
pub struct Serial {
    _file: File,
}

/// Waits for, then takes, the lock on `<tmp>/taskboard-tests-serial.lock`.
pub fn serial() -> Serial {
    let path = std::env::temp_dir().join("taskboard-tests-serial.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open the test lock {}: {e}", path.display()));
    file.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", path.display()));
    Serial { _file: file }
}
