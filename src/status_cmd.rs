//! `taskboard status [--json]`: the tree with statuses. `--json` asks the running board
//! when there is one (`GET /api/goals`: the tree written straight from its memory, no store
//! read, no per-record JSON parse) and prints it indented; otherwise, or when the board does
//! not answer within [`LIVE_WAIT`], it reads the store (read-only) as the text form does.
//! Both print the same bytes for the same board: `view::Goals` written by
//! `serde_json::to_string_pretty`, or its compact form re-indented by [`pretty`].

use std::io::Write;
use std::time::Duration;

use crate::datadir::DataDir;
use crate::failure::Failure;
use crate::http::client::Client;
use crate::{store, view};

/// How long `status --json` waits for a running board before it reads the store instead.
const LIVE_WAIT: Duration = Duration::from_secs(3);

pub fn status(data: &DataDir, json: bool) -> Result<i32, Failure> {
    if json {
        if let Some(mut body) = live_tree(data) {
            body.push(b'\n');
            let mut out = std::io::stdout().lock();
            return match out.write_all(&body).and_then(|()| out.flush()) {
                Ok(()) => Ok(0),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
                Err(e) => Err(Failure::usage(format!("cannot write the status: {e}"))),
            };
        }
    }
    let db = data.db();
    if !db.exists() {
        if json {
            println!("{}", serde_json::json!({"goals": []}));
        } else {
            println!(
                "no goals yet in {}: `taskboard run FILE` to start one",
                data.root.display()
            );
        }
        return Ok(0);
    }
    let store = store::Store::open_read_only(&db).map_err(Failure::usage)?;
    let board = crate::board::Board::from_tasks(
        store.load_tasks().map_err(Failure::usage)?,
        store.meta("paused").ok().flatten().as_deref() == Some("true"),
    );
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&view::Goals(&board)).unwrap_or_default()
        );
    } else {
        let endpoint = std::fs::read_to_string(data.endpoint())
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string));
        print!(
            "{}",
            view::tree_text(&board, Some(&data.root), endpoint.as_deref())
        );
        if let Some(note) = stopped_note(&board, data) {
            println!("{note}");
        }
    }
    Ok(0)
}

/// With no board running, agent tasks the store still calls active are not running: they
/// start again when a board does. `None` while one runs, or when there are none.
fn stopped_note(board: &crate::board::Board, data: &DataDir) -> Option<String> {
    use crate::model::{Kind, Status};
    let n = board
        .tasks()
        .filter(|t| t.kind == Kind::Agent && t.status == Status::Active)
        .count();
    if n == 0 || data.running_pid().is_some() {
        return None;
    }
    Some(format!(
        "(no board is running on {}: {n} active agent task(s) are not running and start \
         again when one does: `taskboard up`, or `taskboard run`)",
        data.root.display()
    ))
}

/// The running board's tree, indented; `None` when no board runs on `data` or it does not
/// answer a well-formed tree in time (the store is read then).
fn live_tree(data: &DataDir) -> Option<Vec<u8>> {
    let client = Client::of_data_dir(data).ok()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let raw = rt
        .block_on(async { tokio::time::timeout(LIVE_WAIT, client.get_bytes("/api/goals")).await })
        .ok()?
        .ok()?;
    // `{"goals":[…],"paused":…}`; an empty tree may be a board that is stopping: the store
    // tells then.
    if !raw.starts_with(b"{\"goals\":[{") || !raw.ends_with(b"}") {
        return None;
    }
    Some(pretty(&raw))
}

/// Compact JSON (no whitespace outside strings, as serde_json writes it) re-indented exactly
/// as `serde_json::to_string_pretty` would write the same value: two spaces a level, `": "`
/// after keys, empty arrays and objects as `[]` and `{}`.
pub fn pretty(compact: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(compact.len() + compact.len() / 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    };
    let mut i = 0;
    while i < compact.len() {
        let b = compact[i];
        i += 1;
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' => {
                out.push(b);
                let close = if b == b'{' { b'}' } else { b']' };
                if compact.get(i) == Some(&close) {
                    out.push(close);
                    i += 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pretty;
    use serde_json::json;

    #[test]
    fn re_indenting_compact_json_is_what_serde_json_writes_pretty() {
        let values = [
            json!({"goals": []}),
            json!({"goals": [{"a": 1, "children": [], "e": {}, "s": "x:{[,]}\"\\", "n": null}]}),
            json!({"goals": [{"nested": [[1, [2, {}], []], {"k": [true, false, -1.5e300]}], "u": "é\u{1}\n\t"}]}),
            json!([]),
            json!("just a string, with: {brackets}"),
        ];
        for v in values {
            let compact = serde_json::to_vec(&v).expect("json");
            let want = serde_json::to_string_pretty(&v).expect("json");
            assert_eq!(
                String::from_utf8(pretty(&compact)).expect("utf8"),
                want,
                "{v}"
            );
        }
    }
}
