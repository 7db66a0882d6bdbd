//! Helpers shared by the integration tests: temp dirs, goal files, the real binary.
#![allow(dead_code)]
// Test helpers: a broken set-up should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod board_sim;
pub mod serial;
pub mod tmux;
pub mod tools;
pub mod ui_fixture;

#[allow(unused_imports)] // not every test binary needs it
pub use serial::serial;

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
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
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
        c.arg("--data-dir")
            .arg(self.data())
            .arg("--config")
            .arg(self.config());
        c.args(args)
            .current_dir(self.path())
            .env_remove("TASKBOARD_HOME")
            .env_remove("TASKBOARD_URL")
            .env_remove("TASKBOARD_TOKEN")
            .env_remove("TASKBOARD_TASK_ID");
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
        self.cmd(args)
            .stdin(Stdio::null())
            .output()
            .expect("run taskboard")
    }
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn taskboard")
    }
    /// The running board's base URL (from `<data>/endpoint`) and admin token.
    pub fn endpoint(&self) -> (String, String) {
        let text = std::fs::read_to_string(self.data().join("endpoint")).expect("endpoint file");
        let url = text.lines().next().expect("endpoint URL").to_string();
        let token = std::fs::read_to_string(self.data().join("token")).expect("token file");
        (url, token.trim().to_string())
    }

    /// `status --json` parsed.
    pub fn status(&self) -> serde_json::Value {
        let out = self.run(&["status", "--json"]);
        assert!(
            out.status.success(),
            "status failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("status json")
    }
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every task in a status JSON tree, flattened in preorder.
pub fn flatten(v: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut stack: Vec<serde_json::Value> = v["goals"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .rev()
        .collect();
    while let Some(t) = stack.pop() {
        for c in t["children"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .rev()
        {
            stack.push(c);
        }
        out.push(t);
    }
    out
}

pub fn by_title<'a>(tasks: &'a [serde_json::Value], title: &str) -> &'a serde_json::Value {
    tasks
        .iter()
        .find(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("no task titled {title}"))
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
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Raises this process's open-file limit to at least `n` (a soft limit of 1,024 is common;
/// tests run as root, which may raise the hard one too). Children inherit it.
pub fn raise_nofile(n: u64) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).expect("getrlimit");
    if soft < n {
        setrlimit(Resource::RLIMIT_NOFILE, n, hard.max(n))
            .unwrap_or_else(|e| panic!("cannot raise RLIMIT_NOFILE to {n}: {e}"));
    }
}

/// Makes `dir` a git repository with one commit.
pub fn git_repo(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let run = |args: &[&str]| {
        let st = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git");
        assert!(
            st.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
    run(&["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README.md"), "hello\n").expect("write");
    run(&["add", "README.md"]);
    run(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.invalid",
        "commit",
        "-q",
        "-m",
        "init",
    ]);
}

/// A board running headless in the background, with its listener.
pub struct Live {
    pub child: Child,
    pub url: String,
    pub token: String,
    /// Everything the board printed so far (stdout then stderr lines, as they come).
    pub output: std::sync::Arc<std::sync::Mutex<String>>,
    /// The threads reading its stdout and stderr; each ends at its pipe's end.
    readers: Vec<std::thread::JoinHandle<()>>,
}

fn collect(
    pipe: Option<impl std::io::Read + Send + 'static>,
    into: std::sync::Arc<std::sync::Mutex<String>>,
) -> Option<std::thread::JoinHandle<()>> {
    use std::io::BufRead;
    pipe.map(|p| {
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(p).lines().map_while(Result::ok) {
                if let Ok(mut o) = into.lock() {
                    o.push_str(&line);
                    o.push('\n');
                }
            }
        })
    })
}

impl Live {
    /// Starts `run [FILE] --headless ARGS…` and waits for its endpoint file.
    pub fn start(s: &Scratch, file: Option<&Path>, extra: &[&str]) -> Live {
        Live::start_env(s, file, extra, &[])
    }

    /// `start` with extra environment for the board (and so for its agents).
    pub fn start_env(
        s: &Scratch,
        file: Option<&Path>,
        extra: &[&str],
        env: &[(String, String)],
    ) -> Live {
        let _ = std::fs::remove_file(s.data().join("endpoint"));
        let mut args = vec!["run"];
        let f;
        if let Some(p) = file {
            f = p.to_str().expect("utf8 path").to_string();
            args.push(&f);
        }
        args.push("--headless");
        args.extend_from_slice(extra);
        let mut child = s
            .cmd(&args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn taskboard");
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let readers = [
            collect(child.stdout.take(), output.clone()),
            collect(child.stderr.take(), output.clone()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let ep = s.data().join("endpoint");
        assert!(
            wait_for(Duration::from_secs(20), || std::fs::read_to_string(&ep)
                .map(|t| t.lines().count() >= 2)
                .unwrap_or(false)),
            "no endpoint file"
        );
        let (url, token) = s.endpoint();
        Live {
            child,
            url,
            token,
            output,
            readers,
        }
    }

    pub fn addr(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    /// One request with the admin token; returns (status, JSON body).
    pub fn req(&self, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
        let auth = format!("Bearer {}", self.token);
        http(
            &self.addr(),
            method,
            path,
            body,
            &[("Authorization", auth.as_str())],
        )
    }

    /// Waits for the board to exit; returns its exit code and output.
    pub fn wait(mut self, limit: Duration) -> (Option<i32>, String) {
        let end = Instant::now() + limit;
        let code = loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                break st.code();
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // The last lines are in once both pipes ended (bounded: a process the board left
        // behind could hold them open).
        let _ = wait_for(Duration::from_secs(5), || {
            self.readers.iter().all(|r| r.is_finished())
        });
        (code, self.printed())
    }

    pub fn printed(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// An open `GET /api/events` stream (Server-Sent Events), 10 s read timeout. It returns
    /// once the response head is read: the board subscribes the stream before it answers,
    /// so every change after this call is on the stream (no sleep needed).
    pub fn events(&self) -> std::net::TcpStream {
        self.events_with("")
    }

    /// The same with a query (`?deltas=1`).
    pub fn events_with(&self, query: &str) -> std::net::TcpStream {
        use std::io::{Read, Write};
        let mut sse = std::net::TcpStream::connect(self.addr()).expect("connect");
        write!(
            sse,
            "GET /api/events{query} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
            self.addr(),
            self.token
        )
        .expect("write");
        sse.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        // Byte by byte up to the blank line, so no event is read away from the caller.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match sse.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                other => panic!(
                    "the events stream ended in its head ({other:?}): {}",
                    String::from_utf8_lossy(&head)
                ),
            }
        }
        let head = String::from_utf8_lossy(&head);
        assert!(
            head.starts_with("HTTP/1.1 200") && head.contains("text/event-stream"),
            "not an event stream: {head}"
        );
        sse
    }

    pub fn kill9(&mut self) {
        let _ = Command::new("kill")
            .args(["-9", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let _ = wait_for(Duration::from_secs(5), || {
                matches!(self.child.try_wait(), Ok(Some(_)))
            });
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A plain HTTP/1.1 request over a new connection; returns (status, JSON body or Null).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let body = body.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let _ = s.write_all(req.as_bytes());
    let _ = s.write_all(body.as_bytes());
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// Polls `status --json` until the task titled `title` has `status`.
pub fn wait_status(s: &Scratch, title: &str, status: &str, limit: Duration) -> bool {
    wait_for(limit, || {
        flatten(&s.status())
            .iter()
            .any(|t| t["title"] == title && t["status"] == status)
    })
}

/// A TOML basic string holding `s`.
pub fn toml_str(s: &str) -> String {
    serde_json::to_string(s).expect("a JSON string is a TOML string")
}

/// The fields of a task that runs `sh -c CMD` in the goal's directory (no worktree).
pub fn sh_task(cmd: &str) -> String {
    format!(
        "command = [\"sh\", \"-c\", {}]\nworktree = false",
        toml_str(cmd)
    )
}

/// The id of the task titled `title` (from `status --json`).
pub fn id_of(s: &Scratch, title: &str) -> u64 {
    by_title(&flatten(&s.status()), title)["id"]
        .as_u64()
        .expect("an id")
}

/// Reads a stream (an SSE response) until `needle` shows up, it ends, or `limit` passes;
/// everything read.
pub fn read_until(stream: &mut impl std::io::Read, needle: &str, limit: Duration) -> String {
    let mut got = String::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + limit;
    while Instant::now() < end && !got.contains(needle) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    got
}
