//! Claude Code's own set-up, read from its config file (`~/.claude.json`, or
//! `$CLAUDE_CONFIG_DIR/.claude.json`) and never written: has its first-run onboarding been
//! done, and does it trust `<data>/worktrees` (or a parent), where every agent task starts?
//! Without either, an interactive `claude` stops at a question before the agent's prompt.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::agents::ProfileReport;
use super::{Check, Status};
use crate::datadir::DataDir;

/// Where Claude Code keeps its user config.
pub fn config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join(".claude.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".claude.json"))
}

/// Whether the first-run onboarding is done.
pub fn onboarded(config: &Value) -> bool {
    config["hasCompletedOnboarding"] == true
}

/// The folder (`folder` itself or a parent) whose trust question was answered yes, if any.
pub fn trusted_by(config: &Value, folder: &Path) -> Option<PathBuf> {
    let projects = config.get("projects")?.as_object()?;
    folder
        .ancestors()
        .find(|p| {
            p.to_str()
                .and_then(|k| projects.get(k))
                .is_some_and(|e| e["hasTrustDialogAccepted"] == true)
        })
        .map(Path::to_path_buf)
}

/// `path` with its existing part resolved (symlinks), as a process started in it sees it.
fn resolved(path: &Path) -> PathBuf {
    let existing = path
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let rest = path.strip_prefix(existing).unwrap_or(Path::new(""));
    existing
        .canonicalize()
        .map(|c| c.join(rest))
        .unwrap_or_else(|_| path.to_path_buf())
}

pub(super) fn checks(profiles: &[ProfileReport], data: &DataDir) -> Vec<Check> {
    let claude: Vec<&ProfileReport> = profiles
        .iter()
        .filter(|p| crate::agent::tested::tested(&p.program).is_some_and(|t| t.program == "claude"))
        .collect();
    if claude.is_empty() {
        return Vec::new();
    }
    if claude.iter().all(|p| p.path.is_none()) {
        return vec![Check::new(
            "Claude Code",
            Status::Skip,
            "not installed (see the agent lines)",
        )];
    }
    // Only a default agent that is Claude Code makes its set-up a must.
    let severity = if claude.iter().any(|p| p.default) {
        Status::Fail
    } else {
        Status::Warn
    };
    let Some(file) = config_path() else {
        return vec![Check::new(
            "Claude Code onboarding",
            Status::Skip,
            "no $HOME to look in",
        )];
    };
    let shown = file.display();
    let first_run = "run `claude` once in a terminal and finish its first-run set-up";
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return vec![Check::new(
                "Claude Code onboarding",
                severity,
                format!("not done ({shown} does not exist)"),
            )
            .hint(first_run)];
        }
        Err(e) => {
            return vec![Check::new(
                "Claude Code onboarding",
                severity,
                format!("cannot read {shown}: {e}"),
            )];
        }
    };
    let config: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            return vec![Check::new(
                "Claude Code onboarding",
                severity,
                format!("{shown} is not JSON: {e}"),
            )
            .hint("let Claude Code rewrite it: move it away and run `claude` once")];
        }
    };
    let onboarding = if onboarded(&config) {
        Check::new(
            "Claude Code onboarding",
            Status::Ok,
            format!("done ({shown})"),
        )
    } else {
        Check::new(
            "Claude Code onboarding",
            severity,
            format!("not done ({shown} has no hasCompletedOnboarding: true)"),
        )
        .hint(first_run)
    };
    let folder = std::path::absolute(data.worktrees()).unwrap_or_else(|_| data.worktrees());
    let real = resolved(&folder);
    let trust = match trusted_by(&config, &folder).or_else(|| trusted_by(&config, &real)) {
        Some(by) if by == folder || by == real => Check::new(
            "Claude Code trust",
            Status::Ok,
            format!("{} is trusted", folder.display()),
        ),
        Some(by) => Check::new(
            "Claude Code trust",
            Status::Ok,
            format!("{} is trusted (through {})", folder.display(), by.display()),
        ),
        None => Check::new(
            "Claude Code trust",
            severity,
            format!(
                "{} is not trusted: each agent would stop at \"Do you trust the files in this folder?\"",
                folder.display()
            ),
        )
        .hint(format!(
            "trust it once: `mkdir -p {0} && cd {0} && claude`, answer yes, then /exit (a parent folder works too)",
            crate::selfexe::shell_word(&folder)
        )),
    };
    vec![onboarding, trust]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_is_found_on_the_folder_or_a_parent() {
        let config = serde_json::json!({
            "hasCompletedOnboarding": true,
            "projects": {
                "/home/u/data": {"hasTrustDialogAccepted": true},
                "/home/u/other/worktrees": {"hasTrustDialogAccepted": true},
                "/srv/x/worktrees": {"hasTrustDialogAccepted": false}
            }
        });
        assert!(onboarded(&config));
        assert_eq!(
            trusted_by(&config, Path::new("/home/u/data/worktrees")),
            Some(PathBuf::from("/home/u/data"))
        );
        assert_eq!(
            trusted_by(&config, Path::new("/home/u/other/worktrees")),
            Some(PathBuf::from("/home/u/other/worktrees"))
        );
        assert_eq!(trusted_by(&config, Path::new("/srv/x/worktrees")), None);
        assert_eq!(
            trusted_by(&config, Path::new("/home/u/data2/worktrees")),
            None
        );
        assert!(!onboarded(
            &serde_json::json!({"hasCompletedOnboarding": "yes"})
        ));
    }
}
