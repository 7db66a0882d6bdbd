//! What an agent without MCP uses to report back and to learn where it stands: the
//! `artifact` and `context` routes and CLI words (with its own task token, as the agent gets
//! it), and the context its first prompt carries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const LONG: Duration = Duration::from_secs(40);

/// A raw GET with a token; (status, content-type, body).
fn get_raw(live: &Live, token: &str, path: &str) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(live.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        live.addr()
    )
    .expect("write");
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let ctype = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    (code, ctype, body.to_string())
}

/// The token the agent of task `id` got (its recorded environment).
fn token_of(s: &Scratch, id: u64) -> String {
    let file = s.path().join(format!("env-{id}.txt"));
    assert!(
        wait_for(LONG, || std::fs::read_to_string(&file)
            .map(|t| t.contains("TASKBOARD_TOKEN="))
            .unwrap_or(false)),
        "agent #{id} did not record its environment"
    );
    std::fs::read_to_string(&file)
        .expect("env")
        .lines()
        .find_map(|l| l.strip_prefix("TASKBOARD_TOKEN="))
        .expect("a token")
        .to_string()
}

fn req_as(live: &Live, token: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    http(
        &live.addr(),
        method,
        path,
        Some(body),
        &[("Authorization", auth.as_str())],
    )
}

/// `design` finishes through the CLI words (artifact, then complete) run by the agent;
/// `build` records its environment and idles; `later` waits.
fn pipeline(s: &Scratch) -> Live {
    let goal = format!(
        "title = \"pipeline\"\n\
         [[task]]\ntitle = \"design\"\n{}\n\
         [[task]]\ntitle = \"build\"\n{}\n\
         [[task]]\ntitle = \"later\"\n{}\n",
        sh_task(&format!(
            "'{BIN}' artifact design_doc docs/design.md > art-out.txt && \
             '{BIN}' complete --summary 'Picked one queue per worker'"
        )),
        sh_task(&format!(
            "env | grep '^TASKBOARD_' > \"env-$TASKBOARD_TASK_ID.txt\"; \
             '{BIN}' context > ctx.txt; '{BIN}' context --json > ctx.json; sleep 120"
        )),
        sh_task("true")
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(s, Some(&f), &["--timeout", "120s"]);
    assert!(
        wait_status(s, "build", "active", LONG),
        "{}",
        live.printed()
    );
    live
}

#[test]
fn the_context_route_and_word_show_where_a_task_stands_in_text_and_json() {
    let s = Scratch::new();
    let live = pipeline(&s);
    let (design, build, later) = (id_of(&s, "design"), id_of(&s, "build"), id_of(&s, "later"));
    assert_eq!(
        s.read("art-out.txt").trim(),
        format!("#{design} artifact design_doc stored (later prompts: {{result.design_doc}})")
    );
    let token = token_of(&s, build);

    // JSON (the default), with the agent's own token.
    let (code, v) = req_as(
        &live,
        &token,
        "GET",
        &format!("/api/tasks/{build}/context"),
        "",
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        (v["id"].as_u64(), v["status"].as_str()),
        (Some(build), Some("active"))
    );
    assert_eq!(v["goal"]["title"], "pipeline");
    assert_eq!(v["finished"][0]["id"], design);
    assert_eq!(v["finished"][0]["summary"], "Picked one queue per worker");
    assert_eq!(
        v["finished"][0]["result"],
        json!({"design_doc": "docs/design.md"})
    );
    assert_eq!(v["siblings"][2]["id"], later);
    let ctx_text = v["text"].as_str().expect("text").to_string();
    for want in [
        format!("Task #{build} \"build\" (agent, active)"),
        format!("#{design} design [done]"),
        "summary: Picked one queue per worker".into(),
        "design_doc: docs/design.md".into(),
        format!("#{later} later [pending]"),
    ] {
        assert!(ctx_text.contains(&want), "missing {want:?}:\n{ctx_text}");
    }
    // The text form is the same text.
    let (code, ctype, body) = get_raw(
        &live,
        &token,
        &format!("/api/tasks/{build}/context?format=text"),
    );
    assert_eq!((code, ctype.as_str()), (200, "text/plain; charset=utf-8"));
    assert_eq!(body, ctx_text);
    // What the agent's own `taskboard context` printed (run inside it, env only).
    assert!(
        wait_for(LONG, || s.read("ctx.json").contains("\"text\"")),
        "{}",
        s.read("ctx.txt")
    );
    assert_eq!(s.read("ctx.txt"), ctx_text);
    let cli_json: Value = serde_json::from_str(&s.read("ctx.json")).expect("context --json");
    assert_eq!(cli_json["finished"], v["finished"]);

    // Scope and bad input.
    let (code, _) = req_as(
        &live,
        &token,
        "GET",
        &format!("/api/tasks/{design}/context"),
        "",
    );
    assert_eq!(code, 403, "another task's context");
    let (code, v) = live.req("GET", "/api/tasks/99/context", None);
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{v}"
    );
    let (code, v) = live.req(
        "GET",
        &format!("/api/tasks/{build}/context?format=xml"),
        None,
    );
    assert_eq!(
        (code, v["error"]["field"].as_str()),
        (400, Some("format")),
        "{v}"
    );

    // With no board running, the word reads the store.
    drop(live);
    let out = s.run(&["context", "--task", &build.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let offline = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        offline.contains("summary: Picked one queue per worker"),
        "{offline}"
    );
    let out = s.run(&["context", "--task", "99"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no task #99"), "{}", text(&out));
}

#[test]
fn the_artifact_route_and_word_store_results_within_the_task_tokens_scope() {
    let s = Scratch::new();
    let live = pipeline(&s);
    let (design, build) = (id_of(&s, "design"), id_of(&s, "build"));
    let token = token_of(&s, build);
    let path = format!("/api/tasks/{build}/artifact");
    let (code, v) = req_as(
        &live,
        &token,
        "POST",
        &path,
        r#"{"key":"pr_url","value":"https://github.com/o/r/pull/3"}"#,
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        v["artifacts"],
        json!({"pr_url": "https://github.com/o/r/pull/3"})
    );
    // Any JSON value may be stored over HTTP.
    let (code, v) = req_as(
        &live,
        &token,
        "POST",
        &path,
        r#"{"key":"tests","value":{"passed":41}}"#,
    );
    assert_eq!(code, 200, "{v}");
    let before = live.req("GET", &format!("/api/tasks/{build}"), None).1;
    assert_eq!(before["result"]["tests"]["passed"], 41);
    for (body, code, field) in [
        (r#"{"key":"a b","value":"x"}"#, 400, "key"),
        (r#"{"key":"","value":"x"}"#, 400, "key"),
        (r#"{"key":"k"}"#, 400, "value"),
        (r#"{"value":"x"}"#, 400, "key"),
    ] {
        let (c, v) = req_as(&live, &token, "POST", &path, body);
        assert_eq!(
            (c, v["error"]["field"].as_str()),
            (code, Some(field)),
            "{body}: {v}"
        );
    }
    let (c, _) = req_as(
        &live,
        &token,
        "POST",
        &format!("/api/tasks/{design}/artifact"),
        r#"{"key":"k","value":"x"}"#,
    );
    assert_eq!(c, 403, "another task");
    let (c, v) = live.req(
        "POST",
        &format!("/api/tasks/{design}/artifact"),
        Some(r#"{"key":"k","value":"x"}"#),
    );
    assert_eq!(
        (c, v["error"]["status"].as_str()),
        (409, Some("done")),
        "{v}"
    );
    assert_eq!(
        live.req("GET", &format!("/api/tasks/{build}"), None).1,
        before,
        "refusals changed nothing"
    );
    // The CLI word checks the key before it calls.
    let out = s
        .cmd(&["artifact", "--task", &build.to_string(), "bad key", "v"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("use letters, digits"), "{}", text(&out));
}

#[test]
fn a_profile_agents_first_prompt_carries_where_its_task_stands() {
    let s = Scratch::new();
    // A profile agent that keeps the prompt it was started with, then finishes through the
    // CLI, leaving an artifact for the next task.
    std::fs::write(
        s.config(),
        format!(
            "spawns_per_minute = 100\n[agents.rec]\ncommand = [\"sh\", \"-c\", {}, \"sh\", \"{{prompt}}\"]\n",
            toml_str(&format!(
                "printf '%s' \"$1\" > \"prompt-$TASKBOARD_TASK_ID.txt\"; \
                 '{BIN}' artifact notes \"notes-$TASKBOARD_TASK_ID.md\" >/dev/null; \
                 '{BIN}' complete --summary \"finished $TASKBOARD_TASK_ID\" >/dev/null"
            ))
        ),
    )
    .expect("config");
    let goal = "title = \"greeting\"\nagent = \"rec\"\nworktree = false\n\
        [[task]]\ntitle = \"plan\"\nprompt = \"Plan the greeting\"\n\
        [[task]]\ntitle = \"write\"\nprompt = \"Write it, following {result.notes}\"\n";
    let f = s.file("g.toml", goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "40s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let first = s.read("prompt-2.txt");
    assert!(
        first.starts_with("Plan the greeting\n\nWhere this task stands (taskboard):\n"),
        "{first}"
    );
    assert!(
        first.contains("- You are task #2 \"plan\" of goal #1 \"greeting\"."),
        "{first}"
    );
    assert!(
        first.contains("- Other tasks of this group (in order): #3 write (pending)"),
        "{first}"
    );
    let second = s.read("prompt-3.txt");
    // The board's executable by its absolute path, as an agent whose shell resets PATH needs.
    let done = format!(
        "When you are done, run: {} complete --task 3",
        s.data().join("bin/taskboard").display()
    );
    for want in [
        "Write it, following notes-2.md\n\nWhere this task stands (taskboard):\n",
        "- Finished: #2 plan (done): finished 2 [artifacts: notes=notes-2.md]",
        done.as_str(),
        "the taskboard MCP tools",
    ] {
        assert!(second.contains(want), "missing {want:?} in:\n{second}");
    }
}
