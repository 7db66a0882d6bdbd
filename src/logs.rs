//! `taskboard logs ID [--follow]`: a task's output from its log file (every byte the agent
//! wrote), colours kept only when printing to a terminal.

use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::time::Duration;

use crate::board::Board;
use crate::datadir::DataDir;
use crate::failure::Failure;
use crate::model::{Kind, TaskId};
use crate::store::Store;

/// The board as the store has it (read-only; works while a board runs).
pub fn load(data: &DataDir) -> Result<Board, Failure> {
    if !data.db().exists() {
        return Err(Failure {
            message: format!("no tasks yet in {}", data.root.display()),
            code: 1,
        });
    }
    let store = Store::open_read_only(&data.db()).map_err(Failure::usage)?;
    Ok(Board::from_tasks(
        store.load_tasks().map_err(Failure::usage)?,
        false,
    ))
}

/// Writes bytes, stripping escape sequences unless `raw`.
fn emit(out: &mut impl Write, bytes: &[u8], raw: bool) -> std::io::Result<()> {
    if raw {
        return out.write_all(bytes);
    }
    for chunk in anstream::adapter::strip_bytes(bytes) {
        out.write_all(
            &chunk
                .iter()
                .copied()
                .filter(|b| *b != b'\r')
                .collect::<Vec<u8>>(),
        )?;
    }
    Ok(())
}

pub fn run(data: &DataDir, id: TaskId, follow: bool) -> Result<i32, Failure> {
    let board = load(data)?;
    let task = board.task(id).ok_or_else(|| Failure {
        message: format!("no task #{id}"),
        code: 1,
    })?;
    let raw = std::io::stdout().is_terminal();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io = |e: std::io::Error| Failure {
        message: format!("cannot print: {e}"),
        code: 1,
    };
    if task.kind == Kind::Group {
        for t in board
            .preorder(id)
            .into_iter()
            .filter_map(|x| board.task(x))
            .filter(|t| t.kind == Kind::Agent)
        {
            writeln!(out, "== #{} {} [{}] ==", t.id, t.spec.title, t.status).map_err(io)?;
            let bytes = std::fs::read(data.log_file(t.id)).unwrap_or_default();
            emit(&mut out, &bytes, raw).map_err(io)?;
            if !bytes.ends_with(b"\n") && !bytes.is_empty() {
                writeln!(out).map_err(io)?;
            }
        }
        return Ok(0);
    }
    let path = data.log_file(id);
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(_) if follow => {
            while !path.exists() {
                std::thread::sleep(Duration::from_millis(200));
            }
            std::fs::File::open(&path).map_err(io)?
        }
        Err(_) => {
            eprintln!("#{id} has no output yet");
            return Ok(0);
        }
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n > 0 {
            emit(&mut out, &buf[..n], raw).map_err(io)?;
            continue;
        }
        if !follow {
            return Ok(0);
        }
        out.flush().map_err(io)?;
        // Over when the task is terminal and nothing more was written.
        let over = load(data)
            .ok()
            .and_then(|b| b.task(id).map(|t| t.status.is_terminal()))
            .unwrap_or(true);
        let pos = file.stream_position().map_err(io)?;
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(pos);
        if over && len <= pos {
            return Ok(0);
        }
        if len < pos {
            file.seek(SeekFrom::Start(0)).map_err(io)?;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
