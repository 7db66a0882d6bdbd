//! Template vars: `[vars]` declarations plus `--var` values → the values, and `{{var}}`
//! filling. Never sees `{name}` or `{result.KEY}`, which are filled later by others.

use std::collections::BTreeMap;

use super::raw::{RawTask, RawVar};
use super::Cx;

/// The value of every declared var: given, else its default. A given var the file does not
/// declare, or a declared one with neither, is reported into `cx` (each one) and left out.
pub(crate) fn resolve(
    cx: &Cx,
    raw: &RawTask,
    given: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let declared: Vec<String> = raw
        .vars
        .as_ref()
        .map(|v| v.get_ref().keys().cloned().collect())
        .unwrap_or_default();
    // A `[vars]` dropped as a mistake was reported already; every --var would only repeat it.
    let vars_broken = cx.was_dropped(None, "vars");
    for name in given.keys().filter(|name| !declared.contains(name)) {
        if vars_broken {
            break;
        }
        let known = if declared.is_empty() {
            "none".to_string()
        } else {
            declared.join(", ")
        };
        let close = crate::tomlcheck::did_you_mean(name, declared.iter().map(String::as_str), "'");
        // A --var is not in the file, so there is no better place to point at.
        cx.report(
            0..0,
            format!(
                "--var {name}: the goal file declares no var '{name}'{close} (declared: {known})"
            ),
            Some("vars".into()),
        );
    }
    let mut out = BTreeMap::new();
    let Some(vars) = &raw.vars else {
        return out;
    };
    for (name, var) in vars.get_ref() {
        let field = Some(format!("vars.{name}"));
        if let RawVar::Invalid(v) = var.get_ref() {
            let message = format!(
                "var '{name}' is {v}; write it {name} = \"default\" \
                 or {name} = {{ default = \"…\", description = \"…\" }}"
            );
            cx.report(var.span(), message, field);
            continue;
        }
        let value = given
            .get(name)
            .cloned()
            .or_else(|| var.get_ref().default_value().map(str::to_string));
        let Some(value) = value else {
            let message =
                format!("var '{name}' has no default and was not given: pass --var {name}=VALUE");
            cx.report(var.span(), message, field);
            continue;
        };
        out.insert(name.clone(), value);
    }
    out
}

/// Fills declared `{{var}}`s in one pass (a filled value is never filled again); anything
/// else between braces is left as written.
pub(crate) fn fill(vars: &BTreeMap<String, String>, s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let value = after
            .find("}}")
            .and_then(|close| vars.get(&after[..close]).map(|v| (close, v)));
        match value {
            Some((close, v)) => {
                out.push_str(&rest[..open]);
                out.push_str(v);
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[..open + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
