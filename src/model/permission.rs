//! An agent's request to use a tool (Claude Code's `PermissionRequest` hook), held while a
//! human decides, and the config's `allow` rules that answer some requests without asking.
//! No IO here.

use serde::{Deserialize, Serialize};

use super::Millis;

/// A tool call waiting for a yes or no.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PermissionAsk {
    /// Unique per board run and task, so an answer never reaches a newer request.
    pub request: u64,
    pub tool: String,
    pub input: serde_json::Value,
    pub asked_at: Millis,
}

impl PermissionAsk {
    /// One line for the inbox: `Bash: rm -rf build`, `Edit: src/main.rs`.
    pub fn summary(&self) -> String {
        let detail = main_argument(&self.input).unwrap_or_else(|| {
            let s = self.input.to_string();
            if s == "{}" || s == "null" {
                String::new()
            } else {
                s
            }
        });
        let detail: String = detail.split_whitespace().collect::<Vec<_>>().join(" ");
        let cut: String = detail.chars().take(200).collect();
        if cut.is_empty() {
            self.tool.clone()
        } else {
            format!("{}: {cut}", self.tool)
        }
    }
}

/// The argument that says what a tool call does (what Claude Code shows in its dialog).
fn main_argument(input: &serde_json::Value) -> Option<String> {
    ["command", "file_path", "path", "url", "pattern", "query"]
        .iter()
        .find_map(|k| input.get(*k).and_then(|v| v.as_str()).map(str::to_string))
}

/// An `allow` rule from the config, in Claude Code's permission-rule syntax: `Tool` (any
/// call of that tool), `Tool(exact argument)`, or `Tool(prefix:*)` / `Tool(prefix*)` (the
/// argument starts with `prefix`). The argument is the call's command, file path or URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowRule {
    tool: String,
    arg: Option<ArgMatch>,
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ArgMatch {
    Exact(String),
    Prefix(String),
}

impl AllowRule {
    pub fn parse(text: &str) -> Result<AllowRule, String> {
        let t = text.trim();
        let (tool, arg) = match t.split_once('(') {
            None => (t, None),
            Some((tool, rest)) => {
                let inner = rest.strip_suffix(')').ok_or_else(|| {
                    format!("allow rule {text:?}: expected Tool or Tool(argument), missing ')'")
                })?;
                let arg = if let Some(p) = inner.strip_suffix(":*") {
                    ArgMatch::Prefix(p.to_string())
                } else if let Some(p) = inner.strip_suffix('*') {
                    ArgMatch::Prefix(p.to_string())
                } else {
                    ArgMatch::Exact(inner.to_string())
                };
                (tool, Some(arg))
            }
        };
        let ok = !tool.is_empty()
            && tool
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(format!(
                "allow rule {text:?}: the tool name must be letters, digits, '_' or '-' (e.g. \"Bash(cargo test:*)\")"
            ));
        }
        Ok(AllowRule {
            tool: tool.to_string(),
            arg,
            text: t.to_string(),
        })
    }

    pub fn matches(&self, tool: &str, input: &serde_json::Value) -> bool {
        if self.tool != tool {
            return false;
        }
        let Some(want) = &self.arg else { return true };
        let Some(arg) = main_argument(input) else {
            return false;
        };
        match want {
            ArgMatch::Exact(a) => arg.trim() == a,
            // A prefix rule never allows a chained command (`cargo test && rm -rf /`).
            ArgMatch::Prefix(p) => arg.starts_with(p.as_str()) && !chains(&arg[p.len()..]),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Shell syntax that runs a second command after the allowed one.
fn chains(rest: &str) -> bool {
    ["&&", "||", ";", "|", "`", "$(", "\n", ">", "<"]
        .iter()
        .any(|s| rest.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules() {
        let r = AllowRule::parse("Bash(cargo test:*)").unwrap();
        assert!(r.matches("Bash", &json!({"command": "cargo test --lib"})));
        assert!(r.matches("Bash", &json!({"command": "cargo test"})));
        assert!(!r.matches("Bash", &json!({"command": "cargo build"})));
        assert!(!r.matches("Bash", &json!({"command": "cargo test && rm -rf /"})));
        assert!(!r.matches("Edit", &json!({"command": "cargo test"})));
        let any = AllowRule::parse("Read").unwrap();
        assert!(any.matches("Read", &json!({"file_path": "/x"})));
        let exact = AllowRule::parse("Bash(ls)").unwrap();
        assert!(exact.matches("Bash", &json!({"command": "ls"})));
        assert!(!exact.matches("Bash", &json!({"command": "ls -la"})));
        assert!(AllowRule::parse("Bash(x").is_err());
        assert!(AllowRule::parse("(x)").is_err());
        assert!(AllowRule::parse("Ba sh").is_err());
    }

    #[test]
    fn summary() {
        let a = PermissionAsk {
            request: 1,
            tool: "Bash".into(),
            input: json!({"command": "rm -rf build", "description": "clean"}),
            asked_at: 0,
        };
        assert_eq!(a.summary(), "Bash: rm -rf build");
        let b = PermissionAsk {
            tool: "Thing".into(),
            input: json!({}),
            ..a
        };
        assert_eq!(b.summary(), "Thing");
    }
}
