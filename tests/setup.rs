//! From install to a first goal: `taskboard completions` loads in a real bash and completes the
//! CLI words; `taskboard init` writes a starter goal that loads as it is and a config that
//! parses, and never overwrites anything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn bash(script: &str) -> std::process::Output {
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("TB", BIN)
        .output()
        .expect("bash must be installed to test the bash completions")
}

#[test]
fn bash_completions_load_and_register_taskboard() {
    let out = bash(r#"source <("$TB" completions bash) && complete -p taskboard"#);
    assert!(out.status.success(), "{}", text(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("-F _taskboard taskboard"),
        "registered: {shown}"
    );
}

#[test]
fn bash_completions_complete_words_and_flags() {
    let complete = |line: &str| {
        let script = format!(
            r#"source <("$TB" completions bash)
COMP_LINE={line:?}; COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "$COMP_LINE"
[ "${{COMP_LINE: -1}}" = " " ] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_taskboard taskboard "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#
        );
        let out = bash(&script);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let words = complete("taskboard do");
    assert!(words.contains(&"doctor".to_string()), "{words:?}");
    assert!(words.contains(&"down".to_string()), "{words:?}");
    let flags = complete("taskboard doctor --");
    assert!(flags.contains(&"--json".to_string()), "{flags:?}");
    let shells = complete("taskboard completions ");
    for sh in ["bash", "zsh", "fish"] {
        assert!(shells.contains(&sh.to_string()), "{shells:?}");
    }
}

#[test]
fn zsh_and_fish_scripts_name_the_program() {
    let s = Scratch::new();
    let zsh = s.run(&["completions", "zsh"]);
    assert!(zsh.status.success(), "{}", text(&zsh));
    assert!(String::from_utf8_lossy(&zsh.stdout).starts_with("#compdef taskboard"));
    let fish = s.run(&["completions", "fish"]);
    assert!(fish.status.success(), "{}", text(&fish));
    assert!(String::from_utf8_lossy(&fish.stdout).contains("complete -c taskboard"));
    let bad = s.run(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

/// `taskboard init DIR` with the config going to `cfg`.
fn init(s: &Scratch, dir: &Path, cfg: &Path) -> std::process::Output {
    Command::new(BIN)
        .arg("--config")
        .arg(cfg)
        .arg("init")
        .arg(dir)
        .current_dir(s.path())
        .output()
        .expect("run init")
}

#[test]
fn init_writes_a_goal_that_loads_and_a_config_that_parses() {
    let s = Scratch::new();
    let repo = s.path().join("my-project");
    git_repo(&repo);
    let cfg = s.path().join("conf").join("config.toml");
    let out = init(&s, &repo, &cfg);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let goal = repo.join("goal.toml");
    let goal_text = std::fs::read_to_string(&goal).expect("goal written");
    assert!(
        goal_text.contains("title = \"Work on my-project\""),
        "{goal_text}"
    );
    assert!(
        goal_text.lines().filter(|l| l.starts_with('#')).count() > 5,
        "commented"
    );
    assert!(std::fs::read_to_string(&cfg)
        .expect("config written")
        .contains("# max_agents"));
    assert!(text(&out).contains("wrote"), "{}", text(&out));

    // The goal loads as written: added to a data dir (no board runs), with the three kinds.
    let add = Command::new(BIN)
        .arg("--data-dir")
        .arg(s.data())
        .arg("--config")
        .arg(&cfg)
        .arg("add")
        .arg(&goal)
        .output()
        .expect("add");
    assert_eq!(add.status.code(), Some(0), "{}", text(&add));
    let tasks = flatten(&s.status());
    let kinds: Vec<&str> = tasks.iter().filter_map(|t| t["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        ["group", "agent", "signal", "human_review"],
        "{tasks:?}"
    );
    assert_eq!(by_title(&tasks, "CI is green")["gate"], "gh_ci");

    // The config parses (an explicit --config that does not parse is exit 2).
    let status = Command::new(BIN)
        .arg("--data-dir")
        .arg(s.data())
        .arg("--config")
        .arg(&cfg)
        .arg("status")
        .output()
        .expect("status");
    assert_eq!(status.status.code(), Some(0), "{}", text(&status));
    let parsed = taskboard::config::Config::parse(&std::fs::read_to_string(&cfg).unwrap(), &cfg)
        .expect("the starter config parses");
    assert_eq!(
        parsed.max_agents,
        taskboard::config::Config::default().max_agents
    );
}

#[test]
fn init_never_overwrites() {
    let s = Scratch::new();
    let repo = s.path().join("repo");
    git_repo(&repo);
    let cfg = s.path().join("config.toml");
    std::fs::write(&cfg, "max_agents = 2\n").expect("own config");
    // An existing config is kept; the goal is still written.
    let out = init(&s, &repo, &cfg);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("left as it is"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), "max_agents = 2\n");
    // An existing goal file stops it: exit 1, named, nothing written.
    std::fs::write(repo.join("goal.toml"), "# mine\n").expect("own goal");
    let other_cfg = s.path().join("new").join("config.toml");
    let again = init(&s, &repo, &other_cfg);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        text(&again).contains(&format!(
            "{} already exists",
            repo.join("goal.toml").display()
        )),
        "{}",
        text(&again)
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("goal.toml")).unwrap(),
        "# mine\n"
    );
    assert!(
        !other_cfg.exists(),
        "nothing written when the goal file exists"
    );
}

#[test]
fn init_uses_the_platform_config_dir_and_notes_a_missing_repository() {
    let s = Scratch::new();
    let dir = s.path().join("plain");
    std::fs::create_dir_all(&dir).expect("dir");
    let xdg = s.path().join("xdg");
    let out = Command::new(BIN)
        .arg("init")
        .current_dir(&dir)
        .env("XDG_CONFIG_HOME", &xdg)
        .env("HOME", s.path())
        .output()
        .expect("init");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(dir.join("goal.toml").is_file());
    assert!(
        xdg.join("taskboard").join("config.toml").is_file(),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("not in a git repository"),
        "{}",
        text(&out)
    );
    let missing = Command::new(BIN)
        .args(["init", "does-not-exist"])
        .current_dir(&dir)
        .env("XDG_CONFIG_HOME", &xdg)
        .output()
        .expect("init");
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(
        text(&missing).contains("not a directory"),
        "{}",
        text(&missing)
    );
}
