//! Pull requests for `land` tasks: push the landed branch, then run the PR command (`gh pr
//! create …` by default) and read the URL it prints.
//!
//! The push uses the `git` program, not git2: this build of git2 has no network transports
//! (default features off: no https, no ssh), while `git push` works with every remote the
//! user's git works with (file paths, `file://`, https with their credential helper, ssh
//! with their agent). Nothing here ever prompts: stdin is closed and
//! `GIT_TERMINAL_PROMPT=0`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a push or the PR command may take.
const LIMIT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum PrError {
    #[error("git push to {remote} failed: {stderr}")]
    Push { remote: String, stderr: String },
    #[error("{program} failed ({status}): {stderr}")]
    Command {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("cannot run {program}: {message}")]
    Spawn { program: String, message: String },
    #[error("{program} printed no pull request URL: {output}")]
    NoUrl { program: String, output: String },
}

/// Pushes `commit` to `branch` on `remote` (replacing an earlier push of the same branch:
/// it is taskboard's own).
pub fn push(repo: &Path, remote: &str, commit: &str, branch: &str) -> Result<(), PrError> {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(repo)
        .args(["push", "--porcelain", remote])
        .arg(format!("+{commit}:refs/heads/{branch}"));
    let out = run(cmd, "git")?;
    if out.status.success() {
        Ok(())
    } else {
        Err(PrError::Push {
            remote: remote.to_string(),
            stderr: last_lines(&out.stderr),
        })
    }
}

/// What the PR command needs.
#[derive(Clone, Debug)]
pub struct PrRequest {
    pub repo: PathBuf,
    pub command: Vec<String>,
    pub branch: String,
    pub into: String,
    pub remote: String,
    pub title: String,
    pub commit: String,
}

/// The pull request the command opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub url: String,
    pub number: Option<u64>,
}

/// Runs the PR command (placeholders filled) in the repository; the last URL it prints is
/// the pull request's.
pub fn open(req: &PrRequest) -> Result<Opened, PrError> {
    let argv: Vec<String> = req.command.iter().map(|a| fill(a, req)).collect();
    let Some((program, args)) = argv.split_first() else {
        return Err(PrError::Spawn {
            program: String::new(),
            message: "pr_command is empty".into(),
        });
    };
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(&req.repo);
    let out = run(cmd, program)?;
    if !out.status.success() {
        return Err(PrError::Command {
            program: program.clone(),
            status: out.status.to_string(),
            stderr: last_lines(&out.stderr),
        });
    }
    let printed = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let url = printed
        .split_whitespace()
        .rfind(|w| w.starts_with("https://") || w.starts_with("http://"))
        .map(str::to_string)
        .ok_or_else(|| PrError::NoUrl {
            program: program.clone(),
            output: last_lines(printed.as_bytes()),
        })?;
    let number = crate::signal_match::parse_pr_url(&url)
        .map(|(_, n)| n)
        .or_else(|| url.rsplit('/').find_map(|s| s.parse().ok()));
    Ok(Opened { url, number })
}

fn fill(arg: &str, req: &PrRequest) -> String {
    arg.replace("{branch}", &req.branch)
        .replace("{into}", &req.into)
        .replace("{remote}", &req.remote)
        .replace("{title}", &req.title)
        .replace("{commit}", &req.commit)
}

/// The last few non-empty lines of some output, as one line for a reason.
fn last_lines(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(4)..].join(" / ");
    if tail.is_empty() {
        "(no output)".into()
    } else {
        tail.chars().take(400).collect()
    }
}

/// Runs a program with no stdin and no prompts, killing it after `LIMIT`.
fn run(mut cmd: Command, program: &str) -> Result<Output, PrError> {
    let spawn_err = |e: std::io::Error| PrError::Spawn {
        program: program.to_string(),
        message: e.to_string(),
    };
    let mut child = cmd
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err)?;
    // Read both pipes while waiting, so a chatty program never blocks on a full pipe.
    let reader = |p: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = p {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let end = Instant::now() + LIMIT;
    let status = loop {
        match child.try_wait().map_err(spawn_err)? {
            Some(st) => break st,
            None if Instant::now() > end => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PrError::Command {
                    program: program.to_string(),
                    status: format!("killed after {} s", LIMIT.as_secs()),
                    stderr: String::new(),
                });
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}
