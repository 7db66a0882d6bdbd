//! `taskboard demo`: a temp git repo, the bundled demo goal and demo agent, run for real.

use std::path::{Path, PathBuf};

use crate::cli::{DemoArgs, RunArgs};
use crate::config::{Config, Profile};

pub const DEMO_GOAL: &str = include_str!("../assets/goals/demo.toml");
pub const DEMO_AGENT: &str = include_str!("../assets/agents/demo-agent.sh");

use crate::failure::Failure;

/// Lays out `<root>/repo` (a git repo with one commit), the goal file and the agent script.
pub fn prepare(root: &Path) -> Result<PathBuf, String> {
    let repo_dir = root.join("repo");
    std::fs::create_dir_all(&repo_dir)
        .map_err(|e| format!("cannot create {}: {e}", repo_dir.display()))?;
    // On `main` whatever git's own default is, so the demo lands on a branch people expect.
    let mut init = git2::RepositoryInitOptions::new();
    init.initial_head("main");
    let repo = git2::Repository::init_opts(&repo_dir, &init)
        .map_err(|e| format!("git init failed: {e}"))?;
    std::fs::write(
        repo_dir.join("README.md"),
        "# Demo project\n\nA repository for the taskboard demo.\n",
    )
    .map_err(|e| e.to_string())?;
    let sig = git2::Signature::now("taskboard demo", "demo@taskboard.invalid")
        .map_err(|e| e.to_string())?;
    let mut index = repo.index().map_err(|e| e.to_string())?;
    index
        .add_path(Path::new("README.md"))
        .map_err(|e| e.to_string())?;
    index.write().map_err(|e| e.to_string())?;
    let tree_id = index.write_tree().map_err(|e| e.to_string())?;
    let tree = repo.find_tree(tree_id).map_err(|e| e.to_string())?;
    repo.commit(Some("HEAD"), &sig, &sig, "initial commit", &tree, &[])
        .map_err(|e| e.to_string())?;
    let agents = root.join("agents");
    std::fs::create_dir_all(&agents).map_err(|e| e.to_string())?;
    std::fs::write(agents.join("demo-agent.sh"), DEMO_AGENT).map_err(|e| e.to_string())?;
    let goal = root.join("demo.toml");
    std::fs::write(&goal, DEMO_GOAL).map_err(|e| e.to_string())?;
    Ok(goal)
}

/// The config plus the `demo` agent profile pointing at the laid-out script.
pub fn demo_config(config: &Config, root: &Path) -> Config {
    let mut cfg = config.clone();
    let script = root
        .join("agents")
        .join("demo-agent.sh")
        .display()
        .to_string();
    cfg.agents.insert(
        "demo".into(),
        Profile {
            command: vec!["sh".into(), script],
            resume: None,
            env: Default::default(),
            attention: Vec::new(),
            prompt_suffix: false,
            integration: None,
        },
    );
    cfg
}

pub fn run(data_dir: Option<&Path>, config: &Config, args: &DemoArgs) -> Result<i32, Failure> {
    let stamp = crate::model::now_millis();
    let root = std::env::temp_dir().join(format!("taskboard-demo-{}-{stamp}", std::process::id()));
    let goal_file = prepare(&root).map_err(Failure::usage)?;
    let data = data_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("data"));
    println!("demo repo:  {}", root.join("repo").display());
    println!("data dir:   {}", data.display());
    println!("goal file:  {}", goal_file.display());
    let run_args = RunArgs {
        file: Some(goal_file),
        vars: Vec::new(),
        headless: args.headless,
        auto_approve: args.auto_approve,
        timeout: None,
        listen: None,
    };
    crate::run::run(
        &crate::datadir::DataDir::new(data),
        &demo_config(config, &root),
        &run_args,
    )
}
