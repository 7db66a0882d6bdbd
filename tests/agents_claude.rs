//! Claude Code (the real program, installed by tests/tools/install) under the real board,
//! talking to the scripted model server.

#[path = "common/agents.rs"]
mod agents;
mod common;
#[path = "common/model_server.rs"]
mod model_server;

use model_server::{ModelServer, Turn};
use std::time::Duration;

/// By hand: `MODEL_SCRIPT=turns.json MODEL_LOG=requests.jsonl cargo test --test
/// agents_claude model_server_by_hand -- --ignored --nocapture` serves the script for
/// MODEL_SECONDS (default 600) and appends every request to MODEL_LOG. The script is a JSON
/// list of `{"text": "…"}` and `{"tool": NAME, "input": {…}}`.
#[test]
#[ignore]
fn model_server_by_hand() {
    let script: Vec<serde_json::Value> = std::env::var("MODEL_SCRIPT")
        .ok()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("script")).expect("json"))
        .unwrap_or_default();
    let turns = script
        .iter()
        .map(|t| match t["tool"].as_str() {
            Some(name) => Turn::tool(name, t["input"].clone()),
            None => Turn::text(t["text"].as_str().unwrap_or("")),
        })
        .collect();
    let server = ModelServer::start(turns);
    println!("MODEL_URL={}", server.url);
    if let Ok(f) = std::env::var("MODEL_URL_FILE") {
        std::fs::write(f, &server.url).expect("url file");
    }
    let log = std::env::var("MODEL_LOG").unwrap_or_else(|_| "/tmp/model-requests.jsonl".into());
    let secs: u64 = std::env::var("MODEL_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let mut seen = 0;
    for _ in 0..secs * 5 {
        let reqs = server.requests();
        for r in &reqs[seen..] {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .expect("log");
            writeln!(
                f,
                "{}",
                serde_json::json!({"path": r.path, "turn": r.turn, "body": r.body})
            )
            .expect("write");
        }
        seen = reqs.len();
        std::thread::sleep(Duration::from_millis(200));
    }
}
