//! Template vars: `[vars]` declarations plus `--var` values → the values, and `{{var}}`
//! filling. Never sees `{name}` or `{result.KEY}`, which are filled later by others.

use std::collections::BTreeMap;

use super::raw::{RawTask, RawVar};
use super::{Cx, GoalError};

/// The value of every declared var: given, else its default. A given var the file does not
/// declare, or a declared one with neither, is an error.
pub(crate) fn resolve(
    cx: &Cx,
    raw: &RawTask,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, GoalError> {
    let declared: Vec<String> = raw
        .vars
        .as_ref()
        .map(|v| v.get_ref().keys().cloned().collect())
        .unwrap_or_default();
    if let Some(name) = given.keys().find(|name| !declared.contains(name)) {
        let known = if declared.is_empty() {
            "none".to_string()
        } else {
            declared.join(", ")
        };
        // A --var is not in the file, so there is no better place to point at.
        return Err(cx.err(
            0..0,
            format!("--var {name}: the goal file declares no var '{name}' (declared: {known})"),
            Some("vars".into()),
        ));
    }
    let mut out = BTreeMap::new();
    let Some(vars) = &raw.vars else {
        return Ok(out);
    };
    for (name, var) in vars.get_ref() {
        let field = Some(format!("vars.{name}"));
        if let RawVar::Invalid(v) = var.get_ref() {
            let message = format!(
                "var '{name}' is {v}; write it {name} = \"default\" \
                 or {name} = {{ default = \"…\", description = \"…\" }}"
            );
            return Err(cx.err(var.span(), message, field));
        }
        let value = given
            .get(name)
            .cloned()
            .or_else(|| var.get_ref().default_value().map(str::to_string));
        let Some(value) = value else {
            let message =
                format!("var '{name}' has no default and was not given: pass --var {name}=VALUE");
            return Err(cx.err(var.span(), message, field));
        };
        out.insert(name.clone(), value);
    }
    Ok(out)
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
