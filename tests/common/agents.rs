//! Finds the real agent programs for the tests: runs `tests/tools/install` once per test
//! process (under a file lock, so parallel test binaries do not install twice) and hands
//! out the cache's `bin/` folder; makes throw-away homes for the agents.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The cache the install script fills (same default as the script).
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("TASKBOARD_TOOLS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
            .join(".cache/taskboard-tools"),
    }
}

/// `<cache>/bin`, with every agent installed in it. A failed install fails the test with
/// the script's output: a missing tool is never a skipped test.
pub fn tools_bin() -> PathBuf {
    static READY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let dir = tools_dir();
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
            let lock = std::fs::File::create(dir.join(".install-lock"))
                .map_err(|e| format!("cannot make the install lock: {e}"))?;
            let _held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
                .map_err(|(_, e)| format!("cannot take the install lock: {e}"))?;
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/install");
            let out = Command::new(&script)
                .env("TASKBOARD_TOOLS", &dir)
                .output()
                .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "{} failed ({}): {}{}",
                    script.display(),
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(dir.join("bin"))
        })
        .clone()
        .unwrap_or_else(|e| panic!("the real agents are not installed: {e}"))
}

/// The full path of one installed agent program.
pub fn tool(name: &str) -> PathBuf {
    let p = tools_bin().join(name);
    assert!(
        p.exists(),
        "{} is missing after tests/tools/install",
        p.display()
    );
    p
}

/// `PATH` with the tools' `bin/` first.
pub fn path_with_tools() -> String {
    format!(
        "{}:{}",
        tools_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Every file under `dir` with its bytes, sorted by path: compare two of these to prove a
/// program wrote nothing there.
pub fn snapshot_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out.sort();
    out
}
