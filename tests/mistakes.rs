//! Every mistake at once, through the real binary: a goal file or config file with several
//! mistakes gets each reported as `file:line:col: message` (at most 20), misspelt names get
//! a suggestion, and nothing is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

const THREE_MISTAKES: &str = r#"title = "three mistakes"

[[task]]
title = "build"
kind = "agnet"
prompt = "Build it."

[[task]]
title = "check"
promt = "Check it."

[[task]]
title = "wait for CI"
kind = "signal"
gate = "gh_ci"
timeout = "soon"
"#;

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(|l| l.trim_start_matches("taskboard: ").to_string())
        .collect()
}

#[test]
fn three_planted_mistakes_are_all_reported_with_places_and_nothing_is_stored() {
    let s = Scratch::new();
    let f = s.file("goal.toml", THREE_MISTAKES);
    let file = f.display().to_string();
    for args in [
        vec!["run", file.as_str(), "--headless"],
        vec!["add", file.as_str()],
    ] {
        let out = s.run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let lines = stderr_lines(&out);
        assert_eq!(
            lines,
            [
                format!(
                    "{file}:5:8: unknown kind \"agnet\" (did you mean \"agent\"?): use agent, \
                     human_review, signal, land or group"
                ),
                format!(
                    "{file}:10:1: unknown field `promt` on an agent task (did you mean `prompt`?)"
                ),
                format!(
                    "{file}:16:11: bad duration \"soon\": write it like \"30s\", \"45m\" or \"2h\""
                ),
            ],
            "{args:?}"
        );
        assert!(
            !s.data().join("taskboard.db").exists(),
            "{args:?}: nothing may be stored"
        );
    }
}

#[test]
fn more_than_twenty_mistakes_show_the_first_twenty_and_a_count() {
    let s = Scratch::new();
    let mut goal = String::from("title = \"many\"\n");
    for i in 0..25 {
        goal.push_str(&format!("[[task]]\ntitle = \"t{i}\"\nbogus{i} = 1\n"));
    }
    let f = s.file("goal.toml", &goal);
    let out = s.run(&["add", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let lines = stderr_lines(&out);
    assert_eq!(lines.len(), 21, "{lines:#?}");
    for (i, l) in lines[..20].iter().enumerate() {
        let at = format!("{}:{}:1: unknown field `bogus{i}`", f.display(), 4 + 3 * i);
        assert!(l.starts_with(&at), "{l} (expected {at})");
    }
    assert!(lines[20].contains("and 5 more"), "{}", lines[20]);
}

#[test]
fn a_posted_goal_with_several_mistakes_names_them_all() {
    let s = Scratch::new();
    // A gate that waits keeps the board running.
    let waiting = s.file(
        "wait.toml",
        "title = \"w\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"x\"\n",
    );
    let live = Live::start(&s, Some(&waiting), &[]);
    let body = r#"{"title": "g", "repo": "/tmp", "task": [
        {"title": "a", "kind": "agnet"},
        {"title": "b", "timeout": "soon"}
    ]}"#;
    let (status, v) = live.req("POST", "/api/goals", Some(body));
    assert_eq!(status, 400, "{v}");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("did you mean \"agent\"?"), "{message}");
    assert!(message.contains("bad duration \"soon\""), "{message}");
    assert_eq!(v["error"]["field"], "task[0].kind", "{v}");
    let (_, goals) = live.req("GET", "/api/goals", None);
    assert_eq!(
        goals["goals"].as_array().map(Vec::len),
        Some(1),
        "only the waiting goal: {goals}"
    );
}

#[test]
fn several_config_mistakes_are_all_reported() {
    let s = Scratch::new();
    let cfg = s.file(
        "bad-config.toml",
        r#"max_agent = 3
spawns_per_minute = "many"
default_agent = "cluade"

[agents.mine]
comand = ["my-agent"]
attention = ["(", "fine"]

[keys]
aprove = "y"
"#,
    );
    let out = std::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(s.data())
        .arg("--config")
        .arg(&cfg)
        .arg("status")
        .output()
        .expect("status");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let c = cfg.display();
    let lines = stderr_lines(&out);
    let expected = [
        format!("{c}:1:1: unknown key `max_agent` in the config (did you mean `max_agents`?)"),
        format!("{c}:2:21: `spawns_per_minute`: invalid type: string \"many\", expected u32"),
        format!(
            "{c}:3:17: default_agent \"cluade\" is not an agent profile (did you mean \"claude\"?)"
        ),
        format!("{c}:6:1: unknown key `comand` in [agents.mine] (did you mean `command`?)"),
        format!("{c}:7:14: [agents.mine] attention pattern \"(\" is not a valid regex"),
        format!("{c}:10:1: [keys] \"aprove\" is not an action (did you mean \"approve\"?)"),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (got, want) in lines.iter().zip(&expected) {
        assert!(got.starts_with(want.as_str()), "{got}\n(expected {want}…)");
    }
}

#[test]
fn agent_config_mistakes_are_reported_in_place_and_good_ones_read() {
    let s = Scratch::new();
    let cfg = s.file(
        "agent-config.toml",
        r#"allow = ["Bash(cargo test:*)", "Bash(oops", "Read"]
permission_wait = "soon"
permision_wait = "1m"

[agents.mine]
command = ["my-agent"]
integration = "claud"
"#,
    );
    let run = |cfg: &std::path::Path| {
        std::process::Command::new(BIN)
            .arg("--data-dir")
            .arg(s.data())
            .arg("--config")
            .arg(cfg)
            .arg("status")
            .output()
            .expect("status")
    };
    let out = run(&cfg);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let c = cfg.display();
    let lines = stderr_lines(&out);
    let expected = [
        format!("{c}:1:32: allow rule \"Bash(oops\": expected Tool or Tool(argument)"),
        format!("{c}:2:19: permission_wait \"soon\""),
        format!(
            "{c}:3:1: unknown key `permision_wait` in the config (did you mean `permission_wait`?)"
        ),
        format!("{c}:7:15: [agents.mine] `integration`: unknown variant `claud`"),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (got, want) in lines.iter().zip(&expected) {
        assert!(got.starts_with(want.as_str()), "{got}\n(expected {want}…)");
    }
    let good = s.file(
        "good-config.toml",
        "allow = [\"Bash(cargo test:*)\", \"Read\"]\npermission_wait = \"90s\"\n\n[agents.mine]\ncommand = [\"my-agent\"]\nintegration = \"claude\"\n",
    );
    let out = run(&good);
    assert!(out.status.success(), "{}", text(&out));
}
