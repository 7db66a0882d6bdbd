//! Keys typed into a pane, encoded as the program in it expects them: control codes,
//! Alt as an ESC prefix, xterm modifier parameters, and SS3 cursor keys when the program
//! switched on application cursor mode (DECCKM).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The bytes for one key event, or `None` for keys a terminal does not send.
pub fn encode(k: &KeyEvent, app_cursor: bool) -> Option<Vec<u8>> {
    if k.kind == KeyEventKind::Release {
        return None;
    }
    let m = k.modifiers;
    let ctrl = m.contains(KeyModifiers::CONTROL);
    let alt = m.contains(KeyModifiers::ALT);
    let shift = m.contains(KeyModifiers::SHIFT);
    // xterm's modifier parameter: 1 + shift(1) + alt(2) + ctrl(4).
    let param = 1 + u8::from(shift) + 2 * u8::from(alt) + 4 * u8::from(ctrl);
    let mut out = Vec::new();
    match k.code {
        KeyCode::Char(c) => {
            if alt {
                out.push(0x1b);
            }
            if ctrl {
                out.push(ctrl_byte(c)?);
            } else {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
        // Agents take Shift/Ctrl+Enter as "new line in the prompt", not "send": they must
        // not arrive as a bare Enter. CSI-u (kitty's and fixterms' form) is what Claude
        // Code and crossterm-based agents (Codex) read; Alt+Enter stays ESC CR, which they
        // read too.
        KeyCode::Enter if shift || ctrl => out.extend(format!("\x1b[13;{param}u").into_bytes()),
        KeyCode::Enter => {
            if alt {
                out.push(0x1b);
            }
            out.push(b'\r');
        }
        KeyCode::Tab if shift => out.extend_from_slice(b"\x1b[Z"),
        KeyCode::Tab => {
            if alt {
                out.push(0x1b);
            }
            out.push(b'\t');
        }
        KeyCode::BackTab => out.extend_from_slice(b"\x1b[Z"),
        KeyCode::Backspace => {
            if alt {
                out.push(0x1b);
            }
            out.push(if ctrl { 0x08 } else { 0x7f });
        }
        KeyCode::Esc => out.push(0x1b),
        KeyCode::Up => out.extend(cursor(b'A', param, app_cursor)),
        KeyCode::Down => out.extend(cursor(b'B', param, app_cursor)),
        KeyCode::Right => out.extend(cursor(b'C', param, app_cursor)),
        KeyCode::Left => out.extend(cursor(b'D', param, app_cursor)),
        KeyCode::Home => out.extend(cursor(b'H', param, app_cursor)),
        KeyCode::End => out.extend(cursor(b'F', param, app_cursor)),
        KeyCode::Insert => out.extend(tilde(2, param)),
        KeyCode::Delete => out.extend(tilde(3, param)),
        KeyCode::PageUp => out.extend(tilde(5, param)),
        KeyCode::PageDown => out.extend(tilde(6, param)),
        KeyCode::F(n @ 1..=4) => {
            let c = b"PQRS"[usize::from(n - 1)];
            if param == 1 {
                out.extend_from_slice(&[0x1b, b'O', c]);
            } else {
                out.extend(format!("\x1b[1;{param}{}", c as char).into_bytes());
            }
        }
        KeyCode::F(n @ 5..=12) => {
            let code = [15, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)];
            out.extend(tilde(code, param));
        }
        _ => return None,
    }
    Some(out)
}

/// Ctrl + a character as a C0 control code (`ctrl-a` = 0x01, `ctrl-[` = ESC, ...).
fn ctrl_byte(c: char) -> Option<u8> {
    let c = c.to_ascii_lowercase();
    Some(match c {
        'a'..='z' => c as u8 - b'a' + 1,
        ' ' | '@' | '2' => 0,
        '[' | '3' => 0x1b,
        '\\' | '4' => 0x1c,
        ']' | '5' => 0x1d,
        '^' | '6' => 0x1e,
        '_' | '-' | '7' => 0x1f,
        '?' | '8' => 0x7f,
        _ => return None,
    })
}

fn cursor(c: u8, param: u8, app_cursor: bool) -> Vec<u8> {
    if param > 1 {
        format!("\x1b[1;{param}{}", c as char).into_bytes()
    } else if app_cursor {
        vec![0x1b, b'O', c]
    } else {
        vec![0x1b, b'[', c]
    }
}

fn tilde(code: u8, param: u8) -> Vec<u8> {
    if param > 1 {
        format!("\x1b[{code};{param}~").into_bytes()
    } else {
        format!("\x1b[{code}~").into_bytes()
    }
}

/// Pasted text, bracketed when the program asked for bracketed paste.
pub fn paste(text: &str, bracketed: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 12);
    if bracketed {
        out.extend_from_slice(b"\x1b[200~");
    }
    // Terminals send newlines in pastes as carriage returns.
    out.extend(text.replace("\r\n", "\r").replace('\n', "\r").into_bytes());
    if bracketed {
        out.extend_from_slice(b"\x1b[201~");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> Vec<u8> {
        encode(&KeyEvent::new(code, m), false).unwrap()
    }

    #[test]
    fn plain_and_control_keys() {
        assert_eq!(k(KeyCode::Char('a'), KeyModifiers::NONE), b"a");
        assert_eq!(k(KeyCode::Char('é'), KeyModifiers::NONE), "é".as_bytes());
        assert_eq!(k(KeyCode::Char('c'), KeyModifiers::CONTROL), b"\x03");
        assert_eq!(k(KeyCode::Char('x'), KeyModifiers::ALT), b"\x1bx");
        assert_eq!(k(KeyCode::Enter, KeyModifiers::NONE), b"\r");
        assert_eq!(k(KeyCode::Enter, KeyModifiers::SHIFT), b"\x1b[13;2u");
        assert_eq!(k(KeyCode::Enter, KeyModifiers::ALT), b"\x1b\r");
        assert_eq!(k(KeyCode::Enter, KeyModifiers::CONTROL), b"\x1b[13;5u");
        assert_eq!(
            k(KeyCode::Enter, KeyModifiers::CONTROL | KeyModifiers::SHIFT),
            b"\x1b[13;6u"
        );
        assert_eq!(k(KeyCode::Backspace, KeyModifiers::NONE), b"\x7f");
        assert_eq!(k(KeyCode::Esc, KeyModifiers::NONE), b"\x1b");
        assert_eq!(k(KeyCode::BackTab, KeyModifiers::SHIFT), b"\x1b[Z");
    }

    #[test]
    fn cursor_keys_follow_the_cursor_mode() {
        let up = KeyEvent::new(KeyCode::Up, KeyModifiers::NONE);
        assert_eq!(encode(&up, false).unwrap(), b"\x1b[A");
        assert_eq!(encode(&up, true).unwrap(), b"\x1bOA");
        let cup = KeyEvent::new(KeyCode::Up, KeyModifiers::CONTROL);
        assert_eq!(encode(&cup, true).unwrap(), b"\x1b[1;5A");
        assert_eq!(k(KeyCode::PageUp, KeyModifiers::NONE), b"\x1b[5~");
        assert_eq!(k(KeyCode::Delete, KeyModifiers::SHIFT), b"\x1b[3;2~");
        assert_eq!(k(KeyCode::F(1), KeyModifiers::NONE), b"\x1bOP");
        assert_eq!(k(KeyCode::F(5), KeyModifiers::NONE), b"\x1b[15~");
    }

    #[test]
    fn pastes_are_bracketed_on_request() {
        assert_eq!(paste("a\nb", true), b"\x1b[200~a\rb\x1b[201~");
        assert_eq!(paste("a", false), b"a");
    }
}
