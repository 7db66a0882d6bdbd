//! Who may call what: the admin token, task-scoped tokens (HMAC of the task id), and the
//! Host/Origin check that stops DNS-rebinding pages. Tokens are compared in constant time
//! and never logged.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::model::TaskId;

/// The caller, once its token checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Task(TaskId),
    /// A pinned session's token: the agent routes of any task of this goal.
    Goal(TaskId),
}

#[derive(Clone)]
pub struct Keys {
    admin: String,
    secret: Vec<u8>,
}

impl Keys {
    pub fn new(admin: String, secret: &str) -> Keys {
        Keys {
            admin,
            secret: secret.as_bytes().to_vec(),
        }
    }

    /// The token an agent of `task` gets: `t<task>.<hmac>`.
    pub fn task_token(&self, task: TaskId) -> String {
        format!("t{task}.{}", self.mac(task))
    }

    /// The token of a pinned session: `g<goal>.<hmac>`.
    pub fn goal_token(&self, goal: TaskId) -> String {
        format!("g{goal}.{}", self.mac_of(&format!("taskboard-goal:{goal}")))
    }

    fn mac(&self, task: TaskId) -> String {
        self.mac_of(&format!("taskboard-task:{task}"))
    }

    fn mac_of(&self, what: &str) -> String {
        // HMAC accepts keys of any length; this cannot fail.
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("hmac takes any key length"));
        m.update(what.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    /// Checks a bearer token; `None` when it is neither the admin's nor a valid task token.
    pub fn check(&self, token: &str) -> Option<Caller> {
        if bool::from(token.as_bytes().ct_eq(self.admin.as_bytes())) {
            return Some(Caller::Admin);
        }
        if let Some(rest) = token.strip_prefix('g') {
            let (id, mac) = rest.split_once('.')?;
            let goal: TaskId = id.parse().ok()?;
            let want = self.mac_of(&format!("taskboard-goal:{goal}"));
            return bool::from(mac.as_bytes().ct_eq(want.as_bytes())).then_some(Caller::Goal(goal));
        }
        let (id, mac) = token.strip_prefix('t')?.split_once('.')?;
        let task: TaskId = id.parse().ok()?;
        bool::from(mac.as_bytes().ct_eq(self.mac(task).as_bytes())).then_some(Caller::Task(task))
    }
}

/// A short, non-reversible name for a token: the idempotency scope.
pub fn scope_of(token: &str) -> String {
    hex::encode(&Sha256::digest(token.as_bytes())[..8])
}

/// `Host`/`Origin` may be absent or name localhost, 127.0.0.1 or [::1] (any port).
pub fn local_host_ok(value: Option<&str>) -> bool {
    let Some(v) = value else { return true };
    let v = v.trim();
    let v = v.split_once("://").map(|(_, rest)| rest).unwrap_or(v);
    let host = if let Some(rest) = v.strip_prefix('[') {
        rest.split_once(']').map(|(h, _)| h).unwrap_or("")
    } else {
        v.split(':').next().unwrap_or("")
    };
    matches!(
        host.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1"
    )
}

/// The task id a `/api/tasks/<id>…` path names.
pub fn path_task(path: &str) -> Option<TaskId> {
    path.strip_prefix("/api/tasks/")?
        .split('/')
        .next()?
        .parse()
        .ok()
}

/// May a task token call this method + path? Only its own task's reads and agent routes.
pub fn task_may(task: TaskId, method: &str, path: &str) -> bool {
    let own = format!("/api/tasks/{task}");
    match method {
        "GET" => path == own || path == format!("{own}/context"),
        "POST" => [
            "complete", "subtasks", "block", "signal", "artifact", "hook",
        ]
        .iter()
        .any(|r| path == format!("{own}/{r}")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let k = Keys::new("admin-token".into(), "secret");
        assert_eq!(k.check("admin-token"), Some(Caller::Admin));
        let t = k.task_token(7);
        assert_eq!(k.check(&t), Some(Caller::Task(7)));
        assert_eq!(k.check(&t.replace("t7.", "t8.")), None);
        assert_eq!(k.check("nope"), None);
        assert_eq!(Keys::new("admin-token".into(), "other").check(&t), None);
    }

    #[test]
    fn hosts() {
        for ok in [
            None,
            Some("localhost"),
            Some("127.0.0.1:8080"),
            Some("[::1]:3"),
            Some("http://localhost:5173"),
        ] {
            assert!(local_host_ok(ok), "{ok:?}");
        }
        for bad in [
            "evil.com",
            "127.0.0.1.evil.com",
            "http://evil.com",
            "localhost.evil.com:80",
        ] {
            assert!(!local_host_ok(Some(bad)), "{bad}");
        }
    }

    #[test]
    fn task_scope() {
        assert!(task_may(3, "GET", "/api/tasks/3"));
        assert!(task_may(3, "POST", "/api/tasks/3/complete"));
        assert!(task_may(3, "POST", "/api/tasks/3/artifact"));
        assert!(task_may(3, "GET", "/api/tasks/3/context"));
        assert!(!task_may(3, "GET", "/api/tasks/4/context"));
        assert!(!task_may(3, "POST", "/api/tasks/4/artifact"));
        assert!(!task_may(3, "GET", "/api/tasks/3/audit"));
        assert!(!task_may(3, "POST", "/api/tasks/4/complete"));
        assert!(!task_may(3, "POST", "/api/tasks/3/decision"));
        assert!(!task_may(3, "GET", "/api/goals"));
    }
}
