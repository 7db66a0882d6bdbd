//! Colours and glyphs of the TUI. With `NO_COLOR` set, every style keeps only modifiers
//! (bold, reversed, underline), so nothing depends on colour to be understood.

use ratatui::style::{Color, Modifier, Style};

use crate::model::{Kind, Status, Task};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Theme { color: !no_color }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn status(&self, s: Status) -> Style {
        match s {
            Status::Pending => self.fg(Color::Gray),
            Status::Active => self.fg(Color::Cyan),
            Status::PendingReview => self.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            Status::Blocked => self.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            Status::Done => self.fg(Color::Green),
            Status::Failed => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Status::Skipped => self.fg(Color::DarkGray),
        }
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn attention(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// Border of the focused block (tree or pane).
    pub fn focus_border(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Border of a pane that receives keys.
    pub fn input_border(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
}

/// The glyph of a task: waiting gates get an hourglass, the rest follow their status.
pub fn glyph(t: &Task) -> &'static str {
    if t.kind == Kind::Signal && t.status == Status::Active {
        return if t.awaits_decision() { "⚑" } else { "⧖" };
    }
    crate::view::glyph(t.status)
}
