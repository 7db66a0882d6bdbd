//! Goal file validator: every error class with its exact line:col and an actionable message,
//! the positive rules of ARCHITECTURE §3, the JSON form, and the shipped goal files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

mod bad_fields;
mod bad_values;
mod errors;
mod shipped;
mod valid;
