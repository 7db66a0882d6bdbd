//! The pure board's rules for agents' hooks: a held tool call (asked, answered once, by a
//! rule at once, expired, answered in the pane, dropped with its session), and what
//! "needs you", "working" and "turn ended" do. No processes, clocks or disks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;
use taskboard::board::{AuditEvent, Board, Effect, Event};
use taskboard::command::{Command, CommandError, HookEvent};
use taskboard::model::{AllowRule, Status, TaskId};

const T0: i64 = 1_700_000_000_000;

struct Sim {
    b: Board,
    fx: Vec<Effect>,
    audit: Vec<AuditEvent>,
    task: TaskId,
}

impl Sim {
    /// A goal with one agent task, spawned and running.
    fn new(rules: &[&str]) -> Sim {
        let mut b = Board::new(Default::default(), uuid::Uuid::nil());
        b.set_allow_rules(rules.iter().map(|r| AllowRule::parse(r).unwrap()).collect());
        let goal = taskboard::goalfile::parse_str(
            "title = \"G\"\n[[task]]\ntitle = \"A\"\nprompt = \"p\"\n",
            "g.toml",
            Path::new("/tmp"),
            &BTreeMap::new(),
        )
        .unwrap();
        let mut s = Sim {
            b,
            fx: Vec::new(),
            audit: Vec::new(),
            task: 0,
        };
        s.cmd(Command::AddGoal {
            goal: Box::new(goal),
        })
        .unwrap();
        let task = s.b.tasks().find(|t| t.spec.title == "A").unwrap().id;
        s.task = task;
        s.ev(Event::Spawned {
            task,
            attempt: 1,
            pid: 42,
            workdir: None,
        });
        assert_eq!(s.b.task(task).unwrap().status, Status::Active);
        s
    }

    fn ev(&mut self, e: Event) -> Option<Result<serde_json::Value, CommandError>> {
        let h = self.b.handle(e, T0);
        self.audit.extend(self.b.take_changes().audit);
        self.fx = h.effects;
        h.reply
    }

    fn cmd(&mut self, cmd: Command) -> Result<serde_json::Value, CommandError> {
        self.ev(Event::Command {
            cmd,
            who: "hook:claude".into(),
        })
        .unwrap()
    }

    fn ask(&mut self, command: &str) -> serde_json::Value {
        self.cmd(Command::AskPermission {
            task: self.task,
            tool: "Bash".into(),
            input: json!({"command": command}),
        })
        .unwrap()
    }

    fn attention(&self) -> Option<String> {
        self.b.task(self.task).unwrap().attention.clone()
    }

    fn kinds(&self) -> Vec<String> {
        self.audit.iter().map(|a| a.kind.clone()).collect()
    }
}

#[test]
fn a_held_call_is_answered_once() {
    let mut s = Sim::new(&[]);
    let r = s.ask("rm -rf build");
    assert!(r["decision"].is_null());
    let request = r["request"].as_u64().unwrap();
    assert_eq!(
        s.attention().as_deref(),
        Some("permission: Bash: rm -rf build")
    );
    let task = s.task;
    s.cmd(Command::AnswerPermission {
        task,
        allow: false,
        reason: Some("no".into()),
    })
    .unwrap();
    assert_eq!(
        s.fx,
        vec![Effect::AnswerPermission {
            task,
            request,
            allow: false,
            reason: Some("no".into())
        }]
    );
    assert_eq!(s.attention(), None);
    let again = s.cmd(Command::AnswerPermission {
        task,
        allow: true,
        reason: None,
    });
    assert!(
        matches!(again, Err(CommandError::Conflict { .. })),
        "{again:?}"
    );
    assert!(s.kinds().contains(&"permission_asked".to_string()));
    assert!(s.kinds().contains(&"permission".to_string()));
}

#[test]
fn a_rule_answers_at_once_and_is_audited_as_auto() {
    let mut s = Sim::new(&["Bash(cargo test:*)"]);
    let r = s.ask("cargo test -q");
    assert_eq!(r["decision"], json!({"allow": true, "by": "auto"}));
    assert!(s.b.task(s.task).unwrap().permission.is_none());
    let auto = s.audit.iter().find(|a| a.kind == "permission").unwrap();
    assert_eq!(auto.who, "auto");
    assert!(
        s.ask("cargo test; rm -rf /")["decision"].is_null(),
        "a chained command is held"
    );
}

#[test]
fn an_expired_call_stays_a_persons_call_in_the_pane() {
    let mut s = Sim::new(&[]);
    let request = s.ask("make")["request"].as_u64().unwrap();
    let task = s.task;
    s.cmd(Command::ExpirePermission {
        task,
        request: request + 1,
    })
    .unwrap();
    assert!(
        s.b.task(task).unwrap().permission.is_some(),
        "another request's expiry changes nothing"
    );
    s.cmd(Command::ExpirePermission { task, request }).unwrap();
    assert!(s.b.task(task).unwrap().permission.is_none());
    assert_eq!(
        s.attention().as_deref(),
        Some("permission (answer in the pane): Bash: make")
    );
}

#[test]
fn a_call_answered_in_the_pane_or_a_session_end_lets_the_hook_go() {
    let mut s = Sim::new(&[]);
    let task = s.task;
    let request = s.ask("make")["request"].as_u64().unwrap();
    // Another tool finishing is not an answer to this one.
    s.cmd(Command::Hook {
        task,
        event: HookEvent::ToolFinished {
            tool: "Bash".into(),
            input: json!({"command": "ls"}),
        },
    })
    .unwrap();
    assert!(s.b.task(task).unwrap().permission.is_some());
    s.cmd(Command::Hook {
        task,
        event: HookEvent::ToolFinished {
            tool: "Bash".into(),
            input: json!({"command": "make"}),
        },
    })
    .unwrap();
    assert_eq!(s.fx, vec![Effect::DropPermission { task, request }]);
    assert_eq!(s.attention(), None);
    // The session ends while a call is held: it is dropped, and audited.
    s.ask("make again");
    s.ev(Event::Exited {
        task,
        attempt: 1,
        code: 0,
        signal: None,
        tail: String::new(),
    });
    assert!(s.b.task(task).unwrap().permission.is_none());
    assert!(s.kinds().contains(&"permission_dropped".to_string()));
}

#[test]
fn needs_you_working_and_turn_ended() {
    let mut s = Sim::new(&[]);
    let task = s.task;
    s.cmd(Command::Hook {
        task,
        event: HookEvent::NeedsYou {
            message: "Claude is waiting for your input".into(),
        },
    })
    .unwrap();
    assert_eq!(
        s.attention().as_deref(),
        Some("Claude is waiting for your input")
    );
    s.cmd(Command::Hook {
        task,
        event: HookEvent::Working,
    })
    .unwrap();
    assert_eq!(s.attention(), None);
    s.cmd(Command::Hook {
        task,
        event: HookEvent::TurnEnded,
    })
    .unwrap();
    assert!(s.b.task(task).unwrap().turn_ended);
    assert_eq!(
        s.b.task(task).unwrap().status,
        Status::Active,
        "a turn's end is not done"
    );
    // While a call is held, neither a notification nor a screen pattern replaces its reason.
    s.ask("rm x");
    s.cmd(Command::Hook {
        task,
        event: HookEvent::NeedsYou {
            message: "Claude needs your permission".into(),
        },
    })
    .unwrap();
    s.ev(Event::NeedsYou {
        task,
        reason: "waiting for input: Do you want to proceed?".into(),
    });
    assert_eq!(s.attention().as_deref(), Some("permission: Bash: rm x"));
    // Only a running agent task can hold a call.
    let goal = s.b.task(task).unwrap().goal;
    let r = s.cmd(Command::AskPermission {
        task: goal,
        tool: "Bash".into(),
        input: json!({}),
    });
    assert!(matches!(r, Err(CommandError::Conflict { .. })), "{r:?}");
}
