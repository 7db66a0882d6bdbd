//! Refused goal files: dependencies and values.

use super::*;

pub(super) const DEPENDENCIES: &[Bad] = &[
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

pub(super) const VALUES: &[Bad] = &[
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
