//! A pane's scrollback as the bytes the program printed: the last `scrollback` lines (and at
//! most `MAX_LINE` bytes a line), kept raw, not as terminal cells. A parsed row costs 32
//! bytes a column (vt100's cell), about 2.6 KB at 80 columns; a raw line costs what was
//! printed, so 10,000 lines of scrollback stay near tmux's memory. When the user scrolls
//! back, the UI parses these bytes once into a parser of its own (`ui::pane_view`).

use std::collections::VecDeque;

/// Bytes a kept line may take on average before the oldest lines go (bounds a program
/// that never prints a newline).
pub const MAX_LINE: usize = 1024;

pub struct History {
    bytes: VecDeque<u8>,
    /// Stream offsets just past each newline still kept, oldest first.
    ends: VecDeque<u64>,
    /// Stream offset of `bytes[0]`.
    start: u64,
    max_lines: usize,
}

impl History {
    pub fn new(max_lines: usize) -> History {
        History {
            bytes: VecDeque::new(),
            ends: VecDeque::new(),
            start: 0,
            max_lines,
        }
    }

    /// Appends what the program printed; drops the oldest lines beyond the limits.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.max_lines == 0 {
            return;
        }
        let base = self.start + self.bytes.len() as u64;
        self.ends.extend(
            chunk
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| base + i as u64 + 1),
        );
        self.bytes.extend(chunk);
        let mut cut = self.start;
        while self.ends.len() > self.max_lines {
            cut = self.ends.pop_front().unwrap_or(cut);
        }
        let cap = (self.max_lines * MAX_LINE) as u64;
        let end = self.start + self.bytes.len() as u64;
        if end - cut > cap {
            cut = end - cap;
            while self.ends.front().is_some_and(|e| *e <= cut) {
                self.ends.pop_front();
            }
        }
        if cut > self.start {
            self.bytes.drain(..(cut - self.start) as usize);
            self.start = cut;
        }
    }

    /// The kept bytes, oldest first.
    pub fn bytes(&self) -> Vec<u8> {
        let (a, b) = self.bytes.as_slices();
        [a, b].concat()
    }

    /// Lines kept (complete ones; a line still being printed is kept too).
    pub fn lines(&self) -> usize {
        self.ends.len()
    }

    pub fn max_lines(&self) -> usize {
        self.max_lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_whole() {
        let mut h = History::new(3);
        h.push(b"one\ntwo\nth");
        h.push(b"ree\nfour\nfi");
        assert_eq!(h.bytes(), b"two\nthree\nfour\nfi");
        assert_eq!(h.lines(), 3);
        h.push(b"ve\n");
        assert_eq!(h.bytes(), b"three\nfour\nfive\n");
    }

    #[test]
    fn a_line_without_end_is_bounded() {
        let mut h = History::new(2);
        h.push(&vec![b'x'; 5 * MAX_LINE]);
        assert_eq!(h.bytes().len(), 2 * MAX_LINE);
        h.push(b"\nok\n");
        assert_eq!(h.lines(), 2);
        assert!(h.bytes().ends_with(b"x\nok\n"));
        assert!(h.bytes().len() <= 2 * MAX_LINE);
    }

    #[test]
    fn nothing_kept_without_scrollback() {
        let mut h = History::new(0);
        h.push(b"a\nb\n");
        assert!(h.bytes().is_empty());
    }
}
