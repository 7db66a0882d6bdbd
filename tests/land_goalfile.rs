//! The goal file's `land` kind and `{result.KEY}` in a signal's `pr_url`: what is accepted,
//! with which defaults, and every mistake refused at file:line:col with what to do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use taskboard::goalfile::{parse_json, parse_str, GoalErrors};
use taskboard::model::{Kind, LandStrategy, NewTask};

fn parse(text: &str) -> Result<NewTask, GoalErrors> {
    parse_str(text, "goal.toml", Path::new("/tmp"), &BTreeMap::new())
}

const HEAD: &str = "title = \"g\"\n[[task]]\nkey = \"a\"\ntitle = \"A\"\nprompt = \"p\"\n";

#[test]
fn a_land_task_with_defaults_and_with_every_field() {
    let g = parse(&format!(
        "{HEAD}[[task]]\ntitle = \"Ship\"\nkind = \"land\"\n"
    ))
    .expect("ok");
    let t = &g.children[1];
    assert_eq!(t.kind, Kind::Land);
    let l = t.spec.land.as_ref().expect("land fields");
    assert_eq!(
        (l.into.as_deref(), l.strategy, l.pr, l.tasks.len()),
        (None, LandStrategy::Merge, false, 0)
    );
    assert!(l.remote.is_none() && l.pr_command.is_none());

    let g = parse(&format!(
        "{HEAD}[[task]]\nkey = \"b\"\ntitle = \"B\"\nprompt = \"p\"\n[[task]]\ntitle = \"Ship\"\nkind = \"land\"\ninto = \"release\"\nstrategy = \"squash\"\ntasks = [\"a\", \"b\"]\npr = true\nremote = \"upstream\"\npr_command = [\"gh\", \"pr\", \"create\", \"--head\", \"{{branch}}\"]\n"
    ))
    .expect("ok");
    let t = &g.children[2];
    let l = t.spec.land.as_ref().expect("land fields");
    assert_eq!(l.into.as_deref(), Some("release"));
    assert_eq!(l.strategy, LandStrategy::Squash);
    assert_eq!(l.tasks, vec!["a", "b"]);
    assert!(l.pr);
    assert_eq!(l.remote.as_deref(), Some("upstream"));
    assert_eq!(
        l.pr_command.as_deref().map(|c| c.join(" ")),
        Some("gh pr create --head {branch}".into())
    );
    // What it lands, it waits for.
    assert_eq!(t.after, vec!["a", "b"]);
    for (s, want) in [
        ("ff", LandStrategy::Ff),
        ("merge", LandStrategy::Merge),
        ("squash", LandStrategy::Squash),
    ] {
        let g = parse(&format!(
            "{HEAD}[[task]]\ntitle = \"S\"\nkind = \"land\"\nstrategy = \"{s}\"\n"
        ))
        .expect("ok");
        assert_eq!(g.children[1].spec.land.as_ref().unwrap().strategy, want);
    }
}

struct Bad {
    name: &'static str,
    tail: &'static str,
    at: (usize, usize),
    says: &'static str,
    field: &'static str,
}

/// Rows appended to HEAD (5 lines), so line 6 is the land task's `[[task]]`.
const BAD: &[Bad] = &[
    Bad {
        name: "a field of another kind",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\nprompt = \"merge it\"\n",
        at: (9, 1),
        says: "unknown field `prompt` on a land task (allowed: title, key, kind, after, priority, into, strategy, tasks, pr, remote, pr_command)",
        field: "task[1].prompt",
    },
    Bad {
        name: "a field no kind has",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\nbranch = \"main\"\n",
        at: (9, 1),
        says: "unknown field `branch`",
        field: "",
    },
    Bad {
        name: "a bad strategy",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\nstrategy = \"rebase\"\n",
        at: (9, 12),
        says: "unknown strategy \"rebase\": use ff, merge or squash",
        field: "task[1].strategy",
    },
    Bad {
        name: "pr that is not true or false",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\npr = 42\n",
        at: (9, 6),
        says: "`pr` on a land task is true",
        field: "task[1].pr",
    },
    Bad {
        name: "a pr_command without pr",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\npr_command = [\"x\"]\n",
        at: (9, 14),
        says: "`pr_command` is used only with pr = true",
        field: "task[1].pr_command",
    },
    Bad {
        name: "a remote without pr",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\nremote = \"up\"\n",
        at: (9, 10),
        says: "`remote` is used only with pr = true",
        field: "task[1].remote",
    },
    Bad {
        name: "an empty pr_command",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\npr = true\npr_command = []\n",
        at: (10, 14),
        says: "`pr_command` must name a program",
        field: "task[1].pr_command",
    },
    Bad {
        name: "an empty into",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\ninto = \" \"\n",
        at: (9, 8),
        says: "`into` must not be empty",
        field: "task[1].into",
    },
    Bad {
        name: "tasks naming no task",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\ntasks = [\"a\", \"nope\"]\n",
        at: (9, 15),
        says: "`tasks` names \"nope\" but no task of this goal has that key (keys: a)",
        field: "task[1].tasks",
    },
    Bad {
        name: "tasks naming the group the land task is in",
        tail: "[[task]]\nkey = \"grp\"\ntitle = \"G\"\n  [[task.task]]\n  title = \"S\"\n  kind = \"land\"\n  tasks = [\"grp\"]\n",
        at: (12, 12),
        says: "`tasks` names \"grp\", which is this land task or a group it is in",
        field: "task[1].task[0].tasks",
    },
    Bad {
        name: "an empty tasks list",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\ntasks = []\n",
        at: (9, 9),
        says: "`tasks` is empty",
        field: "task[1].tasks",
    },
    Bad {
        name: "tasks that make a cycle",
        tail: "[[task]]\nkey = \"ship\"\ntitle = \"S\"\nkind = \"land\"\ntasks = [\"late\"]\n[[task]]\nkey = \"late\"\ntitle = \"L\"\nprompt = \"p\"\n",
        at: (10, 10),
        says: "dependency cycle",
        field: "task[1].after",
    },
    Bad {
        name: "children under a land task",
        tail: "[[task]]\ntitle = \"S\"\nkind = \"land\"\n  [[task.task]]\n  title = \"x\"\n",
        at: (8, 8),
        says: "a land task cannot have [[task.task]] children",
        field: "task[1].task",
    },
];

#[test]
fn every_mistake_on_a_land_task_is_located_and_says_what_to_do() {
    let mut failures = Vec::new();
    for c in BAD {
        let text = format!("{HEAD}{}", c.tail);
        match parse(&text) {
            Ok(_) => failures.push(format!("{}: accepted", c.name)),
            Err(all) if all.len() != 1 => failures.push(format!(
                "{}: want one mistake, got {}:\n{all}",
                c.name,
                all.len()
            )),
            Err(all) => {
                let e = all.first();
                let shown = e.to_string();
                let ok = (e.line, e.col) == c.at
                    && e.message.contains(c.says)
                    && shown.starts_with(&format!("goal.toml:{}:{}: ", c.at.0, c.at.1))
                    && (c.field.is_empty() || e.field.as_deref() == Some(c.field));
                if !ok {
                    failures.push(format!(
                        "{}: got `{shown}` (field {:?}); want {}:{} {:?} field {:?}",
                        c.name, e.field, c.at.0, c.at.1, c.says, c.field
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_json_form_takes_land_tasks_and_names_the_field_at_fault() {
    let ok = serde_json::json!({
        "title": "g", "repo": "/tmp",
        "task": [
            {"key": "a", "title": "A", "prompt": "p"},
            {"title": "S", "kind": "land", "pr": true, "strategy": "ff"}
        ]
    });
    let g = parse_json(&ok).expect("ok");
    let l = g.children[1].spec.land.as_ref().unwrap();
    assert!(l.pr);
    assert_eq!(l.strategy, LandStrategy::Ff);
    let bad = serde_json::json!({
        "title": "g", "repo": "/tmp",
        "task": [{"title": "S", "kind": "land", "strategy": "octopus"}]
    });
    let e = parse_json(&bad).unwrap_err();
    assert!(e.message().contains("unknown strategy \"octopus\""), "{e}");
    assert_eq!(e.field().as_deref(), Some("task[0].strategy"));
}

#[test]
fn a_signal_pr_url_may_name_results_and_is_checked_when_it_arms() {
    let g = parse(&format!(
        "{HEAD}[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"gh_ci\"\npr_url = \"{{result.pr_url}}\"\n"
    ))
    .expect("a result placeholder is accepted");
    let s = &g.children[1].spec;
    assert_eq!(s.pr_url.as_deref(), Some("{result.pr_url}"));
    assert_eq!((s.pr, s.repo.as_deref()), (None, None));
    // Without a placeholder, a URL that is not a PR's is still refused at once.
    let e = parse(&format!(
        "{HEAD}[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"gh_ci\"\npr_url = \"https://example.com/x\"\n"
    ))
    .unwrap_err();
    let e = e.first();
    assert_eq!((e.line, e.col), (10, 10));
    assert!(e.message.contains("is not a pull request URL"), "{e}");
}

#[test]
fn every_land_mistake_of_a_file_is_reported_at_once_with_nearest_names() {
    let text = format!(
        "{HEAD}[[task]]\ntitle = \"S\"\nkind = \"land\"\nstrategy = \"sqash\"\ninto = \"\"\ntasks = [\"a\", \"nope\"]\nremote = \"up\"\n[[task]]\nkey = \"b\"\ntitle = \"B\"\nkind = \"lnd\"\n"
    );
    let all = parse(&text).unwrap_err();
    let lines: Vec<String> = all.iter().map(|e| e.to_string()).collect();
    let want = [
        "goal.toml:9:12: unknown strategy \"sqash\" (did you mean \"squash\"?): use ff, merge or squash",
        "goal.toml:10:8: `into` must not be empty",
        "goal.toml:11:15: `tasks` names \"nope\" but no task of this goal has that key",
        "goal.toml:12:10: `remote` is used only with pr = true",
        "goal.toml:16:8: unknown kind \"lnd\" (did you mean \"land\"?): use agent, human_review, signal, land or group",
    ];
    assert_eq!(lines.len(), want.len(), "{all}");
    for (got, want) in lines.iter().zip(want) {
        assert!(got.starts_with(want), "got `{got}`, want `{want}…`\n{all}");
    }
}
