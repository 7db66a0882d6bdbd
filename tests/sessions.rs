//! Session policies and profiles on real PTYs: pinned sessions, resume after a crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;

const LONG: Duration = Duration::from_secs(40);

/// An agent that reads prompts from its terminal, logs them with its pid, completes the
/// task the prompt names, and exits 7 when asked to die. The board's context lines after a
/// typed prompt go to ctx.log.
const PIN_AGENT: &str = r#"#!/bin/sh
log="$TASKBOARD_HOME/../pin.log"
handle() {
  # The note on how to finish comes last (the context above it may name other tasks).
  task=$(printf '%s\n' "$1" | sed -n 's/.*complete --task \([0-9]*\).*/\1/p' | tail -1)
  [ -n "$task" ] && "$TB" complete --task "$task" --summary "did $task" >/dev/null
}
printf '%s\n' "$1" | head -1 | sed "s/^/pid $$ prompt: /" >> "$log"
case "$1" in *die*) exit 7;; esac
handle "$1"
while IFS= read -r line; do
  case "$line" in
    *"complete --task"*) handle "$line";;
    "") ;;
    "Where this task stands"*|"- "*) echo "$line" >> "$TASKBOARD_HOME/../ctx.log";;
    *die*) echo "pid $$ prompt: $line" >> "$log"; exit 7;;
    *) echo "pid $$ prompt: $line" >> "$log";;
  esac
done
"#;

fn pinned_setup(s: &Scratch, prompts: &[&str], retries: u32) -> std::path::PathBuf {
    git_repo(&s.path().join("repo"));
    let agent = s.file("pin.sh", PIN_AGENT);
    std::fs::write(
        s.path().join("config.toml"),
        format!(
            "spawns_per_minute = 100\n[agents.pin]\ncommand = [\"sh\", {:?}, \"{{prompt}}\"]\nenv = {{ TB = {:?} }}\n",
            agent.to_str().unwrap(),
            BIN
        ),
    )
    .unwrap();
    let mut goal = String::from(
        "title = \"pinned\"\nrepo = \"repo\"\nsession = \"pinned\"\nagent = \"pin\"\n",
    );
    for (i, p) in prompts.iter().enumerate() {
        goal.push_str(&format!(
            "[[task]]\ntitle = \"t{i}\"\nprompt = {p:?}\nretries = {retries}\n"
        ));
    }
    s.file("g.toml", &goal)
}

fn log_lines(s: &Scratch) -> Vec<(String, String)> {
    s.read("pin.log")
        .lines()
        .filter_map(|l| {
            l.strip_prefix("pid ")
                .and_then(|r| r.split_once(" prompt: "))
                .map(|(p, t)| (p.to_string(), t.to_string()))
        })
        .collect()
}

#[test]
fn pinned_tasks_share_one_process_and_get_their_prompts_in_order() {
    let s = Scratch::new();
    let f = pinned_setup(&s, &["Do A", "Do B", "Do C"], 0);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "40s"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out),
        s.read("pin.log")
    );
    let lines = log_lines(&s);
    let prompts: Vec<&str> = lines.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(prompts, vec!["Do A", "Do B", "Do C"], "{lines:?}");
    let ctx = s.read("ctx.log");
    assert!(
        ctx.contains("- You are task #4 \"t2\" of goal #1 \"pinned\".")
            && ctx.contains("- Finished: #3 t1 (done): did 3"),
        "a typed prompt carries where its task stands: {ctx}"
    );
    assert!(
        lines.iter().all(|(p, _)| *p == lines[0].0),
        "one process: {lines:?}"
    );
    let t = flatten(&s.status());
    for (i, title) in ["t0", "t1", "t2"].iter().enumerate() {
        let task = by_title(&t, title);
        assert_eq!(task["status"], "done", "{task}");
        assert_eq!(task["summary"], format!("did {}", i + 2), "{task}");
    }
}

#[test]
fn a_dying_pinned_session_fails_its_task_and_a_new_one_serves_the_next() {
    let s = Scratch::new();
    pinned_setup(&s, &[], 0);
    // a first; then b (which kills the session) and c, both waiting only on a.
    let goal = "title = \"pinned\"\nrepo = \"repo\"\nsession = \"pinned\"\nagent = \"pin\"\nparallel = true\n\
        [[task]]\nkey = \"a\"\ntitle = \"a\"\nprompt = \"Do A\"\n\
        [[task]]\ntitle = \"b\"\nprompt = \"Do B die\"\nafter = [\"a\"]\n\
        [[task]]\ntitle = \"c\"\nprompt = \"Do C\"\nafter = [\"a\"]\n";
    let f = s.file("g.toml", goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "40s"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = flatten(&s.status());
    assert_eq!(by_title(&t, "a")["status"], "done");
    let b = by_title(&t, "b");
    assert_eq!(b["status"], "failed");
    assert!(
        b["reason"]
            .as_str()
            .unwrap()
            .contains("pinned session exited: exit 7"),
        "{b}"
    );
    assert_eq!(by_title(&t, "c")["status"], "done", "{t:?}");
    let lines = log_lines(&s);
    let pid = |p: &str| {
        lines
            .iter()
            .find(|(_, x)| x == p)
            .map(|(pid, _)| pid.clone())
            .unwrap_or_default()
    };
    assert_eq!(pid("Do A"), pid("Do B die"), "{lines:?}");
    assert_ne!(
        pid("Do C"),
        pid("Do A"),
        "a new session serves c: {lines:?}"
    );
}

#[test]
fn a_resume_capable_agent_is_resumed_with_its_session_id_after_kill_9() {
    let s = Scratch::new();
    git_repo(&s.path().join("repo"));
    let agent = s.file(
        "res.sh",
        "#!/bin/sh\necho \"$1 $2\" >> \"$TASKBOARD_HOME/../res.log\"\nif [ \"$1\" = resume ]; then \"$TB\" complete --task \"$TASKBOARD_TASK_ID\" --summary resumed; sleep 5; fi\nsleep 60\n",
    );
    std::fs::write(
        s.path().join("config.toml"),
        format!(
            "[agents.res]\ncommand = [\"sh\", {0:?}, \"start\", \"{{session_id}}\"]\nresume = [\"sh\", {0:?}, \"resume\", \"{{session_id}}\"]\nenv = {{ TB = {1:?} }}\n",
            agent.to_str().unwrap(),
            BIN
        ),
    )
    .unwrap();
    let f = s.file("g.toml", "title = \"r\"\nrepo = \"repo\"\n[[task]]\ntitle = \"work\"\nagent = \"res\"\nprompt = \"go\"\n");
    let mut live = Live::start(&s, Some(&f), &[]);
    assert!(wait_for(LONG, || s.read("res.log").starts_with("start ")));
    live.kill9();
    let out = s.run(&["run", "--headless", "--timeout", "40s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = s.read("res.log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    let id = lines[0].strip_prefix("start ").unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(lines[1], format!("resume {id}"), "{log}");
    assert_eq!(
        by_title(&flatten(&s.status()), "work")["summary"],
        "resumed"
    );
}

#[test]
fn bell_and_osc_9_flag_the_task_within_100_ms() {
    use std::io::Read;
    let s = Scratch::new();
    // Each agent notes the time, then rings; the SSE stream tells us when the board knew.
    let ring = |what: &str, file: &str| {
        format!(
            "command = [\"sh\", \"-c\", \"sleep 1; date +%s%N > {file}; printf '{what}'; sleep 30\"]\nworktree = false"
        )
    };
    let goal = format!(
        "title = \"att\"\nparallel = true\n[[task]]\ntitle = \"bell\"\n{}\n[[task]]\ntitle = \"osc\"\n{}\n",
        ring("\\\\a", "bell.ts"),
        ring("\\\\033]9;done\\\\007", "osc.ts")
    );
    let f = s.file("g.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    let mut sse = live.events();
    let mut seen: Vec<(String, u128)> = Vec::new();
    let mut buf = [0u8; 4096];
    let mut acc = String::new();
    let end = std::time::Instant::now() + Duration::from_secs(15);
    while seen.len() < 2 && std::time::Instant::now() < end {
        let Ok(n) = sse.read(&mut buf) else { break };
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        acc.push_str(&String::from_utf8_lossy(&buf[..n]));
        while let Some(i) = acc.find("event: attention\ndata: ") {
            let rest = &acc[i + 23..];
            let Some(j) = rest.find('\n') else { break };
            let v: serde_json::Value = serde_json::from_str(&rest[..j]).unwrap();
            seen.push((v["attention"].as_str().unwrap_or("").to_string(), at));
            acc = rest[j..].to_string();
        }
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (reason, file) in [("bell", "bell.ts"), ("done", "osc.ts")] {
        let (_, at) = seen
            .iter()
            .find(|(r, _)| r == reason)
            .unwrap_or_else(|| panic!("no {reason} in {seen:?}"));
        let ts: u128 = s.read(file).trim().parse().unwrap();
        let ms = (at - ts) as f64 / 1e6;
        assert!(ms < 100.0, "{reason} flagged after {ms:.1} ms");
    }
    let t = flatten(&s.status());
    assert_eq!(by_title(&t, "bell")["attention"], "bell");
    assert_eq!(by_title(&t, "osc")["attention"], "done");
}

#[test]
fn profile_attention_patterns_match_the_visible_screen() {
    let s = Scratch::new();
    git_repo(&s.path().join("repo"));
    std::fs::write(
        s.path().join("config.toml"),
        "[agents.ask]\ncommand = [\"sh\", \"-c\", \"echo working; sleep 0.5; printf 'Apply the change? [y/N] '; read a; echo \\\"got $a\\\"; sleep 30\"]\nattention = [\"Apply the change\\\\?\"]\n",
    )
    .unwrap();
    let f = s.file(
        "g.toml",
        "title = \"p\"\nrepo = \"repo\"\n[[task]]\ntitle = \"ask\"\nagent = \"ask\"\n",
    );
    let _live = Live::start(&s, Some(&f), &[]);
    assert!(
        wait_for(LONG, || by_title(&flatten(&s.status()), "ask")["attention"]
            .as_str()
            .unwrap_or("")
            .contains("Apply the change")),
        "{:?}",
        flatten(&s.status())
    );
}

#[test]
fn logs_print_every_line_without_colours_off_a_terminal() {
    let s = Scratch::new();
    let goal = "title = \"l\"\n[[task]]\ntitle = \"talk\"\ncommand = [\"sh\", \"-c\", \"i=1; while [ $i -le 10000 ]; do printf '\\\\033[32mline %d\\\\033[0m\\\\n' $i; i=$((i+1)); done\"]\nworktree = false\n";
    let f = s.file("g.toml", goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = s.run(&["logs", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let o = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(
        lines.len(),
        10_000,
        "first: {:?} last: {:?}",
        lines.first(),
        lines.last()
    );
    assert_eq!(lines[0], "line 1");
    assert_eq!(lines[9_999], "line 10000");
    assert!(!o.contains('\x1b'));
    // On the goal: a header, then the task's output.
    let out = s.run(&["logs", "1"]);
    let o = String::from_utf8_lossy(&out.stdout);
    assert!(
        o.starts_with("== #2 talk [done] =="),
        "{}",
        &o[..80.min(o.len())]
    );
    assert_eq!(o.lines().count(), 10_001);
}

#[test]
fn spawn_fallback_sends_a_failed_spawn_to_the_idle_pinned_session() {
    let s = Scratch::new();
    pinned_setup(&s, &[], 0);
    let goal = "title = \"fb\"\nrepo = \"repo\"\nagent = \"pin\"\nspawn_fallback = \"pinned\"\n\
        [[task]]\ntitle = \"a\"\nsession = \"pinned\"\nprompt = \"Do A\"\n\
        [[task]]\ntitle = \"b\"\nprompt = \"Do B\"\ncommand = [\"/nonexistent/agent\"]\n";
    let f = s.file("g.toml", goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "40s"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out),
        s.read("pin.log")
    );
    let lines = log_lines(&s);
    assert_eq!(
        lines.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>(),
        vec!["Do A", "Do B"],
        "{lines:?}"
    );
    assert_eq!(lines[0].0, lines[1].0, "the same session served both");
    let db = rusqlite::Connection::open(s.data().join("taskboard.db")).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'spawn_fallback'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1, "the audit log says so");
}
