//! The machine-side checks: git, the data dir (writable, free space), a board running on it
//! and whether its listener answers. Nothing here writes anything.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Check, Status};
use crate::datadir::DataDir;

const MIB: u64 = 1024 * 1024;
/// Below this the store and logs are about to fail: a ✘.
const FAIL_BELOW: u64 = 100 * MIB;
/// Below this a few agents' worktrees and logs fill it: a ⚠.
const WARN_BELOW: u64 = 1024 * MIB;

/// What a program printed for `--version` (stdout, else stderr), or why it did not.
pub(super) enum Answer {
    Printed { code: Option<i32>, text: String },
    TimedOut,
    Failed(String),
}

/// Runs `program --version` with stdin closed; gives up (and kills it) after `limit`.
pub(super) async fn version_of(program: &Path, limit: Duration) -> Answer {
    let mut cmd = tokio::process::Command::new(program);
    cmd.arg("--version")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    match tokio::time::timeout(limit, cmd.output()).await {
        Err(_) => Answer::TimedOut,
        Ok(Err(e)) => Answer::Failed(e.to_string()),
        Ok(Ok(out)) => {
            let pick = |b: &[u8]| {
                String::from_utf8_lossy(b)
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .map(str::to_string)
            };
            let text = pick(&out.stdout)
                .or_else(|| pick(&out.stderr))
                .unwrap_or_default();
            Answer::Printed {
                code: out.status.code(),
                text,
            }
        }
    }
}

pub(super) async fn git() -> Check {
    let Some(path) = crate::agent::profile::find_program("git", Path::new(".")) else {
        return Check::new("git", Status::Fail, "not found on PATH")
            .hint("install git (e.g. `apt-get install git`): worktrees and agents need it");
    };
    match version_of(&path, Duration::from_secs(5)).await {
        Answer::Printed {
            code: Some(0),
            text,
        } => {
            let v = crate::agent::tested::version_in(&text).unwrap_or(&text);
            Check::new("git", Status::Ok, format!("{v} ({})", path.display()))
        }
        Answer::Printed { text, .. } => Check::new(
            "git",
            Status::Fail,
            format!("{} --version failed: {text}", path.display()),
        )
        .hint("reinstall git"),
        Answer::TimedOut => Check::new("git", Status::Fail, "did not answer --version in 5 s")
            .hint("check the git on PATH"),
        Answer::Failed(e) => Check::new(
            "git",
            Status::Fail,
            format!("cannot run {}: {e}", path.display()),
        )
        .hint("reinstall git"),
    }
}

/// The dir itself, or its nearest existing ancestor (where it would be made).
fn existing(path: &Path) -> Option<PathBuf> {
    path.ancestors().find(|p| p.exists()).map(Path::to_path_buf)
}

fn writable(path: &Path) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::W_OK).is_ok()
}

fn shown_size(bytes: u64) -> String {
    if bytes >= 1024 * MIB {
        format!("{:.1} GiB", bytes as f64 / (1024 * MIB) as f64)
    } else {
        format!("{} MiB", bytes / MIB)
    }
}

pub(super) fn data_dir(data: &DataDir) -> Vec<Check> {
    let root = std::path::absolute(&data.root).unwrap_or_else(|_| data.root.clone());
    let shown = root.display().to_string();
    let mut out = Vec::new();
    let Some(base) = existing(&root) else {
        out.push(Check::new(
            "data dir",
            Status::Fail,
            format!("{shown}: no part of it exists"),
        ));
        return out;
    };
    let dir = if base == root {
        if !root.is_dir() {
            out.push(
                Check::new(
                    "data dir",
                    Status::Fail,
                    format!("{shown} is not a directory"),
                )
                .hint("move the file away or pick another --data-dir / $TASKBOARD_HOME"),
            );
            return out;
        }
        if let Err(e) = data.check_private() {
            // Every other word refuses such a dir (exit 2); doctor says why and how to fix it.
            Check::new("data dir", Status::Fail, e.to_string())
        } else if !writable(&root) {
            Check::new("data dir", Status::Fail, format!("{shown} is not writable"))
                .hint("fix its permissions, or pick another --data-dir / $TASKBOARD_HOME")
        } else if mode_of(&root) & 0o077 != 0 {
            Check::new(
                "data dir",
                Status::Ok,
                format!(
                    "{shown} (writable; mode {:o}, made 0700 when a board starts on it)",
                    mode_of(&root)
                ),
            )
        } else {
            Check::new(
                "data dir",
                Status::Ok,
                format!("{shown} (writable, private)"),
            )
        }
    } else if base.is_dir() && writable(&base) {
        Check::new(
            "data dir",
            Status::Ok,
            format!(
                "{shown} (not made yet; the first board makes it in {})",
                base.display()
            ),
        )
    } else {
        Check::new(
            "data dir",
            Status::Fail,
            format!(
                "cannot make {shown}: {} is not a writable directory",
                base.display()
            ),
        )
        .hint("pick another --data-dir / $TASKBOARD_HOME")
    };
    out.push(dir);
    out.push(match nix::sys::statvfs::statvfs(&base) {
        Ok(st) => {
            // fsblkcnt_t and c_ulong are u64 here but 32-bit on other targets.
            #[allow(clippy::useless_conversion)]
            let free =
                u64::from(st.blocks_available()).saturating_mul(u64::from(st.fragment_size()));
            let summary = format!("{} free for {shown}", shown_size(free));
            if free < FAIL_BELOW {
                Check::new("free space", Status::Fail, summary)
                    .hint("free some space: the store, logs and worktrees need room")
            } else if free < WARN_BELOW {
                Check::new("free space", Status::Warn, summary)
                    .hint("agents' worktrees and logs may fill it; free some space")
            } else {
                Check::new("free space", Status::Ok, summary)
            }
        }
        Err(e) => Check::new("free space", Status::Warn, format!("cannot tell: {e}")),
    });
    out
}

/// The permission bits of an existing path (0 when they cannot be read).
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o7777)
}

/// The endpoint file's URL when it names the board that holds the lock.
fn endpoint_url(data: &DataDir, pid: u32) -> Option<String> {
    let text = std::fs::read_to_string(data.endpoint()).ok()?;
    let mut lines = text.lines();
    let url = lines.next()?.trim().to_string();
    let named: u32 = lines.next()?.trim().parse().ok()?;
    (named == pid).then_some(url)
}

/// The board running on the data dir (lock, pid, URL) and whether its listener answers.
pub(super) async fn board(data: &DataDir) -> Vec<Check> {
    let Some(pid) = data.running_pid() else {
        return vec![
            Check::new(
                "board",
                Status::Ok,
                "none running on this data dir (`taskboard up` starts one)",
            ),
            Check::new("listener", Status::Skip, "no board running"),
        ];
    };
    let Some(url) = endpoint_url(data, pid) else {
        return vec![
            Check::new("board", Status::Ok, format!("running: pid {pid} holds the lock")),
            Check::new("listener", Status::Fail, format!("board pid {pid} holds the lock but names no listener in {}", data.endpoint().display()))
                .hint("it may still be starting; else stop it (`taskboard down --force`) and start it again"),
        ];
    };
    let board = Check::new(
        "board",
        Status::Ok,
        format!("running: pid {pid} holds the lock, {url}"),
    );
    let health = async {
        let client = crate::http::client::Client::new(&url, String::new())?;
        client.call("GET", "/api/health", None, None).await
    };
    let listener = match tokio::time::timeout(Duration::from_secs(3), health).await {
        Ok(Ok(v)) if v["ok"] == true => {
            let theirs = v["version"].as_str().unwrap_or("?").to_string();
            let ours = env!("CARGO_PKG_VERSION");
            if theirs == ours {
                Check::new(
                    "listener",
                    Status::Ok,
                    format!("{url} answers (taskboard {theirs})"),
                )
            } else {
                Check::new(
                    "listener",
                    Status::Warn,
                    format!("{url} answers, but runs taskboard {theirs} (this is {ours})"),
                )
                .hint(
                    "restart the board to use this version: `taskboard down`, then `taskboard up`",
                )
            }
        }
        Ok(Ok(v)) => Check::new(
            "listener",
            Status::Fail,
            format!("{url} answers health with {v}"),
        )
        .hint("restart the board: `taskboard down --force`, then `taskboard up`"),
        Ok(Err(e)) => Check::new(
            "listener",
            Status::Fail,
            format!("{url} does not answer: {e}"),
        )
        .hint(format!(
            "the board (pid {pid}) may be stuck: `taskboard down --force`, then `taskboard up`"
        )),
        Err(_) => Check::new(
            "listener",
            Status::Fail,
            format!("{url} did not answer within 3 s"),
        )
        .hint(format!(
            "the board (pid {pid}) may be stuck: `taskboard down --force`, then `taskboard up`"
        )),
    };
    vec![board, listener]
}
