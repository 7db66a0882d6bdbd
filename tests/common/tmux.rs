//! A private tmux server running the real binary, for end-to-end tests of the TUI
//! (`send-keys`, `capture-pane`).

use std::process::Command;
use std::time::{Duration, Instant};

use super::{Scratch, BIN};

/// A tmux server of our own (`-L <unique socket>`) running one command; killed on drop.
pub struct Tmux {
    pub socket: String,
}

pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Tmux {
    /// Runs `taskboard --data-dir … --config … ARGS` in a new detached session; when it
    /// exits the shell prints `EXITED <code>` and stays, so the end can be seen.
    pub fn start(s: &Scratch, args: &[&str], env: &[(&str, &str)], size: (u16, u16)) -> Tmux {
        require_tmux();
        let socket = format!("tbtest-{}-{}", std::process::id(), now_nanos());
        let mut cmd = String::from(
            "env -u TASKBOARD_HOME -u TASKBOARD_URL -u TASKBOARD_TOKEN -u TASKBOARD_TASK_ID",
        );
        for (k, v) in env {
            cmd.push_str(&format!(" {k}={}", quote(v)));
        }
        cmd.push_str(&format!(
            " {} --data-dir {} --config {}",
            quote(BIN),
            quote(&s.data().display().to_string()),
            quote(&s.config().display().to_string())
        ));
        for a in args {
            cmd.push_str(&format!(" {}", quote(a)));
        }
        // After it exits: its code, then the terminal mode it left behind.
        let script = format!(
            "cd {} && {cmd}; echo EXITED $?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | sed 's/^/TTY /'; sleep 600",
            quote(&s.path().display().to_string())
        );
        let st = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &size.0.to_string(), "-y", &size.1.to_string()])
            .args(["sh", "-c", &script])
            .status()
            .expect("tmux");
        assert!(st.success(), "tmux new-session failed");
        Tmux { socket }
    }

    pub fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux")
    }

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p"]).stdout).into_owned()
    }

    /// Keys by tmux name (`Enter`, `C-s`, `Tab`, `!`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.tmux(&args);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Literal text.
    pub fn text(&self, text: &str) {
        self.tmux(&["send-keys", "-l", text]);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Waits until the screen satisfies `f`; panics with the screen if it never does.
    pub fn wait(&self, what: &str, limit: Duration, f: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if f(&screen) {
                return screen;
            }
            if Instant::now() > end {
                panic!("timed out waiting for {what}; the screen was:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for(&self, text: &str, limit: Duration) -> String {
        self.wait(&format!("{text:?}"), limit, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

pub fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Fails the test, with what to do, when tmux cannot run: a TUI test never passes by not
/// running (tests/tools/install and CI install tmux).
pub fn require_tmux() {
    let version = Command::new("tmux").arg("-V").output();
    match version {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "`tmux -V` failed ({}): the end-to-end TUI tests need a working tmux; {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "tmux is not installed ({e}): the end-to-end TUI tests need it; install it (apt-get install -y tmux)"
        ),
    }
}
