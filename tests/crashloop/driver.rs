//! The crash loop's driver: a thread that watches the board over HTTP and posts each gate's
//! scripted signals and decisions, with an `Idempotency-Key` per step so that a request lost
//! to a `kill -9` is repeated safely. It records every change that got a 2xx.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// A change the board acknowledged with a 2xx.
#[derive(Clone, Debug)]
pub struct Ack {
    pub task: u64,
    /// The task's goal (for a deletion: the goal itself).
    pub goal: u64,
    /// `signal`, `decision` (the audit event kind) or `delete` (`task` is then a goal).
    pub kind: &'static str,
    /// `pass`, `fail`, `approve`, `request_changes`, `delete`.
    pub step: &'static str,
    pub key: String,
}

/// One scripted step: route suffix, body, audit kind, step name.
type Step = (&'static str, &'static str, &'static str, &'static str);

const FAIL: Step = (
    "signal",
    r#"{"status":"fail","payload":{"summary":"lint failed"}}"#,
    "signal",
    "fail",
);
const PASS: Step = (
    "signal",
    r#"{"status":"pass","payload":{"run":1}}"#,
    "signal",
    "pass",
);
const CHANGES: Step = (
    "decision",
    r#"{"decision":"request_changes","comment":"add a test"}"#,
    "decision",
    "request_changes",
);
const APPROVE: Step = (
    "decision",
    r#"{"decision":"approve"}"#,
    "decision",
    "approve",
);
/// Fail signals the noisy gate takes before its pass.
pub const NOISE: usize = 20;

/// The script of a gate (by title), and the status in which it waits.
fn script(title: &str) -> Option<(Vec<Step>, &'static str)> {
    Some(match title {
        "ci" => (vec![FAIL, PASS], "active"),
        "review" => (vec![CHANGES, APPROVE], "pending_review"),
        "approval" => (vec![APPROVE], "active"),
        "noise" => {
            let mut v = vec![FAIL; NOISE];
            v.push(PASS);
            (v, "active")
        }
        _ => return None,
    })
}

#[derive(Default)]
struct Progress {
    step: usize,
    /// Bumped when a key got a 4xx, so the step is tried again under a fresh key.
    key_gen: usize,
}

struct Shared {
    addr: Mutex<Option<String>>,
    acks: Mutex<Vec<Ack>>,
    /// Goals sent a delete that got no answer (the board was killed mid-request): it may
    /// have been committed.
    maybe_deleted: Mutex<Vec<u64>>,
    stop: AtomicBool,
    token_file: PathBuf,
}

pub struct Driver {
    shared: Arc<Shared>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Driver {
    pub fn start(data: &Path) -> Driver {
        let shared = Arc::new(Shared {
            addr: Mutex::new(None),
            acks: Mutex::new(Vec::new()),
            maybe_deleted: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            token_file: data.join("token"),
        });
        let sh = shared.clone();
        let thread = std::thread::spawn(move || drive(&sh));
        Driver {
            shared,
            thread: Mutex::new(Some(thread)),
        }
    }

    pub fn set_addr(&self, addr: String) {
        *self.shared.addr.lock().unwrap() = Some(addr);
    }

    pub fn clear_addr(&self) {
        *self.shared.addr.lock().unwrap() = None;
    }

    pub fn acks(&self) -> Vec<Ack> {
        self.shared.acks.lock().unwrap().clone()
    }

    pub fn maybe_deleted(&self) -> Vec<u64> {
        self.shared.maybe_deleted.lock().unwrap().clone()
    }

    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.lock().unwrap().take() {
            t.join().expect("driver thread");
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The round a goal title names (`crashloop round K`).
fn round_of(title: &str) -> Option<u32> {
    title.strip_prefix("crashloop round ")?.parse().ok()
}

/// Deletes the goals of finished rounds (their worktrees go with them), one per pass, each
/// under its own idempotency key.
fn delete_old_rounds(
    sh: &Shared,
    addr: &str,
    token: &str,
    tree: &Value,
    gens: &mut HashMap<u64, usize>,
) {
    let goals: Vec<(u64, u32)> = tree["goals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| Some((g["id"].as_u64()?, round_of(g["title"].as_str()?)?)))
        .collect();
    let Some(newest) = goals.iter().map(|(_, r)| *r).max() else {
        return;
    };
    let Some((id, _)) = goals.into_iter().find(|(_, r)| *r < newest) else {
        return;
    };
    let gen = gens.entry(id).or_default();
    let key = format!("crash-del-{id}-{gen}");
    match request(
        addr,
        token,
        "DELETE",
        &format!("/api/tasks/{id}"),
        "",
        Some(&key),
    ) {
        Some((code, _)) if (200..300).contains(&code) => sh.acks.lock().unwrap().push(Ack {
            task: id,
            goal: id,
            kind: "delete",
            step: "delete",
            key,
        }),
        Some((code, _)) if (400..500).contains(&code) => *gen += 1,
        // No answer (the board was killed mid-request): the delete may have been committed,
        // so the probe must not expect this goal's tasks to be there.
        _ => sh.maybe_deleted.lock().unwrap().push(id),
    }
}

fn drive(sh: &Shared) {
    let mut progress: HashMap<u64, Progress> = HashMap::new();
    let mut deletes: HashMap<u64, usize> = HashMap::new();
    while !sh.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
        let Some(addr) = sh.addr.lock().unwrap().clone() else {
            continue;
        };
        let Ok(token) = std::fs::read_to_string(&sh.token_file) else {
            continue;
        };
        let token = token.trim().to_string();
        let Some((200, tree)) = request(&addr, &token, "GET", "/api/goals", "", None) else {
            continue;
        };
        delete_old_rounds(sh, &addr, &token, &tree, &mut deletes);
        for t in crate::common::flatten(&tree) {
            let (Some(id), Some(goal), Some(title), Some(status)) = (
                t["id"].as_u64(),
                t["goal"].as_u64(),
                t["title"].as_str(),
                t["status"].as_str(),
            ) else {
                continue;
            };
            let Some((steps, waits_in)) = script(title) else {
                continue;
            };
            let p = progress.entry(id).or_default();
            if status != waits_in || p.step >= steps.len() {
                continue;
            }
            let (route, body, kind, name) = steps[p.step];
            let key = format!("crash-{id}-{}-{}", p.step, p.key_gen);
            let path = format!("/api/tasks/{id}/{route}");
            match request(&addr, &token, "POST", &path, body, Some(&key)) {
                Some((code, _)) if (200..300).contains(&code) => {
                    sh.acks.lock().unwrap().push(Ack {
                        task: id,
                        goal,
                        kind,
                        step: name,
                        key,
                    });
                    p.step += 1;
                    p.key_gen = 0;
                }
                // Refused (e.g. the state moved on meanwhile): the refusal is what this key
                // now answers, so the next try needs a fresh one.
                Some((code, _)) if (400..500).contains(&code) => p.key_gen += 1,
                // 5xx or a lost connection: maybe applied, maybe not; repeat the same key.
                _ => break,
            }
        }
    }
}

/// One request; `None` when the connection failed (the board may be dead).
pub fn request(
    addr: &str,
    token: &str,
    method: &str,
    path: &str,
    body: &str,
    idem: Option<&str>,
) -> Option<(u16, Value)> {
    let sock: std::net::SocketAddr = addr.parse().ok()?;
    let mut s = TcpStream::connect_timeout(&sock, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nX-Taskboard-Client: crashloop\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(k) = idem {
        req.push_str(&format!("Idempotency-Key: {k}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let code: u16 = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Some((code, serde_json::from_str(body).unwrap_or(Value::Null)))
}
