//! Helpers of tests/mcp.rs: a board of idle agents whose environments the tests read, and
//! the Python MCP client run with such an environment.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;

pub const LONG: Duration = Duration::from_secs(40);

/// What an idle agent runs: it records its environment beside the data dir, then waits.
pub const IDLE: &str =
    "env | grep '^TASKBOARD_' > \"$TASKBOARD_HOME/../env-$TASKBOARD_TASK_ID.txt\"; sleep 120";

/// An agent task that records its environment and then idles, so tests can act as it.
pub fn idle_agent(title: &str) -> String {
    format!("[[task]]\ntitle = \"{title}\"\n{}\n", sh_task(IDLE))
}

/// A running board whose goal runs these agents in parallel (up to 12 at once). Tasks an
/// agent adds run their prompt with `sh -c` (the `shell` profile) in a worktree.
pub fn board(s: &Scratch, titles: &[&str]) -> Live {
    git_repo(&s.path().join("repo"));
    std::fs::write(
        s.config(),
        "spawns_per_minute = 100\nmax_agents = 12\ndefault_agent = \"shell\"\n",
    )
    .expect("config");
    let mut goal = String::from("title = \"mcp\"\nrepo = \"repo\"\nparallel = true\n");
    for t in titles {
        goal.push_str(&idle_agent(t));
    }
    let f = s.file("g.toml", &goal);
    let live = Live::start(s, Some(&f), &["--timeout", "120s"]);
    for t in titles {
        assert!(wait_status(s, t, "active", LONG), "{t} never started");
    }
    live
}

/// The environment the agent of task `id` was given (waits for its file), as an MCP host
/// inside that agent would pass it on. Without `TASKBOARD_MARK`: that marks the processes of
/// the agent's session, which the board stops with it, and the test's client is not one.
pub fn agent_env(s: &Scratch, id: u64) -> Vec<(String, String)> {
    let file = s.path().join(format!("env-{id}.txt"));
    assert!(
        wait_for(LONG, || std::fs::read_to_string(&file)
            .map(|t| t.contains("TASKBOARD_TOKEN="))
            .unwrap_or(false)),
        "agent #{id} did not record its environment"
    );
    std::fs::read_to_string(&file)
        .expect("env file")
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| *k != "TASKBOARD_MARK" && *k != "TASKBOARD_PROMPT")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn env_var<'a>(env: &'a [(String, String)], k: &str) -> &'a str {
    env.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{k} not in the agent's environment"))
}

/// Runs the Python MCP client with this environment against `taskboard mcp`; its JSON.
pub fn mcp(env: &[(String, String)], calls: Value) -> Value {
    mcp_with(env, &["mcp"], calls)
}

/// The same with the server's own arguments (`taskboard ARGS…`).
pub fn mcp_with(env: &[(String, String)], args: &[&str], calls: Value) -> Value {
    let client = tools::mcp_client();
    let mut cmd = Command::new(&client.python);
    cmd.arg(&client.script)
        .arg(calls.to_string())
        .arg(BIN)
        .args(args)
        .env_remove("TASKBOARD_URL")
        .env_remove("TASKBOARD_TOKEN")
        .env_remove("TASKBOARD_TASK_ID")
        .env_remove("TASKBOARD_HOME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the MCP client");
    assert!(
        out.status.success(),
        "the MCP client failed:\n{}",
        text(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("client output is not JSON ({e}):\n{}", text(&out)))
}

/// The agent environment with another task id (the token stays the agent's own).
pub fn with_task(env: &[(String, String)], id: u64) -> Vec<(String, String)> {
    let mut e: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k != "TASKBOARD_TASK_ID")
        .cloned()
        .collect();
    e.push(("TASKBOARD_TASK_ID".into(), id.to_string()));
    e
}

/// One request with an agent's own token.
pub fn agent_req(
    live: &Live,
    env: &[(String, String)],
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let auth = format!("Bearer {}", env_var(env, "TASKBOARD_TOKEN"));
    http(
        &live.addr(),
        method,
        path,
        Some(&body.to_string()),
        &[("Authorization", auth.as_str())],
    )
}

pub fn task(live: &Live, id: u64) -> Value {
    let (code, v) = live.req("GET", &format!("/api/tasks/{id}"), None);
    assert_eq!(code, 200, "{v}");
    v
}

pub fn audit_kinds(live: &Live, id: u64) -> Vec<(String, String)> {
    let (code, v) = live.req("GET", &format!("/api/tasks/{id}/audit"), None);
    assert_eq!(code, 200, "{v}");
    v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["who"].as_str().unwrap_or("").to_string(),
                e["kind"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The fields a tool and its HTTP twin must leave alike.
pub fn outcome(t: &Value) -> Value {
    let children: Vec<Value> = t["children"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|x| json!({"title": x["title"], "kind": x["kind"]}))
                .collect()
        })
        .unwrap_or_default();
    json!({"status": t["status"], "kind": t["kind"], "reason": t["reason"],
           "attention": t["attention"], "summary": t["summary"], "result": t["result"],
           "children": children})
}

pub fn call_text(out: &Value, i: usize) -> &str {
    out["calls"][i]["text"].as_str().unwrap_or("")
}

pub fn assert_tool_ok(out: &Value, i: usize) {
    let c = &out["calls"][i];
    assert_eq!(c["is_error"], json!(false), "call {i} failed: {c}");
}
