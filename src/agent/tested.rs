//! The agent programs taskboard is tested with, and how to install each: the one list that
//! `taskboard doctor` checks versions against and the README's "Tested agents" table mirrors
//! (a test keeps the two equal).

/// An agent CLI taskboard's tests drive, by the program's file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestedAgent {
    /// The program's file name (`claude`), as a profile's `command` starts.
    pub program: &'static str,
    /// What it is, for people.
    pub name: &'static str,
    /// Versions (as `PROGRAM --version` prints them) the tests ran against.
    pub versions: &'static [&'static str],
    /// The command that installs it.
    pub install: &'static str,
}

pub const TESTED_AGENTS: &[TestedAgent] = &[
    TestedAgent {
        program: "claude",
        name: "Claude Code",
        versions: &["2.1.197"],
        install: "npm install -g @anthropic-ai/claude-code",
    },
    TestedAgent {
        program: "codex",
        name: "Codex CLI",
        versions: &["0.171.0"],
        install: "npm install -g @openai/codex",
    },
    TestedAgent {
        program: "aider",
        name: "aider",
        versions: &["0.86.2"],
        install: "pip install aider-chat",
    },
];

/// The tested agent whose program is `program` (a path or a bare name).
pub fn tested(program: &str) -> Option<&'static TestedAgent> {
    let name = std::path::Path::new(program).file_name()?.to_str()?;
    TESTED_AGENTS.iter().find(|t| t.program == name)
}

/// The first `N.N` or `N.N.N` in a `--version` answer (`2.1.197 (Claude Code)`,
/// `codex-cli 0.171.0`, `aider 0.86.2`, `v1.4.0`), standing alone or after a `v`.
pub fn version_in(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit()
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() || starts_with_v(bytes, i))
        {
            let start = i;
            let mut dots = 0;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || (bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
            {
                dots += usize::from(bytes[i] == b'.');
                i += 1;
            }
            if dots >= 1 {
                return Some(&text[start..i]);
            }
        }
        i += 1;
    }
    None
}

/// Whether `bytes[i - 1]` is a `v` that begins a word (`v1.2`, not `dev1.2`).
fn starts_with_v(bytes: &[u8], i: usize) -> bool {
    matches!(bytes[i - 1], b'v' | b'V') && (i == 1 || !bytes[i - 2].is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_what_the_agents_print() {
        assert_eq!(version_in("2.1.197 (Claude Code)"), Some("2.1.197"));
        assert_eq!(version_in("codex-cli 0.171.0"), Some("0.171.0"));
        assert_eq!(version_in("aider 0.86.2\n"), Some("0.86.2"));
        assert_eq!(version_in("tool v1.4.0"), Some("1.4.0"));
        assert_eq!(
            version_in("dev1.2"),
            None,
            "a digit glued to a word is not a version start"
        );
        assert_eq!(version_in("tool v 3.4.5-beta"), Some("3.4.5"));
        assert_eq!(version_in("no version here 42"), None);
        assert_eq!(
            tested("/usr/local/bin/claude").map(|t| t.name),
            Some("Claude Code")
        );
        assert_eq!(tested("my-agent"), None);
    }
}
