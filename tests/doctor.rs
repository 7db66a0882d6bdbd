//! `taskboard doctor` through the real binary, with stand-in agent programs on a private
//! `PATH` and a private `HOME`: missing programs fail (default) or warn (others) with what to
//! do, present ones show their version against the tested list, Claude Code's onboarding and
//! folder trust are read (never written), a running board's pid, URL and listener are shown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;
use taskboard::agent::tested::TESTED_AGENTS;

/// A scratch with a private bin dir (first on PATH) and HOME.
struct Doc {
    s: Scratch,
}

impl Doc {
    fn new(config: &str) -> Doc {
        let s = Scratch::new();
        std::fs::create_dir_all(s.path().join("tools")).expect("tools");
        std::fs::create_dir_all(s.path().join("home")).expect("home");
        std::fs::write(s.config(), config).expect("config");
        Doc { s }
    }

    fn tools(&self) -> PathBuf {
        self.s.path().join("tools")
    }

    fn home(&self) -> PathBuf {
        self.s.path().join("home")
    }

    /// A stand-in program in the private bin dir.
    fn program(&self, name: &str, script: &str) {
        use std::os::unix::fs::PermissionsExt;
        let p = self.tools().join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).expect("write program");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    fn claude_json(&self, v: serde_json::Value) -> PathBuf {
        let p = self.home().join(".claude.json");
        std::fs::write(&p, serde_json::to_string_pretty(&v).expect("json")).expect("write");
        p
    }

    fn run(&self, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            self.tools().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut c: Command = self.s.cmd(args);
        c.env("PATH", path)
            .env("HOME", self.home())
            .env_remove("CLAUDE_CONFIG_DIR")
            .output()
            .expect("run doctor")
    }

    fn data(&self) -> PathBuf {
        self.s.data()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The printed line for `check` (`✔ agent claude (default): …`).
fn line<'a>(out: &'a str, check: &str) -> &'a str {
    let head = format!("{check}: ");
    out.lines()
        .find(|l| {
            l.split_once(' ')
                .is_some_and(|(_, rest)| rest.starts_with(&head))
        })
        .unwrap_or_else(|| panic!("no `{check}` line in:\n{out}"))
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

fn status_of(v: &serde_json::Value, check: &str) -> String {
    v["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["check"] == check))
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no {check} in {v}"))
        .to_string()
}

#[test]
fn a_missing_default_agent_fails_with_what_to_do() {
    let d = Doc::new(
        "default_agent = \"ghost\"\n[agents.ghost]\ncommand = [\"taskboard-test-ghost\", \"{prompt}\"]\n",
    );
    let out = d.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let text = stdout(&out);
    assert_eq!(
        line(&text, "agent ghost (default)"),
        "✘ agent ghost (default): `taskboard-test-ghost` not found on PATH → install \
         `taskboard-test-ghost` or fix [agents.ghost] command, or set default_agent in the \
         config to a profile you have"
    );
    let v = json(&d.run(&["doctor", "--json"]));
    assert_eq!(v["ok"], false);
    assert_eq!(status_of(&v, "agent ghost (default)"), "fail");
}

#[test]
fn a_missing_claude_names_its_install_command() {
    let d = Doc::new("default_agent = \"claude\"\n");
    // A PATH of only the private bin dir: no claude anywhere.
    let out =
        d.s.cmd(&["doctor"])
            .env("PATH", d.tools())
            .env("HOME", d.home())
            .output()
            .expect("doctor");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let text = stdout(&out);
    let l = line(&text, "agent claude (default)");
    assert!(l.starts_with("✘ "), "{l}");
    assert!(
        l.contains("npm install -g @anthropic-ai/claude-code"),
        "{l}"
    );
    assert!(
        line(&text, "git").starts_with("✘ git: not found on PATH → install git"),
        "{text}"
    );
}

#[test]
fn a_present_tested_agent_shows_its_version_and_all_is_well() {
    let d = Doc::new("default_agent = \"claude\"\n");
    d.program("claude", "echo '2.1.197 (Claude Code)'");
    let data = d.data();
    std::fs::create_dir_all(&data).expect("data dir");
    let cj = d.claude_json(serde_json::json!({
        "hasCompletedOnboarding": true,
        "projects": { data.to_str().unwrap(): { "hasTrustDialogAccepted": true } }
    }));
    let before = std::fs::read(&cj).expect("read");
    let modified = std::fs::metadata(&cj)
        .and_then(|m| m.modified())
        .expect("mtime");
    let out = d.run(&["doctor"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", self::text(&out));
    assert_eq!(
        line(&text, "agent claude (default)"),
        format!(
            "✔ agent claude (default): {}, version 2.1.197 (tested)",
            d.tools().join("claude").display()
        )
    );
    assert!(
        line(&text, "Claude Code onboarding").starts_with("✔ "),
        "{text}"
    );
    assert_eq!(
        line(&text, "Claude Code trust"),
        format!(
            "✔ Claude Code trust: {} is trusted (through {})",
            data.join("worktrees").display(),
            data.display()
        )
    );
    assert!(line(&text, "git").starts_with("✔ git: "), "{text}");
    assert!(line(&text, "data dir").starts_with("✔ "), "{text}");
    // Strictly read-only: Claude Code's file is as it was.
    assert_eq!(std::fs::read(&cj).expect("read"), before);
    assert_eq!(
        std::fs::metadata(&cj)
            .and_then(|m| m.modified())
            .expect("mtime"),
        modified
    );
    let v = json(&d.run(&["doctor", "--json"]));
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(status_of(&v, "agent claude (default)"), "ok");
}

#[test]
fn an_untested_version_or_a_missing_extra_profile_only_warns() {
    let d = Doc::new(
        "default_agent = \"shell\"\n[agents.extra]\ncommand = [\"taskboard-test-extra\"]\n",
    );
    d.program("codex", "echo 'codex-cli 9.9.9'");
    let out = d.run(&["doctor"]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings never fail: {}",
        self::text(&out)
    );
    assert_eq!(
        line(&text, "agent codex"),
        format!(
            "⚠ agent codex: {}, version 9.9.9: not a tested version (tested: 0.171.0) → it may \
             well work; if something is off, try a tested version (README, \"Tested agents\")",
            d.tools().join("codex").display()
        )
    );
    let extra = line(&text, "agent extra");
    assert!(
        extra.starts_with("⚠ agent extra: `taskboard-test-extra` not found on PATH"),
        "{extra}"
    );
    assert!(
        extra.contains("only tasks with agent = \"extra\" need it"),
        "{extra}"
    );
}

#[test]
fn claude_code_without_onboarding_or_trust_fails_and_nothing_is_written() {
    let d = Doc::new("default_agent = \"claude\"\n");
    d.program("claude", "echo '2.1.197 (Claude Code)'");
    // No ~/.claude.json at all.
    let out = d.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let l = line(&stdout(&out), "Claude Code onboarding").to_string();
    assert!(l.starts_with("✘ Claude Code onboarding: not done"), "{l}");
    assert!(l.contains("run `claude` once in a terminal"), "{l}");
    assert!(
        !d.home().join(".claude.json").exists(),
        "doctor never writes Claude's config"
    );
    // Onboarded, but another folder is trusted.
    d.claude_json(serde_json::json!({
        "hasCompletedOnboarding": true,
        "projects": { "/somewhere/else": { "hasTrustDialogAccepted": true } }
    }));
    let out = d.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let text = stdout(&out);
    assert!(
        line(&text, "Claude Code onboarding").starts_with("✔ "),
        "{text}"
    );
    let trust = line(&text, "Claude Code trust");
    let wt = d.data().join("worktrees");
    assert!(
        trust.starts_with(&format!(
            "✘ Claude Code trust: {} is not trusted",
            wt.display()
        )),
        "{trust}"
    );
    assert!(
        trust.contains(&format!("mkdir -p {0} && cd {0} && claude", wt.display())),
        "{trust}"
    );
}

#[test]
fn an_agent_that_does_not_answer_its_version_is_a_warning_within_seconds() {
    let d = Doc::new("default_agent = \"claude\"\n");
    d.program("claude", "sleep 60");
    let data = d.data();
    d.claude_json(serde_json::json!({
        "hasCompletedOnboarding": true,
        "projects": { data.to_str().unwrap(): { "hasTrustDialogAccepted": true } }
    }));
    let started = Instant::now();
    let out = d.run(&["doctor"]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "doctor took {took:?}");
    let l = line(&stdout(&out), "agent claude (default)").to_string();
    assert!(
        l.starts_with("⚠ ") && l.contains("did not answer `--version` within 5 s"),
        "{l}"
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_running_board_shows_its_pid_url_and_listener() {
    let d = Doc::new("spawns_per_minute = 100\n");
    let goal = d.s.file(
        "wait.toml",
        "title = \"w\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"x\"\n",
    );
    let live = Live::start(&d.s, Some(&goal), &[]);
    let pid = live.child.id();
    let out = d.run(&["doctor"]);
    let text = stdout(&out);
    assert_eq!(
        line(&text, "board"),
        format!("✔ board: running: pid {pid} holds the lock, {}", live.url)
    );
    assert_eq!(
        line(&text, "listener"),
        format!(
            "✔ listener: {} answers (taskboard {})",
            live.url,
            env!("CARGO_PKG_VERSION")
        )
    );
    // A board that stopped answering (SIGSTOP) is a failure with what to do.
    let stop = |sig: &str| {
        let st = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
    };
    stop("-STOP");
    let out = d.run(&["doctor"]);
    stop("-CONT");
    assert_eq!(out.status.code(), Some(1), "{}", self::text(&out));
    let l = line(&stdout(&out), "listener").to_string();
    assert!(
        l.starts_with(&format!(
            "✘ listener: {} did not answer within 3 s",
            live.url
        )),
        "{l}"
    );
    assert!(l.contains("taskboard down --force"), "{l}");
}

#[test]
fn a_data_dir_that_cannot_be_made_and_a_broken_config_fail() {
    let d = Doc::new("max_agent = 3\n");
    let blocker = d.s.file("not-a-dir", "x");
    let out =
        d.s.cmd(&["doctor"])
            .arg("--data-dir")
            .arg(blocker.join("data"))
            .env("HOME", d.home())
            .output()
            .expect("doctor");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let text = stdout(&out);
    assert!(
        line(&text, "data dir").starts_with(&format!(
            "✘ data dir: cannot make {}: {} is not a writable directory",
            blocker.join("data").display(),
            blocker.display()
        )),
        "{text}"
    );
    let config = line(&text, "config");
    assert!(config.starts_with("✘ config: "), "{config}");
    assert!(
        text.contains("unknown key `max_agent` in the config (did you mean `max_agents`?)"),
        "{text}"
    );
}

/// The README's "Tested agents" table lists exactly what doctor checks against.
#[test]
fn the_readme_lists_the_tested_versions() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let section = readme
        .split("### Tested agents")
        .nth(1)
        .expect("a \"### Tested agents\" section");
    let rows: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect();
    assert_eq!(rows.len(), TESTED_AGENTS.len(), "{rows:#?}");
    for (row, t) in rows.iter().zip(TESTED_AGENTS) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells[0], format!("`{}`", t.program), "{row}");
        assert_eq!(cells[1], t.name, "{row}");
        assert_eq!(cells[2], t.versions.join(", "), "{row}");
        assert_eq!(cells[3], format!("`{}`", t.install), "{row}");
    }
}

#[test]
fn a_data_dir_others_may_write_fails_and_an_older_0755_one_is_only_noted() {
    use std::os::unix::fs::PermissionsExt;
    let d = Doc::new("");
    let data = d.data();
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = d.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let text = stdout(&out);
    let l = line(&text, "data dir");
    assert!(
        l.starts_with(&format!(
            "✘ data dir: the data dir {} is writable by its group and every user (mode 777)",
            data.display()
        )) && l.contains(&format!("chmod 700 {}", data.display())),
        "{l}"
    );
    // Doctor only looks: the mode is as it was.
    let mode = std::fs::metadata(&data).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o777);

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let text = stdout(&d.run(&["doctor"]));
    assert_eq!(
        line(&text, "data dir"),
        format!(
            "✔ data dir: {} (writable; mode 755, made 0700 when a board starts on it)",
            data.display()
        )
    );
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let text = stdout(&d.run(&["doctor"]));
    assert_eq!(
        line(&text, "data dir"),
        format!("✔ data dir: {} (writable, private)", data.display())
    );
}
