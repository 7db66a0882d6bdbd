//! Third-party programs the tests drive (real clients this project did not write), installed
//! by `tests/tools/install` into a cache outside target/ (`$TASKBOARD_TOOLS`, default
//! `~/.cache/taskboard-tools`). The script runs once per test process; a failed install
//! fails the test with the script's output, never skips it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository's `tests/tools` directory.
pub fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("tools")
}

/// Where the installs live.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("TASKBOARD_TOOLS").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache").join("taskboard-tools")
        }
    }
}

/// Runs `tests/tools/install TOOL` (once per process and tool); panics with its output
/// when it fails. The script itself takes a lock, so processes running at once wait.
pub fn install(tool: &'static str) {
    static DONE: OnceLock<std::sync::Mutex<Vec<&'static str>>> = OnceLock::new();
    let done = DONE.get_or_init(Default::default);
    let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
    if done.contains(&tool) {
        return;
    }
    let script = tools_dir().join("install");
    let out = Command::new("bash")
        .arg(&script)
        .arg(tool)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} {tool} failed ({}): the tests need this tool.\n--- stdout\n{}\n--- stderr\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    done.push(tool);
}

/// The official MCP Python SDK, ready to run `tests/tools/mcp_client.py`.
pub struct McpClient {
    pub python: PathBuf,
    pub script: PathBuf,
}

/// Installs the MCP Python SDK if needed and returns how to run the client script.
pub fn mcp_client() -> McpClient {
    install("mcp");
    let python = cache_dir().join("venv-mcp").join("bin").join("python");
    assert!(
        python.is_file(),
        "tests/tools/install mcp succeeded but {} is missing",
        python.display()
    );
    let script = tools_dir().join("mcp_client.py");
    assert!(script.is_file(), "{} is missing", script.display());
    McpClient { python, script }
}
