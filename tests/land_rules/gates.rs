//! Pull request gates and polls filled from results.

use super::*;

#[test]
fn a_gate_waits_on_the_pr_from_results_and_resolve_by_that_url_passes_it() {
    let mut s = Sim::new();
    s.add(
        r#"
title = "g"
[[task]]
title = "A"
command = ["true"]
[[task]]
title = "Propose"
kind = "land"
pr = true
[[task]]
title = "CI"
kind = "signal"
gate = "gh_ci"
pr_url = "{result.pr_url}"
"#,
    );
    assert_eq!(s.t(4).spec.pr, None, "not known before the PR exists");
    s.run_agent(2, 0);
    s.landed(
        3,
        Ok(json!({"commit": "c", "into": "main", "pr_url": "https://git.example/acme/app/pull/17", "pr": 17})),
    );
    assert_eq!(s.st(4), Status::Active);
    assert_eq!(s.t(4).reason, "waiting on gh_ci #17");
    assert_eq!(s.t(4).spec.repo.as_deref(), Some("acme/app"));
    let target = SignalTarget::new(
        "gh_ci",
        None,
        None,
        Some("https://git.example/acme/app/pull/17"),
    )
    .unwrap();
    let v = s
        .cmd(Command::ResolveSignals {
            target,
            status: SignalStatus::Pass,
            payload: json!({}),
        })
        .expect("resolve");
    assert_eq!(v["matched"], json!([4]));
    assert_eq!(s.st(4), Status::Done);
}

#[test]
fn a_gate_whose_result_is_missing_or_not_a_pr_blocks_with_why() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"gh_ci\"\npr_url = \"{result.pr_url}\"\n");
    s.run_agent(2, 0);
    assert_eq!(s.st(3), Status::Blocked);
    assert!(
        s.t(3)
            .reason
            .contains("no finished task of this goal has `pr_url`"),
        "{}",
        s.t(3).reason
    );
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"gh_ci\"\npr_url = \"{result.url}\"\npoll = \"check {result.url}\"\n");
    let attempt = s.t(2).attempt;
    s.ev(Event::Spawned {
        task: 2,
        attempt,
        pid: 5,
        workdir: None,
    });
    s.cmd(Command::Complete {
        task: 2,
        summary: "s".into(),
        review: false,
        artifacts: json!({"url": "not a url"}).as_object().cloned().unwrap(),
    })
    .expect("complete");
    assert_eq!(s.st(3), Status::Blocked);
    assert!(
        s.t(3).reason.contains("is not a pull request URL"),
        "{}",
        s.t(3).reason
    );
}

#[test]
fn a_poll_command_is_filled_from_results() {
    let mut s = Sim::new();
    s.add("title = \"g\"\n[[task]]\ntitle = \"A\"\ncommand = [\"true\"]\n[[task]]\ntitle = \"Propose\"\nkind = \"land\"\npr = true\n[[task]]\ntitle = \"CI\"\nkind = \"signal\"\ngate = \"gh_ci\"\npoll = \"gh pr checks {result.pr}\"\n");
    s.run_agent(2, 0);
    s.landed(
        3,
        Ok(json!({"commit": "c", "pr_url": "https://h/o/r/pull/9", "pr": 9})),
    );
    assert_eq!(s.st(4), Status::Active, "the gate armed");
    s.ev(Event::Tick);
    let cmd =
        s.fx.iter()
            .find_map(|e| match e {
                Effect::RunPoll { command, .. } => Some(command.clone()),
                _ => None,
            })
            .expect("the poll runs when the gate arms");
    assert_eq!(cmd, "gh pr checks 9");
}
