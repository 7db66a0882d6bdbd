//! JSON (the same schema), and the shipped goal files.

use super::*;

// ---------------------------------------------------------------------------------------------
// JSON: the same schema.

#[test]
fn json_uses_the_same_schema() {
    let body = serde_json::json!({
        "title": "From JSON {{pr}}",
        "repo": "/srv/repo",
        "vars": {"pr": "12"},
        "task": [
            {"key": "fix", "title": "fix", "prompt": "go", "timeout": "45m"},
            {"title": "ci", "kind": "signal", "gate": "gh_ci", "pr": "{{pr}}", "after": ["fix"]},
            {"title": "more", "parallel": true, "task": [{"title": "x"}, {"title": "y", "kind": "human_review"}]}
        ]
    });
    let g = parse_json(&body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.spec.title, "From JSON 12");
    assert_eq!(
        g.spec.goal.as_ref().map(|s| s.repo.clone()),
        Some(PathBuf::from("/srv/repo"))
    );
    let kinds: Vec<Kind> = g.children.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [Kind::Agent, Kind::Signal, Kind::Group]);
    assert_eq!(g.children[0].spec.timeout, Some(2700));
    assert_eq!(
        (g.children[1].spec.pr, g.children[1].after.clone()),
        (Some(12), vec!["fix".to_string()])
    );
    assert_eq!(g.children[2].children[1].kind, Kind::HumanReview);
}

#[test]
fn json_refuses_a_relative_repo() {
    for repo in [
        serde_json::json!("."),
        serde_json::json!("checkout/repo"),
        serde_json::json!(7),
    ] {
        let body = serde_json::json!({"title": "g", "repo": repo, "task": [{"title": "a"}]});
        let e = parse_json(&body).unwrap_err();
        assert!(
            e.message().contains("`repo` must be an absolute path"),
            "{e}"
        );
        assert_eq!(e.field().as_deref(), Some("repo"));
    }
}

#[test]
fn json_validates_like_toml() {
    let cases = [
        (serde_json::json!([1, 2]), "must be a JSON object", None),
        (
            serde_json::json!({"title": "g", "task": [{"title": "a", "gate": "gh_ci"}]}),
            "unknown field `gate` on an agent task",
            Some("task[0].gate"),
        ),
        (
            serde_json::json!({"title": "g", "task": []}),
            "at least one [[task]]",
            Some("task"),
        ),
        (
            serde_json::json!({"title": "g", "task": [{"title": "a", "after": ["nope"]}]}),
            "`after` names \"nope\"",
            Some("task[0].after"),
        ),
        (
            serde_json::json!({"title": "g", "task": [{"title": "ci", "kind": "signal"}]}),
            "needs `gate`",
            Some("task[0].gate"),
        ),
        (
            serde_json::json!({"task": [{"title": "a"}]}),
            "the goal has no `title`",
            Some("title"),
        ),
    ];
    for (body, says, field) in cases {
        let e = parse_json(&body).unwrap_err();
        assert_eq!(e.len(), 1, "{body}: {e}");
        assert!(e.message().contains(says), "{body}: {e}");
        assert_eq!(e.field().as_deref(), field, "{body}");
        assert_eq!(e.first().file, "<json>");
    }
}

// ---------------------------------------------------------------------------------------------
// The shipped goal files.

/// A tree's shape as text: `agent`, `signal(gh_ci)`, `group[…]`.
fn shape(t: &NewTask) -> String {
    match t.kind {
        Kind::Group => format!(
            "group[{}]",
            t.children.iter().map(shape).collect::<Vec<_>>().join(", ")
        ),
        Kind::Signal => format!("signal({})", t.spec.gate.as_deref().unwrap_or("?")),
        k => k.as_str().to_string(),
    }
}

/// A file in assets/goals/: the vars it needs and the tree it must become.
struct Shipped {
    file: &'static str,
    vars: &'static [(&'static str, &'static str)],
    shape: &'static str,
}

const CHECKOUT: (&str, &str) = ("checkout", "/tmp/checkout");

const SHIPPED: &[Shipped] = &[
    Shipped {
        file: "demo.toml",
        vars: NO_VARS,
        shape: "group[agent, group[agent, agent, agent], human_review, land]",
    },
    Shipped {
        file: "fanout.toml",
        vars: &[CHECKOUT],
        shape: "group[agent, agent, agent, agent, human_review]",
    },
    Shipped {
        file: "pr-shepherd.toml",
        vars: &[("pr", "42"), CHECKOUT],
        shape: "group[agent, signal(gh_ci), human_review, agent]",
    },
    Shipped {
        file: "pr-triage.toml",
        vars: &[("pr", "42"), CHECKOUT],
        shape: "group[agent, signal(gh_review), agent, signal(gh_ci), agent]",
    },
    Shipped {
        file: "upstream-issue.toml",
        vars: &[("issue", "https://github.com/o/n/issues/7"), CHECKOUT],
        shape: "group[agent, human_review, agent, signal(gh_ci), agent, signal(gh_review)]",
    },
];

/// Every title and prompt of a tree, to check that no template var was left unfilled.
fn texts(t: &NewTask) -> Vec<String> {
    let mut out = vec![t.spec.title.clone()];
    out.extend(t.spec.prompt.clone());
    out.extend(t.children.iter().flat_map(texts));
    out
}

#[test]
fn every_shipped_goal_file_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/goals");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("assets/goals") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let Some(want) = SHIPPED.iter().find(|s| s.file == name) else {
            panic!("{name}: add its expected shape to SHIPPED");
        };
        let g = load_file(&path, &vars(want.vars)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(shape(&g), want.shape, "{name}");
        for text in texts(&g) {
            assert!(!text.contains("{{"), "{name}: a var is not filled: {text}");
        }
        seen.push(name);
    }
    seen.sort();
    let expected: Vec<String> = SHIPPED.iter().map(|s| s.file.to_string()).collect();
    assert_eq!(seen, expected);
}

#[test]
fn fanout_review_waits_for_every_branch() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/goals/fanout.toml");
    let g = load_file(&path, &vars(&[CHECKOUT])).unwrap_or_else(|e| panic!("{e}"));
    assert!(g.spec.parallel);
    let keys: Vec<String> = g.children[..4]
        .iter()
        .filter_map(|t| t.spec.key.clone())
        .collect();
    assert_eq!(g.children[4].after, keys);
    assert_eq!(keys.len(), 4);
}

#[test]
fn templates_need_their_required_vars() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/goals");
    for (file, missing) in [
        ("pr-triage.toml", "pr"),
        ("upstream-issue.toml", "issue"),
        ("pr-shepherd.toml", "pr"),
    ] {
        let e = load_file(&dir.join(file), &vars(&[("checkout", "/tmp/checkout")])).unwrap_err();
        assert!(
            e.message()
                .contains(&format!("var '{missing}' has no default")),
            "{file}: {e}"
        );
    }
}

#[test]
fn pr_triage_waits_on_the_given_pr_and_retries_feedback() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/goals/pr-triage.toml");
    let g = load_file(
        &path,
        &vars(&[("pr", "78"), ("repo", "o/n"), ("checkout", "/tmp/c")]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let tasks = &g.children;
    for gate in [&tasks[1], &tasks[3]] {
        assert_eq!(
            (gate.spec.pr, gate.spec.repo.as_deref()),
            (Some(78), Some("o/n")),
            "{}",
            gate.spec.title
        );
    }
    assert_eq!(tasks[2].spec.retries, 3);
    assert!(tasks
        .iter()
        .all(|t| !t.spec.prompt.as_deref().unwrap_or("").contains("{{")));
    assert_eq!(
        g.spec.goal.as_ref().map(|s| s.repo.clone()),
        Some(PathBuf::from("/tmp/c"))
    );
}

#[test]
fn upstream_issue_retries_feedback() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/goals/upstream-issue.toml");
    let g = load_file(&path, &vars(&[("issue", "123"), ("checkout", "/tmp/c")]))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(g.children[4].spec.retries, 3);
    assert!(g.children[0]
        .spec
        .prompt
        .as_deref()
        .unwrap_or("")
        .contains("123"));
}
