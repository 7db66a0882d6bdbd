//! Claude Code (the real program, installed by tests/tools/install) under the real board,
//! talking to the scripted model server on 127.0.0.1 with a throw-away HOME.
//!
//! Scenarios 1 and 2 complete through the board's MCP server (`taskboard mcp`,
//! `mcp__taskboard__complete`); the others complete with the `taskboard complete` CLI
//! through Claude's Bash tool, allowed by a config `allow` rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/agents.rs"]
mod agents;
mod common;
#[path = "common/model_server.rs"]
mod model_server;

use agents::AgentRig;
use common::*;
use model_server::{tool_names, user_texts, ModelServer, Turn};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Generous for a program start on a busy 2-core machine; each failure says what it saw.
const START: Duration = Duration::from_secs(60);
const STEP: Duration = Duration::from_secs(30);

/// One agent task on the `claude` profile (the default agent).
fn task(extra: &str) -> String {
    format!("[[task]]\ntitle = \"Work\"\nprompt = \"Do the work.\"\n{extra}\n")
}

/// The allow rule that lets Claude's Bash tool run `taskboard complete` without asking.
fn complete_rule() -> String {
    format!(
        "allow = [{}]\n",
        toml_str(&format!("Bash({BIN} complete:*)"))
    )
}

fn bash(command: &str) -> Turn {
    Turn::tool("Bash", json!({"command": command, "description": "run it"}))
}

/// The last user message of a conversation request, as text.
fn last_user(req: &Value) -> String {
    user_texts(req).last().cloned().unwrap_or_default()
}

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

#[test]
fn claude_completes_through_the_taskboard_mcp_tool() {
    // Needs `taskboard mcp` (issue #13).
    let rig = AgentRig::new(
        vec![
            Turn::tool(
                "mcp__taskboard__complete",
                json!({"summary": "did it through MCP"}),
            ),
            Turn::text("Reported."),
        ],
        "",
        &task(""),
    );
    rig.claude_user(true);
    let live = rig.start();
    let t = rig.wait_task(&live, 2, "done through MCP", START, |t| {
        t["status"] == "done"
    });
    assert_eq!(t["summary"], "did it through MCP");
    // The request the model answered with the call offered the board's tools.
    let turns = rig.server.turns();
    let asked = turns
        .iter()
        .find(|r| {
            tool_names(r)
                .iter()
                .any(|t| t == "mcp__taskboard__complete")
        })
        .unwrap_or_else(|| panic!("never offered the tools:{}", rig.server.summary()));
    let tools = tool_names(asked);
    for name in ["mcp__taskboard__block", "mcp__taskboard__status"] {
        assert!(
            tools.iter().any(|t| t == name),
            "the model was not offered {name}: {tools:?}"
        );
    }
}

#[test]
fn claude_edits_a_file_then_completes_with_review_and_the_diff_shows_it() {
    // Write and committing are allowed by rules, so nothing asks. The review diff is the
    // branch's commits (ARCHITECTURE: base..branch), so the agent commits, as told to.
    let rig = AgentRig::new(
        vec![],
        "allow = [\"Write\", \"Bash(git add:*)\", \"Bash(git commit:*)\"]\n",
        &task(""),
    );
    let file = rig.worktree(2).join("NOTES.md");
    rig.server.push(vec![
        Turn::tool(
            "Write",
            json!({"file_path": file.display().to_string(), "content": "scripted edit\n"}),
        ),
        bash("git add NOTES.md"),
        bash("git commit -q -m 'Add notes'"),
        Turn::tool(
            "mcp__taskboard__complete",
            json!({"summary": "wrote NOTES.md", "review": true}),
        ),
        Turn::text("Ready for review."),
    ]);
    rig.claude_user(true);
    let live = rig.start();
    let t = rig.wait_task(&live, 2, "waiting for review", START, |t| {
        t["status"] == "pending_review" && !t["diff_stat"].is_null()
    });
    assert!(
        t["diff_stat"].as_str().unwrap_or("").contains("NOTES.md"),
        "{t}"
    );
    let patch: String = std::fs::read_dir(rig.s.data().join("diffs"))
        .expect("diffs dir")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(patch.contains("+scripted edit"), "{patch}");
}

#[test]
fn claude_asks_permission_through_the_inbox_allow_and_deny() {
    let rig = AgentRig::new(
        vec![
            bash("echo allowed > allowed.txt"),
            bash("echo denied > denied.txt"),
            bash(&format!(
                "{BIN} complete --summary 'one allowed, one denied'"
            )),
            Turn::text("Finished."),
        ],
        &complete_rule(),
        &task(""),
    );
    rig.claude_user(true);
    let before = agents::snapshot_files(&rig.home.join(".claude"));
    let user_json = std::fs::read_to_string(rig.home.join(".claude.json")).unwrap();
    let live = rig.start();
    let t = rig.wait_task(&live, 2, "the first Bash call held", START, |t| {
        !t["permission"].is_null()
    });
    assert_eq!(
        t["attention"],
        "permission: Bash: echo allowed > allowed.txt"
    );
    let inbox = by_title(&flatten(&rig.s.status()), "Work")["attention"].clone();
    assert_eq!(inbox, "permission: Bash: echo allowed > allowed.txt");
    let out = rig.s.run(&["allow", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = rig.wait_task(&live, 2, "the second Bash call held", STEP, |t| {
        t["permission"]["summary"] == "Bash: echo denied > denied.txt"
    });
    assert!(
        rig.worktree(2).join("allowed.txt").exists(),
        "the allowed command did not run: {t}"
    );
    let out = rig
        .s
        .run(&["deny", "2", "--reason", "no files named denied"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = rig.wait_task(&live, 2, "done through `taskboard complete`", STEP, |t| {
        t["status"] == "done"
    });
    assert_eq!(t["summary"], "one allowed, one denied");
    assert!(
        !rig.worktree(2).join("denied.txt").exists(),
        "a denied command ran"
    );
    // The model heard the denial as the tool's result.
    let turns = rig.server.turns();
    let after_deny = turns
        .iter()
        .find(|r| last_user(r).contains("no files named denied"));
    assert!(
        after_deny.is_some(),
        "the denial never reached the model:{}",
        rig.server.summary()
    );
    let audit = text(&rig.s.run(&["audit", "2"]));
    for want in [
        "permission_asked",
        "\"allow\":true",
        "no files named denied",
        "auto",
    ] {
        assert!(audit.contains(want), "audit lacks {want}: {audit}");
    }
    // The board never wrote the user's Claude configuration.
    assert_eq!(
        agents::snapshot_files(&rig.home.join(".claude"))
            .into_iter()
            .filter(|(p, _)| p.ends_with("settings.json"))
            .collect::<Vec<_>>(),
        before
            .into_iter()
            .filter(|(p, _)| p.ends_with("settings.json"))
            .collect::<Vec<_>>()
    );
    let after: Value =
        serde_json::from_str(&std::fs::read_to_string(rig.home.join(".claude.json")).unwrap())
            .unwrap();
    let was: Value = serde_json::from_str(&user_json).unwrap();
    assert!(
        after.get("mcpServers").is_none() && after.get("hooks").is_none(),
        "{after}"
    );
    assert_eq!(after["customApiKeyResponses"], was["customApiKeyResponses"]);
    let wrote = agents::snapshot_files(&rig.s.data().join("agents/2"));
    let names: Vec<String> = wrote
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        names,
        ["mcp.json", "settings.json"],
        "the board's own files for the session"
    );
}

#[test]
fn request_changes_types_the_comment_into_the_open_claude_session() {
    let rig = AgentRig::new(
        vec![
            bash(&format!("{BIN} complete --summary 'first pass'")),
            Turn::text("Submitted."),
            bash(&format!("{BIN} complete --summary 'second pass'")),
            Turn::text("Submitted again."),
        ],
        &complete_rule(),
        &task("review = true"),
    );
    rig.claude_user(true);
    let live = rig.start();
    rig.wait_task(&live, 2, "waiting for review", START, |t| {
        t["status"] == "pending_review" && t["turn_ended"] == true
    });
    let out = rig.s.run(&[
        "request-changes",
        "2",
        "--comment",
        "Please also add a test",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let turns = rig.wait_turns(2, 3, STEP);
    assert!(
        last_user(&turns[2]).contains("Please also add a test"),
        "the comment is not the next user message: {}",
        last_user(&turns[2])
    );
    let t = rig.wait_task(&live, 2, "reviewed again", STEP, |t| {
        t["status"] == "pending_review" && t["summary"] == "second pass"
    });
    assert_eq!(t["attempt"], 1, "the same session, not a new one: {t}");
}

#[test]
fn kill_9_then_restart_resumes_the_same_claude_conversation() {
    let rig = AgentRig::new(
        vec![
            Turn::text("first answer"),
            Turn::text("second answer"),
            Turn::text("resumed answer"),
        ],
        "",
        &task(""),
    );
    rig.claude_user(true);
    let mut live = rig.start();
    rig.wait_task(&live, 2, "the first turn to end", START, |t| {
        t["turn_ended"] == true
    });
    // Shift+Enter as input mode sends it: a new line in Claude's prompt, not a send.
    let log = rig.s.data().join("logs/2.log");
    let from = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) as usize;
    rig.type_into(&live, 2, "line one\x1b[13;2uline two");
    // Bounded by Claude's echo of what follows the Shift+Enter: once "line two" is drawn,
    // Claude has handled the key before it. (Had it sent the prompt, the next turn below
    // would hold "line one" alone, so that check catches a late request too.)
    let echoed = wait_for(STEP, || {
        let raw = std::fs::read(&log).unwrap_or_default();
        plain(&raw[from.min(raw.len())..]).contains("line two")
    });
    assert!(
        echoed,
        "Claude never echoed the typed text: {}",
        rig.log_tail(2)
    );
    assert_eq!(rig.server.turns().len(), 1, "Shift+Enter sent the prompt");
    rig.type_into(&live, 2, "\r");
    let turns = rig.wait_turns(2, 2, STEP);
    assert!(
        last_user(&turns[1]).contains("line one\nline two"),
        "Shift+Enter did not make a new line: {:?}",
        last_user(&turns[1])
    );
    rig.wait_task(&live, 2, "the second turn to end", STEP, |t| {
        t["turn_ended"] == true
    });
    let session = by_title(&flatten(&rig.s.status()), "Work").clone();
    // Claude Code writes its transcript after its Stop hook: kill -9 only once the second
    // answer is on disk, or there is nothing of it to resume (Claude's loss, not the board's).
    assert!(
        wait_for(STEP, || transcript_has(&rig.home, "second answer")),
        "Claude Code never saved the second answer under {}",
        rig.home.display()
    );
    live.kill9();
    let live = rig.restart();
    let turns = rig.wait_turns(2, 3, START);
    let all = model_server::flatten_text(&turns[2]["messages"]);
    for earlier in [
        "first answer",
        "second answer",
        "line one\nline two",
        "taskboard restarted",
    ] {
        assert!(
            all.contains(earlier),
            "the resumed conversation lacks {earlier:?}: {}",
            last_user(&turns[2])
        );
    }
    let audit = text(&rig.s.run(&["audit", "2"]));
    let resumed = audit
        .lines()
        .find(|l| l.contains("session_started") && l.contains("\"resume\""))
        .unwrap_or_else(|| panic!("no resumed session in the audit: {audit}"));
    assert!(resumed.contains("\"matches\":true"), "{resumed}");
    assert!(session["status"] == "active", "{session}");
    drop(live);
}

#[test]
fn first_run_trust_question_is_flagged_within_a_second() {
    let rig = AgentRig::new(vec![Turn::text("hello")], "", &task(""));
    rig.claude_user(false);
    let live = rig.start();
    let log = rig.s.data().join("logs/2.log");
    let (mut shown, mut flagged) = (None, None);
    let end = Instant::now() + START;
    while Instant::now() < end && flagged.is_none() {
        // The flag first: the log holds the question before the flag is raised, so a log read
        // after a flag seen always finds it (the other order races within one round).
        if rig.task(&live, 2)["attention"]
            .as_str()
            .unwrap_or("")
            .contains("one you trust?")
        {
            flagged = Some(Instant::now());
        }
        let screen = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).to_string();
        if shown.is_none() && screen.contains("trust") {
            shown = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = rig.task(&live, 2);
    let (Some(shown), Some(flagged)) = (shown, flagged) else {
        panic!(
            "the trust question was not flagged: {t}\nscreen: {}",
            rig.log_tail(2)
        );
    };
    assert!(
        flagged.saturating_duration_since(shown) < Duration::from_secs(1),
        "flagged {:?} after it showed",
        flagged.saturating_duration_since(shown)
    );
    assert!(
        t["attention"]
            .as_str()
            .unwrap()
            .starts_with("waiting for input: "),
        "{t}"
    );
    assert!(
        rig.server.turns().is_empty(),
        "nothing may reach the model before trust"
    );
}

#[test]
fn claude_profile_flags_exist_in_the_real_claude() {
    let help = std::process::Command::new(agents::tool("claude"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).to_string();
    let cfg = taskboard::config::Config::default();
    let profile = &taskboard::config::builtin_profiles()["claude"];
    let tmp = tempfile::tempdir().unwrap();
    let wired = taskboard::agent::wiring::prepare(&taskboard::agent::wiring::Wiring {
        integration: taskboard::config::Integration::Claude,
        dir: tmp.path().to_path_buf(),
        exe: std::path::Path::new(BIN),
        permission_wait: cfg.permission_wait().unwrap(),
        codex_home: None,
    })
    .unwrap();
    let args = profile
        .command
        .iter()
        .chain(profile.resume.iter().flatten())
        .chain(&wired.args);
    for flag in args.filter(|a| a.starts_with("--")) {
        assert!(help.contains(flag.as_str()), "claude --help has no {flag}");
    }
}

/// True when a Claude Code transcript (`~/.claude/projects/**/*.jsonl`) under `home` holds
/// `text`.
fn transcript_has(home: &std::path::Path, text: &str) -> bool {
    let mut dirs = vec![home.join(".claude").join("projects")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl")
                && std::fs::read_to_string(&path).is_ok_and(|t| t.contains(text))
            {
                return true;
            }
        }
    }
    false
}

/// Screen output as text: escape sequences become spaces, runs of whitespace one space.
fn plain(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let re =
        regex::Regex::new(r"\x1b\[[0-9;?<>=]*[a-zA-Z~]|\x1b\][^\x07]*\x07|\x1b.").expect("regex");
    re.replace_all(&text, " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
