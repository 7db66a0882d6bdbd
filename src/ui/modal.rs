//! The modal slot's contents. At most one modal is open; it sees keys first and carries
//! exactly what it decides (a task id and the diff hash shown), never "the selection".

use ratatui_textarea::TextArea;

use crate::command::{Command, Decision};
use crate::model::TaskId;

pub enum Modal {
    Help {
        scroll: u16,
    },
    Approval(Approval),
    Comment(Comment),
    Confirm(Confirm),
    /// A blocked task's prompt: retry or skip.
    Blocked {
        task: TaskId,
    },
    Search(Search),
    Log(TextView),
    Diff(TextView),
    /// The new-goal form, or (with a parent) the new-task form.
    Goal(GoalForm),
    Open(OpenForm),
    /// A waiting agent task's prompt, being edited.
    Prompt(PromptEdit),
    /// Denying an agent's held tool call: the optional reason it is told.
    Deny(PromptEdit),
}

pub struct PromptEdit {
    pub task: TaskId,
    pub editor: TextArea<'static>,
}

/// A review diff as the approval modal shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewDiff {
    pub stat: String,
    pub patch: String,
    pub hash: String,
}

impl ReviewDiff {
    /// The stat, a blank line, then the patch: what a diff view shows.
    pub fn lines(&self) -> Vec<String> {
        self.stat
            .lines()
            .chain([""])
            .chain(self.patch.lines())
            .map(str::to_string)
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum DiffState {
    Loading,
    /// No diff was recorded for this task (or it cannot be read).
    Missing(String),
    Ready(ReviewDiff),
}

pub struct Approval {
    pub task: TaskId,
    /// The diff hash the reviewer is shown; the decision carries it and the board refuses
    /// it if the task's diff changed meanwhile.
    pub diff_hash: Option<String>,
    pub diff: DiffState,
    /// Why deciding here would be wrong now (the task changed since the modal opened).
    pub stale: Option<String>,
}

pub struct Comment {
    pub task: TaskId,
    pub decision: Decision,
    pub diff_hash: Option<String>,
    pub editor: TextArea<'static>,
    pub stale: Option<String>,
}

/// A question whose "yes" is the action it carries.
pub struct Confirm {
    pub question: String,
    pub on_yes: Pending,
}

pub enum Pending {
    Send { cmd: Command, label: String },
    Quit,
    StopBoard,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub task: TaskId,
    /// 0-based line in the task's log (escape sequences removed).
    pub line: usize,
    pub text: String,
}

pub struct Search {
    pub query: TextArea<'static>,
    /// The query the results are for (`None`: not run yet).
    pub ran: Option<String>,
    pub running: bool,
    pub hits: Vec<Hit>,
    pub selected: usize,
    /// More matches than were kept.
    pub truncated: bool,
}

/// A scrollable text: a task's log at a search hit, or a diff.
pub struct TextView {
    pub task: TaskId,
    pub title: String,
    pub lines: Vec<String>,
    pub top: usize,
    /// The line to highlight (a search hit).
    pub mark: Option<usize>,
    /// Closing returns to the approval of this task (a diff opened from it).
    pub back_to: Option<TaskId>,
}

pub const GOAL_FIELDS: [&str; 4] = ["Title", "Prompt", "Agent", "Repository"];

pub struct GoalForm {
    pub fields: Vec<TextArea<'static>>,
    pub active: usize,
    pub error: Option<String>,
    /// A new task under this group (then there is no repository field), not a new goal.
    pub parent: Option<TaskId>,
}

pub const OPEN_FIELDS: [&str; 2] = ["Goal file", "Vars (k=v k=v)"];

pub struct OpenForm {
    pub fields: Vec<TextArea<'static>>,
    pub active: usize,
    pub error: Option<String>,
    pub busy: bool,
}

pub fn text_field(initial: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![initial.to_string()]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t.set_cursor_line_style(ratatui::style::Style::new());
    t
}

impl Search {
    pub fn new() -> Search {
        Search {
            query: text_field(""),
            ran: None,
            running: false,
            hits: Vec::new(),
            selected: 0,
            truncated: false,
        }
    }

    pub fn text(&self) -> String {
        self.query.lines().join(" ")
    }
}

impl Default for Search {
    fn default() -> Self {
        Search::new()
    }
}

impl GoalForm {
    pub fn new(agent: &str, repo: &str) -> GoalForm {
        GoalForm {
            fields: vec![
                text_field(""),
                text_field(""),
                text_field(agent),
                text_field(repo),
            ],
            active: 0,
            error: None,
            parent: None,
        }
    }

    /// Title, prompt and agent of a new task under `parent`.
    pub fn task(parent: TaskId, agent: &str) -> GoalForm {
        GoalForm {
            fields: vec![text_field(""), text_field(""), text_field(agent)],
            active: 0,
            error: None,
            parent: Some(parent),
        }
    }

    pub fn value(&self, i: usize) -> String {
        self.fields
            .get(i)
            .map(|f| f.lines().join("\n").trim().to_string())
            .unwrap_or_default()
    }
}

impl OpenForm {
    pub fn new(path: &str) -> OpenForm {
        OpenForm {
            fields: vec![text_field(path), text_field("")],
            active: 0,
            error: None,
            busy: false,
        }
    }

    pub fn value(&self, i: usize) -> String {
        self.fields
            .get(i)
            .map(|f| f.lines().join(" ").trim().to_string())
            .unwrap_or_default()
    }
}

impl TextView {
    pub fn new(task: TaskId, title: String, lines: Vec<String>, mark: Option<usize>) -> TextView {
        let top = mark.map(|m| m.saturating_sub(5)).unwrap_or(0);
        TextView {
            task,
            title,
            lines,
            top,
            mark,
            back_to: None,
        }
    }
}
