//! Each agent profile of the config (built-in ones included): is its program on `PATH`, what
//! does `--version` say (5 s at most), and is that a version the README lists as tested.
//! The default profile's program missing fails; any other's only warns, since only tasks
//! that name that profile need it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::system::{version_of, Answer};
use super::{Check, Status};
use crate::agent::tested::{tested, version_in};
use crate::config::Config;

/// How long `--version` may take (Node-based agents need a moment to start).
pub(super) const VERSION_LIMIT: Duration = Duration::from_secs(5);

/// One profile's outcome, with what the Claude Code checks need to know.
pub(super) struct ProfileReport {
    pub program: String,
    /// Where the program was found, if it was.
    pub path: Option<PathBuf>,
    pub default: bool,
    pub check: Check,
}

pub(super) async fn check_all(cfg: &Config) -> Vec<ProfileReport> {
    let probes = cfg.agents.iter().map(|(name, p)| {
        profile(
            name,
            p.command.first().cloned().unwrap_or_default(),
            name == &cfg.default_agent,
        )
    });
    let mut reports = futures::future::join_all(probes).await;
    // The default profile first: it is the one that matters most.
    reports.sort_by_key(|r| !r.default);
    reports
}

async fn profile(name: &str, program: String, default: bool) -> ProfileReport {
    let what = if default {
        format!("agent {name} (default)")
    } else {
        format!("agent {name}")
    };
    let missing = if default { Status::Fail } else { Status::Warn };
    let path = if program.contains('{') {
        None
    } else {
        crate::agent::profile::find_program(&program, Path::new("."))
    };
    let check = match &path {
        _ if program.contains('{') => Check::new(
            what,
            Status::Warn,
            format!("its program `{program}` is a placeholder; cannot check it"),
        ),
        None => {
            let install = match tested(&program) {
                Some(t) => format!("install {} (`{}`)", t.name, t.install),
                None => format!("install `{program}` or fix [agents.{name}] command"),
            };
            let hint = if default {
                format!("{install}, or set default_agent in the config to a profile you have")
            } else {
                format!("{install}; only tasks with agent = \"{name}\" need it")
            };
            Check::new(what, missing, format!("`{program}` not found on PATH")).hint(hint)
        }
        Some(found) => versioned(what, &program, found, missing).await,
    };
    ProfileReport {
        program,
        path,
        default,
        check,
    }
}

/// The found program's `--version`, judged against the tested versions when it is a tested
/// agent; any other program's answer is only shown.
async fn versioned(what: String, program: &str, path: &Path, missing: Status) -> Check {
    let shown = path.display();
    let known = tested(program);
    match version_of(path, VERSION_LIMIT).await {
        Answer::Failed(e) => Check::new(what, missing, format!("{shown} cannot run: {e}"))
            .hint("check that it is an executable program"),
        Answer::TimedOut => Check::new(
            what,
            Status::Warn,
            format!("{shown} did not answer `--version` within {} s", VERSION_LIMIT.as_secs()),
        )
        .hint("run it by hand: it may be waiting for input or a first-run set-up"),
        Answer::Printed { code, text } => match (known, version_in(&text)) {
            (Some(t), Some(v)) if code == Some(0) && t.versions.contains(&v) => {
                Check::new(what, Status::Ok, format!("{shown}, version {v} (tested)"))
            }
            (Some(t), Some(v)) if code == Some(0) => Check::new(
                what,
                Status::Warn,
                format!("{shown}, version {v}: not a tested version (tested: {})", t.versions.join(", ")),
            )
            .hint("it may well work; if something is off, try a tested version (README, \"Tested agents\")"),
            (Some(_), _) => Check::new(
                what,
                Status::Warn,
                format!("{shown} --version answered {}: {text:?}", exit_text(code)),
            )
            .hint("run it by hand to see what it needs"),
            (None, _) if code == Some(0) && !text.is_empty() => {
                Check::new(what, Status::Ok, format!("{shown}, --version: {}", first_chars(&text)))
            }
            (None, _) => Check::new(
                what,
                Status::Ok,
                format!("{shown} (no version: --version {})", exit_text(code)),
            ),
        },
    }
}

fn exit_text(code: Option<i32>) -> String {
    match code {
        Some(0) => "exited 0".into(),
        Some(c) => format!("exited {c}"),
        None => "was killed by a signal".into(),
    }
}

fn first_chars(text: &str) -> String {
    let cut: String = text.chars().take(80).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}
