//! Searching all tasks' output in `<data>/logs/*.log` and loading a log as plain lines.
//! Blocking file IO: the app runs these on blocking threads, never on the UI loop.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::OnceLock;

use super::modal::Hit;
use crate::model::TaskId;

/// At most this many hits are kept per search.
pub const MAX_HITS: usize = 500;
/// A log view keeps at most this many lines around its mark.
const MAX_VIEW_LINES: usize = 20_000;

fn escapes() -> Option<&'static regex::Regex> {
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        // CSI, OSC (BEL or ST terminated), other two-byte escapes, and stray controls.
        regex::Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]")
            .ok()
    })
    .as_ref()
}

/// Terminal output as plain text: escape sequences and control bytes removed.
pub fn plain(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let text = text.rsplit('\r').find(|s| !s.is_empty()).unwrap_or("");
    match escapes() {
        Some(re) => re.replace_all(text, "").into_owned(),
        None => text.to_string(),
    }
}

/// Case-insensitive substring search over every `<task>.log`; hits in task order.
/// Returns the hits and whether more were found than kept.
pub fn search_logs(logs: &Path, query: &str) -> (Vec<Hit>, bool) {
    let needle = query.to_lowercase();
    let mut files: Vec<(TaskId, std::path::PathBuf)> = std::fs::read_dir(logs)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let id = p
                .file_name()?
                .to_str()?
                .strip_suffix(".log")?
                .parse::<TaskId>()
                .ok()?;
            Some((id, p))
        })
        .collect();
    files.sort();
    let mut hits = Vec::new();
    if needle.is_empty() {
        return (hits, false);
    }
    for (task, path) in files {
        let Ok(f) = std::fs::File::open(&path) else {
            continue;
        };
        for (i, raw) in BufReader::new(f).split(b'\n').enumerate() {
            let Ok(raw) = raw else { break };
            let line = plain(&raw);
            if line.to_lowercase().contains(&needle) {
                if hits.len() == MAX_HITS {
                    return (hits, true);
                }
                hits.push(Hit {
                    task,
                    line: i,
                    text: line.trim().to_string(),
                });
            }
        }
    }
    (hits, false)
}

/// A task's log as plain lines (a window around `mark` for huge logs) and the mark's index
/// in the returned lines.
pub fn load_log(logs: &Path, task: TaskId, mark: Option<usize>) -> (Vec<String>, Option<usize>) {
    let path = logs.join(format!("{task}.log"));
    let Ok(f) = std::fs::File::open(&path) else {
        return (vec![format!("no output saved for #{task}")], None);
    };
    let center = mark.unwrap_or(usize::MAX);
    let mut lines = std::collections::VecDeque::new();
    let mut first = 0usize;
    for (i, raw) in BufReader::new(f).split(b'\n').enumerate() {
        let Ok(raw) = raw else { break };
        lines.push_back(plain(&raw));
        if lines.len() > MAX_VIEW_LINES {
            if i > center.saturating_add(MAX_VIEW_LINES / 2) {
                lines.pop_back();
                break;
            }
            lines.pop_front();
            first += 1;
        }
    }
    let mark = mark.and_then(|m| m.checked_sub(first));
    (lines.into(), mark)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strips_escapes() {
        assert_eq!(plain(b"\x1b[32mok\x1b[0m done\r"), "ok done");
        assert_eq!(plain(b"\x1b]0;title\x07text"), "text");
        assert_eq!(plain(b"old\rnew"), "new");
    }

    #[test]
    fn search_finds_lines_in_task_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("3.log"),
            "alpha\r\n\x1b[1mNeedle\x1b[0m here\r\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("2.log"), "a needle\n").unwrap();
        std::fs::write(dir.path().join("2.prompt"), "needle").unwrap();
        let (hits, more) = search_logs(dir.path(), "needle");
        assert!(!more);
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].task, hits[0].line), (2, 0));
        assert_eq!(
            (hits[1].task, hits[1].line, hits[1].text.as_str()),
            (3, 1, "Needle here")
        );
        let (lines, mark) = load_log(dir.path(), 3, Some(1));
        assert_eq!(lines[1], "Needle here");
        assert_eq!(mark, Some(1));
    }
}
