//! `taskboard mcp` driven by a real MCP client this project did not write: the official
//! Python SDK (`mcp`, installed by tests/tools/install into a cached virtualenv). The client
//! starts the server with an agent's own environment (TASKBOARD_URL, TASKBOARD_TOKEN,
//! TASKBOARD_TASK_ID, read from a running agent), lists the tools with their schemas and
//! calls them; every tool must change the board exactly as its HTTP twin does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "mcp/support.rs"]
mod support;

use common::*;
use serde_json::{json, Value};
use support::*;

#[test]
fn a_real_mcp_client_sees_the_server_and_five_tools_with_schemas_from_the_rust_types() {
    // Listing needs no board: an environment without any TASKBOARD_ variable will do.
    let out = mcp(&[], json!([]));
    assert_eq!(out["server"]["name"], "taskboard");
    let mut names: Vec<&str> = out["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["artifact", "block", "complete", "status", "subtasks"]
    );
    let schema = |name: &str| -> Value {
        out["tools"]
            .as_array()
            .and_then(|a| a.iter().find(|t| t["name"] == name))
            .map(|t| t["input_schema"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(schema("complete")["required"], json!(["summary"]));
    assert_eq!(
        schema("complete")["properties"]["review"]["type"],
        "boolean"
    );
    assert!(schema("complete")["properties"]["summary"]["description"]
        .as_str()
        .is_some_and(|d| d.contains("what you did")));
    assert_eq!(schema("block")["required"], json!(["reason"]));
    assert_eq!(schema("artifact")["required"], json!(["key", "value"]));
    assert_eq!(schema("status")["type"], "object");
    for name in ["complete", "block", "subtasks", "status", "artifact"] {
        let s = schema(name);
        assert!(
            s["properties"]["task"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("by default the task this session was started for")),
            "{name}: an optional `task`: {s}"
        );
        assert!(
            !s["required"]
                .as_array()
                .is_some_and(|r| r.contains(&json!("task"))),
            "{name}: `task` is optional"
        );
    }
    let sub = schema("subtasks");
    assert_eq!(sub["required"], json!(["tasks"]));
    let item = &sub["$defs"]["NewSubtask"];
    assert_eq!(item["required"], json!(["title", "prompt"]));
    for field in ["key", "kind", "after", "review"] {
        assert!(
            item["properties"][field]["description"].is_string(),
            "{field} has a description: {item}"
        );
    }
    assert_eq!(
        sub["$defs"]["SubtaskKind"]["oneOf"]
            .as_array()
            .map(|v| v
                .iter()
                .filter_map(|k| k["const"].as_str())
                .collect::<Vec<_>>())
            .or_else(|| sub["$defs"]["SubtaskKind"]["enum"]
                .as_array()
                .map(|v| v.iter().filter_map(|k| k.as_str()).collect())),
        Some(vec!["agent", "human_review"])
    );
    assert!(
        out["instructions"]
            .as_str()
            .is_some_and(|i| i.contains("`complete`")),
        "{out}"
    );
}

#[test]
fn each_tool_changes_the_board_as_its_http_twin() {
    let s = Scratch::new();
    let titles = [
        "done mcp",
        "done http",
        "block mcp",
        "block http",
        "split mcp",
        "split http",
        "art mcp",
        "art http",
    ];
    let live = board(&s, &titles);
    let id = |t: &str| id_of(&s, t);

    // complete
    let env = agent_env(&s, id("done mcp"));
    let out = mcp(
        &env,
        json!([{"tool": "complete", "args": {"summary": "fixed the bug"}}]),
    );
    assert_tool_ok(&out, 0);
    assert!(call_text(&out, 0).contains("is done"), "{out}");
    let env_h = agent_env(&s, id("done http"));
    let (code, v) = agent_req(
        &live,
        &env_h,
        "POST",
        &format!("/api/tasks/{}/complete", id("done http")),
        json!({"summary": "fixed the bug"}),
    );
    assert_eq!(code, 200, "{v}");
    let (a, b) = (task(&live, id("done mcp")), task(&live, id("done http")));
    assert_eq!(a["status"], "done", "{a}");
    assert_eq!(outcome(&a), outcome(&b));
    assert!(audit_kinds(&live, id("done mcp")).contains(&("http:mcp".into(), "complete".into())));

    // block
    let out = mcp(
        &agent_env(&s, id("block mcp")),
        json!([{"tool": "block", "args": {"reason": "need an API key"}}]),
    );
    assert_tool_ok(&out, 0);
    let (code, v) = agent_req(
        &live,
        &agent_env(&s, id("block http")),
        "POST",
        &format!("/api/tasks/{}/block", id("block http")),
        json!({"reason": "need an API key"}),
    );
    assert_eq!(code, 200, "{v}");
    let (a, b) = (task(&live, id("block mcp")), task(&live, id("block http")));
    assert_eq!(
        (&a["status"], &a["reason"], &a["attention"]),
        (
            &json!("blocked"),
            &json!("need an API key"),
            &json!("blocked: need an API key")
        )
    );
    assert_eq!(outcome(&a), outcome(&b));

    // subtasks: the split task becomes a group whose children run
    let split = json!([
        {"title": "part one", "prompt": "echo one", "key": "one"},
        {"title": "part two", "prompt": "echo two", "after": ["one"], "kind": "agent"}
    ]);
    let out = mcp(
        &agent_env(&s, id("split mcp")),
        json!([{"tool": "subtasks", "args": {"tasks": split}}]),
    );
    assert_tool_ok(&out, 0);
    assert!(call_text(&out, 0).contains("split into"), "{out}");
    let (code, v) = agent_req(
        &live,
        &agent_env(&s, id("split http")),
        "POST",
        &format!("/api/tasks/{}/subtasks", id("split http")),
        json!({"tasks": split}),
    );
    assert_eq!(code, 201, "{v}");
    assert_eq!(task(&live, id("split mcp"))["kind"], "group");

    // artifact, then status shows it
    let out = mcp(
        &agent_env(&s, id("art mcp")),
        json!([
            {"tool": "artifact", "args": {"key": "pr_url", "value": "https://github.com/o/r/pull/9"}},
            {"tool": "status"}
        ]),
    );
    assert_tool_ok(&out, 0);
    assert_tool_ok(&out, 1);
    let (code, v) = agent_req(
        &live,
        &agent_env(&s, id("art http")),
        "POST",
        &format!("/api/tasks/{}/artifact", id("art http")),
        json!({"key": "pr_url", "value": "https://github.com/o/r/pull/9"}),
    );
    assert_eq!(code, 200, "{v}");
    let (a, b) = (task(&live, id("art mcp")), task(&live, id("art http")));
    assert_eq!(
        a["result"],
        json!({"pr_url": "https://github.com/o/r/pull/9"})
    );
    assert_eq!(outcome(&a), outcome(&b));
    // `status` is the context route's text, read with the agent's own token.
    let env_a = agent_env(&s, id("art mcp"));
    let (code, ctx) = agent_req(
        &live,
        &env_a,
        "GET",
        &format!("/api/tasks/{}/context", id("art mcp")),
        json!({}),
    );
    assert_eq!(code, 200, "{ctx}");
    assert_eq!(
        call_text(&out, 1).trim_end(),
        ctx["text"].as_str().unwrap_or("").trim_end()
    );
    assert!(
        call_text(&out, 1).contains("pr_url: https://github.com/o/r/pull/9"),
        "{out}"
    );

    // Both splits' children run, in order, and finish.
    for t in ["split mcp", "split http"] {
        assert!(
            wait_for(LONG, || task(&live, id(t))["status"] == "done"),
            "{t}: {}",
            task(&live, id(t))
        );
        let g = task(&live, id(t));
        let kids: Vec<&Value> = g["children"].as_array().expect("children").iter().collect();
        assert!(kids.iter().all(|k| k["status"] == "done"), "{g}");
        assert!(
            kids[0]["completed_at"].as_i64() <= kids[1]["started_at"].as_i64(),
            "`after` held: {g}"
        );
    }
    assert_eq!(
        outcome(&task(&live, id("split mcp"))),
        outcome(&task(&live, id("split http")))
    );
}

#[test]
fn a_task_token_calling_a_tool_for_another_task_gets_a_403_tool_error_and_nothing_changes() {
    let s = Scratch::new();
    let live = board(&s, &["mine", "theirs"]);
    let (mine, theirs) = (id_of(&s, "mine"), id_of(&s, "theirs"));
    let before = (task(&live, theirs), audit_kinds(&live, theirs));
    let calls = json!([
        {"tool": "status"},
        {"tool": "artifact", "args": {"key": "k", "value": "v"}},
        {"tool": "block", "args": {"reason": "r"}},
        {"tool": "subtasks", "args": {"tasks": [{"title": "x", "prompt": "y"}]}},
        {"tool": "complete", "args": {"summary": "s"}}
    ]);
    // The other task named by the environment, and by each tool's `task` argument.
    let out = mcp(&with_task(&agent_env(&s, mine), theirs), calls.clone());
    let named: Vec<Value> = calls
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c["args"]["task"] = json!(theirs);
            c
        })
        .collect();
    let out_named = mcp(&agent_env(&s, mine), Value::Array(named));
    let mut calls: Vec<Value> = out["calls"].as_array().expect("calls").clone();
    calls.extend(
        out_named["calls"]
            .as_array()
            .expect("calls")
            .iter()
            .cloned(),
    );
    assert_eq!(calls.len(), 10);
    for c in &calls {
        assert_eq!(c["is_error"], json!(true), "a tool error, not a crash: {c}");
        let t = c["text"].as_str().unwrap_or("");
        assert!(
            t.contains("403") && t.contains("only act on its own task"),
            "{}: {t}",
            c["tool"]
        );
    }
    assert_eq!(
        (task(&live, theirs), audit_kinds(&live, theirs)),
        before,
        "nothing changed on the other task"
    );
    // The same server still serves its own task afterwards.
    let out = mcp(&agent_env(&s, mine), json!([{"tool": "status"}]));
    assert_tool_ok(&out, 0);
    assert!(
        call_text(&out, 0).contains(&format!("Task #{mine} \"mine\"")),
        "{out}"
    );
}

#[test]
fn board_errors_and_an_unreachable_board_are_clear_tool_errors() {
    let s = Scratch::new();
    // "keeper" keeps the goal (and so the headless board) going once "worker" is done.
    let live = board(&s, &["worker", "keeper"]);
    let id = id_of(&s, "worker");
    let env = agent_env(&s, id);
    let out = mcp(
        &env,
        json!([
            {"tool": "complete", "args": {"summary": "first"}},
            {"tool": "complete", "args": {"summary": "second"}},
            {"tool": "artifact", "args": {"key": "bad key", "value": "v"}},
            {"tool": "block", "args": {}}
        ]),
    );
    assert_tool_ok(&out, 0);
    for (i, want) in [
        (
            1,
            format!("the board refused (409): task #{id} cannot complete: it is done"),
        ),
        (
            2,
            "the board refused (400): the artifact key \"bad key\"".to_string(),
        ),
        (3, "reason".to_string()),
    ] {
        assert_eq!(out["calls"][i]["is_error"], json!(true), "{out}");
        assert!(
            call_text(&out, i).contains(&want),
            "call {i}: {}",
            call_text(&out, i)
        );
    }
    assert_eq!(
        task(&live, id)["summary"],
        "first",
        "the refused call changed nothing"
    );

    // The board goes away: every tool says so, and the server keeps answering.
    let url = env_var(&env, "TASKBOARD_URL").to_string();
    drop(live);
    assert!(wait_for(LONG, || std::net::TcpStream::connect(
        url.trim_start_matches("http://")
    )
    .is_err()));
    let out = mcp(
        &env,
        json!([{"tool": "status"}, {"tool": "complete", "args": {"summary": "x"}}]),
    );
    for i in 0..2 {
        assert_eq!(out["calls"][i]["is_error"], json!(true), "{out}");
        assert!(
            call_text(&out, i).contains(&format!("cannot reach the board at {url}")),
            "{}",
            call_text(&out, i)
        );
    }
    // Outside any task (no TASKBOARD_TASK_ID): the tools say how to run it.
    let bare: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k != "TASKBOARD_TASK_ID")
        .cloned()
        .collect();
    let out = mcp(&bare, json!([{"tool": "status"}]));
    assert_eq!(out["calls"][0]["is_error"], json!(true));
    assert!(call_text(&out, 0).contains("--task ID"), "{out}");
}

#[test]
fn status_on_a_later_task_shows_what_its_earlier_siblings_finished_with() {
    let s = Scratch::new();
    std::fs::write(s.config(), "spawns_per_minute = 100\n").expect("config");
    let tb = BIN;
    // #2 finishes through the CLI (with an artifact), #3 through HTTP (curl, its own
    // token), #4 idles so a client can ask for its status.
    let goal = format!(
        "title = \"pipeline\"\n\
         [[task]]\ntitle = \"design\"\n{}\n\
         [[task]]\ntitle = \"implement\"\n{}\n\
         [[task]]\ntitle = \"document\"\n{}\n",
        sh_task(&format!(
            "'{tb}' artifact design_doc docs/design.md && '{tb}' complete --summary 'Chose a queue per worker'"
        )),
        sh_task(
            "curl -sS -X POST -H \"Authorization: Bearer $TASKBOARD_TOKEN\" -H 'Content-Type: application/json' \
             -d '{\"summary\":\"Implemented the queues\",\"artifacts\":{\"branch\":\"feat/queues\"}}' \
             \"$TASKBOARD_URL/api/tasks/$TASKBOARD_TASK_ID/complete\""
        ),
        sh_task(IDLE)
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &["--timeout", "120s"]);
    assert!(
        wait_status(&s, "document", "active", LONG),
        "{}",
        live.printed()
    );
    let id = id_of(&s, "document");
    let out = mcp(&agent_env(&s, id), json!([{"tool": "status"}]));
    assert_tool_ok(&out, 0);
    let status = call_text(&out, 0);
    // Run by hand (no agent environment): --task and the data dir's running board.
    let data = s.data().display().to_string();
    let by_hand = mcp_with(
        &[],
        &["--data-dir", &data, "mcp", "--task", &id.to_string()],
        json!([{"tool": "status"}]),
    );
    assert_tool_ok(&by_hand, 0);
    assert_eq!(call_text(&by_hand, 0), status);
    for want in [
        format!("Task #{id} \"document\" (agent, active)"),
        "Goal #1 \"pipeline\"".to_string(),
        "#2 design [done]".to_string(),
        "summary: Chose a queue per worker".to_string(),
        "design_doc: docs/design.md".to_string(),
        "#3 implement [done, sibling]".to_string(),
        "summary: Implemented the queues".to_string(),
        "branch: feat/queues".to_string(),
        format!("#{id} document [active]  <- this task"),
    ] {
        assert!(status.contains(&want), "missing {want:?} in:\n{status}");
    }
}
