//! Refused goal files: syntax and variables; every table checked with its line:col.

use super::bad_fields::{STRUCTURE, UNKNOWN_FIELDS};
use super::bad_values::{DEPENDENCIES, VALUES};
use super::*;

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
