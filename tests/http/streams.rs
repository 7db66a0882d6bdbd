//! What an attached TUI reads: the event stream, the full view and its deltas, edits to a
//! waiting prompt, and client words without a board.

use super::*;

#[test]
fn events_stream_reports_status_changes() {
    let s = Scratch::new();
    let goal = "title = \"e\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n";
    let f = s.file("e.toml", goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "gate", "active", LONG));
    let gate = id_of(&s, "gate");
    let mut sse = live.events();
    let (code, _) = live.req(
        "POST",
        &format!("/api/tasks/{gate}/signal"),
        Some(r#"{"status":"pass"}"#),
    );
    assert_eq!(code, 200);
    let got = read_until(&mut sse, "\"status\":\"done\"", Duration::from_secs(10));
    assert!(
        got.contains("event: task")
            && got.contains(&format!("\"id\":{gate}"))
            && got.contains("\"status\":\"done\""),
        "{got}"
    );
}

#[test]
fn full_view_and_board_events_are_what_an_attached_tui_reads() {
    let s = Scratch::new();
    let goal = "title = \"f\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n";
    let f = s.file("f.toml", goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "gate", "active", LONG));
    let gate = id_of(&s, "gate");
    let (code, v) = live.req("GET", "/api/goals?view=full", None);
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["goals"], serde_json::json!([1]), "{v}");
    assert_eq!(v["paused"], false, "{v}");
    let t = &v["tasks"][gate.to_string()];
    assert_eq!(t["status"], "active", "{v}");
    assert_eq!(t["spec"]["gate"], "g", "{v}");
    let (code, v) = live.req("GET", "/api/goals?view=everything", None);
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["error"]["field"], "view", "{v}");
    // The plain tree is unchanged.
    let (code, v) = live.req("GET", "/api/goals", None);
    assert_eq!(code, 200);
    assert_eq!(v["goals"][0]["children"][0]["title"], "gate", "{v}");

    // A change that is not a status change (pause) is a `board` event.
    let mut sse = live.events();
    let (code, _) = live.req("POST", "/api/pause", Some("{}"));
    assert_eq!(code, 200);
    let got = read_until(&mut sse, "\"paused\":true", Duration::from_secs(10));
    assert!(
        got.contains("event: board") && got.contains("\"paused\":true"),
        "{got}"
    );
}

#[test]
fn a_waiting_prompt_can_be_edited_and_a_goal_can_take_new_tasks() {
    let s = Scratch::new();
    let goal = "title = \"p\"\n[[task]]\ntitle = \"gate\"\nkind = \"signal\"\ngate = \"g\"\n[[task]]\ntitle = \"later\"\nprompt = \"old\"\n";
    let f = s.file("p.toml", goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "gate", "active", LONG));
    let (gate, later) = (id_of(&s, "gate"), id_of(&s, "later"));
    let prompt =
        |id: u64, body: &str| live.req("POST", &format!("/api/tasks/{id}/prompt"), Some(body));
    let (code, v) = prompt(later, r#"{"prompt":"new and precise"}"#);
    assert_eq!(code, 200, "{v}");
    let (_, full) = live.req("GET", "/api/goals?view=full", None);
    assert_eq!(
        full["tasks"][later.to_string()]["spec"]["prompt"],
        "new and precise",
        "{full}"
    );
    let (code, v) = prompt(later, r#"{"text":"x"}"#);
    assert_eq!(
        (code, v["error"]["field"].as_str()),
        (400, Some("prompt")),
        "{v}"
    );
    let (code, v) = prompt(gate, r#"{"prompt":"x"}"#);
    assert_eq!(code, 409, "a gate has no prompt: {v}");
    // The goal takes a new task; it waits its turn like the others.
    let (code, v) = live.req(
        "POST",
        "/api/tasks/1/subtasks",
        Some(r#"{"tasks":[{"title":"extra","kind":"signal","gate":"g2"}]}"#),
    );
    assert_eq!(code, 201, "created: {v}");
    let extra = v["children"][0].as_u64().expect("new id");
    assert_eq!(extra, id_of(&s, "extra"));
    let (_, audit) = live.req("GET", &format!("/api/tasks/{later}/audit"), None);
    assert!(
        audit["events"]
            .as_array()
            .is_some_and(|e| e.iter().any(|x| x["kind"] == "edit_prompt")),
        "{audit}"
    );
}

#[test]
fn client_words_say_when_no_board_runs() {
    let s = Scratch::new();
    for args in [
        vec!["approve", "3"],
        vec!["signal", "--task", "3", "--status", "pass"],
        vec!["pause"],
    ] {
        let out = s.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("no taskboard is running") && err.lines().count() == 1,
            "{err}"
        );
    }
    // `add` writes to the store when nothing runs; the next run picks the goal up.
    let f = s.file(
        "a.toml",
        &format!(
            "title = \"offline\"\n[[task]]\ntitle = \"t\"\n{}\n",
            sh_task("echo hi > hi.txt")
        ),
    );
    let out = s.run(&["add", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = s.run(&["run", "--headless", "--timeout", "20s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.read("hi.txt"), "hi\n");
}

/// `GET /api/events?deltas=1`: after each applied batch a `delta` event with the next
/// version and the changed task records. Applied in order to the full view (which carries
/// its version) they give exactly what the full view says afterwards; a missing version is
/// found, so a client knows to read the full view again.
#[test]
fn deltas_applied_to_the_full_view_give_the_later_full_view() {
    use taskboard::board::delta::Delta;
    use taskboard::ui::Snapshot;
    let s = Scratch::new();
    let mut goal = String::from("title = \"d\"\nparallel = true\n");
    // Gate 5 keeps waiting, so the run goes on.
    for i in 0..6 {
        goal.push_str(&format!(
            "[[task]]\ntitle = \"gate {i}\"\nkind = \"signal\"\ngate = \"g\"\n"
        ));
    }
    let f = s.file("d.toml", &goal);
    let live = Live::start(&s, Some(&f), &[]);
    assert!(wait_status(&s, "gate 5", "active", LONG));
    // Subscribed once its head is read (the board subscribes before it answers): every
    // batch after this is on the stream, so no pause before the full view.
    let mut sse = live.events_with("?deltas=1");
    let (code, v) = live.req("GET", "/api/goals?view=full", None);
    assert_eq!(code, 200, "{v}");
    let base: Snapshot = serde_json::from_value(v).expect("snapshot");
    assert!(base.version > 0, "the full view carries its version");
    for i in 0..5 {
        let gate = id_of(&s, &format!("gate {i}"));
        let body = if i % 2 == 0 {
            r#"{"status":"pass"}"#
        } else {
            r#"{"status":"fail","payload":{"summary":"red"}}"#
        };
        let (code, v) = live.req("POST", &format!("/api/tasks/{gate}/signal"), Some(body));
        assert_eq!(code, 200, "{v}");
    }
    let (code, _) = live.req("POST", "/api/pause", Some("{}"));
    assert_eq!(code, 200);
    let got = read_until(&mut sse, "\"paused\":true,", Duration::from_secs(10));
    let deltas: Vec<Delta> = got
        .split("event: delta\ndata: ")
        .skip(1)
        .map(|b| serde_json::from_str(b.split("\n\n").next().unwrap_or("")).expect("delta json"))
        .collect();
    assert!(deltas.len() >= 6, "a delta per change: {got}");
    assert!(
        deltas.iter().all(|d| d.tasks.len() <= 2),
        "only what changed: {got}"
    );
    let mut gap = base.clone();
    let mut snap = base;
    for d in &deltas {
        assert!(snap.apply(d), "versions follow each other: {got}");
    }
    let (_, v) = live.req("GET", "/api/goals?view=full", None);
    let later: Snapshot = serde_json::from_value(v).expect("snapshot");
    assert_eq!(snap.version, later.version);
    assert_eq!(snap.paused, later.paused);
    assert_eq!(snap.goals, later.goals);
    assert_eq!(snap.rework, later.rework);
    assert_eq!(
        serde_json::to_value(&snap.tasks).expect("json"),
        serde_json::to_value(&later.tasks).expect("json"),
        "the deltas brought the snapshot to the later full view"
    );
    // One delta missed: the next does not apply, and nothing changed.
    let before = serde_json::to_value(&gap.tasks).expect("json");
    assert!(gap.apply(&deltas[0]));
    let after_first = serde_json::to_value(&gap.tasks).expect("json");
    assert_ne!(before, after_first);
    assert!(!gap.apply(&deltas[2]), "a skipped version is a gap");
    assert_eq!(serde_json::to_value(&gap.tasks).expect("json"), after_first);
    // A bad query is refused.
    let (code, v) = live.req("GET", "/api/events?deltas=yes", None);
    assert_eq!(code, 400, "{v}");
}
