//! The `[keys]` table: the actions the TUI's keys trigger, their default keys, the key-spec
//! parser for overrides from the config, and the help text, which is generated from the same
//! table so it never drifts.

use std::collections::{BTreeMap, HashMap};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::KeyBinding;

/// Everything a key can ask for outside input mode and text fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Up,
    Down,
    Fold,
    Unfold,
    Focus,
    NextAttention,
    Approve,
    Reject,
    RequestChanges,
    Input,
    Zoom,
    ScrollUp,
    ScrollDown,
    Dismiss,
    Search,
    NewGoal,
    OpenGoal,
    Diff,
    Audit,
    Shell,
    AddTask,
    EditPrompt,
    Retry,
    Skip,
    Stop,
    Delete,
    Land,
    Pause,
    Help,
    Quit,
    StopBoard,
}

/// (action, config name, default keys, help text), in help order.
const TABLE: &[(Action, &str, &[&str], &str)] = &[
    (Action::Up, "up", &["k", "up"], "move up (tree, panes)"),
    (Action::Down, "down", &["j", "down"], "move down"),
    (Action::Fold, "fold", &["h", "left"], "fold / go to parent"),
    (
        Action::Unfold,
        "unfold",
        &["l", "right"],
        "unfold / go to child",
    ),
    (Action::Focus, "focus", &["tab"], "focus tree ⇄ panes"),
    (
        Action::NextAttention,
        "next_attention",
        &["!"],
        "oldest item that needs you",
    ),
    (Action::Approve, "approve", &["a"], "approve the review"),
    (Action::Reject, "reject", &["x"], "reject (with a comment)"),
    (
        Action::RequestChanges,
        "request_changes",
        &["c"],
        "request changes (comment)",
    ),
    (
        Action::Input,
        "input",
        &["enter"],
        "type into the pane (ctrl-g leaves)",
    ),
    (Action::Zoom, "zoom", &["z"], "zoom the focused pane"),
    (
        Action::ScrollUp,
        "scroll_up",
        &["pgup"],
        "scroll the pane back",
    ),
    (
        Action::ScrollDown,
        "scroll_down",
        &["pgdn"],
        "scroll the pane forward",
    ),
    (
        Action::Dismiss,
        "dismiss",
        &["w"],
        "close a finished pane or a shell pane",
    ),
    (Action::Search, "search", &["/"], "search all output"),
    (Action::NewGoal, "new_goal", &["n"], "new goal"),
    (Action::OpenGoal, "open_goal", &["o"], "open a goal file"),
    (Action::Diff, "diff", &["d"], "diff of the selected task"),
    (
        Action::Audit,
        "audit",
        &["A"],
        "audit trail (who did what, when)",
    ),
    (
        Action::AddTask,
        "add_task",
        &["+"],
        "add a task to the selected group",
    ),
    (
        Action::EditPrompt,
        "edit_prompt",
        &["e"],
        "edit a waiting task's prompt",
    ),
    (
        Action::Shell,
        "shell",
        &["s"],
        "shell pane in the task's worktree",
    ),
    (
        Action::Retry,
        "retry",
        &["R"],
        "retry a failed/blocked task",
    ),
    (Action::Skip, "skip", &["S"], "skip a task"),
    (Action::Stop, "stop", &["X"], "stop a running agent (asks)"),
    (
        Action::Delete,
        "delete",
        &["D"],
        "delete a task or goal (asks)",
    ),
    (
        Action::Land,
        "land",
        &["L"],
        "land a finished task or group (asks)",
    ),
    (Action::Pause, "pause", &["P"], "pause / resume dispatch"),
    (Action::Help, "help", &["?"], "this help"),
    (
        Action::Quit,
        "quit",
        &["q", "ctrl-c"],
        "quit (asks) · attached: detach",
    ),
    (
        Action::StopBoard,
        "stop_board",
        &["Q"],
        "stop the board too (asks)",
    ),
];

/// Keys that are not actions but fixed parts of text fields and input mode.
pub const FIXED: &[(&str, &str)] = &[
    ("ctrl-g", "leave input mode (pane)"),
    ("ctrl-s", "send (comment, forms)"),
    ("esc", "cancel / close"),
    ("y / n", "answer a question"),
];

/// A key as the config writes it: a code plus ctrl/alt (shift is in the char itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn from_event(k: &KeyEvent) -> Key {
        let code = match k.code {
            // Terminals differ on whether shift+tab is BackTab or Tab+SHIFT.
            KeyCode::Tab if k.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            c => c,
        };
        Key {
            code,
            ctrl: k.modifiers.contains(KeyModifiers::CONTROL),
            alt: k.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// `a`, `R`, `!`, `ctrl-c`, `alt-x`, `enter`, `tab`, `pgup`, `f5`, `space`, ...
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut key = Key {
            code: KeyCode::Null,
            ctrl: false,
            alt: false,
        };
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower.strip_prefix("ctrl-").or(lower.strip_prefix("c-")) {
                key.ctrl = true;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("alt-").or(lower.strip_prefix("m-")) {
                key.alt = true;
                rest = &rest[rest.len() - r.len()..];
            } else {
                break;
            }
        }
        let named = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => Some(KeyCode::Enter),
            "tab" => Some(KeyCode::Tab),
            "backtab" | "shift-tab" => Some(KeyCode::BackTab),
            "esc" | "escape" => Some(KeyCode::Esc),
            "space" => Some(KeyCode::Char(' ')),
            "backspace" => Some(KeyCode::Backspace),
            "delete" | "del" => Some(KeyCode::Delete),
            "insert" => Some(KeyCode::Insert),
            "up" => Some(KeyCode::Up),
            "down" => Some(KeyCode::Down),
            "left" => Some(KeyCode::Left),
            "right" => Some(KeyCode::Right),
            "home" => Some(KeyCode::Home),
            "end" => Some(KeyCode::End),
            "pgup" | "pageup" => Some(KeyCode::PageUp),
            "pgdn" | "pagedown" => Some(KeyCode::PageDown),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                f[1..].parse::<u8>().ok().map(KeyCode::F)
            }
            _ => None,
        };
        key.code = match named {
            Some(c) => c,
            None => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if key.ctrl => KeyCode::Char(c.to_ascii_lowercase()),
                    (Some(c), None) => KeyCode::Char(c),
                    _ => {
                        return Err(format!(
                            "unknown key {s:?} (write e.g. \"a\", \"ctrl-s\", \"pgup\")"
                        ))
                    }
                }
            }
        };
        Ok(key)
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Enter => "Enter".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Backspace => "Bksp".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Insert => "Ins".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Char(c) => c.to_string(),
            _ => "?".into(),
        };
        match (self.ctrl, self.alt) {
            (true, _) => format!("Ctrl-{base}"),
            (_, true) => format!("Alt-{base}"),
            _ => base,
        }
    }
}

/// Key → action, built from the defaults and the config's `[keys]`.
#[derive(Clone, Debug)]
pub struct Keymap {
    bindings: HashMap<Key, Action>,
    keys: BTreeMap<Action, Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Self {
        // The defaults are valid keys (a test checks it).
        Keymap::new(&BTreeMap::new()).unwrap_or_else(|_| Keymap {
            bindings: HashMap::new(),
            keys: BTreeMap::new(),
        })
    }
}

impl Keymap {
    /// Defaults, then each `[keys]` entry replaces that action's keys. Unknown actions and
    /// keys are errors; a key bound twice belongs to the action the config names.
    pub fn new(overrides: &BTreeMap<String, KeyBinding>) -> Result<Keymap, String> {
        let mut keys: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        for (action, _, defaults, _) in TABLE {
            let parsed: Result<Vec<Key>, String> = defaults.iter().map(|k| Key::parse(k)).collect();
            keys.insert(*action, parsed?);
        }
        for (name, binding) in overrides {
            let Some((action, ..)) = TABLE.iter().find(|(_, n, ..)| n == name) else {
                let names: Vec<&str> = TABLE.iter().map(|(_, n, ..)| *n).collect();
                if let Some(close) = crate::tomlcheck::suggest(name, names.iter().copied()) {
                    return Err(format!(
                        "[keys] {name:?} is not an action (did you mean {close:?}?)"
                    ));
                }
                return Err(format!(
                    "[keys] {name:?} is not an action; actions are: {}",
                    names.join(", ")
                ));
            };
            let ks: Result<Vec<Key>, String> = binding
                .keys()
                .into_iter()
                .map(|k| Key::parse(k).map_err(|e| format!("[keys] {name}: {e}")))
                .collect();
            let ks = ks?;
            // A configured key leaves the action it had by default.
            for other in keys.values_mut() {
                other.retain(|k| !ks.contains(k));
            }
            keys.insert(*action, ks);
        }
        let mut bindings = HashMap::new();
        for (action, ks) in &keys {
            for k in ks {
                bindings.insert(*k, *action);
            }
        }
        Ok(Keymap { bindings, keys })
    }

    pub fn action(&self, k: &KeyEvent) -> Option<Action> {
        self.bindings.get(&Key::from_event(k)).copied()
    }

    /// `j/↓` for an action, as help and hints show it.
    pub fn label(&self, action: Action) -> String {
        self.keys
            .get(&action)
            .map(|ks| ks.iter().map(Key::label).collect::<Vec<_>>().join("/"))
            .unwrap_or_default()
    }

    /// The first key of an action (short hints).
    pub fn first(&self, action: Action) -> String {
        self.keys
            .get(&action)
            .and_then(|ks| ks.first())
            .map(Key::label)
            .unwrap_or_default()
    }

    /// (keys, what they do) for every action and fixed key, in help order.
    pub fn help(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = TABLE
            .iter()
            .map(|(a, _, _, text)| (self.label(*a), (*text).to_string()))
            .collect();
        out.extend(FIXED.iter().map(|(k, t)| (k.to_string(), t.to_string())));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn defaults_parse_and_bind() {
        let km = Keymap::new(&BTreeMap::new()).unwrap();
        assert_eq!(
            km.action(&ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('R'), KeyModifiers::SHIFT)),
            Some(Action::Retry)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            km.action(&ev(KeyCode::Char('!'), KeyModifiers::SHIFT)),
            Some(Action::NextAttention)
        );
        assert_eq!(km.label(Action::Down), "j/↓");
    }

    #[test]
    fn config_overrides_and_errors() {
        let mut o = BTreeMap::new();
        o.insert("approve".to_string(), KeyBinding::One("y".into()));
        o.insert(
            "quit".to_string(),
            KeyBinding::Many(vec!["Q".into(), "ctrl-q".into()]),
        );
        let km = Keymap::new(&o).unwrap();
        assert_eq!(
            km.action(&ev(KeyCode::Char('y'), KeyModifiers::NONE)),
            Some(Action::Approve)
        );
        assert_eq!(km.action(&ev(KeyCode::Char('a'), KeyModifiers::NONE)), None);
        assert_eq!(
            km.action(&ev(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        let mut bad = BTreeMap::new();
        bad.insert("fly".to_string(), KeyBinding::One("f".into()));
        assert!(Keymap::new(&bad).unwrap_err().contains("not an action"));
        let mut bad = BTreeMap::new();
        bad.insert("quit".to_string(), KeyBinding::One("hyper-x".into()));
        assert!(Keymap::new(&bad).unwrap_err().contains("unknown key"));
    }
}
