//! `taskboard init [DIR]`: a commented starter goal file for the repository in DIR and, when
//! there is none yet, a commented config file. It never overwrites a file: an existing
//! `DIR/goal.toml` stops it before anything is written (exit 1); an existing config is kept.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// The starter goal; `@TITLE@` becomes a TOML string naming the repository.
pub const GOAL_TEMPLATE: &str = include_str!("../assets/init/goal.toml");
/// The starter config: every key at its default, commented out.
pub const CONFIG_TEMPLATE: &str = include_str!("../assets/init/config.toml");
/// The goal file's name inside DIR.
pub const GOAL_FILE: &str = "goal.toml";

/// The starter goal for a repository called `name`.
pub fn goal_text(name: &str) -> String {
    let title = toml::Value::String(format!("Work on {name}")).to_string();
    GOAL_TEMPLATE.replace("@TITLE@", &title)
}

/// Writes `text` to a new file; an existing one is left alone (`Ok(false)`).
fn write_new(path: &Path, text: &str) -> std::io::Result<bool> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut f) => f.write_all(text.as_bytes()).map(|()| true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// What is missing for agent tasks to get worktrees in `dir`, if anything.
fn repo_note(dir: &Path) -> Option<String> {
    match git2::Repository::discover(dir) {
        Err(_) => Some(format!(
            "note: {} is not in a git repository; agent tasks work in worktrees of one \
             (`git init` and a first commit), or set `worktree = false` on them",
            dir.display()
        )),
        Ok(repo) if repo.head().is_err() => Some(format!(
            "note: the repository at {} has no commits yet; make one before the first run \
             (agent worktrees start from HEAD)",
            dir.display()
        )),
        Ok(_) => None,
    }
}

/// `config`: where the config goes (`--config`, else the platform default; `None` when the
/// platform has no config dir).
pub fn run(dir: &Path, config: Option<PathBuf>) -> Result<i32, Failure> {
    if !dir.is_dir() {
        return Err(Failure::usage(format!(
            "{} is not a directory: give the repository's directory (`taskboard init DIR`)",
            dir.display()
        )));
    }
    let goal = dir.join(GOAL_FILE);
    let exists = |what: &Path| Failure {
        message: format!(
            "{} already exists: nothing was written (edit it, move it away, or run \
             `taskboard init` in another directory)",
            what.display()
        ),
        code: 1,
    };
    if goal.symlink_metadata().is_ok() {
        return Err(exists(&goal));
    }
    let name = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "this repository".into());
    let io = |path: &Path, e: std::io::Error| {
        Failure::usage(format!("cannot write {}: {e}", path.display()))
    };
    if !write_new(&goal, &goal_text(&name)).map_err(|e| io(&goal, e))? {
        return Err(exists(&goal));
    }
    println!(
        "wrote {} (an agent task, a CI gate, a review gate)",
        goal.display()
    );
    match config {
        Some(path) if path.symlink_metadata().is_ok() => {
            println!("config {} exists: left as it is", path.display())
        }
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            if write_new(&path, CONFIG_TEMPLATE).map_err(|e| io(&path, e))? {
                println!(
                    "wrote {} (every key at its default, commented)",
                    path.display()
                );
            } else {
                println!("config {} exists: left as it is", path.display());
            }
        }
        None => println!("no config dir on this platform: no config written (pass --config FILE)"),
    }
    if let Some(note) = repo_note(dir) {
        println!("{note}");
    }
    println!(
        "next: describe the change in {}'s prompt, check the agent with `taskboard doctor`, \
         then `taskboard run {}`",
        goal.display(),
        goal.display()
    );
    Ok(0)
}
