//! Test-only fault points. `TASKBOARD_FAULT=POINT:pause[:N][,…]` makes the program stop
//! itself (SIGSTOP, the whole process) the Nth time (default: the first) it reaches POINT,
//! so a test can `kill -9` it exactly there, or look at the disk and let it go on with
//! SIGCONT; it says `TASKBOARD_FAULT: stopped at POINT` on stderr first. Without the
//! variable every point is inert: a check of a list read once, empty.
//! Stopping this very process is all a point can do: nothing a user could not do with
//! `kill -STOP`. Imports nothing from the rest of the program.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The points, where they are, and what a kill there leaves behind.
pub const POINTS: &[(&str, &str)] = &[
    (
        WORKTREE_BRANCH,
        "a task's new branch exists, its worktree not yet",
    ),
    (
        WORKTREE_ADD,
        "the worktree is registered and checked out, still locked (not yet complete)",
    ),
    (
        WORKTREE_READY,
        "the worktree is complete, the agent not started, nothing recorded",
    ),
    (
        WORKTREE_REMOVE,
        "a deleted goal's worktree is unregistered, its directory not yet removed",
    ),
    (
        DIFF_SAVE,
        "a review diff is written to a temp file, not yet renamed into place or recorded",
    ),
    (
        STORE_COMMIT,
        "a commit's rows are written inside the transaction, not yet committed",
    ),
    (
        RECONCILED,
        "at start: recovery and the worktree clean-up are done, nothing dispatched yet",
    ),
    (
        LAND,
        "landing: the merged commits are made and, when the target is checked out, written \
         to that checkout (files and index); the target's ref has not moved yet",
    ),
];

pub const WORKTREE_BRANCH: &str = "worktree_branch";
pub const WORKTREE_ADD: &str = "worktree_add";
pub const WORKTREE_READY: &str = "worktree_ready";
pub const WORKTREE_REMOVE: &str = "worktree_remove";
pub const DIFF_SAVE: &str = "diff_save";
pub const STORE_COMMIT: &str = "store_commit";
pub const RECONCILED: &str = "reconciled";
pub const LAND: &str = "land";

struct Rule {
    point: String,
    nth: u32,
    hits: AtomicU32,
}

fn parse(spec: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mut parts = item.split(':');
        let point = parts.next().unwrap_or("");
        if !POINTS.iter().any(|(p, _)| *p == point) {
            let known: Vec<&str> = POINTS.iter().map(|(p, _)| *p).collect();
            return Err(format!(
                "TASKBOARD_FAULT: unknown point {point:?} (known: {})",
                known.join(", ")
            ));
        }
        if parts.next() != Some("pause") {
            return Err(format!(
                "TASKBOARD_FAULT: {item:?}: the only action is `pause` (POINT:pause[:N])"
            ));
        }
        let nth =
            match parts.next() {
                None => 1,
                Some(n) => n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("TASKBOARD_FAULT: {item:?}: N must be a number from 1")
                })?,
            };
        rules.push(Rule {
            point: point.to_string(),
            nth,
            hits: AtomicU32::new(0),
        });
    }
    Ok(rules)
}

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        std::env::var("TASKBOARD_FAULT")
            .ok()
            .and_then(|s| parse(&s).ok())
            .unwrap_or_default()
    })
}

/// Refuses a malformed `TASKBOARD_FAULT` (a test that names a point wrongly must not pass
/// by never stopping). Called once at start.
pub fn check() -> Result<(), String> {
    match std::env::var("TASKBOARD_FAULT") {
        Ok(s) => parse(&s).map(|_| ()),
        Err(_) => Ok(()),
    }
}

/// A fault point: stops the process here when `TASKBOARD_FAULT` asks for it.
pub fn point(name: &str) {
    for r in rules() {
        if r.point == name && r.hits.fetch_add(1, Ordering::SeqCst) + 1 == r.nth {
            tracing::warn!(point = name, "TASKBOARD_FAULT: stopping here");
            // Said on stderr too (unbuffered), so a test knows which point it stopped at.
            eprintln!("TASKBOARD_FAULT: stopped at {name}");
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_or_are_refused_with_a_reason() {
        let r = parse("worktree_add:pause, diff_save:pause:3").expect("valid");
        assert_eq!((r[0].point.as_str(), r[0].nth), ("worktree_add", 1));
        assert_eq!((r[1].point.as_str(), r[1].nth), ("diff_save", 3));
        assert!(parse("").expect("empty").is_empty());
        for bad in [
            "nowhere:pause",
            "worktree_add",
            "worktree_add:exit",
            "diff_save:pause:0",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
