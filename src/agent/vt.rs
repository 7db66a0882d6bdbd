//! The pane's terminal emulator (vt100 via tui-term) and what it tells us: replies owed to
//! the program (cursor position, device attributes) and "needs you" signals (BEL, OSC 9/777).

use tui_term::vt100;

/// vt100 callbacks: collects replies and attention events while bytes are parsed.
#[derive(Default)]
pub struct TermEvents {
    /// Bytes to write back to the program (answers to its queries).
    pub replies: Vec<u8>,
    /// Why the program asked for attention since the last check.
    pub attention: Option<String>,
}

impl vt100::Callbacks for TermEvents {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.attention.get_or_insert_with(|| "bell".to_string());
    }

    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        match (i1, c, params) {
            // DSR 6: where is the cursor? Agents wait for this answer.
            (None, 'n', [[6]]) => {
                let (row, col) = screen.cursor_position();
                self.replies
                    .extend_from_slice(format!("\x1b[{};{}R", row + 1, col + 1).as_bytes());
            }
            // DSR 5: status report.
            (None, 'n', [[5]]) => self.replies.extend_from_slice(b"\x1b[0n"),
            // DA1: what terminal are you? Answer as a VT220-ish terminal.
            (None, 'c', [] | [[0]]) => self.replies.extend_from_slice(b"\x1b[?62;22c"),
            _ => {}
        }
    }

    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        let text = |i: usize| {
            params
                .get(i)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default()
        };
        match params.first().copied() {
            Some(b"9") => {
                let msg = text(1);
                // OSC 9;4 is a progress report (ConEmu), not a notification.
                if msg != "4" {
                    self.attention = Some(if msg.is_empty() {
                        "notification".into()
                    } else {
                        msg
                    });
                }
            }
            Some(b"777") if params.get(1).copied() == Some(b"notify") => {
                let (title, body) = (text(2), text(3));
                self.attention = Some(match (title.is_empty(), body.is_empty()) {
                    (_, false) if !title.is_empty() => format!("{title}: {body}"),
                    (_, false) => body,
                    _ => title,
                });
            }
            _ => {}
        }
    }
}

pub type Parser = vt100::Parser<TermEvents>;

pub fn new_parser(rows: u16, cols: u16, scrollback: usize) -> Parser {
    vt100::Parser::new_with_callbacks(rows, cols, scrollback, TermEvents::default())
}

/// The last non-empty lines on the screen (what a failure reason quotes).
pub fn last_lines(parser: &Parser, n: usize) -> String {
    let contents = parser.screen().contents();
    let lines: Vec<&str> = contents
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_cursor_position_queries() {
        let mut p = new_parser(24, 80, 0);
        p.process(b"abc\x1b[6n");
        assert_eq!(p.callbacks().replies, b"\x1b[1;4R");
    }

    #[test]
    fn bell_and_osc_notifications_ask_for_attention() {
        let mut p = new_parser(24, 80, 0);
        p.process(b"x\x07");
        assert_eq!(p.callbacks_mut().attention.take().as_deref(), Some("bell"));
        p.process(b"\x1b]9;done\x07");
        assert_eq!(p.callbacks_mut().attention.take().as_deref(), Some("done"));
        p.process(b"\x1b]777;notify;Agent;needs input\x07");
        assert_eq!(
            p.callbacks_mut().attention.take().as_deref(),
            Some("Agent: needs input")
        );
        p.process(b"plain text");
        assert_eq!(p.callbacks_mut().attention.take(), None);
    }

    #[test]
    fn last_lines_skips_blank_rows() {
        let mut p = new_parser(10, 40, 0);
        p.process(b"one\r\ntwo\r\n\r\n");
        assert_eq!(last_lines(&p, 1), "two");
        assert_eq!(last_lines(&p, 2), "one\ntwo");
    }
}
