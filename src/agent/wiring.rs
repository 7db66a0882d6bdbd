//! Per-session wiring of the real agent programs: before a spawn, the files under
//! `<data>/agents/<task>/` that connect the agent to the board (Claude Code: an MCP config
//! naming `taskboard mcp` and a settings file with the board's hooks; Codex: its own
//! `CODEX_HOME` built from the user's config; aider: its notifications command), and the
//! arguments and environment that point the program at them.
//!
//! It never writes the user's own configuration (`~/.claude.json`, `~/.claude/`,
//! `~/.codex/`): Claude Code merges `--settings` and `--mcp-config` with the user's own,
//! and Codex reads a copy. No secret is written either: hooks and the MCP server take the
//! task token from the agent's environment.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::config::Integration;

/// Why a session's wiring could not be written (the spawn is blocked with this text).
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    /// `what`: "make", "read", "copy", "restrict" or "write".
    #[error("cannot {what} {}: {source}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", .path.display())]
    CodexConfig { path: PathBuf, message: String },
    #[error("the Codex config's mcp_servers is not a table")]
    ServersNotATable,
    #[error("cannot write the Codex config: {0}")]
    Serialize(#[from] toml::ser::Error),
}

/// An IO error's mapper naming what was done to which path.
fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> WiringError {
    let path = path.to_path_buf();
    move |source| WiringError::Io { what, path, source }
}

/// What a session needs besides its profile's command.
pub struct Wiring<'a> {
    pub integration: Integration,
    /// `<data>/agents/<task>`.
    pub dir: PathBuf,
    /// The taskboard hooks and the MCP server run: [`crate::selfexe::agent_exe`].
    pub exe: &'a Path,
    /// How long the board holds a tool call; the hook may run a little longer.
    pub permission_wait: std::time::Duration,
    /// The user's Codex home (`$CODEX_HOME`, else `~/.codex`), to copy config and auth from.
    pub codex_home: Option<PathBuf>,
}

/// Arguments to put right after the program name, and environment to add.
#[derive(Debug, Default, PartialEq)]
pub struct Wired {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// Single-quotes a path for the shell that runs hook commands.
fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

fn write(path: &Path, text: &str) -> Result<(), WiringError> {
    std::fs::write(path, text).map_err(io("write", path))
}

/// Writes the session's files and says how to point the program at them.
pub fn prepare(w: &Wiring) -> Result<Wired, WiringError> {
    std::fs::create_dir_all(&w.dir).map_err(io("make", &w.dir))?;
    match w.integration {
        Integration::Claude => claude(w),
        Integration::Codex => codex(w),
        Integration::Aider => Ok(Wired {
            args: vec![
                "--notifications".into(),
                "--notifications-command".into(),
                format!("{} hook aider", sh_quote(w.exe)),
            ],
            env: Vec::new(),
        }),
    }
}

/// The hook events the board listens to, and the settings file holding them.
pub fn claude_settings(exe: &Path, permission_wait: std::time::Duration) -> serde_json::Value {
    let command = format!("{} hook claude", sh_quote(exe));
    let hook = |timeout: u64| json!([{"hooks": [{"type": "command", "command": command, "timeout": timeout}]}]);
    json!({
        // The board's own tools never ask: reporting back must not stop for a dialog.
        "permissions": {"allow": ["mcp__taskboard"]},
        "hooks": {
            "SessionStart": hook(10),
            "UserPromptSubmit": hook(10),
            "Notification": hook(10),
            "Stop": hook(10),
            // A held tool call that ran (or failed) was answered in the pane.
            "PostToolUse": hook(10),
            "PostToolUseFailure": hook(10),
            // Held while the board asks; past this Claude Code asks in its own dialog.
            "PermissionRequest": hook(permission_wait.as_secs() + 30),
        }
    })
}

fn claude(w: &Wiring) -> Result<Wired, WiringError> {
    let mcp = w.dir.join("mcp.json");
    let settings = w.dir.join("settings.json");
    let servers =
        json!({"mcpServers": {"taskboard": {"type": "stdio", "command": w.exe, "args": ["mcp"]}}});
    write(&mcp, &format!("{servers:#}\n"))?;
    write(
        &settings,
        &format!("{:#}\n", claude_settings(w.exe, w.permission_wait)),
    )?;
    Ok(Wired {
        args: vec![
            "--mcp-config".into(),
            mcp.display().to_string(),
            "--settings".into(),
            settings.display().to_string(),
        ],
        env: Vec::new(),
    })
}

/// The variables Codex passes on to the board's MCP server (it clears the rest).
const MCP_ENV: &[&str] = &[
    "TASKBOARD_URL",
    "TASKBOARD_TOKEN",
    "TASKBOARD_TASK_ID",
    "TASKBOARD_GOAL_ID",
    "TASKBOARD_HOME",
];

fn codex(w: &Wiring) -> Result<Wired, WiringError> {
    let home = w.dir.join("codex");
    std::fs::create_dir_all(&home).map_err(io("make", &home))?;
    let mut table = toml::Table::new();
    if let Some(user) = &w.codex_home {
        let cfg = user.join("config.toml");
        if cfg.is_file() {
            let text = std::fs::read_to_string(&cfg).map_err(io("read", &cfg))?;
            table = toml::from_str(&text).map_err(|e| WiringError::CodexConfig {
                path: cfg.clone(),
                message: e.message().to_string(),
            })?;
        }
        let auth = user.join("auth.json");
        if auth.is_file() {
            let to = home.join("auth.json");
            std::fs::copy(&auth, &to).map_err(io("copy", &auth))?;
            set_private(&to)?;
        }
    }
    let exe = w.exe.display().to_string();
    table.insert(
        "notify".into(),
        toml::Value::Array(vec![exe.clone().into(), "hook".into(), "codex".into()]),
    );
    let servers = table
        .entry("mcp_servers")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(servers) = servers else {
        return Err(WiringError::ServersNotATable);
    };
    let mut ours = toml::Table::new();
    ours.insert("command".into(), exe.into());
    ours.insert("args".into(), toml::Value::Array(vec!["mcp".into()]));
    ours.insert(
        "env_vars".into(),
        toml::Value::Array(MCP_ENV.iter().map(|v| (*v).into()).collect()),
    );
    // The board's own tools never ask (Codex asks before each MCP call by default).
    ours.insert("default_tools_approval_mode".into(), "approve".into());
    servers.insert("taskboard".into(), toml::Value::Table(ours));
    let text = toml::to_string(&table)?;
    write(&home.join("config.toml"), &text)?;
    Ok(Wired {
        args: Vec::new(),
        env: vec![("CODEX_HOME".into(), home.display().to_string())],
    })
}

fn set_private(p: &Path) -> Result<(), WiringError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).map_err(io("restrict", p))
}

/// The user's Codex home, as Codex itself finds it.
pub fn user_codex_home() -> Option<PathBuf> {
    std::env::var_os("CODEX_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".codex")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_home_keeps_the_users_config_and_adds_ours() {
        let tmp = tempfile::tempdir().unwrap();
        let user = tmp.path().join("user");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(
            user.join("config.toml"),
            "model = \"o9\"\n[mcp_servers.mine]\ncommand = \"x\"\n",
        )
        .unwrap();
        std::fs::write(user.join("auth.json"), "{}").unwrap();
        let before = std::fs::read(user.join("config.toml")).unwrap();
        let exe = PathBuf::from("/opt/tb it's/taskboard");
        let w = Wiring {
            integration: Integration::Codex,
            dir: tmp.path().join("agents/7"),
            exe: &exe,
            permission_wait: std::time::Duration::from_secs(60),
            codex_home: Some(user.clone()),
        };
        let wired = prepare(&w).unwrap();
        let home = tmp.path().join("agents/7/codex");
        assert_eq!(
            wired.env,
            vec![("CODEX_HOME".into(), home.display().to_string())]
        );
        let cfg: toml::Table =
            toml::from_str(&std::fs::read_to_string(home.join("config.toml")).unwrap()).unwrap();
        assert_eq!(cfg["model"].as_str(), Some("o9"));
        assert!(cfg["mcp_servers"]["mine"].is_table());
        assert_eq!(
            cfg["mcp_servers"]["taskboard"]["args"][0].as_str(),
            Some("mcp")
        );
        assert_eq!(cfg["notify"][1].as_str(), Some("hook"));
        assert!(home.join("auth.json").is_file());
        assert_eq!(std::fs::read(user.join("config.toml")).unwrap(), before);
    }

    #[test]
    fn claude_hooks_quote_the_program() {
        let s = claude_settings(Path::new("/a b/it's"), std::time::Duration::from_secs(5));
        assert_eq!(
            s["hooks"]["Stop"][0]["hooks"][0]["command"],
            r"'/a b/it'\''s' hook claude"
        );
        assert_eq!(
            s["hooks"]["PermissionRequest"][0]["hooks"][0]["timeout"],
            35
        );
    }
}
