//! The bounded tail of a session's log file (every byte the agent wrote), which panes
//! replay after a restart and when a TUI attaches, and `taskboard logs` prints.

use std::io::{Read, Seek, SeekFrom};

/// The end of a log: at most `max` bytes, starting at a line boundary when cut; and the
/// offset where the file ended (where following goes on).
pub fn read_tail(file: &mut std::fs::File, max: u64) -> std::io::Result<(Vec<u8>, u64)> {
    let len = file.metadata()?.len();
    let from = len.saturating_sub(max);
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::with_capacity((len - from) as usize);
    Read::take(&mut *file, len - from).read_to_end(&mut bytes)?;
    if from > 0 {
        let cut = bytes.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
        bytes.drain(..cut);
    }
    Ok((bytes, len))
}
