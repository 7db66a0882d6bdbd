//! Property tests of the goal-file parser and validator (ARCHITECTURE §3): valid trees are
//! accepted whole; random text, random edits and random JSON never panic; every refusal is
//! an error with a location inside the input, and a planted mistake is reported on its line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "prop_support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use support::{count, render, tree};
use taskboard::goalfile::{parse_json, parse_str, GoalError, GoalErrors};

fn parse(text: &str) -> Result<taskboard::model::NewTask, GoalErrors> {
    parse_str(text, "goal.toml", Path::new("/tmp"), &BTreeMap::new())
}

/// Every error must name the file and a position that exists in `text`; at most 20 are
/// shown, in file order.
fn all_located(errors: &GoalErrors, text: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !errors.is_empty() && errors.len() <= 20,
        "{} errors",
        errors.len()
    );
    let places: Vec<(usize, usize)> = errors.iter().map(|e| (e.line, e.col)).collect();
    let mut sorted = places.clone();
    sorted.sort();
    prop_assert_eq!(places, sorted, "file order:\n{}", errors);
    for e in errors.iter() {
        located(e, text)?;
    }
    Ok(())
}

/// An error must name the file and a position that exists in `text`.
fn located(e: &GoalError, text: &str) -> Result<(), TestCaseError> {
    let lines = text.split('\n').count().max(1);
    prop_assert_eq!(&e.file, "goal.toml");
    prop_assert!(
        e.line >= 1 && e.line <= lines,
        "line {} of {}: {}",
        e.line,
        lines,
        e
    );
    prop_assert!(e.col >= 1, "col {}: {}", e.col, e);
    let line_len = text
        .split('\n')
        .nth(e.line - 1)
        .map(|l| l.chars().count())
        .unwrap_or(0);
    prop_assert!(
        e.col <= line_len + 1,
        "col {} past the line ({} chars): {}",
        e.col,
        line_len,
        e
    );
    prop_assert!(!e.message.trim().is_empty(), "empty message");
    let shown = e.to_string();
    prop_assert!(
        shown.starts_with(&format!("goal.toml:{}:{}: ", e.line, e.col)),
        "{}",
        shown
    );
    Ok(())
}

fn all_keys(t: &taskboard::model::NewTask, out: &mut Vec<String>) {
    for c in &t.children {
        out.extend(c.spec.key.clone());
        all_keys(c, out);
    }
}

/// A mistake to plant right after a task header; each is wrong for every kind of task.
const PLANTED: [&str; 8] = [
    "bogus_field = 1",
    "retries = -1",
    "after = [\"nowhere\"]",
    "kind = \"robot\"",
    "priority = \"high\"",
    "title = 3",
    "timeout = \"soon\"",
    "gate = [1, 2]",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(support::cases()))]

    /// A tree that is valid by construction is accepted with every task and key.
    #[test]
    fn valid_trees_are_accepted_whole(t in tree()) {
        let text = render(&t);
        let goal = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let mut keys = Vec::new();
        all_keys(&goal, &mut keys);
        prop_assert_eq!(keys.len(), count(&t.tasks), "{}", text);
        for (i, k) in keys.iter().enumerate() {
            prop_assert_eq!(k, &format!("k{i}"), "file order");
        }
    }

    /// Any text at all: an answer, never a panic; a refusal is located inside the text.
    #[test]
    fn random_text_is_answered_with_a_location(text in any::<String>()) {
        if let Err(e) = parse(&text) {
            all_located(&e, &text)?;
        }
    }

    /// TOML-shaped noise (tables, arrays of tables, keys of the schema, odd values).
    #[test]
    fn toml_shaped_noise_is_answered_with_a_location(
        text in r#"(title = "[a-z{}]*"\n|\[\[(task\.){0,3}task\]\]\n|(kind|gate|after|timeout|poll_every|pr|pr_url|retries|key|parallel|command|on_timeout|session|repo|max_agents|vars) = ("[a-z0-9:/{}. ]{0,12}"|-?[0-9]{1,12}|true|\[("[a-z0-9]{0,3}", ?){0,3}\]|\{ ?\})\n|\[vars\]\n|[a-z]{1,5} = \{ default = "[a-z]*" \}\n){0,14}"#
    ) {
        if let Err(e) = parse(&text) {
            all_located(&e, &text)?;
        }
    }

    /// A valid file with a planted mistake is refused, on the line of the mistake.
    #[test]
    fn a_planted_mistake_is_reported_on_its_line(
        t in tree(),
        at in any::<usize>(),
        which in 0..PLANTED.len(),
    ) {
        let text = render(&t);
        let headers: Vec<usize> = text
            .split('\n')
            .enumerate()
            .filter(|(_, l)| l.starts_with("[["))
            .map(|(i, _)| i)
            .collect();
        // At the end of the task's own fields, so a repeated field is the second one.
        let pick = at % headers.len();
        let mut lines: Vec<&str> = text.split('\n').collect();
        let line = headers.get(pick + 1).copied().unwrap_or(lines.len());
        lines.insert(line, PLANTED[which]);
        let bad = lines.join("\n");
        match parse(&bad) {
            Ok(_) => prop_assert!(false, "accepted `{}`:\n{}", PLANTED[which], bad),
            Err(e) => {
                all_located(&e, &bad)?;
                // One mistake, one error: nothing it knocks on is reported as another.
                prop_assert_eq!(e.len(), 1, "`{}` reported as\n{}\n{}", PLANTED[which], e, bad);
                prop_assert_eq!(e.first().line, line + 1, "`{}` reported as {}\n{}", PLANTED[which], e, bad);
            }
        }
    }

    /// Mistakes planted in several tasks are all reported at once, each on its own line.
    #[test]
    fn every_planted_mistake_is_reported_at_once(
        t in tree(),
        picks in prop::collection::vec((any::<usize>(), 0..PLANTED.len()), 2..5),
    ) {
        let text = render(&t);
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        let headers: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with("[["))
            .map(|(i, _)| i)
            .collect();
        // One mistake per chosen task, at the end of its own fields; planted bottom-up so
        // earlier line numbers stay put.
        let mut at: BTreeMap<usize, usize> = BTreeMap::new();
        for (pick, which) in &picks {
            let h = pick % headers.len();
            let line = headers.get(h + 1).copied().unwrap_or(lines.len());
            at.entry(line).or_insert(*which);
        }
        for (line, which) in at.iter().rev() {
            lines.insert(*line, PLANTED[*which].to_string());
        }
        let bad = lines.join("\n");
        let planted: Vec<usize> = at.keys().enumerate().map(|(i, l)| l + i + 1).collect();
        match parse(&bad) {
            Ok(_) => prop_assert!(false, "accepted:\n{}", bad),
            Err(e) => {
                all_located(&e, &bad)?;
                let reported: Vec<usize> = e.iter().map(|e| e.line).collect();
                prop_assert_eq!(&reported, &planted, "reported:\n{}\n{}", e, bad);
            }
        }
    }

    /// Random edits of a valid file: deleted, inserted or replaced characters.
    #[test]
    fn random_edits_never_panic(
        t in tree(),
        edits in prop::collection::vec((any::<usize>(), 0u8..3, any::<char>()), 1..6),
    ) {
        let mut chars: Vec<char> = render(&t).chars().collect();
        for (at, op, c) in edits {
            let i = at % (chars.len() + 1);
            match op {
                0 if i < chars.len() => { chars.remove(i); }
                1 => chars.insert(i, c),
                _ if i < chars.len() => chars[i] = c,
                _ => {}
            }
        }
        let text: String = chars.into_iter().collect();
        if let Err(e) = parse(&text) {
            all_located(&e, &text)?;
        }
    }

    /// Template vars with random names and values never panic the validator.
    #[test]
    fn random_vars_never_panic(
        names in prop::collection::vec("[a-z_]{1,6}", 0..4),
        given in prop::collection::btree_map("[a-z_]{1,6}", ".{0,8}", 0..4),
        used in prop::collection::vec("[a-z_{}]{1,8}", 0..4),
    ) {
        let mut text = String::from("title = \"{{x}}\"\n[vars]\n");
        for n in &names {
            text.push_str(&format!("{n} = {{ default = \"d\" }}\n"));
        }
        text.push_str("[[task]]\ntitle = \"t\"\ncommand = [\"true\"]\nworktree = false\nprompt = \"");
        for u in &used {
            text.push_str(&format!("{{{{{u}}}}} "));
        }
        text.push_str("\"\n");
        if let Err(e) = parse_str(&text, "goal.toml", Path::new("/tmp"), &given) {
            all_located(&e, &text)?;
        }
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "[a-z_ {}/.]{0,10}".prop_map(Value::String),
        Just(Value::String("agent".into())),
        Just(Value::String("/abs/path".into())),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        let keys = prop_oneof![
            Just("title".to_string()),
            Just("task".to_string()),
            Just("kind".to_string()),
            Just("gate".to_string()),
            Just("after".to_string()),
            Just("repo".to_string()),
            Just("timeout".to_string()),
            Just("vars".to_string()),
            Just("pr".to_string()),
            Just("key".to_string()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(support::cases()))]

    /// The JSON form (`POST /api/goals`): any value gets an answer, a refusal says why.
    #[test]
    fn random_json_is_answered(v in json_value()) {
        if let Err(e) = parse_json(&v) {
            prop_assert!(!e.message().trim().is_empty());
            prop_assert!(e.iter().all(|e| e.line >= 1 && e.col >= 1));
        }
    }

    /// A valid tree as JSON is accepted with the same tasks.
    #[test]
    fn valid_trees_as_json_are_accepted(t in tree()) {
        let table: toml::Table = toml::from_str(&render(&t)).expect("rendered TOML");
        let mut v = serde_json::to_value(&table).expect("json");
        v["repo"] = serde_json::json!("/tmp");
        let goal = parse_json(&v).map_err(|e| TestCaseError::fail(format!("{e}\n{v}")))?;
        let mut keys = Vec::new();
        all_keys(&goal, &mut keys);
        prop_assert_eq!(keys.len(), count(&t.tasks));
    }
}
