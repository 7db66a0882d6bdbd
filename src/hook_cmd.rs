//! `taskboard hook AGENT`: the command an agent's hooks run. It relays what the agent
//! reports to `POST /api/tasks/$TASKBOARD_TASK_ID/hook` with the agent's own task token
//! (from its environment, never from a file) and prints the board's answer for a held tool
//! call. It never fails the agent: any problem is one line on stderr and exit 0, so the
//! agent goes on as if it had no hook (for a permission: it asks in its pane).

use std::io::Read;

use serde_json::{json, Value};

use crate::datadir::DataDir;
use crate::http::client::Client;

/// Runs the relay; the exit code is always 0.
pub fn run(data: &DataDir, agent: &str, args: &[String]) -> i32 {
    if let Err(e) = relay(data, agent, args) {
        eprintln!("taskboard hook: {e}");
    }
    0
}

fn relay(data: &DataDir, agent: &str, args: &[String]) -> Result<(), String> {
    let payload = match agent {
        "claude" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read the hook input: {e}"))?;
            serde_json::from_str(&s).map_err(|e| format!("the hook input is not JSON: {e}"))?
        }
        "codex" => match args.last() {
            Some(a) => serde_json::from_str(a)
                .map_err(|e| format!("the notify argument is not JSON: {e}"))?,
            None => Value::Null,
        },
        _ => Value::Null,
    };
    let task: u64 = std::env::var("TASKBOARD_TASK_ID")
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or("TASKBOARD_TASK_ID is not set: not running under taskboard")?;
    let client = Client::discover(data)
        .map_err(|e| e.to_string())?
        .named("hook");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let body = json!({"agent": agent, "payload": payload});
    let answer = rt
        .block_on(client.call(
            "POST",
            &format!("/api/tasks/{task}/hook"),
            Some(&body),
            None,
        ))
        .map_err(|e| e.to_string())?;
    if !answer["output"].is_null() {
        println!("{}", answer["output"]);
    }
    Ok(())
}
