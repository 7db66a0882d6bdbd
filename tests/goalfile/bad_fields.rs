//! Refused goal files, one row per way to be wrong: unknown fields and structure.

use super::*;

pub(super) const UNKNOWN_FIELDS: &[Bad] = &[
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

pub(super) const STRUCTURE: &[Bad] = &[
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
