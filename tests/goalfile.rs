//! Goal file validator: every error class with its exact line:col and an actionable message,
//! the positive rules of ARCHITECTURE §3, the JSON form, and the shipped goal files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use taskboard::goalfile::{load_file, parse_json, parse_str, GoalErrors};
use taskboard::model::{Kind, NewTask, OnTimeout, SessionPolicy, SpawnFallback};

// ---------------------------------------------------------------------------------------------
// Error cases: one row per way a goal file can be wrong.

/// A goal file that must be refused: where, and what the message must say.
struct Bad {
    name: &'static str,
    text: &'static str,
    vars: &'static [(&'static str, &'static str)],
    at: (usize, usize),
    says: &'static [&'static str],
}

const NO_VARS: &[(&str, &str)] = &[];

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse(text: &str, given: &[(&str, &str)]) -> Result<NewTask, GoalErrors> {
    parse_str(text, "goal.toml", Path::new("/tmp"), &vars(given))
}

/// Runs every row and reports all mismatches at once. Each row plants one mistake, so
/// exactly one is reported: a second would be a knock-on error of the first.
fn check_bad(cases: &[Bad]) {
    let mut failures = Vec::new();
    for c in cases {
        match parse(c.text, c.vars) {
            Ok(_) => failures.push(format!(
                "{}: accepted, expected an error at {}:{}",
                c.name, c.at.0, c.at.1
            )),
            Err(all) => {
                let e = all.first();
                let mut wrong = Vec::new();
                if all.len() != 1 {
                    wrong.push(format!("{} errors, expected one:\n{all}", all.len()));
                }
                if (e.line, e.col) != c.at {
                    wrong.push(format!(
                        "at {}:{} (expected {}:{})",
                        e.line, e.col, c.at.0, c.at.1
                    ));
                }
                for s in c.says {
                    if !e.message.contains(s) {
                        wrong.push(format!("message lacks {s:?}"));
                    }
                }
                if e.file != "goal.toml"
                    || !e
                        .to_string()
                        .starts_with(&format!("goal.toml:{}:{}: ", e.line, e.col))
                {
                    wrong.push(format!("display is {:?}", e.to_string()));
                }
                if !wrong.is_empty() {
                    failures.push(format!("{}: {} — got `{e}`", c.name, wrong.join("; ")));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

const UNKNOWN_FIELDS: &[Bad] = &[
    Bad {
        name: "gate on an agent task",
        text: r#"title = "g"

[[task]]
title = "fix"
gate = "gh_ci"
"#,
        vars: NO_VARS,
        at: (5, 1),
        says: &[
            "unknown field `gate`",
            "an agent task",
            "allowed:",
            "prompt",
        ],
    },
    Bad {
        name: "gate on an agent task whose kind is inferred inside a group",
        text: r#"title = "g"
[[task]]
title = "group"
  [[task.task]]
  title = "fix"
    gate = "gh_ci"
"#,
        vars: NO_VARS,
        at: (6, 5),
        says: &["unknown field `gate`", "an agent task"],
    },
    Bad {
        name: "prompt on a signal task",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
prompt = "wait"
"#,
        vars: NO_VARS,
        at: (6, 1),
        says: &["unknown field `prompt`", "a signal task", "gate"],
    },
    Bad {
        name: "key on the goal",
        text: r#"title = "g"
key = "top"
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (2, 1),
        says: &["unknown field `key`", "a goal"],
    },
    Bad {
        name: "after on the goal",
        text: r#"title = "g"
after = ["a"]
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (2, 1),
        says: &["unknown field `after`", "a goal"],
    },
    Bad {
        name: "kind on the goal",
        text: r#"title = "g"
kind = "group"
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (2, 1),
        says: &["unknown field `kind`", "a goal"],
    },
    Bad {
        name: "prompt on the goal",
        text: r#"title = "g"
prompt = "do it"
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (2, 1),
        says: &["unknown field `prompt`", "a goal"],
    },
    Bad {
        name: "review on a human_review task",
        text: r#"title = "g"
[[task]]
title = "look"
kind = "human_review"
review = true
"#,
        vars: NO_VARS,
        at: (5, 1),
        says: &["unknown field `review`", "a human_review task"],
    },
    Bad {
        name: "session on a human_review task",
        text: r#"title = "g"
[[task]]
title = "look"
kind = "human_review"
session = "pinned"
"#,
        vars: NO_VARS,
        at: (5, 1),
        says: &["unknown field `session`", "a human_review task"],
    },
    Bad {
        name: "agent on a signal task",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
agent = "claude"
"#,
        vars: NO_VARS,
        at: (6, 1),
        says: &["unknown field `agent`", "a signal task"],
    },
    Bad {
        name: "prompt on a group",
        text: r#"title = "g"
[[task]]
title = "group"
prompt = "do it all"
  [[task.task]]
  title = "a"
"#,
        vars: NO_VARS,
        at: (4, 1),
        says: &["unknown field `prompt`", "a group task"],
    },
    Bad {
        name: "parallel on an agent task",
        text: r#"title = "g"
[[task]]
title = "a"
parallel = true
"#,
        vars: NO_VARS,
        at: (4, 1),
        says: &["unknown field `parallel`", "an agent task"],
    },
    Bad {
        name: "repo on an agent task",
        text: r#"title = "g"
[[task]]
title = "a"
repo = "../elsewhere"
"#,
        vars: NO_VARS,
        at: (4, 1),
        says: &["unknown field `repo`", "an agent task"],
    },
    Bad {
        name: "on_timeout on an agent task",
        text: r#"title = "g"
[[task]]
title = "a"
timeout = "1h"
on_timeout = "pass"
"#,
        vars: NO_VARS,
        at: (5, 1),
        says: &["unknown field `on_timeout`", "an agent task"],
    },
    Bad {
        name: "retries on a human_review task",
        text: r#"title = "g"
[[task]]
title = "look"
kind = "human_review"
retries = 2
"#,
        vars: NO_VARS,
        at: (5, 1),
        says: &["unknown field `retries`", "a human_review task"],
    },
    Bad {
        name: "vars on a task",
        text: r#"title = "g"
[[task]]
title = "a"
vars = { pr = "1" }
"#,
        vars: NO_VARS,
        at: (4, 1),
        says: &["unknown field `vars`", "an agent task"],
    },
    Bad {
        name: "max_agents on a group",
        text: r#"title = "g"
[[task]]
title = "group"
max_agents = 2
  [[task.task]]
  title = "a"
"#,
        vars: NO_VARS,
        at: (4, 1),
        says: &["unknown field `max_agents`", "a group task"],
    },
    Bad {
        name: "a field no kind has (typo)",
        text: r#"title = "g"
[[task]]
titel = "a"
"#,
        vars: NO_VARS,
        at: (3, 1),
        says: &["unknown field `titel`", "`title`"],
    },
    Bad {
        name: "a field no kind has, in an inline task",
        text: r#"title = "g"
task = [{ title = "a", promt = "x" }]
"#,
        vars: NO_VARS,
        at: (2, 24),
        says: &["unknown field `promt`", "`prompt`"],
    },
    Bad {
        name: "a kind's unknown field in an inline task points at its key",
        text: r#"title = "g"
task = [{ title = "a", gate = "gh_ci" }]
"#,
        vars: NO_VARS,
        at: (2, 24),
        says: &["unknown field `gate`", "an agent task"],
    },
];

const STRUCTURE: &[Bad] = &[
    Bad {
        name: "unknown kind",
        text: r#"title = "g"
[[task]]
title = "a"
kind = "agnet"
"#,
        vars: NO_VARS,
        at: (4, 8),
        says: &[
            "unknown kind \"agnet\"",
            "agent, human_review, signal, land or group",
        ],
    },
    Bad {
        name: "unknown kind `review`",
        text: r#"title = "g"
[[task]]
title = "a"
  kind = "review"
"#,
        vars: NO_VARS,
        at: (4, 10),
        says: &["unknown kind \"review\"", "human_review"],
    },
    Bad {
        name: "goal without title",
        text: r#"repo = "."
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (1, 1),
        says: &["the goal has no `title`", "title = "],
    },
    Bad {
        name: "task without title points at its header",
        text: r#"title = "g"
[[task]]
title = "a"

[[task]]
prompt = "no title here"
"#,
        vars: NO_VARS,
        at: (5, 1),
        says: &["this task has no `title`", "title = "],
    },
    Bad {
        name: "nested task without title points at its header",
        text: r#"title = "g"
[[task]]
title = "group"
  [[task.task]]
  prompt = "no title here"
"#,
        vars: NO_VARS,
        at: (4, 3),
        says: &["this task has no `title`"],
    },
    Bad {
        name: "empty task title",
        text: r#"title = "g"
[[task]]
title = ""
"#,
        vars: NO_VARS,
        at: (3, 9),
        says: &["`title` must not be empty"],
    },
    Bad {
        name: "blank goal title",
        text: r#"title = "   "
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (1, 9),
        says: &["`title` must not be empty"],
    },
    Bad {
        name: "children on an agent task",
        text: r#"title = "g"
[[task]]
title = "a"
kind = "agent"
  [[task.task]]
  title = "b"
"#,
        vars: NO_VARS,
        at: (4, 8),
        says: &["agent task cannot have [[task.task]] children"],
    },
    Bad {
        name: "children on a signal task",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
  [[task.task]]
  title = "b"
"#,
        vars: NO_VARS,
        at: (4, 8),
        says: &["signal task cannot have [[task.task]] children"],
    },
    Bad {
        name: "children on a human_review task",
        text: r#"title = "g"
[[task]]
title = "look"
kind = "human_review"
  [[task.task]]
  title = "b"
"#,
        vars: NO_VARS,
        at: (4, 8),
        says: &["human_review task cannot have [[task.task]] children"],
    },
    Bad {
        name: "group without children",
        text: r#"title = "g"
[[task]]
title = "a"

[[task]]
title = "empty"
kind = "group"
"#,
        vars: NO_VARS,
        at: (5, 1),
        says: &["a group needs at least one [[task.task]] child"],
    },
    Bad {
        name: "goal without tasks",
        text: r#"title = "g"
repo = "."
"#,
        vars: NO_VARS,
        at: (1, 1),
        says: &["a goal needs at least one [[task]]"],
    },
    Bad {
        name: "goal with an empty task array",
        text: r#"title = "g"
task = []
"#,
        vars: NO_VARS,
        at: (1, 1),
        says: &["a goal needs at least one [[task]]"],
    },
    Bad {
        name: "signal task without gate points at its header",
        text: r#"title = "g"
[[task]]
title = "a"
[[task]]
title = "ci"
kind = "signal"
pr = 42
"#,
        vars: NO_VARS,
        at: (4, 1),
        says: &["a signal task needs `gate`", "gh_ci"],
    },
    Bad {
        name: "signal task with an empty gate",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = ""
"#,
        vars: NO_VARS,
        at: (5, 8),
        says: &["`gate` must not be empty"],
    },
    Bad {
        name: "empty command",
        text: r#"title = "g"
[[task]]
title = "a"
command = []
"#,
        vars: NO_VARS,
        at: (4, 11),
        says: &["`command` must name a program"],
    },
];

const DEPENDENCIES: &[Bad] = &[
    Bad {
        name: "duplicate key between siblings",
        text: r#"title = "g"
[[task]]
key = "fix"
title = "a"
[[task]]
key = "fix"
title = "b"
"#,
        vars: NO_VARS,
        at: (6, 7),
        says: &["duplicate key \"fix\"", "first used on line 3", "unique"],
    },
    Bad {
        name: "duplicate key across nesting levels",
        text: r#"title = "g"
[[task]]
key = "x"
title = "group"
  [[task.task]]
  key = "x"
  title = "a"
"#,
        vars: NO_VARS,
        at: (6, 9),
        says: &["duplicate key \"x\"", "first used on line 3"],
    },
    Bad {
        name: "empty key",
        text: r#"title = "g"
[[task]]
key = " "
title = "a"
"#,
        vars: NO_VARS,
        at: (3, 7),
        says: &["`key` must not be empty"],
    },
    Bad {
        name: "after names no task",
        text: r#"title = "g"
[[task]]
key = "fix"
title = "a"
[[task]]
title = "b"
after = ["fix", "tests"]
"#,
        vars: NO_VARS,
        at: (7, 17),
        says: &[
            "`after` names \"tests\"",
            "no task of this goal has that key",
            "keys: fix",
        ],
    },
    Bad {
        name: "after when no task has a key",
        text: r#"title = "g"
[[task]]
title = "a"
after = ["x"]
"#,
        vars: NO_VARS,
        at: (4, 10),
        says: &["`after` names \"x\"", "no task has a key yet"],
    },
    Bad {
        name: "after names the parent",
        text: r#"title = "g"
[[task]]
key = "group"
title = "group"
  [[task.task]]
  title = "a"
  after = ["group"]
"#,
        vars: NO_VARS,
        at: (7, 12),
        says: &[
            "\"group\" is an ancestor of this task",
            "may not name an ancestor",
        ],
    },
    Bad {
        name: "after names a grandparent",
        text: r#"title = "g"
[[task]]
key = "outer"
title = "outer"
  [[task.task]]
  title = "inner"
    [[task.task.task]]
    title = "a"
    after = ["outer"]
"#,
        vars: NO_VARS,
        at: (9, 14),
        says: &["\"outer\" is an ancestor"],
    },
    Bad {
        name: "after names itself",
        text: r#"title = "g"
[[task]]
key = "a"
title = "a"
after = ["a"]
"#,
        vars: NO_VARS,
        at: (5, 10),
        says: &["cannot wait for itself", "\"a\""],
    },
    Bad {
        name: "two parallel tasks waiting for each other",
        text: r#"title = "g"
parallel = true
[[task]]
key = "a"
title = "a"
after = ["b"]
[[task]]
key = "b"
title = "b"
after = ["a"]
"#,
        vars: NO_VARS,
        at: (10, 10),
        says: &["dependency cycle", "wait for each other"],
    },
    Bad {
        name: "sequential order plus after: the first task waits for the second",
        text: r#"title = "g"
[[task]]
key = "a"
title = "a"
after = ["b"]
[[task]]
key = "b"
title = "b"
"#,
        vars: NO_VARS,
        at: (5, 10),
        says: &["dependency cycle"],
    },
    Bad {
        name: "sequential order plus after across a group",
        text: r#"title = "g"
[[task]]
title = "group"
  [[task.task]]
  title = "a"
  after = ["c"]
[[task]]
key = "c"
title = "c"
"#,
        vars: NO_VARS,
        at: (6, 12),
        says: &["dependency cycle"],
    },
    Bad {
        name: "three tasks in a ring",
        text: r#"title = "g"
parallel = true
[[task]]
key = "a"
title = "a"
after = ["c"]
[[task]]
key = "b"
title = "b"
after = ["a"]
[[task]]
key = "c"
title = "c"
after = ["b"]
"#,
        vars: NO_VARS,
        at: (10, 10),
        says: &["dependency cycle"],
    },
    Bad {
        name: "a group waiting for its own child",
        text: r#"title = "g"
[[task]]
key = "group"
title = "group"
after = ["child"]
  [[task.task]]
  key = "child"
  title = "a"
"#,
        vars: NO_VARS,
        at: (5, 10),
        says: &["dependency cycle"],
    },
];

const VALUES: &[Bad] = &[
    Bad {
        name: "timeout in words",
        text: r#"title = "g"
[[task]]
title = "a"
timeout = "soon"
"#,
        vars: NO_VARS,
        at: (4, 11),
        says: &["bad duration \"soon\"", "\"45m\""],
    },
    Bad {
        name: "timeout without a unit",
        text: r#"title = "g"
[[task]]
title = "a"
timeout = "30"
"#,
        vars: NO_VARS,
        at: (4, 11),
        says: &["bad duration \"30\"", "\"30s\""],
    },
    Bad {
        name: "zero timeout",
        text: r#"title = "g"
[[task]]
title = "a"
timeout = "0s"
"#,
        vars: NO_VARS,
        at: (4, 11),
        says: &["bad duration \"0s\""],
    },
    Bad {
        name: "timeout as a bare number",
        text: r#"title = "g"
[[task]]
title = "a"
timeout = 30
"#,
        vars: NO_VARS,
        at: (4, 11),
        says: &["expected a string"],
    },
    Bad {
        name: "bad timeout on a human_review",
        text: r#"title = "g"
[[task]]
title = "look"
kind = "human_review"
timeout = "a while"
"#,
        vars: NO_VARS,
        at: (5, 11),
        says: &["bad duration \"a while\""],
    },
    Bad {
        name: "bad poll_every",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
poll = "true"
poll_every = "often"
"#,
        vars: NO_VARS,
        at: (7, 14),
        says: &["bad duration \"often\""],
    },
    Bad {
        name: "pr in words",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr = "forty-two"
"#,
        vars: NO_VARS,
        at: (6, 6),
        says: &["`pr` is \"forty-two\"", "positive PR number"],
    },
    Bad {
        name: "pr zero",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr = 0
"#,
        vars: NO_VARS,
        at: (6, 6),
        says: &["positive PR number"],
    },
    Bad {
        name: "pr negative",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr = -7
"#,
        vars: NO_VARS,
        at: (6, 6),
        says: &["`pr` is -7", "positive PR number"],
    },
    Bad {
        name: "pr a float",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr = 4.5
"#,
        vars: NO_VARS,
        at: (6, 6),
        says: &["`pr` is 4.5", "positive PR number"],
    },
    Bad {
        name: "pr a boolean",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr = true
"#,
        vars: NO_VARS,
        at: (6, 6),
        says: &["positive PR number"],
    },
    Bad {
        name: "pr from a var that is not a number",
        text: r#"title = "g"
[vars]
pr = { description = "PR number" }
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr = "{{pr}}"
"#,
        vars: &[("pr", "latest")],
        at: (8, 6),
        says: &["`pr` is \"latest\"", "positive PR number"],
    },
    Bad {
        name: "pr and pr_url disagree",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr = 41
pr_url = "https://github.com/o/n/pull/42"
"#,
        vars: NO_VARS,
        at: (7, 10),
        says: &["names PR 42 but `pr` is 41", "must agree"],
    },
    Bad {
        name: "repo and pr_url disagree",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
repo = "o/other"
pr_url = "https://github.com/o/n/pull/42"
"#,
        vars: NO_VARS,
        at: (7, 10),
        says: &["names o/n but `repo` is o/other", "must agree"],
    },
    Bad {
        name: "pr_url to an issue",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr_url = "https://github.com/o/n/issues/42"
"#,
        vars: NO_VARS,
        at: (6, 10),
        says: &[
            "is not a pull request URL",
            "https://github.com/owner/name/pull/42",
        ],
    },
    Bad {
        name: "pr_url from a result with a pr of its own",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr = 4
pr_url = "{result.pr_url}"
"#,
        vars: NO_VARS,
        at: (7, 10),
        says: &[
            "filled from a result when the gate arms",
            "leave out `pr` and `repo`",
        ],
    },
    Bad {
        name: "pr_url not a URL",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr_url = "42"
"#,
        vars: NO_VARS,
        at: (6, 10),
        says: &["`pr_url` \"42\" is not a pull request URL"],
    },
    Bad {
        name: "unknown session on the goal",
        text: r#"title = "g"
session = "shared"
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (2, 11),
        says: &["unknown session \"shared\"", "spawn or pinned"],
    },
    Bad {
        name: "unknown session on a task",
        text: r#"title = "g"
[[task]]
title = "a"
session = "Pinned"
"#,
        vars: NO_VARS,
        at: (4, 11),
        says: &["unknown session \"Pinned\"", "spawn or pinned"],
    },
    Bad {
        name: "unknown on_timeout",
        text: r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
timeout = "2h"
on_timeout = "retry"
"#,
        vars: NO_VARS,
        at: (7, 14),
        says: &["unknown on_timeout \"retry\"", "fail, pass or escalate"],
    },
    Bad {
        name: "unknown spawn_fallback",
        text: r#"title = "g"
spawn_fallback = "retry"
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (2, 18),
        says: &["unknown spawn_fallback \"retry\"", "block or pinned"],
    },
    Bad {
        name: "max_agents zero",
        text: r#"title = "g"
max_agents = 0
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (2, 14),
        says: &["`max_agents` must be at least 1"],
    },
    Bad {
        name: "spawns_per_minute zero",
        text: r#"title = "g"
spawns_per_minute = 0
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (2, 21),
        says: &["`spawns_per_minute` must be at least 1"],
    },
    Bad {
        name: "retries as a string",
        text: r#"title = "g"
[[task]]
title = "a"
retries = "3"
"#,
        vars: NO_VARS,
        at: (4, 11),
        says: &["invalid type", "expected u32"],
    },
    Bad {
        name: "review as a string",
        text: r#"title = "g"
[[task]]
title = "a"
review = "yes"
"#,
        vars: NO_VARS,
        at: (4, 10),
        says: &["invalid type", "expected a boolean"],
    },
];

const SYNTAX_AND_VARS: &[Bad] = &[
    Bad {
        name: "unterminated string",
        text: r#"title = "g"
[[task]]
title = "a
"#,
        vars: NO_VARS,
        at: (3, 11),
        says: &["invalid basic string", "expected `\"`"],
    },
    Bad {
        name: "unclosed table header",
        text: r#"title = "g"
[[task]
title = "a"
"#,
        vars: NO_VARS,
        at: (2, 8),
        says: &["unclosed array table", "expected `]`"],
    },
    Bad {
        name: "a key set twice",
        text: r#"title = "g"
[[task]]
title = "a"
title = "b"
"#,
        vars: NO_VARS,
        at: (4, 1),
        says: &["duplicate key"],
    },
    Bad {
        name: "a key without a value",
        text: r#"title = "g"
[[task]]
title
"#,
        vars: NO_VARS,
        at: (3, 6),
        says: &["expected `=`"],
    },
    Bad {
        name: "var without default and not given",
        text: r#"title = "PR {{pr}}"
[vars]
repo = { default = "", description = "owner/name" }
pr = { description = "the PR number" }
[[task]]
title = "a"
"#,
        vars: &[("repo", "o/n")],
        at: (4, 6),
        says: &[
            "var 'pr' has no default and was not given",
            "--var pr=VALUE",
        ],
    },
    Bad {
        name: "unknown --var",
        text: r#"title = "PR {{pr}}"
[vars]
pr = "1"
[[task]]
title = "a"
"#,
        vars: &[("pr", "2"), ("prr", "3")],
        at: (1, 1),
        says: &["--var prr", "declares no var 'prr'", "declared: pr"],
    },
    Bad {
        name: "--var for a file without vars",
        text: r#"title = "g"
[[task]]
title = "a"
"#,
        vars: &[("pr", "2")],
        at: (1, 1),
        says: &["--var pr", "declared: none"],
    },
    Bad {
        name: "a var written as a number",
        text: r#"title = "g"
[vars]
pr = 42
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (3, 6),
        says: &["var 'pr' is 42", "pr = \"default\""],
    },
    Bad {
        name: "a var with a misspelt default",
        text: r#"title = "g"
[vars]
pr = { defualt = "1" }
[[task]]
title = "a"
"#,
        vars: NO_VARS,
        at: (3, 6),
        says: &["var 'pr'", "default = "],
    },
    Bad {
        name: "a column counts characters, not bytes",
        text: r#"title = "géant ✔"
[[task]]
title = "ünï" kind = "agent"
"#,
        vars: NO_VARS,
        at: (3, 15),
        says: &["expected newline"],
    },
    Bad {
        name: "a column after multi-byte text on the same line",
        text: r#"title = "g"
task = [{ title = "日本語", kind = "robot" }]
"#,
        vars: NO_VARS,
        at: (2, 33),
        says: &["unknown kind \"robot\""],
    },
];

#[test]
fn unknown_fields_are_refused_where_they_are_written() {
    check_bad(UNKNOWN_FIELDS);
}

#[test]
fn structural_errors_are_located() {
    check_bad(STRUCTURE);
}

#[test]
fn dependency_errors_are_located() {
    check_bad(DEPENDENCIES);
}

#[test]
fn bad_values_are_located() {
    check_bad(VALUES);
}

#[test]
fn syntax_and_var_errors_are_located() {
    check_bad(SYNTAX_AND_VARS);
}

#[test]
fn error_display_is_file_line_col_message() {
    let e = parse(
        "title = \"g\"\n[[task]]\ntitle = \"a\"\nkind = \"nope\"\n",
        NO_VARS,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "goal.toml:4:8: unknown kind \"nope\": use agent, human_review, signal, land or group"
    );
    assert_eq!(e.field().as_deref(), Some("task[0].kind"));
}

#[test]
fn error_field_names_the_nested_path() {
    let text = "title = \"g\"\n[[task]]\ntitle = \"a\"\n[[task]]\ntitle = \"b\"\n  [[task.task]]\n  title = \"c\"\n  timeout = \"x\"\n";
    let e = parse(text, NO_VARS).unwrap_err();
    let e = e.first();
    assert_eq!((e.line, e.col), (8, 13));
    assert_eq!(e.field.as_deref(), Some("task[1].task[0].timeout"));
}

// ---------------------------------------------------------------------------------------------
// What a valid file becomes.

fn ok(text: &str, given: &[(&str, &str)]) -> NewTask {
    parse(text, given).unwrap_or_else(|e| panic!("expected a valid goal, got {e}"))
}

#[test]
fn kinds_are_inferred_from_children() {
    let g = ok(
        r#"title = "g"
[[task]]
title = "plain"
[[task]]
title = "with children"
  [[task.task]]
  title = "child"
[[task]]
title = "look"
kind = "human_review"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
[[task]]
title = "explicit group"
kind = "group"
  [[task.task]]
  title = "x"
"#,
        NO_VARS,
    );
    assert_eq!(g.kind, Kind::Group);
    let kinds: Vec<Kind> = g.children.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Agent,
            Kind::Group,
            Kind::HumanReview,
            Kind::Signal,
            Kind::Group
        ]
    );
    assert_eq!(g.children[1].children[0].kind, Kind::Agent);
}

#[test]
fn session_agent_and_worktree_come_from_the_nearest_ancestor() {
    let g = ok(
        r#"title = "g"
session = "pinned"
agent = "codex"
worktree = false
[[task]]
title = "inherits all"
[[task]]
title = "group"
agent = "aider"
session = "spawn"
  [[task.task]]
  title = "from the group"
  [[task.task]]
  title = "own"
  agent = "shell"
  worktree = true
  session = "pinned"
"#,
        NO_VARS,
    );
    let goal = &g.spec;
    assert_eq!(
        (goal.session, goal.agent.as_deref(), goal.worktree),
        (SessionPolicy::Pinned, Some("codex"), false)
    );
    let a = &g.children[0].spec;
    assert_eq!(
        (a.session, a.agent.as_deref(), a.worktree),
        (SessionPolicy::Pinned, Some("codex"), false)
    );
    let from_group = &g.children[1].children[0].spec;
    assert_eq!(
        (
            from_group.session,
            from_group.agent.as_deref(),
            from_group.worktree
        ),
        (SessionPolicy::Spawn, Some("aider"), false)
    );
    let own = &g.children[1].children[1].spec;
    assert_eq!(
        (own.session, own.agent.as_deref(), own.worktree),
        (SessionPolicy::Pinned, Some("shell"), true)
    );
}

#[test]
fn defaults_without_ancestors() {
    let g = ok("title = \"g\"\n[[task]]\ntitle = \"a\"\n", NO_VARS);
    let a = &g.children[0].spec;
    assert_eq!(
        (a.session, a.agent.as_deref(), a.worktree),
        (SessionPolicy::Spawn, None, true)
    );
    assert_eq!(
        (a.retries, a.review, a.plan, a.timeout, a.on_timeout),
        (0, false, false, None, OnTimeout::Fail)
    );
    let settings = g.spec.goal.as_ref().expect("goal settings");
    assert_eq!(settings.spawn_fallback, SpawnFallback::Block);
    assert_eq!(
        (settings.max_agents, settings.spawns_per_minute),
        (None, None)
    );
    assert!(
        g.children[0].spec.goal.is_none(),
        "only the goal carries goal settings"
    );
}

const TEMPLATE: &str = r#"title = "Triage {{repo}}#{{pr}}"
[vars]
pr = { description = "the PR number" }
repo = { default = "o/n", description = "owner/name" }
who = "the reviewer"
[[task]]
title = "check {{pr}}"
prompt = "Look at PR {{pr}} in {{repo}} for {{who}}; keep {{unknown}} and {result.sha} and {prompt}."
command = ["sh", "-c", "echo {{pr}}"]
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
repo = "{{repo}}"
pr = "{{pr}}"
poll = "gh pr checks {{pr}}"
"#;

#[test]
fn vars_fill_from_given_values_and_defaults() {
    let g = ok(TEMPLATE, &[("pr", "42")]);
    assert_eq!(g.spec.title, "Triage o/n#42");
    let check = &g.children[0].spec;
    assert_eq!(check.title, "check 42");
    assert_eq!(
        check.prompt.as_deref(),
        Some("Look at PR 42 in o/n for the reviewer; keep {{unknown}} and {result.sha} and {prompt}.")
    );
    assert_eq!(
        check.command.as_deref(),
        Some(&["sh".to_string(), "-c".into(), "echo 42".into()][..])
    );
    let ci = &g.children[1].spec;
    assert_eq!((ci.repo.as_deref(), ci.pr), (Some("o/n"), Some(42)));
    assert_eq!(ci.poll.as_deref(), Some("gh pr checks 42"));
    let settings = g.spec.goal.as_ref().expect("goal settings");
    assert_eq!(
        settings.vars,
        vars(&[("pr", "42"), ("repo", "o/n"), ("who", "the reviewer")])
    );
}

#[test]
fn given_vars_override_defaults() {
    let g = ok(
        TEMPLATE,
        &[("pr", "7"), ("repo", "me/fork"), ("who", "Ann")],
    );
    assert_eq!(g.spec.title, "Triage me/fork#7");
    assert_eq!(g.children[1].spec.repo.as_deref(), Some("me/fork"));
    assert_eq!(g.children[1].spec.pr, Some(7));
    assert!(g.children[0]
        .spec
        .prompt
        .as_deref()
        .unwrap_or("")
        .contains("for Ann;"));
}

#[test]
fn undeclared_placeholders_are_left_as_written() {
    let g = ok(
        "title = \"{{x}} and {{ y }} and {{\"\n[[task]]\ntitle = \"a {{pr}}\"\nprompt = \"}}{{\"\n",
        NO_VARS,
    );
    assert_eq!(g.spec.title, "{{x}} and {{ y }} and {{");
    assert_eq!(g.children[0].spec.title, "a {{pr}}");
    assert_eq!(g.children[0].spec.prompt.as_deref(), Some("}}{{"));
}

#[test]
fn vars_are_filled_once() {
    let text =
        "title = \"{{a}}|{{b}}\"\n[vars]\na = \"{{b}}\"\nb = \"B\"\n[[task]]\ntitle = \"t\"\n";
    assert_eq!(ok(text, NO_VARS).spec.title, "{{b}}|B");
}

#[test]
fn vars_fill_every_string_field() {
    let text = r#"title = "g"
[vars]
agent = "codex"
wait = "10m"
mode = "escalate"
[[task]]
title = "a"
agent = "{{agent}}"
timeout = "{{wait}}"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
timeout = "{{wait}}"
on_timeout = "{{mode}}"
"#;
    let g = ok(text, NO_VARS);
    assert_eq!(g.children[0].spec.agent.as_deref(), Some("codex"));
    assert_eq!(g.children[0].spec.timeout, Some(600));
    assert_eq!(g.children[1].spec.on_timeout, OnTimeout::Escalate);
}

#[test]
fn an_empty_signal_repo_means_from_origin() {
    let text = "title = \"g\"\n[vars]\nrepo = \"\"\n[[task]]\ntitle = \"ci\"\nkind = \"signal\"\ngate = \"gh_ci\"\nrepo = \"{{repo}}\"\npr = 3\n";
    assert_eq!(ok(text, NO_VARS).children[0].spec.repo, None);
    assert_eq!(
        ok(text, &[("repo", "o/n")]).children[0]
            .spec
            .repo
            .as_deref(),
        Some("o/n")
    );
}

#[test]
fn durations_become_seconds() {
    let g = ok(
        r#"title = "g"
[[task]]
title = "a"
timeout = "45m"
[[task]]
title = "b"
timeout = "1h 30m"
[[task]]
title = "look"
kind = "human_review"
timeout = "2days"
on_timeout = "pass"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
timeout = "2h"
poll = "exit 2"
poll_every = "30s"
"#,
        NO_VARS,
    );
    let secs: Vec<Option<u64>> = g.children.iter().map(|t| t.spec.timeout).collect();
    assert_eq!(secs, [Some(2700), Some(5400), Some(172_800), Some(7200)]);
    assert_eq!(g.children[2].spec.on_timeout, OnTimeout::Pass);
    assert_eq!(g.children[3].spec.poll_every, Some(30));
}

#[test]
fn a_pr_url_from_a_result_is_kept_for_the_gate_to_fill() {
    let g = ok(
        r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr_url = "{result.pr_url}"
poll = "gh pr checks {result.pr_url}"
"#,
        NO_VARS,
    );
    let ci = &g.children[0].spec;
    assert_eq!(
        (
            ci.pr_url.as_deref(),
            ci.pr,
            ci.repo.as_deref(),
            ci.poll.as_deref()
        ),
        (
            Some("{result.pr_url}"),
            None,
            None,
            Some("gh pr checks {result.pr_url}")
        )
    );
}

#[test]
fn pr_url_gives_repo_and_pr() {
    let g = ok(
        r#"title = "g"
[[task]]
title = "ci"
kind = "signal"
gate = "gh_ci"
pr_url = "https://github.com/Owner/Name/pull/42"
[[task]]
title = "agreeing"
kind = "signal"
gate = "gh_review"
repo = "owner/name"
pr = "42"
pr_url = "https://github.com/Owner/Name/pull/42/files"
"#,
        NO_VARS,
    );
    let ci = &g.children[0].spec;
    assert_eq!((ci.repo.as_deref(), ci.pr), (Some("Owner/Name"), Some(42)));
    assert_eq!(
        ci.pr_url.as_deref(),
        Some("https://github.com/Owner/Name/pull/42")
    );
    let agreeing = &g.children[1].spec;
    assert_eq!(
        (agreeing.gate.as_deref(), agreeing.pr),
        (Some("gh_review"), Some(42))
    );
    assert!(agreeing
        .repo
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("owner/name")));
}

#[test]
fn pr_as_number_or_digits() {
    let text = "title = \"g\"\n[[task]]\ntitle = \"a\"\nkind = \"signal\"\ngate = \"g\"\npr = 9\n[[task]]\ntitle = \"b\"\nkind = \"signal\"\ngate = \"g\"\npr = \" 10 \"\n";
    let g = ok(text, NO_VARS);
    assert_eq!(
        (g.children[0].spec.pr, g.children[1].spec.pr),
        (Some(9), Some(10))
    );
}

#[test]
fn fields_of_each_kind_are_kept() {
    let g = ok(
        r#"title = "g"
priority = 3
parallel = true
spawn_fallback = "pinned"
max_agents = 2
spawns_per_minute = 30
[[task]]
key = "fix"
title = "fix"
priority = 5
prompt = "do it"
review = true
plan = true
retries = 2
[[task]]
key = "ci"
title = "ci"
kind = "signal"
gate = "gh_ci"
retries = 1
after = ["fix"]
[[task]]
title = "look"
kind = "human_review"
prompt = "check the diff"
after = ["fix", "ci"]
"#,
        NO_VARS,
    );
    assert_eq!((g.spec.priority, g.spec.parallel), (3, true));
    let settings = g.spec.goal.as_ref().expect("goal settings");
    assert_eq!(
        (
            settings.spawn_fallback,
            settings.max_agents,
            settings.spawns_per_minute
        ),
        (SpawnFallback::Pinned, Some(2), Some(30))
    );
    let fix = &g.children[0].spec;
    assert_eq!(
        (
            fix.key.as_deref(),
            fix.priority,
            fix.review,
            fix.plan,
            fix.retries
        ),
        (Some("fix"), 5, true, true, 2)
    );
    assert_eq!(g.children[1].after, ["fix"]);
    assert_eq!(g.children[1].spec.retries, 1);
    assert_eq!(g.children[2].after, ["fix", "ci"]);
    assert_eq!(g.children[2].spec.prompt.as_deref(), Some("check the diff"));
}

#[test]
fn valid_dependencies_are_accepted() {
    // after an earlier sibling (redundant with order), a group, a task in another branch,
    // and a later task in a parallel goal: none of these deadlock.
    ok(
        r#"title = "g"
[[task]]
key = "a"
title = "a"
[[task]]
title = "b"
after = ["a"]
[[task]]
key = "group"
title = "group"
parallel = true
  [[task.task]]
  key = "g1"
  title = "g1"
  after = ["g2"]
  [[task.task]]
  key = "g2"
  title = "g2"
[[task]]
title = "c"
after = ["group", "g1"]
"#,
        NO_VARS,
    );
}

#[test]
fn relative_repo_is_resolved_against_the_file_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("checkout")).expect("mkdir");
    let canonical = dir.path().canonicalize().expect("canonical");
    let text = "title = \"g\"\nrepo = \"checkout\"\n[[task]]\ntitle = \"a\"\n";
    let g = parse_str(text, "g.toml", dir.path(), &BTreeMap::new()).expect("valid");
    assert_eq!(
        g.spec.goal.as_ref().map(|s| s.repo.clone()),
        Some(canonical.join("checkout"))
    );

    let default = parse_str(
        "title = \"g\"\n[[task]]\ntitle = \"a\"\n",
        "g.toml",
        dir.path(),
        &BTreeMap::new(),
    )
    .expect("valid");
    assert_eq!(
        default.spec.goal.as_ref().map(|s| s.repo.clone()),
        Some(canonical.clone())
    );

    let missing = parse_str(
        "title = \"g\"\nrepo = \"nowhere\"\n[[task]]\ntitle = \"a\"\n",
        "g.toml",
        dir.path(),
        &BTreeMap::new(),
    )
    .expect("valid");
    let repo = missing
        .spec
        .goal
        .as_ref()
        .map(|s| s.repo.clone())
        .unwrap_or_default();
    assert!(repo.is_absolute() && repo.ends_with("nowhere"), "{repo:?}");
}

#[test]
fn load_file_reads_relative_to_the_file_and_records_its_source() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("repo")).expect("mkdir");
    let path = dir.path().join("g.toml");
    std::fs::write(
        &path,
        "title = \"PR {{pr}}\"\nrepo = \"repo\"\n[vars]\npr = {}\n[[task]]\ntitle = \"a\"\n",
    )
    .expect("write");
    let g = load_file(&path, &vars(&[("pr", "5")])).expect("valid");
    let settings = g.spec.goal.expect("goal settings");
    assert_eq!(
        settings.repo,
        dir.path().canonicalize().expect("canonical").join("repo")
    );
    assert_eq!(settings.source.as_deref(), Some(path.as_path()));
    assert_eq!(g.spec.title, "PR 5");

    let e = load_file(&path, &BTreeMap::new()).unwrap_err();
    let e = e.first();
    assert_eq!(
        (e.file.as_str(), e.line, e.col),
        (path.to_str().unwrap_or(""), 4, 6)
    );

    let e = load_file(&dir.path().join("absent.toml"), &BTreeMap::new()).unwrap_err();
    assert!(e.message().contains("cannot read the goal file"), "{e}");
}

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
