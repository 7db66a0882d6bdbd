//! `taskboard doctor`: is everything in place to run agents here? One line per check with
//! ✔ (fine), ⚠ (a warning, with what to do; never fails the run) or ✘ (a problem, with what
//! to do). Exit 0 when nothing failed, 1 otherwise. It only reads: the data dir, the config,
//! the agents' own config files (never written) and what the programs answer.

mod agents;
mod claude;
mod system;

use std::path::Path;

use serde::Serialize;

use crate::config::Config;
use crate::datadir::DataDir;
use crate::failure::Failure;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Worth knowing and fixing, but agents can run: does not fail the doctor.
    Warn,
    Fail,
    /// Not applicable here (no board running, Claude Code not installed).
    Skip,
}

impl Status {
    fn glyph(self) -> &'static str {
        match self {
            Status::Ok => "✔",
            Status::Warn => "⚠",
            Status::Fail => "✘",
            Status::Skip => "·",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked (`git`, `data dir`, `agent claude`, …).
    pub check: String,
    pub status: Status,
    pub summary: String,
    /// What to do about it (warnings and failures).
    pub hint: Option<String>,
    /// More lines (each mistake of a config file that does not load).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl Check {
    pub fn new(check: impl Into<String>, status: Status, summary: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            status,
            summary: summary.into(),
            hint: None,
            details: Vec::new(),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Check {
        self.hint = Some(hint.into());
        self
    }

    /// The line as printed: glyph, what, how it is, and what to do.
    pub fn line(&self) -> String {
        let mut s = format!("{} {}: {}", self.status.glyph(), self.check, self.summary);
        if let Some(h) = &self.hint {
            s.push_str(" → ");
            s.push_str(h);
        }
        for d in &self.details {
            s.push_str("\n    ");
            s.push_str(d);
        }
        s
    }
}

/// The config the checks run with: the file's when it loads, else the defaults (and a ✘).
fn config_check(config: Option<&Path>) -> (Config, Check) {
    let (path, required) = match config {
        Some(p) => (Some(p.to_path_buf()), true),
        None => (Config::default_path(), false),
    };
    match Config::load(path.as_deref(), required) {
        Ok(cfg) => {
            let summary = match &path {
                Some(p) if p.exists() => format!("{} loads", p.display()),
                Some(p) => format!("none at {} (built-in defaults)", p.display()),
                None => "none (built-in defaults)".to_string(),
            };
            (cfg, Check::new("config", Status::Ok, summary))
        }
        Err(e) => {
            let shown = path
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let mut c = Check::new("config", Status::Fail, format!("{shown} does not load"))
                .hint("fix the lines below (the other checks use the built-in defaults)");
            c.details = e.to_string().lines().map(str::to_string).collect();
            let defaults = Config::load(None, false).unwrap_or_default();
            (defaults, c)
        }
    }
}

/// Runs every check. `config`: `--config`, if given.
pub fn checks(data: &DataDir, config: Option<&Path>) -> Result<Vec<Check>, Failure> {
    let (cfg, config_line) = config_check(config);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the runtime: {e}")))?;
    Ok(rt.block_on(async {
        let mut out = vec![config_line];
        out.push(system::git().await);
        out.extend(system::data_dir(data));
        out.extend(system::board(data).await);
        let profiles = agents::check_all(&cfg).await;
        out.extend(profiles.iter().map(|p| p.check.clone()));
        out.extend(claude::checks(&profiles, data));
        out
    }))
}

/// `taskboard doctor [--json]`.
pub fn run(data: &DataDir, config: Option<&Path>, json: bool) -> Result<i32, Failure> {
    let checks = checks(data, config)?;
    let ok = !checks.iter().any(|c| c.status == Status::Fail);
    if json {
        let body = serde_json::json!({"ok": ok, "checks": checks});
        println!(
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_else(|_| body.to_string())
        );
    } else {
        for c in &checks {
            println!("{}", c.line());
        }
        let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
        let warned = checks.iter().filter(|c| c.status == Status::Warn).count();
        match (failed, warned) {
            (0, 0) => println!("all set: agents can run here"),
            (0, w) => println!("agents can run here ({w} warning{})", plural(w)),
            (f, _) => println!("{f} problem{} to fix (✘ above)", plural(f)),
        }
    }
    Ok(if ok { 0 } else { 1 })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
