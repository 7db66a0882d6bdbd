//! The command line (clap): words, flags and their help texts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "taskboard", version, about = "A terminal task board that supervises coding agents", long_about = None)]
pub struct Cli {
    /// Data dir (default: $TASKBOARD_HOME, else the platform data dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file (default: the platform config dir's taskboard/config.toml, if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run a goal file (or go on with the data dir's unfinished goals).
    Run(RunArgs),
    /// A temp git repo + the demo goal with a bundled fake agent (paths printed, kept).
    Demo(DemoArgs),
    /// Show the tree with statuses (read-only; works while a board runs).
    Status {
        /// Print the stable JSON shape documented in the README.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Goal file (TOML). Without it, unfinished goals in the data dir go on.
    pub file: Option<PathBuf>,
    /// Template value for `{{K}}` in the goal file (repeatable).
    #[arg(long = "var", value_name = "K=V", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// No UI: print one line per status change; exit when the goal is over.
    #[arg(long)]
    pub headless: bool,
    /// Approve every human review gate automatically.
    #[arg(long)]
    pub auto_approve: bool,
    /// Give up after this long (e.g. 30s, 10m) with exit code 124.
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Listener address (default from config: 127.0.0.1:0, any free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run without the UI, printing status lines.
    #[arg(long)]
    pub headless: bool,
    /// Approve the demo's review gate automatically.
    #[arg(long)]
    pub auto_approve: bool,
}

pub fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected K=V, got {s:?}")),
    }
}

pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write it like 30s, 10m or 2h)"))
}
