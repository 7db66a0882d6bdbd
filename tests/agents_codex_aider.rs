//! Codex and aider (the real programs, installed by tests/tools/install) under the real
//! board, talking to the scripted model server on 127.0.0.1 (the OpenAI Responses API
//! for Codex, chat completions for aider), each with a throw-away HOME.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/agents.rs"]
mod agents;
mod common;
#[path = "common/model_server.rs"]
mod model_server;

use agents::AgentRig;
use common::*;
use model_server::{user_texts, Turn};
use serde_json::json;
use std::time::Duration;

const START: Duration = Duration::from_secs(60);

fn codex_task() -> String {
    "[[task]]\ntitle = \"Work\"\nagent = \"codex\"\nprompt = \"Say hello.\"\n".into()
}

/// A Codex user whose own config points at the scripted server and trusts the goal's
/// repository (Codex 0.171 trusts a git worktree through its main repository).
fn codex_user(rig: &AgentRig) -> std::path::PathBuf {
    let home = rig.home.join(".codex");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model = \"scripted\"\nmodel_provider = \"scripted\"\n\n[model_providers.scripted]\nname = \"scripted\"\nbase_url = {}\nwire_api = \"responses\"\nenv_key = \"SCRIPTED_API_KEY\"\n\n[projects.{}]\ntrust_level = \"trusted\"\n",
            toml_str(&format!("{}/v1", rig.server.url)),
            toml_str(&rig.s.path().join("repo").display().to_string()),
        ),
    )
    .unwrap();
    std::fs::write(home.join("auth.json"), "{\"OPENAI_API_KEY\": null}\n").unwrap();
    home
}

fn codex_rig(script: Vec<Turn>) -> AgentRig {
    let mut rig = AgentRig::new(script, "", &codex_task());
    rig.env.push(("SCRIPTED_API_KEY".into(), "x".into()));
    rig
}

/// Processes whose command line names `needle` (a leftover Codex server would).
fn processes_naming(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(needle) {
                out.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
            }
        }
    }
    out
}

#[test]
fn codex_runs_in_its_own_codex_home_and_reports_its_turn_end() {
    let rig = codex_rig(vec![Turn::text("Hello from the script.")]);
    let user = codex_user(&rig);
    let before = agents::snapshot_files(&user);
    let live = rig.start();
    let t = rig.wait_task(&live, 2, "Codex's turn end (notify)", START, |t| {
        t["turn_ended"] == true
    });
    assert_eq!(t["status"], "active", "{t}");
    let turns = rig.server.turns();
    assert!(
        user_texts(&turns[0])
            .iter()
            .any(|u| u.contains("Say hello.")),
        "the prompt did not reach the model:{}",
        rig.server.summary()
    );
    // The session's own CODEX_HOME: the user's settings, plus the board's server and notify.
    let session = rig.s.data().join("agents/2/codex");
    let cfg: toml::Table =
        toml::from_str(&std::fs::read_to_string(session.join("config.toml")).unwrap()).unwrap();
    assert_eq!(cfg["model_provider"].as_str(), Some("scripted"));
    assert_eq!(
        cfg["mcp_servers"]["taskboard"]["args"][0].as_str(),
        Some("mcp")
    );
    assert_eq!(cfg["notify"][2].as_str(), Some("codex"));
    assert!(session.join("auth.json").is_file());
    let conf = std::fs::read_to_string(session.join("config.toml")).unwrap();
    let token = regex::Regex::new(r"t2\.[0-9a-fA-F]{16,}").unwrap();
    assert!(
        !token.is_match(&conf) && !conf.contains(&live.token),
        "a token in {conf}"
    );
    let out = rig.s.run(&["stop", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    rig.wait_task(&live, 2, "stopped", Duration::from_secs(15), |t| {
        t["status"] == "failed"
    });
    assert_eq!(
        agents::snapshot_files(&user),
        before,
        "the user's ~/.codex changed"
    );
    let session_dir = session.display().to_string();
    let left = processes_naming(&session_dir);
    assert!(left.is_empty(), "Codex left processes behind: {left:?}");
}

#[test]
fn a_codex_approval_question_is_flagged_with_what_it_asks() {
    let rig = codex_rig(vec![Turn::tool(
        "exec_command",
        json!({"cmd": "echo escalated", "sandbox_permissions": "require_escalated",
               "justification": "the test asks for it"}),
    )]);
    codex_user(&rig);
    let live = rig.start();
    let t = rig.wait_task(&live, 2, "the approval question flagged", START, |t| {
        t["attention"]
            .as_str()
            .unwrap_or("")
            .contains("Would you like to run the following command?")
    });
    assert_eq!(t["status"], "active", "{t}");
}

#[test]
fn codex_completes_through_the_taskboard_mcp_tool() {
    // Needs `taskboard mcp` (issue #13).
    let rig = codex_rig(vec![
        Turn::tool(
            "mcp__taskboard__complete",
            json!({"summary": "codex did it"}),
        ),
        Turn::text("Reported."),
    ]);
    codex_user(&rig);
    let live = rig.start();
    let t = rig.wait_task(&live, 2, "done through MCP", START, |t| {
        t["status"] == "done"
    });
    assert_eq!(t["summary"], "codex did it");
}

#[test]
fn aider_runs_one_message_and_exits_0() {
    let reply = "hello.txt\n```\nhi from the scripted model\n```\n";
    let mut rig = AgentRig::new(
        vec![Turn::text(reply)],
        "",
        "[[task]]\ntitle = \"Work\"\nagent = \"aider\"\nprompt = \"Create hello.txt.\"\n",
    );
    rig.env.extend([
        ("AIDER_MODEL".into(), "openai/scripted".into()),
        ("AIDER_EDIT_FORMAT".into(), "whole".into()),
        ("OPENAI_API_BASE".into(), format!("{}/v1", rig.server.url)),
        ("OPENAI_API_KEY".into(), "x".into()),
        ("LITELLM_LOCAL_MODEL_COST_MAP".into(), "True".into()),
    ]);
    let live = rig.start();
    let t = rig.wait_task(&live, 2, "aider done (exit 0)", START, |t| {
        t["status"] == "done"
    });
    assert_eq!(t["status"], "done", "{t}");
    let hello = std::fs::read_to_string(rig.worktree(2).join("hello.txt")).unwrap_or_default();
    assert_eq!(hello, "hi from the scripted model\n", "{}", rig.log_tail(2));
    let turns = rig.server.turns();
    assert!(
        user_texts(&turns[0])
            .iter()
            .any(|u| u.contains("Create hello.txt.")),
        "{}",
        rig.server.summary()
    );
}

#[test]
fn codex_and_aider_profile_flags_exist_in_the_real_programs() {
    for (name, integration) in [
        ("codex", taskboard::config::Integration::Codex),
        ("aider", taskboard::config::Integration::Aider),
    ] {
        let help = std::process::Command::new(agents::tool(name))
            .arg("--help")
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&help.stdout).to_string();
        let profile = &taskboard::config::builtin_profiles()[name];
        let tmp = tempfile::tempdir().unwrap();
        let wired = taskboard::agent::wiring::prepare(&taskboard::agent::wiring::Wiring {
            integration,
            dir: tmp.path().to_path_buf(),
            exe: std::path::Path::new(BIN),
            permission_wait: Duration::from_secs(60),
            codex_home: None,
        })
        .unwrap();
        let args = profile
            .command
            .iter()
            .chain(profile.resume.iter().flatten())
            .chain(&wired.args);
        for flag in args.filter(|a| a.starts_with("--")) {
            assert!(help.contains(flag.as_str()), "{name} --help has no {flag}");
        }
    }
}
