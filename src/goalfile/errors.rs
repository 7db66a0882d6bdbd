//! Goal file mistakes: one located mistake (`GoalError`), every mistake of a file
//! (`GoalErrors`), and the collector (`Cx`) that the checks report into while they go on.

use std::cell::RefCell;
use std::collections::HashSet;
use std::ops::Range;

use crate::tomlcheck::MAX_PROBLEMS;

/// A goal file problem, located in the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
pub struct GoalError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    /// Dotted path of the field at fault (`task[1].timeout`), for JSON callers.
    pub field: Option<String>,
}

/// Every mistake found in a goal file (at least one), in file order; at most
/// [`MAX_PROBLEMS`] are kept and the rest counted. Shown one `file:line:col: message` a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalErrors {
    errors: Vec<GoalError>,
    more: usize,
}

impl GoalErrors {
    /// Sorts by place, drops repeats, keeps the first [`MAX_PROBLEMS`]. `None` when empty.
    pub fn new(mut errors: Vec<GoalError>) -> Option<GoalErrors> {
        errors.sort_by_key(|e| (e.line, e.col));
        let mut seen = HashSet::new();
        errors.retain(|e| seen.insert((e.line, e.col, e.message.clone())));
        if errors.is_empty() {
            return None;
        }
        let more = errors.len().saturating_sub(MAX_PROBLEMS);
        errors.truncate(MAX_PROBLEMS);
        Some(GoalErrors { errors, more })
    }

    /// The one mistake there is (a file that cannot be read, a JSON body of the wrong shape).
    pub fn one(error: GoalError) -> GoalErrors {
        GoalErrors {
            errors: vec![error],
            more: 0,
        }
    }

    /// The first mistake in the file.
    pub fn first(&self) -> &GoalError {
        // Invariant: built only by `new` (non-empty) or `one`.
        &self.errors[0]
    }

    pub fn iter(&self) -> std::slice::Iter<'_, GoalError> {
        self.errors.iter()
    }

    /// How many are shown (at most [`MAX_PROBLEMS`]).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many more there were beyond those shown.
    pub fn more(&self) -> usize {
        self.more
    }

    /// The messages joined by "; ", without places: for JSON bodies, whose places are not in
    /// any file the caller wrote.
    pub fn message(&self) -> String {
        let mut parts: Vec<String> = self.errors.iter().map(|e| e.message.clone()).collect();
        if self.more > 0 {
            parts.push(format!("and {} more", self.more));
        }
        parts.join("; ")
    }

    /// The field of the first mistake.
    pub fn field(&self) -> Option<String> {
        self.first().field.clone()
    }

    /// Every mistake with its place, on one line (for a one-line error area).
    pub fn one_line(&self) -> String {
        let mut parts: Vec<String> = self.errors.iter().map(|e| e.to_string()).collect();
        if self.more > 0 {
            parts.push(format!("and {} more", self.more));
        }
        parts.join(" · ")
    }

    /// Applies `f` to every mistake (renaming fields for another JSON shape, say).
    pub fn map_each(mut self, f: impl Fn(&mut GoalError)) -> GoalErrors {
        self.errors.iter_mut().for_each(f);
        self
    }
}

impl std::fmt::Display for GoalErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        if self.more > 0 {
            write!(
                f,
                "\n… and {} more (only the first {MAX_PROBLEMS} are shown)",
                self.more
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for GoalErrors {}

impl From<GoalError> for GoalErrors {
    fn from(e: GoalError) -> GoalErrors {
        GoalErrors::one(e)
    }
}

/// Where a table's entries were dropped as mistakes: `None` is the goal, `Some(start)` the
/// task whose table starts at that byte. Later checks skip what would only repeat them
/// ("no title" after a title of the wrong type).
pub(crate) type Dropped = HashSet<(Option<usize>, String)>;

/// Where errors point (the text, for line/col, and the file's name) and where they collect.
pub(crate) struct Cx<'a> {
    pub(crate) text: &'a str,
    pub(crate) file: &'a str,
    errors: RefCell<Vec<GoalError>>,
    pub(crate) dropped: Dropped,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(text: &'a str, file: &'a str) -> Cx<'a> {
        Cx {
            text,
            file,
            errors: RefCell::new(Vec::new()),
            dropped: Dropped::new(),
        }
    }

    pub(crate) fn err(
        &self,
        span: Range<usize>,
        message: String,
        field: Option<String>,
    ) -> GoalError {
        let (line, col) = line_col(self.text, span.start);
        GoalError {
            file: self.file.to_string(),
            line,
            col,
            message,
            field,
        }
    }

    /// Notes a mistake; the check goes on to find the next one.
    pub(crate) fn report(&self, span: Range<usize>, message: String, field: Option<String>) {
        let e = self.err(span, message, field);
        self.errors.borrow_mut().push(e);
    }

    /// Whether `key` of the table starting at `table` (None: the goal) was dropped as a mistake.
    pub(crate) fn was_dropped(&self, table: Option<usize>, key: &str) -> bool {
        self.dropped.contains(&(table, key.to_string()))
    }

    /// Everything reported, or `Ok` when nothing was.
    pub(crate) fn finish(self) -> Result<(), GoalErrors> {
        match GoalErrors::new(self.errors.into_inner()) {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// Everything reported, when a check had to stop. Had nothing been reported (a check
    /// that stops always reports first), a general mistake at the top stands in.
    pub(crate) fn fail(self) -> GoalErrors {
        let fallback = self.err(0..0, "the goal file cannot be read".into(), None);
        GoalErrors::new(self.errors.into_inner()).unwrap_or_else(|| GoalErrors::one(fallback))
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}
