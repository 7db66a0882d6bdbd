//! Finds the real agent programs for the tests (Claude Code, Codex, aider): `tests/tools/install`
//! puts them in the cache's `bin/` ([`crate::common::tools`] runs it, once per test process
//! and tool); makes throw-away homes for the agents.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// The agents the tests run, as `tests/tools/install` names them.
pub const AGENTS: [&str; 3] = ["claude", "codex", "aider"];

/// `<cache>/bin`, with every agent installed in it. A failed install fails the test with
/// the script's output: a missing tool is never a skipped test.
pub fn tools_bin() -> PathBuf {
    for agent in AGENTS {
        crate::common::tools::install(agent);
    }
    crate::common::tools::cache_dir().join("bin")
}

/// The full path of one installed agent program.
pub fn tool(name: &str) -> PathBuf {
    let p = tools_bin().join(name);
    assert!(
        p.exists(),
        "{} is missing after tests/tools/install",
        p.display()
    );
    p
}

/// `PATH` with the tools' `bin/` first.
pub fn path_with_tools() -> String {
    format!(
        "{}:{}",
        tools_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Every file under `dir` with its bytes, sorted by path: compare two of these to prove a
/// program wrote nothing there.
pub fn snapshot_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out.sort();
    out
}

/// A board on a scratch repo whose agents talk to a scripted model server, with a
/// throw-away `HOME` for them (never the real one).
pub struct AgentRig {
    pub s: crate::common::Scratch,
    pub home: PathBuf,
    pub server: crate::model_server::ModelServer,
    pub env: Vec<(String, String)>,
    pub goal: PathBuf,
}

/// The test's API key; Claude Code remembers it as approved by its last 20 characters.
pub const API_KEY: &str = "sk-test-scripted";

impl AgentRig {
    /// `config` is appended to the scratch config; `tasks` is the goal's `[[task]]` part.
    pub fn new(script: Vec<crate::model_server::Turn>, config: &str, tasks: &str) -> AgentRig {
        let s = crate::common::Scratch::new();
        crate::common::git_repo(&s.path().join("repo"));
        std::fs::write(
            s.path().join("config.toml"),
            format!("spawns_per_minute = 100\n{config}"),
        )
        .expect("config");
        let goal = s.file(
            "goal.toml",
            // The gate keeps the headless board running after the agent's task is over, so
            // the tests can still ask it (audit, status).
            &format!("title = \"Real agent\"\nrepo = \"repo\"\n{tasks}\n[[task]]\ntitle = \"Hold\"\nkind = \"signal\"\ngate = \"hold\"\n"),
        );
        let home = s.path().join("home");
        std::fs::create_dir_all(&home).expect("home");
        let server = crate::model_server::ModelServer::start(script);
        let env = vec![
            ("HOME".to_string(), home.display().to_string()),
            ("PATH".to_string(), path_with_tools()),
            ("ANTHROPIC_BASE_URL".to_string(), server.url.clone()),
            ("ANTHROPIC_API_KEY".to_string(), API_KEY.to_string()),
            (
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".to_string(),
                "1".to_string(),
            ),
            ("DISABLE_AUTOUPDATER".to_string(), "1".to_string()),
            // A git identity, as a user has (the throw-away HOME has no ~/.gitconfig).
            ("GIT_AUTHOR_NAME".to_string(), "Test User".to_string()),
            (
                "GIT_AUTHOR_EMAIL".to_string(),
                "test@example.com".to_string(),
            ),
            ("GIT_COMMITTER_NAME".to_string(), "Test User".to_string()),
            (
                "GIT_COMMITTER_EMAIL".to_string(),
                "test@example.com".to_string(),
            ),
            (
                "CODEX_HOME".to_string(),
                home.join(".codex").display().to_string(),
            ),
        ];
        AgentRig {
            s,
            home,
            server,
            env,
            goal,
        }
    }

    /// The worktree of task `task` of goal 1.
    pub fn worktree(&self, task: u64) -> PathBuf {
        self.s.data().join("worktrees").join(format!("1-{task}"))
    }

    /// A user who finished Claude Code's onboarding, trusts the board's worktrees folder
    /// (`trust_worktrees`) and approved the API key; plus a settings file of their own.
    pub fn claude_user(&self, trust_worktrees: bool) {
        let mut projects = serde_json::Map::new();
        if trust_worktrees {
            projects.insert(
                self.s.data().join("worktrees").display().to_string(),
                serde_json::json!({"hasTrustDialogAccepted": true}),
            );
        }
        let tail: String = API_KEY
            .chars()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let user = serde_json::json!({
            "hasCompletedOnboarding": true,
            "projects": projects,
            "customApiKeyResponses": {"approved": [tail], "rejected": []},
        });
        std::fs::write(self.home.join(".claude.json"), format!("{user:#}\n")).expect("claude.json");
        std::fs::create_dir_all(self.home.join(".claude")).expect(".claude");
        std::fs::write(
            self.home.join(".claude/settings.json"),
            "{\n  \"cleanupPeriodDays\": 30,\n  \"env\": {\"USER_OWN_SETTING\": \"1\"}\n}\n",
        )
        .expect("settings.json");
    }

    pub fn start(&self) -> crate::common::Live {
        crate::common::Live::start_env(&self.s, Some(&self.goal), &[], &self.env)
    }

    /// Starts the board again on the same data dir (no goal file: it goes on).
    pub fn restart(&self) -> crate::common::Live {
        crate::common::Live::start_env(&self.s, None, &[], &self.env)
    }

    /// One task as `status --json` shows it (works after a headless board finished).
    pub fn task(&self, _live: &crate::common::Live, id: u64) -> serde_json::Value {
        crate::common::flatten(&self.s.status())
            .into_iter()
            .find(|t| t["id"] == id)
            .unwrap_or(serde_json::Value::Null)
    }

    /// Waits until `f` holds for task `id`; fails naming `what`, the task, the model
    /// server's requests and the end of the agent's screen output.
    pub fn wait_task(
        &self,
        live: &crate::common::Live,
        id: u64,
        what: &str,
        limit: std::time::Duration,
        f: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let ok = crate::common::wait_for(limit, || f(&self.task(live, id)));
        let t = self.task(live, id);
        assert!(
            ok,
            "waited {limit:?} for {what}; task: {t}\nmodel server:{}\nagent screen (end of log): {}\nboard: {}",
            self.server.summary(),
            self.log_tail(id),
            live.printed()
        );
        t
    }

    /// Waits for `n` conversation requests; fails with the requests, the agent's screen
    /// and the task's audit.
    pub fn wait_turns(
        &self,
        id: u64,
        n: usize,
        limit: std::time::Duration,
    ) -> Vec<serde_json::Value> {
        let ok = crate::common::wait_for(limit, || self.server.turns().len() >= n);
        assert!(
            ok,
            "waited {limit:?} for {n} conversation requests\nmodel server:{}\nagent screen (end of log): {}\naudit: {}",
            self.server.summary(),
            self.log_tail(id),
            crate::common::text(&self.s.run(&["audit", &id.to_string()]))
        );
        self.server.turns()
    }

    /// The end of a task's log, escape sequences dropped, for failure messages.
    pub fn log_tail(&self, id: u64) -> String {
        let raw =
            std::fs::read(self.s.data().join("logs").join(format!("{id}.log"))).unwrap_or_default();
        let text = String::from_utf8_lossy(&raw);
        let re = regex::Regex::new(r"\x1b\[[0-9;?<>=]*[a-zA-Z~]|\x1b\][^\x07]*\x07|\x1b.")
            .expect("regex");
        let plain = re.replace_all(&text, "");
        let squeezed: String = plain.split_whitespace().collect::<Vec<_>>().join(" ");
        let n = squeezed.chars().count();
        squeezed.chars().skip(n.saturating_sub(1500)).collect()
    }

    /// Types raw bytes into a task's terminal (what input mode does).
    pub fn type_into(&self, live: &crate::common::Live, id: u64, bytes: &str) {
        let (code, v) = live.req("POST", &format!("/api/tasks/{id}/input"), Some(bytes));
        assert_eq!(code, 200, "typing into #{id}: {v}");
    }
}
