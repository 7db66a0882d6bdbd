//! Reading the config file with every mistake found at once: unknown keys (with the nearest
//! known one), values of the wrong type, agent profiles without a program, bad attention
//! patterns and key bindings, a `default_agent` that names no profile. Each is located; the
//! file is refused when there is any.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use super::{builtin_profiles, Config, ConfigError, ConfigProblem, KeyBinding, Profile};
use crate::tomlcheck::{self, suggest, value_span, Problem, MAX_PROBLEMS};

/// The config's top-level keys.
const CONFIG_FIELDS: &[&str] = &[
    "max_agents",
    "spawns_per_minute",
    "default_agent",
    "listen",
    "scrollback",
    "notify_command",
    "bell",
    "agents",
    "keys",
    "allow",
    "permission_wait",
];

/// An agent profile's keys.
const PROFILE_FIELDS: &[&str] = &[
    "command",
    "resume",
    "env",
    "attention",
    "prompt_suffix",
    "integration",
];

struct Found {
    problems: Vec<Problem>,
}

impl Found {
    fn add(&mut self, span: Range<usize>, message: String) {
        self.problems.push(Problem { span, message });
    }

    /// Reports and removes every key of `table` that is not in `known`; returns the known
    /// keys that the removed ones were likely meant to be.
    fn unknown_keys(
        &mut self,
        table: &mut DeTable<'_>,
        known: &[&'static str],
        what: &str,
    ) -> Vec<&'static str> {
        let mut meant = Vec::new();
        let unknown: Vec<(String, Range<usize>)> = table
            .iter()
            .filter(|(k, _)| !known.contains(&k.get_ref().as_ref()))
            .map(|(k, _)| (k.get_ref().to_string(), k.span()))
            .collect();
        for (name, span) in unknown {
            let close = suggest(&name, known.iter().copied());
            let hint = match close {
                Some(s) => format!(" (did you mean `{s}`?)"),
                None => format!(" (known: {})", known.join(", ")),
            };
            self.add(span, format!("unknown key `{name}` {what}{hint}"));
            table.remove(name.as_str());
            meant.extend(close);
        }
        meant
    }

    /// Reports what stops `table` from reading as a `T`, dropping each culprit.
    fn sweep<T: serde::de::DeserializeOwned>(
        &mut self,
        table: &mut DeTable<'_>,
        span: Range<usize>,
    ) {
        for (key, p) in tomlcheck::sweep::<T>(table, span, &[]) {
            let message = match key {
                Some(k) => format!("`{k}`: {}", p.message),
                None => p.message,
            };
            self.add(p.span, message);
        }
    }
}

pub(super) fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let (mut doc, syntax) = tomlcheck::parse(text);
    let sound = tomlcheck::tree_is_sound(&syntax);
    let mut found = Found { problems: syntax };
    if !sound {
        return Err(refuse(text, path, found.problems));
    }
    let span = doc.span();
    let root = doc.get_mut();
    found.unknown_keys(root, CONFIG_FIELDS, "in the config");
    profiles(&mut found, root);
    keys(&mut found, root);
    found.sweep::<Config>(root, span);
    let cfg = match Config::deserialize(toml::de::Deserializer::from(doc.clone())) {
        Ok(cfg) => cfg,
        Err(e) => {
            // The sweep leaves nothing serde refuses; a guard, still reported.
            found.add(e.span().unwrap_or(0..0), e.message().trim().to_string());
            return Err(refuse(text, path, found.problems));
        }
    };
    rules(&mut found, doc.get_ref(), &cfg);
    if found.problems.is_empty() {
        Ok(cfg)
    } else {
        Err(refuse(text, path, found.problems))
    }
}

/// `[agents.NAME]` tables: their keys and types.
fn profiles(found: &mut Found, root: &mut DeTable<'_>) {
    let Some(DeValue::Table(agents)) = root.get_mut("agents").map(|v| v.get_mut()) else {
        return; // absent, or not a table: the top-level sweep says so
    };
    let names: Vec<String> = agents
        .iter()
        .map(|(k, _)| k.get_ref().to_string())
        .collect();
    let mut broken = Vec::new();
    for name in names {
        let Some(entry) = agents.get_mut(name.as_str()) else {
            continue;
        };
        let span = entry.span();
        let DeValue::Table(t) = entry.get_mut() else {
            found.add(
                span,
                format!("[agents.{name}] must be a table with `command = [\"program\", …]`"),
            );
            broken.push(name);
            continue;
        };
        let meant = found.unknown_keys(t, PROFILE_FIELDS, &format!("in [agents.{name}]"));
        patterns(found, t, &name);
        let swept = tomlcheck::sweep::<Profile>(t, span.clone(), &[]);
        // A `command` of the wrong type, or misspelt, was reported already.
        let said = meant.contains(&"command")
            || swept.iter().any(|(k, _)| k.as_deref() == Some("command"));
        for (key, p) in swept {
            let message = match key {
                Some(k) => format!("[agents.{name}] `{k}`: {}", p.message),
                None if said => continue,
                None if p.message.contains("missing field `command`") => {
                    format!("[agents.{name}] needs `command = [\"program\", \"{{prompt}}\"]`")
                }
                None => format!("[agents.{name}] {}", p.message),
            };
            found.add(p.span, message);
        }
        if let Some(DeValue::Array(a)) = t.get("command").map(|c| c.get_ref()) {
            if a.is_empty() {
                let at = value_span(t, "command").unwrap_or(span.clone());
                found.add(at, format!("[agents.{name}] command must name a program"));
            }
        }
        if !t.contains_key("command") {
            broken.push(name);
        }
    }
    // A profile that cannot be read is left out, so the rest of the file still reads.
    for name in broken {
        agents.remove(name.as_str());
    }
}

/// A profile's `attention` patterns: each must be a regex (each is checked, with its place).
fn patterns(found: &mut Found, profile: &DeTable<'_>, name: &str) {
    let Some(DeValue::Array(items)) = profile.get("attention").map(|v| v.get_ref()) else {
        return; // absent, or not a list: the sweep says so
    };
    for item in items.iter() {
        if let DeValue::String(re) = item.get_ref() {
            if let Err(e) = regex::Regex::new(re) {
                // The regex crate draws a caret under the fault over several lines: one line here.
                let why = e
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                found.add(
                    item.span(),
                    format!("[agents.{name}] attention pattern {re:?} is not a valid regex: {why}"),
                );
            }
        }
    }
}

/// `[keys]` entries: each a key or a list of keys, naming an action.
fn keys(found: &mut Found, root: &mut DeTable<'_>) {
    let Some(DeValue::Table(keys)) = root.get_mut("keys").map(|v| v.get_mut()) else {
        return;
    };
    let entries: Vec<(String, Range<usize>, Range<usize>)> = keys
        .iter()
        .map(|(k, v)| (k.get_ref().to_string(), k.span(), v.span()))
        .collect();
    for (name, k_span, v_span) in entries {
        let Some(v) = keys.get(name.as_str()) else {
            continue;
        };
        let binding = KeyBinding::deserialize(toml::de::ValueDeserializer::from(v.clone()));
        let problem = match binding {
            Err(_) => Some((
                v_span,
                format!("[keys] {name}: write a key as \"a\" or a list like [\"q\", \"ctrl-q\"]"),
            )),
            Ok(b) => super::keymap::Keymap::new(&[(name.clone(), b)].into_iter().collect())
                .err()
                .map(|e| (k_span, e)),
        };
        if let Some((span, message)) = problem {
            found.add(span, message);
            keys.remove(name.as_str());
        }
    }
}

/// Rules between values, once the types are right.
fn rules(found: &mut Found, root: &DeTable<'_>, cfg: &Config) {
    let at = |key: &str| value_span(root, key).unwrap_or(0..0);
    if cfg.max_agents == 0 {
        found.add(at("max_agents"), "max_agents must be at least 1".into());
    }
    if cfg.spawns_per_minute == 0 {
        found.add(
            at("spawns_per_minute"),
            "spawns_per_minute must be at least 1".into(),
        );
    }
    if let Err(e) = cfg.permission_wait() {
        found.add(at("permission_wait"), e);
    }
    allow_rules(found, root, cfg);
    let builtin = builtin_profiles();
    let known: Vec<&str> = builtin
        .keys()
        .chain(cfg.agents.keys())
        .map(String::as_str)
        .collect();
    if !known.contains(&cfg.default_agent.as_str()) {
        let hint = match suggest(&cfg.default_agent, known.iter().copied()) {
            Some(s) => format!("did you mean \"{s}\"?"),
            None => format!("profiles: {}", known.join(", ")),
        };
        found.add(
            at("default_agent"),
            format!(
                "default_agent \"{}\" is not an agent profile ({hint}); add [agents.{}] or pick one",
                cfg.default_agent, cfg.default_agent
            ),
        );
    }
}

/// Each `allow` rule must read (`"Bash(cargo test:*)"`, `"Read"`), each reported in place.
fn allow_rules(found: &mut Found, root: &DeTable<'_>, cfg: &Config) {
    let spans: Vec<Range<usize>> = match root.get("allow").map(|v| v.get_ref()) {
        Some(DeValue::Array(items)) => items.iter().map(|i| i.span()).collect(),
        _ => Vec::new(),
    };
    for (i, rule) in cfg.allow.iter().enumerate() {
        if let Err(e) = crate::model::AllowRule::parse(rule) {
            let at = spans
                .get(i)
                .cloned()
                .or_else(|| value_span(root, "allow"))
                .unwrap_or(0..0);
            found.add(at, e);
        }
    }
}

fn refuse(text: &str, path: &Path, mut problems: Vec<Problem>) -> ConfigError {
    problems.sort_by_key(|p| p.span.start);
    let more = problems.len().saturating_sub(MAX_PROBLEMS);
    problems.truncate(MAX_PROBLEMS);
    let problems = problems
        .into_iter()
        .map(|p| {
            let (line, col) = crate::goalfile::line_col(text, p.span.start);
            ConfigProblem {
                line,
                col,
                message: p.message,
            }
        })
        .collect();
    ConfigError::Invalid {
        path: path.to_path_buf(),
        problems,
        more,
    }
}
