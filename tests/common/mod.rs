//! Helpers shared by the integration tests: temp dirs, goal files, the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_taskboard");

/// A scratch area: a work dir (goal files, repo) and a data dir inside one temp dir.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch { dir: tempfile::tempdir().expect("tempdir") }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write file");
        p
    }
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }
    /// `taskboard --data-dir <data> ARGS…` with an empty config.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--data-dir").arg(self.data()).arg("--config").arg(self.config());
        c.args(args).current_dir(self.path()).env_remove("TASKBOARD_HOME").env_remove("TASKBOARD_URL").env_remove("TASKBOARD_TOKEN").env_remove("TASKBOARD_TASK_ID");
        c
    }
    pub fn config(&self) -> PathBuf {
        let p = self.dir.path().join("config.toml");
        if !p.exists() {
            std::fs::write(&p, "spawns_per_minute = 100\n").expect("config");
        }
        p
    }
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).stdin(Stdio::null()).output().expect("run taskboard")
    }
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn taskboard")
    }
    /// `status --json` parsed.
    pub fn status(&self) -> serde_json::Value {
        let out = self.run(&["status", "--json"]);
        assert!(out.status.success(), "status failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("status json")
    }
}

pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Every task in a status JSON tree, flattened in preorder.
pub fn flatten(v: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut stack: Vec<serde_json::Value> = v["goals"].as_array().cloned().unwrap_or_default().into_iter().rev().collect();
    while let Some(t) = stack.pop() {
        for c in t["children"].as_array().cloned().unwrap_or_default().into_iter().rev() {
            stack.push(c);
        }
        out.push(t);
    }
    out
}

pub fn by_title<'a>(tasks: &'a [serde_json::Value], title: &str) -> &'a serde_json::Value {
    tasks.iter().find(|t| t["title"] == title).unwrap_or_else(|| panic!("no task titled {title}"))
}

/// Polls `f` until it returns true or `limit` passes.
pub fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

pub fn pid_alive(pid: i32) -> bool {
    // A zombie still has a /proc entry; count it as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// Makes `dir` a git repository with one commit.
pub fn git_repo(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let run = |args: &[&str]| {
        let st = Command::new("git").args(args).current_dir(dir).output().expect("git");
        assert!(st.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&st.stderr));
    };
    run(&["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README.md"), "hello\n").expect("write");
    run(&["add", "README.md"]);
    run(&["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "init"]);
}
