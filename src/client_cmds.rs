//! The CLI words that talk to a running board through its listener.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::cli::Cmd;
use crate::datadir::DataDir;
use crate::failure::Failure;
use crate::http::client::{Client, ClientError};

fn fail(e: ClientError) -> Failure {
    Failure {
        message: e.to_string(),
        code: 1,
    }
}

fn rt() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the runtime: {e}")))
}

fn call(client: &Client, method: &str, path: &str, body: Option<Value>) -> Result<Value, Failure> {
    rt()?
        .block_on(client.call(method, path, body.as_ref(), None))
        .map_err(fail)
}

/// Runs a client word; `None` when `cmd` is not one.
pub fn run(data: &DataDir, cmd: &Cmd) -> Option<Result<i32, Failure>> {
    let result = match cmd {
        Cmd::Add { file, vars } => add(data, file, vars),
        Cmd::Signal {
            task,
            gate,
            repo,
            pr,
            pr_url,
            status,
            payload,
        } => signal(
            data,
            *task,
            gate.as_deref(),
            repo.as_deref(),
            *pr,
            pr_url.as_deref(),
            status,
            payload.as_deref(),
        ),
        Cmd::Complete {
            task,
            summary,
            review,
        } => post(
            data,
            &format!("/api/tasks/{task}/complete"),
            json!({"summary": summary, "review": review}),
        ),
        Cmd::Block { task, reason } => post(
            data,
            &format!("/api/tasks/{task}/block"),
            json!({"reason": reason}),
        ),
        Cmd::Subtasks { task, file } => subtasks(data, *task, file),
        Cmd::Artifact { task, key, value } => artifact(data, *task, key, value),
        Cmd::Context { task, json } => context(data, *task, *json),
        Cmd::Approve { id, comment } => decide(data, *id, "approve", comment.as_deref()),
        Cmd::Reject { id, comment } => decide(data, *id, "reject", Some(comment)),
        Cmd::RequestChanges { id, comment } => decide(data, *id, "request_changes", Some(comment)),
        Cmd::Allow { id } => permission(data, *id, true, None),
        Cmd::Deny { id, reason } => permission(data, *id, false, reason.as_deref()),
        Cmd::Hook { agent, args } => Ok(crate::hook_cmd::run(data, agent, args)),
        Cmd::Retry { id } => post(data, &format!("/api/tasks/{id}/retry"), json!({})),
        Cmd::Skip { id } => post(data, &format!("/api/tasks/{id}/skip"), json!({})),
        Cmd::Stop { id } => post(data, &format!("/api/tasks/{id}/stop"), json!({})),
        Cmd::Delete { id } => Client::discover(data)
            .map_err(fail)
            .and_then(|c| call(&c, "DELETE", &format!("/api/tasks/{id}"), None))
            .map(|v| {
                println!(
                    "deleted {} task(s)",
                    v["deleted"].as_array().map(Vec::len).unwrap_or(0)
                );
                0
            }),
        Cmd::Audit { id } => audit(data, *id),
        Cmd::Land {
            id,
            into,
            strategy,
            pr,
        } => land(data, *id, into.as_deref(), strategy.as_deref(), *pr),
        Cmd::Pause => post(data, "/api/pause", json!({})),
        Cmd::Resume => post(data, "/api/resume", json!({})),
        _ => return None,
    };
    Some(result)
}

/// Prints the task's new status (or the reply) after a write.
fn post(data: &DataDir, path: &str, body: Value) -> Result<i32, Failure> {
    let client = Client::discover(data).map_err(fail)?;
    let v = call(&client, "POST", path, Some(body))?;
    match (v["id"].as_u64(), v["status"].as_str()) {
        (Some(id), Some(status)) => println!("#{id} {status}"),
        _ => println!("{v}"),
    }
    Ok(0)
}

fn land(
    data: &DataDir,
    id: u64,
    into: Option<&str>,
    strategy: Option<&str>,
    pr: bool,
) -> Result<i32, Failure> {
    let client = Client::discover(data).map_err(fail)?;
    let body = json!({"into": into, "strategy": strategy, "pr": pr});
    let v = call(
        &client,
        "POST",
        &format!("/api/tasks/{id}/land"),
        Some(body),
    )?;
    let into = v["into"].as_str().unwrap_or("the checked-out branch");
    let how = if pr {
        "a pull request into"
    } else {
        "landing on"
    };
    println!(
        "#{} {how} {into} (`taskboard status` shows how it goes)",
        v["id"]
    );
    Ok(0)
}

fn decide(data: &DataDir, id: u64, decision: &str, comment: Option<&str>) -> Result<i32, Failure> {
    post(
        data,
        &format!("/api/tasks/{id}/decision"),
        json!({"decision": decision, "comment": comment}),
    )
}

fn permission(data: &DataDir, id: u64, allow: bool, reason: Option<&str>) -> Result<i32, Failure> {
    let client = Client::discover(data).map_err(fail)?;
    call(
        &client,
        "POST",
        &format!("/api/tasks/{id}/permission"),
        Some(json!({"allow": allow, "reason": reason})),
    )?;
    println!("#{id} {}", if allow { "allowed" } else { "denied" });
    Ok(0)
}

#[allow(clippy::too_many_arguments)]
fn signal(
    data: &DataDir,
    task: Option<u64>,
    gate: Option<&str>,
    repo: Option<&str>,
    pr: Option<u64>,
    pr_url: Option<&str>,
    status: &str,
    payload: Option<&str>,
) -> Result<i32, Failure> {
    let payload: Value = match payload {
        Some(p) => serde_json::from_str(p)
            .map_err(|e| Failure::usage(format!("--payload is not JSON: {e}")))?,
        None => Value::Null,
    };
    let client = Client::discover(data).map_err(fail)?;
    match (task, gate) {
        (Some(id), _) => {
            let v = call(
                &client,
                "POST",
                &format!("/api/tasks/{id}/signal"),
                Some(json!({"status": status, "payload": payload})),
            )?;
            println!("#{id} {}", v["status"].as_str().unwrap_or("signalled"));
            Ok(0)
        }
        (None, Some(gate)) => {
            let body = json!({"gate": gate, "repo": repo, "pr": pr, "pr_url": pr_url, "status": status, "payload": payload});
            let v = call(&client, "POST", "/api/signals/resolve", Some(body))?;
            let ids: Vec<String> = v["matched"]
                .as_array()
                .map(|a| a.iter().map(|x| format!("#{x}")).collect())
                .unwrap_or_default();
            if ids.is_empty() {
                println!("no waiting signal task matched");
                Ok(1)
            } else {
                println!("resolved {}", ids.join(", "));
                Ok(0)
            }
        }
        (None, None) => Err(Failure::usage("give --task ID or --gate G")),
    }
}

fn audit(data: &DataDir, id: u64) -> Result<i32, Failure> {
    let client = Client::discover(data).map_err(fail)?;
    let v = call(&client, "GET", &format!("/api/tasks/{id}/audit"), None)?;
    let events: Vec<crate::board::AuditEvent> = serde_json::from_value(v["events"].clone())
        .map_err(|e| Failure {
            message: format!("the board answered an audit trail this version cannot read: {e}"),
            code: 1,
        })?;
    for e in &events {
        println!("{}", crate::view::audit_line(e));
    }
    Ok(0)
}

/// Adds to the running board, or (none running) straight into the store.
fn add(data: &DataDir, file: &Path, vars: &[(String, String)]) -> Result<i32, Failure> {
    let vars: BTreeMap<String, String> = vars.iter().cloned().collect();
    let mut goal = crate::goalfile::load_file(file, &vars).map_err(Failure::usage)?;
    crate::git::fill_signal_repos(&mut goal);
    match Client::discover(data) {
        Ok(client) => {
            let body = crate::goalfile::json_body(file, &vars).map_err(Failure::usage)?;
            let v = call(&client, "POST", "/api/goals", Some(body))?;
            println!("goal #{} added", v["id"]);
            Ok(0)
        }
        Err(ClientError::NotRunning(_)) => {
            let id = crate::driver::add_offline(data, goal)?;
            println!(
                "goal #{id} added to {} (no board runs: it starts with the next `taskboard run`)",
                data.root.display()
            );
            Ok(0)
        }
        Err(e) => Err(fail(e)),
    }
}

fn artifact(data: &DataDir, task: u64, key: &str, value: &str) -> Result<i32, Failure> {
    if let Some(problem) = crate::board::artifacts::key_problem(key) {
        return Err(Failure::usage(problem));
    }
    let client = Client::discover(data).map_err(fail)?;
    call(
        &client,
        "POST",
        &format!("/api/tasks/{task}/artifact"),
        Some(json!({"key": key, "value": value})),
    )?;
    println!("#{task} artifact {key} stored (later prompts: {{result.{key}}})");
    Ok(0)
}

/// Where a task stands, from the running board; with none running, from the store.
fn context(data: &DataDir, task: u64, as_json: bool) -> Result<i32, Failure> {
    let v = match Client::discover(data) {
        Ok(client) => call(&client, "GET", &format!("/api/tasks/{task}/context"), None)?,
        Err(ClientError::NotRunning(_)) => offline_context(data, task)?,
        Err(e) => return Err(fail(e)),
    };
    if as_json {
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!("{}", v["text"].as_str().unwrap_or_default());
    }
    Ok(0)
}

fn offline_context(data: &DataDir, task: u64) -> Result<Value, Failure> {
    let missing = || Failure {
        message: format!("no task #{task} in {}", data.root.display()),
        code: 1,
    };
    if !data.db().exists() {
        return Err(missing());
    }
    let store = crate::store::Store::open_read_only(&data.db()).map_err(Failure::usage)?;
    let board = crate::board::Board::from_tasks(store.load_tasks().map_err(Failure::usage)?, false);
    board.context(task).map(|c| c.json()).ok_or_else(missing)
}

/// Reads a subtasks file (TOML `[[task]]` or JSON `{"tasks": [...]}`, `-` for stdin).
fn subtasks(data: &DataDir, task: u64, file: &Path) -> Result<i32, Failure> {
    let text = if file == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", file.display())))?
    };
    let body: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => {
            let table: toml::Table = toml::from_str(&text).map_err(|e| {
                Failure::usage(format!(
                    "{}: not JSON or TOML: {}",
                    file.display(),
                    e.message()
                ))
            })?;
            json!({"tasks": table.get("task").cloned().map(|t| serde_json::to_value(t).unwrap_or(Value::Null)).unwrap_or(Value::Null)})
        }
    };
    crate::goalfile::parse_subtasks(&body)
        .map_err(|e| Failure::usage(format!("{}: {}", file.display(), e.message())))?;
    let client = Client::discover(data).map_err(fail)?;
    let v = call(
        &client,
        "POST",
        &format!("/api/tasks/{task}/subtasks"),
        Some(body),
    )?;
    let ids: Vec<String> = v["children"]
        .as_array()
        .map(|a| a.iter().map(|x| format!("#{x}")).collect())
        .unwrap_or_default();
    println!("#{task} split into {}", ids.join(", "));
    Ok(0)
}
