//! `notify_command` (ARCHITECTURE §4): each new inbox item (a review waiting, an agent that
//! blocked) runs the command with the item as JSON on stdin; the command gets no token and
//! a command that hangs holds up nothing. The real binary, headless, with a real listener.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;

const LONG: Duration = Duration::from_secs(30);

/// The `*.json` items written so far by the notifier below, parsed.
fn items(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).expect("item");
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"))
        })
        .collect();
    out.sort_by_key(|v| v["id"].as_u64());
    out
}

#[test]
fn each_inbox_item_runs_notify_command_with_its_json_and_no_token() {
    let s = Scratch::new();
    let inbox = s.path().join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    // Each run keeps its stdin and environment, then hangs for longer than the test.
    let notifier = format!(
        "f=$(mktemp {dir}/n.XXXXXX); cat > \"$f.tmp\"; env > \"$f.env\"; mv \"$f.tmp\" \"$f.json\"; exec sleep 120",
        dir = inbox.display()
    );
    std::fs::write(
        s.path().join("config.toml"),
        format!(
            "spawns_per_minute = 100\nnotify_command = {}\n",
            toml_str(&notifier)
        ),
    )
    .unwrap();
    let goal = format!(
        "title = \"n\"\nparallel = true\n[[task]]\ntitle = \"look at this\"\nkind = \"human_review\"\n[[task]]\ntitle = \"stuck\"\n{}\n",
        sh_task(&format!("'{BIN}' block --reason 'need an API key'; sleep 60"))
    );
    let f = s.file("n.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(
        wait_for(LONG, || items(&inbox).len() >= 2),
        "{:?}\n{}",
        items(&inbox),
        live.printed()
    );
    let got = items(&inbox);
    assert_eq!(got.len(), 2, "one run per item: {got:?}");
    let (review, stuck) = (id_of(&s, "look at this"), id_of(&s, "stuck"));
    let goal_id = id_of(&s, "n");
    let by_id = |id: u64| {
        got.iter()
            .find(|v| v["id"] == id)
            .unwrap_or_else(|| panic!("no item for #{id}: {got:?}"))
    };
    let r = by_id(review);
    assert_eq!(
        (&r["title"], &r["status"], &r["goal"]),
        (
            &serde_json::json!("look at this"),
            &serde_json::json!("pending_review"),
            &serde_json::json!(goal_id)
        ),
        "{r}"
    );
    let b = by_id(stuck);
    assert_eq!(b["status"], "blocked", "{b}");
    assert!(
        b["reason"]
            .as_str()
            .unwrap_or("")
            .contains("need an API key"),
        "{b}"
    );
    assert!(b["at"].as_u64().is_some(), "{b}");
    // No token reaches the command.
    for e in std::fs::read_dir(&inbox).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "env") {
            let env = std::fs::read_to_string(e.path()).unwrap();
            assert!(!env.contains(&live.token), "the admin token leaked");
            assert!(!env.contains("TASKBOARD_TOKEN="), "{env}");
        }
    }
    // Both notifiers still hang; the board answers at once and decides.
    let started = Instant::now();
    let (code, v) = live.req(
        "POST",
        &format!("/api/tasks/{review}/decision"),
        Some(r#"{"decision":"approve"}"#),
    );
    let took = started.elapsed();
    assert_eq!(code, 200, "{v}");
    assert!(took < Duration::from_secs(1), "approve took {took:?}");
    assert!(wait_status(&s, "look at this", "done", LONG));
    // A decision is not a new inbox item: still two runs.
    let (code, _) = live.req("POST", &format!("/api/tasks/{stuck}/skip"), None);
    assert_eq!(code, 200);
    assert!(wait_status(&s, "stuck", "skipped", LONG));
    assert_eq!(items(&inbox).len(), 2);
}
