//! Agents' hooks into the board, through the real `taskboard hook` relay and listener, with
//! a shell agent standing in for the program (the real programs are in agents_*.rs):
//! needs you / working / turn ended, a held tool call answered by CLI, HTTP, a rule or
//! nobody, and a held call across a board restart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A board with one shell agent task that saves its environment and waits.
struct Rig {
    s: Scratch,
    live: Live,
    task: u64,
    env: Vec<(String, String)>,
}

fn rig(config: &str) -> Rig {
    let s = Scratch::new();
    std::fs::write(
        s.path().join("config.toml"),
        format!("spawns_per_minute = 100\n{config}"),
    )
    .unwrap();
    let goal = s.file(
        "g.toml",
        &format!(
            "title = \"Hooks\"\n[[task]]\ntitle = \"Agent\"\n{}\n",
            sh_task("env | grep ^TASKBOARD_ > agent.env; sleep 60")
        ),
    );
    let live = Live::start(&s, Some(&goal), &[]);
    assert!(
        wait_for(Duration::from_secs(10), || s
            .read("agent.env")
            .contains("TASKBOARD_TOKEN")),
        "the agent did not start: {}",
        live.printed()
    );
    let env: Vec<(String, String)> = s
        .read("agent.env")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let task = id_of(&s, "Agent");
    Rig { s, live, task, env }
}

impl Rig {
    /// `taskboard hook AGENT ARGS…` as the agent would run it: its environment, `stdin` piped.
    fn hook(&self, agent: &str, args: &[&str], stdin: &str) -> std::process::Child {
        let mut c = Command::new(BIN)
            .arg("hook")
            .arg(agent)
            .args(args)
            .env_remove("TASKBOARD_HOME")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("taskboard hook");
        c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        c
    }

    fn claude(&self, payload: Value) -> (i32, String, String) {
        let out = self
            .hook("claude", &[], &payload.to_string())
            .wait_with_output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    fn task(&self) -> Value {
        let (code, v) = self
            .live
            .req("GET", &format!("/api/tasks/{}", self.task), None);
        assert_eq!(code, 200, "{v}");
        v
    }

    fn wait_task(&self, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        let ok = wait_for(Duration::from_secs(10), || f(&self.task()));
        let t = self.task();
        assert!(ok, "{what}: task is {t}");
        t
    }
}

fn permission_request(cmd: &str) -> Value {
    json!({"session_id": "s", "hook_event_name": "PermissionRequest", "tool_name": "Bash",
           "tool_input": {"command": cmd, "description": "d"}})
}

#[test]
fn hooks_say_needs_you_working_and_turn_ended() {
    let r = rig("");
    let (code, out, err) = r.claude(json!({"hook_event_name": "Notification", "message": "Claude is waiting for your input", "notification_type": "idle_prompt"}));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let t = r.wait_task("notification", |t| {
        t["attention"] == "Claude is waiting for your input"
    });
    assert_eq!(t["status"], "active");
    r.claude(json!({"hook_event_name": "UserPromptSubmit", "prompt": "go"}));
    r.wait_task("prompt submitted", |t| t["attention"].is_null());
    r.claude(json!({"hook_event_name": "Stop", "stop_hook_active": false}));
    let t = r.wait_task("stop", |t| t["turn_ended"] == true);
    assert_eq!(t["status"], "active", "a turn's end is not the task's end");
    r.claude(json!({"hook_event_name": "SessionStart", "session_id": "abc", "source": "startup"}));
    let (_, audit) = r
        .live
        .req("GET", &format!("/api/tasks/{}/audit", r.task), None);
    assert!(
        audit.to_string().contains("session_started") && audit.to_string().contains("\"abc\""),
        "{audit}"
    );
    // Codex's notify hands its JSON as the last argument.
    r.claude(json!({"hook_event_name": "UserPromptSubmit", "prompt": "again"}));
    r.wait_task("working again", |t| t["turn_ended"] == false);
    let out = r
        .hook(
            "codex",
            &[r#"{"type":"agent-turn-complete","last-assistant-message":"x"}"#],
            "",
        )
        .wait_with_output()
        .unwrap();
    assert!(out.status.success());
    r.wait_task("codex turn end", |t| t["turn_ended"] == true);
    // aider's notifications command says it waits for input.
    r.hook("aider", &[], "").wait_with_output().unwrap();
    r.wait_task("aider notification", |t| {
        t["attention"]
            .as_str()
            .unwrap_or("")
            .contains("aider is waiting")
    });
}

#[test]
fn a_held_tool_call_is_answered_from_the_cli_and_audited() {
    let r = rig("");
    let hook = r.hook(
        "claude",
        &[],
        &permission_request("rm -rf build").to_string(),
    );
    let t = r.wait_task("held call in the inbox", |t| !t["permission"].is_null());
    assert_eq!(t["attention"], "permission: Bash: rm -rf build");
    assert_eq!(t["permission"]["summary"], "Bash: rm -rf build");
    let out =
        r.s.run(&["deny", &r.task.to_string(), "--reason", "not the build dir"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = hook.wait_with_output().unwrap();
    let printed: Value = serde_json::from_slice(&out.stdout).expect("the hook prints JSON");
    assert_eq!(
        printed,
        json!({"hookSpecificOutput": {"hookEventName": "PermissionRequest",
               "decision": {"behavior": "deny", "message": "not the build dir"}}})
    );
    let t = r.task();
    assert!(t["permission"].is_null() && t["attention"].is_null(), "{t}");
    // Allow, this time over HTTP.
    let hook = r.hook("claude", &[], &permission_request("ls").to_string());
    r.wait_task("second held call", |t| !t["permission"].is_null());
    let path = format!("/api/tasks/{}/permission", r.task);
    let (code, v) = r.live.req("POST", &path, Some(r#"{"allow":true}"#));
    assert_eq!(code, 200, "{v}");
    let out = hook.wait_with_output().unwrap();
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed["hookSpecificOutput"]["decision"],
        json!({"behavior": "allow"})
    );
    // Nothing held now: a late answer is refused and changes nothing.
    let (code, v) = r.live.req("POST", &path, Some(r#"{"allow":false}"#));
    assert_eq!(code, 409, "{v}");
    let (code, v) = r.live.req("POST", &path, Some(r#"{"allow":"yes"}"#));
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["error"]["field"], "allow");
    let out = r.s.run(&["audit", &r.task.to_string()]);
    let audit = text(&out);
    assert!(audit.contains("permission_asked"), "{audit}");
    assert!(
        audit.contains("cli")
            && audit.contains("not the build dir")
            && audit.contains("\"allow\":true"),
        "{audit}"
    );
}

#[test]
fn allow_rules_answer_without_asking_and_nobody_answering_leaves_it_to_the_pane() {
    let r = rig("allow = [\"Bash(cargo test:*)\"]\npermission_wait = \"1s\"\n");
    let started = Instant::now();
    let (code, out, err) = r.claude(permission_request("cargo test --lib"));
    assert_eq!(code, 0, "{err}");
    let printed: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        printed["hookSpecificOutput"]["decision"]["behavior"],
        "allow"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        r.task()["permission"].is_null(),
        "an allowed call is never held"
    );
    let (_, audit) = r
        .live
        .req("GET", &format!("/api/tasks/{}/audit", r.task), None);
    let auto = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "permission")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(auto["who"], "auto", "{audit}");
    assert_eq!(auto["payload"]["rule"], "Bash(cargo test:*)");
    // A chained command is not what the rule allows: it is held, and with no answer in
    // `permission_wait` the hook prints nothing (Claude Code then asks in its pane).
    let started = Instant::now();
    let (code, out, _) = r.claude(permission_request("cargo test && rm -rf /"));
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(started.elapsed() >= Duration::from_secs(1));
    let t = r.task();
    assert!(t["permission"].is_null());
    assert_eq!(
        t["attention"],
        "permission (answer in the pane): Bash: cargo test && rm -rf /"
    );
}

#[test]
fn a_call_answered_in_the_pane_leaves_the_inbox() {
    let r = rig("");
    let hook = r.hook("claude", &[], &permission_request("make").to_string());
    r.wait_task("held", |t| !t["permission"].is_null());
    // The person chose in Claude Code's own dialog: the tool ran.
    r.claude(
        json!({"hook_event_name": "PostToolUse", "tool_name": "Bash",
                    "tool_input": {"command": "make", "description": "d"}, "tool_response": {}}),
    );
    let out = hook.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "no answer to print"
    );
    let t = r.task();
    assert!(t["permission"].is_null() && t["attention"].is_null(), "{t}");
}

#[test]
fn a_held_call_does_not_outlive_the_board() {
    let mut r = rig("");
    let hook = r.hook("claude", &[], &permission_request("rm x").to_string());
    r.wait_task("held", |t| !t["permission"].is_null());
    r.live.kill9();
    let s = &r.s;
    let live = Live::start(s, None, &[]);
    let t = by_title(&flatten(&s.status()), "Agent").clone();
    assert!(t["permission"].is_null(), "{t}");
    assert!(
        !t["attention"].as_str().unwrap_or("").contains("permission"),
        "{t}"
    );
    let out = s.run(&["allow", &r.task.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("no permission request waiting"),
        "{}",
        text(&out)
    );
    let out = s.run(&["audit", &r.task.to_string()]);
    assert!(text(&out).contains("permission_dropped"), "{}", text(&out));
    // The held call got no answer: it prints nothing and leaves the agent to its dialog.
    let out = hook.wait_with_output().unwrap();
    assert_eq!((out.status.code(), out.stdout.len()), (Some(0), 0));
    drop(live);
}

#[test]
fn the_hook_never_fails_the_agent() {
    // No board, no task: exit 0, nothing printed, one line on stderr.
    let out = Command::new(BIN)
        .args(["hook", "claude"])
        .env_remove("TASKBOARD_URL")
        .env_remove("TASKBOARD_TOKEN")
        .env_remove("TASKBOARD_TASK_ID")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("taskboard hook:"));
}

/// Every file under `dir` with its bytes and mode, sorted by path.
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let mode = e.metadata().unwrap().permissions().mode();
            if p.is_dir() {
                stack.push(p.clone());
                out.push((p, Vec::new(), mode));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap(), mode));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn wiring_sessions_never_writes_the_users_own_agent_config() {
    // A user's Claude Code and Codex configuration in a throw-away HOME; three sessions on
    // profiles wired like claude, codex and aider (a script standing in for each program,
    // recording its arguments). The board writes its files under <data>/agents/<task>/ and
    // not one byte, file or mode under HOME.
    let s = Scratch::new();
    let home = s.path().join("home");
    std::fs::create_dir_all(home.join(".claude")).unwrap();
    std::fs::create_dir_all(home.join(".codex")).unwrap();
    std::fs::write(
        home.join(".claude.json"),
        "{\"hasCompletedOnboarding\": true, \"mcpServers\": {\"mine\": {\"command\": \"x\"}}}\n",
    )
    .unwrap();
    std::fs::write(
        home.join(".claude/settings.json"),
        "{\"hooks\": {\"Stop\": [{\"hooks\": [{\"type\": \"command\", \"command\": \"true\"}]}]}}\n",
    )
    .unwrap();
    std::fs::write(
        home.join(".codex/config.toml"),
        "model = \"mine\"\n[mcp_servers.mine]\ncommand = \"x\"\n",
    )
    .unwrap();
    std::fs::write(
        home.join(".codex/auth.json"),
        "{\"OPENAI_API_KEY\": \"sk-mine\"}\n",
    )
    .unwrap();
    let before = snapshot(&home);
    let agent = s.file(
        "agent.sh",
        // The env file appears whole (written aside, then renamed) and last: once it is
        // there, both files are complete.
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"args-$TASKBOARD_TASK_ID\"\nenv > \"env-$TASKBOARD_TASK_ID.tmp\"\nmv \"env-$TASKBOARD_TASK_ID.tmp\" \"env-$TASKBOARD_TASK_ID\"\nexec sleep 60\n",
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut config = String::from("spawns_per_minute = 100\n");
    for kind in ["claude", "codex", "aider"] {
        config.push_str(&format!(
            "[agents.fake-{kind}]\ncommand = [{}, \"{{prompt}}\"]\nintegration = \"{kind}\"\n",
            toml_str(&agent.display().to_string())
        ));
    }
    std::fs::write(s.path().join("config.toml"), config).unwrap();
    let mut goal = String::from("title = \"Wired\"\nparallel = true\n");
    for kind in ["claude", "codex", "aider"] {
        goal.push_str(&format!(
            "[[task]]\ntitle = \"{kind}\"\nagent = \"fake-{kind}\"\nprompt = \"go\"\nworktree = false\n"
        ));
    }
    let goal = s.file("g.toml", &goal);
    let env = vec![
        ("HOME".to_string(), home.display().to_string()),
        (
            "CODEX_HOME".to_string(),
            home.join(".codex").display().to_string(),
        ),
    ];
    let live = Live::start_env(&s, Some(&goal), &[], &env);
    let ids: Vec<u64> = ["claude", "codex", "aider"]
        .iter()
        .map(|k| id_of(&s, k))
        .collect();
    let started = wait_for(Duration::from_secs(15), || {
        ids.iter()
            .all(|id| s.path().join(format!("env-{id}")).exists())
    });
    assert!(
        started,
        "the stand-in agents did not start: {}",
        live.printed()
    );
    let agents = s.data().join("agents");
    // Claude Code: its MCP config and settings, passed by flag.
    let args = s.read(&format!("args-{}", ids[0]));
    for want in ["--mcp-config", "--settings"] {
        assert!(args.lines().any(|l| l == want), "{want} not passed: {args}");
    }
    let settings =
        std::fs::read_to_string(agents.join(format!("{}/settings.json", ids[0]))).unwrap();
    assert!(settings.contains("hook claude"), "{settings}");
    // Codex: its own CODEX_HOME, the user's settings and servers kept.
    let codex_env = s.read(&format!("env-{}", ids[1]));
    let codex_home = agents.join(format!("{}/codex", ids[1]));
    assert!(
        codex_env.contains(&format!("CODEX_HOME={}", codex_home.display())),
        "{codex_env}"
    );
    let cfg = std::fs::read_to_string(codex_home.join("config.toml")).unwrap();
    assert!(cfg.contains("mine") && cfg.contains("taskboard"), "{cfg}");
    // aider: its notifications command.
    let args = s.read(&format!("args-{}", ids[2]));
    assert!(args.contains("--notifications-command"), "{args}");
    assert_eq!(snapshot(&home), before, "the board wrote under HOME");
    drop(live);
    assert_eq!(snapshot(&home), before, "the board wrote under HOME");
}
