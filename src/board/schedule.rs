//! The scheduling pass run after every event: derives group statuses, arms gates, starts
//! ready agents within the limits and computes the next wakeup. One O(n) walk, no recursion.

use super::effects::{Effect, SpawnSpec};
use super::machine::{Board, GoalStats};
use super::pinned::PinnedStart;
use crate::model::{Kind, Millis, Proc, Status, TaskId};

/// What a subtree adds up to, for a group's derived status and reason line.
#[derive(Clone, Copy, Default)]
pub(super) struct Agg {
    /// The derived status (groups) or own status (leaves) at this instant.
    status: Option<Status>,
    need: u32,
    running: u32,
    failed: Option<TaskId>,
    blocked: Option<TaskId>,
    waiting: Option<TaskId>,
    active: bool,
    review: bool,
    all_done: bool,
}

struct Candidate {
    id: TaskId,
    goal: TaskId,
    /// Active between attempts (a retry or a rework): it goes before newly ready tasks.
    holds_slot: bool,
    priority: i64,
    order: usize,
}

const MINUTE: Millis = 60_000;

/// What a plan-first task is asked to do instead of the work itself.
const PLAN_NOTE: &str = "\n\nDo not do the work yet. Break it into subtasks and submit them with `taskboard subtasks FILE` (FILE: TOML with one [[task]] per subtask: title, prompt, and optionally key, kind, after, review), or with the taskboard MCP tool `subtasks`. A human reviews the plan before the subtasks run.";

impl Board {
    pub(super) fn schedule(&mut self, now: Millis, fx: &mut Vec<Effect>) {
        let goals = self.goals.clone();
        let mut candidates = Vec::new();
        let mut slots_used = 0usize;
        let mut goal_used: Vec<(TaskId, usize)> = Vec::with_capacity(goals.len());
        let mut order = Vec::new();
        let mut wakeup: Option<Millis> = None;
        let soonest = |at: Millis, w: &mut Option<Millis>| *w = Some(w.map_or(at, |x| x.min(at)));
        for &goal in &goals {
            order.clear();
            order.extend(self.preorder(goal));
            self.derive(&order, now, false);
            let mut used = 0usize;
            self.walk(goal, now, &mut candidates, &mut used, fx);
            // A pinned session between two tasks belongs to no task but runs all the same,
            // and so does a session in its grace period (until it ends or is stopped).
            if self.pinned.get(&goal).is_some_and(|p| p.current.is_none()) {
                used += 1;
            }
            used += self.closing_in(goal);
            for &id in &order {
                let Some(t) = self.task(id) else { continue };
                if let Some(d) = t.deadline {
                    soonest(d, &mut wakeup);
                }
                if let (Some(p), false) = (t.next_poll, t.poll_in_flight) {
                    soonest(p, &mut wakeup);
                }
            }
            slots_used += used;
            goal_used.push((goal, used));
        }
        candidates.sort_by_key(|c| (!c.holds_slot, -c.priority, c.order));
        for c in candidates {
            if let Some(at) = self.try_spawn(&c, now, &mut slots_used, &mut goal_used, fx) {
                soonest(at, &mut wakeup);
            }
        }
        self.stats.clear();
        for &goal in &goals {
            order.clear();
            order.extend(self.preorder(goal));
            self.derive(&order, now, true);
            let mut s = GoalStats::default();
            for &id in &order {
                let Some(t) = self.task(id) else { continue };
                if t.kind == Kind::Group {
                    continue;
                }
                let waiting_spawn = t.status == Status::Pending && is_limit_reason(&t.reason);
                if matches!(t.status, Status::Active | Status::PendingReview)
                    || waiting_spawn
                    || t.proc != Proc::Idle
                {
                    s.live += 1;
                }
                if matches!(t.status, Status::Failed | Status::Blocked) {
                    s.failed_or_blocked += 1;
                }
            }
            // A session in its grace period is still winding down (a run is not over yet).
            s.live += self.closing_in(goal);
            self.stats.insert(goal, s);
        }
        self.close_finished_pinned(fx);
        if let Some(at) = self.next_closing() {
            soonest(at, &mut wakeup);
        }
        self.wakeup = wakeup;
    }

    /// Post-order over `order` (reverse preorder): derived status of every node into
    /// `self.agg` (indexed by id); stored on groups with their reason line when `apply`.
    fn derive(&mut self, order: &[TaskId], now: Millis, apply: bool) {
        let mut agg = std::mem::take(&mut self.agg);
        if agg.len() < self.tasks.len() {
            agg.resize(self.tasks.len(), Agg::default());
        }
        for &id in order.iter().rev() {
            let Some(t) = self.task(id) else { continue };
            let mine = if t.kind == Kind::Group {
                let mut a = Agg {
                    all_done: !t.children.is_empty(),
                    ..Agg::default()
                };
                for &c in &t.children {
                    let ca = agg[c as usize];
                    a.need += ca.need;
                    a.running += ca.running;
                    a.failed = a.failed.or(ca.failed);
                    a.blocked = a.blocked.or(ca.blocked);
                    a.waiting = a.waiting.or(ca.waiting);
                    a.active |= ca.active;
                    a.review |= ca.review;
                    a.all_done &= ca.all_done;
                }
                let status = if a.failed.is_some() {
                    Status::Failed
                } else if a.blocked.is_some() {
                    Status::Blocked
                } else if a.active {
                    Status::Active
                } else if a.review {
                    Status::PendingReview
                } else if a.all_done {
                    Status::Done
                } else {
                    Status::Pending
                };
                a.status = Some(status);
                if apply {
                    let reason = self.group_reason(status, &a);
                    if t.status != status || t.reason != reason {
                        self.set_status(id, status, reason, "", "board", now);
                    }
                }
                a
            } else {
                Agg {
                    status: Some(t.status),
                    need: u32::from(t.attention.is_some() || t.awaits_decision()),
                    running: u32::from(t.kind == Kind::Agent && t.status == Status::Active),
                    failed: (t.status == Status::Failed).then_some(id),
                    blocked: (t.status == Status::Blocked).then_some(id),
                    waiting: (t.kind == Kind::Signal && t.status == Status::Active).then_some(id),
                    active: t.status == Status::Active,
                    review: t.status == Status::PendingReview,
                    all_done: t.status.is_satisfied(),
                }
            };
            agg[id as usize] = mine;
        }
        self.agg = agg;
    }

    fn group_reason(&self, status: Status, a: &Agg) -> String {
        let leaf_reason = |id: Option<TaskId>| {
            id.and_then(|i| self.task(i))
                .map(|t| (t.id, t.reason.clone()))
        };
        // A failed or blocked group says why (§2: the reason is what a human acts on); any
        // other status shows how many need a human first.
        match status {
            Status::Failed => leaf_reason(a.failed)
                .map(|(i, r)| format!("#{i} failed: {r}"))
                .unwrap_or_default(),
            Status::Blocked => leaf_reason(a.blocked)
                .map(|(_, r)| format!("blocked: {r}"))
                .unwrap_or_default(),
            _ if a.need > 0 => {
                if a.need == 1 {
                    "1 needs you".into()
                } else {
                    format!("{} need you", a.need)
                }
            }
            Status::Active if a.running > 0 => format!("{} running", a.running),
            Status::Active => leaf_reason(a.waiting).map(|(_, r)| r).unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// Preorder walk deciding which leaves may start; arms gates, collects agent candidates.
    /// Dependencies are judged by this instant's derived statuses (`self.agg`).
    fn walk(
        &mut self,
        goal: TaskId,
        now: Millis,
        out: &mut Vec<Candidate>,
        used: &mut usize,
        fx: &mut Vec<Effect>,
    ) {
        let status_of = |b: &Board, id: TaskId| {
            b.agg
                .get(id as usize)
                .and_then(|a| a.status)
                .or_else(|| b.task(id).map(|x| x.status))
        };
        // (id, enabled, blocker) where blocker is a failed/blocked dependency holding it back.
        let mut stack: Vec<(TaskId, bool, Option<TaskId>)> = vec![(goal, true, None)];
        let mut index = 0usize; // preorder position: file order, the tie-break after priority
        while let Some((id, parent_ok, inherited)) = stack.pop() {
            index += 1;
            let Some(t) = self.task(id) else { continue };
            let mut blocker = inherited;
            let mut ok = parent_ok;
            for d in &t.after {
                match status_of(self, *d) {
                    Some(s) if s.is_satisfied() => {}
                    Some(Status::Failed | Status::Blocked) => {
                        ok = false;
                        blocker = blocker.or(Some(*d));
                    }
                    Some(_) => ok = false,
                    None => {}
                }
            }
            if t.kind == Kind::Group {
                // A failed/blocked sibling holds back every later one of a sequence, and each
                // of them names it, not only the next one.
                let mut chain: Option<TaskId> = None;
                let start = stack.len();
                for i in 0..t.children.len() {
                    let c = t.children[i];
                    let (mut c_ok, mut c_block) = (ok, blocker);
                    if !t.spec.parallel && i > 0 && !self.on_demand(c) {
                        let p = t.children[i - 1];
                        match status_of(self, p) {
                            Some(s) if s.is_satisfied() => chain = None,
                            Some(Status::Failed | Status::Blocked) => {
                                c_ok = false;
                                chain = Some(p);
                            }
                            _ => c_ok = false,
                        }
                        c_block = c_block.or(chain);
                    }
                    stack.push((c, c_ok, c_block));
                }
                // Reversed so children pop in file order.
                stack[start..].reverse();
                continue;
            }
            let (kind, status, proc) = (t.kind, t.status, t.proc);
            // Sessions that exist. An active task between attempts (retry, rework) is a
            // candidate and takes a slot only when it spawns, so the limit holds for it too.
            if kind == Kind::Agent && proc != Proc::Idle {
                *used += 1;
            }
            match status {
                Status::Pending if ok => match kind {
                    Kind::Agent => out.push(Candidate {
                        id,
                        goal,
                        holds_slot: false,
                        priority: t.spec.priority,
                        order: index,
                    }),
                    Kind::HumanReview => self.arm_review(id, now, fx),
                    Kind::Signal => self.arm_signal(id, now),
                    Kind::Land => self.start_land(id, now, fx),
                    Kind::Group => {}
                },
                Status::Pending => {
                    let want = blocker
                        .and_then(|b| status_of(self, b).map(|x| format!("waiting on #{b} ({x})")))
                        .unwrap_or_default();
                    let keep = !t.reason.starts_with("waiting on #")
                        && !is_limit_reason(&t.reason)
                        && want.is_empty();
                    if !keep && t.reason != want {
                        self.set_status(id, Status::Pending, want, "", "board", now);
                    }
                }
                Status::Active if kind == Kind::Agent && proc == Proc::Idle => {
                    out.push(Candidate {
                        id,
                        goal,
                        holds_slot: true,
                        priority: t.spec.priority,
                        order: index,
                    })
                }
                _ => {}
            }
        }
    }

    fn arm_review(&mut self, id: TaskId, now: Millis, fx: &mut Vec<Effect>) {
        if let Some(t) = self.task_mut(id) {
            t.attempt += 1;
            t.deadline = t.spec.timeout.map(|s| now + s as Millis * 1000);
        }
        self.set_status(
            id,
            Status::PendingReview,
            "waiting for review",
            "",
            "board",
            now,
        );
        self.flag(id, "review".into());
        if let Some(target) = self.rework_target(id) {
            self.request_diff(id, target, fx);
        }
    }

    fn arm_signal(&mut self, id: TaskId, now: Millis) {
        if let Err(why) = self.fill_gate(id) {
            // What it waits on comes from an earlier task that has not given it: a human
            // fixes that (e.g. stores the artifact) and retries the gate.
            self.set_status(id, Status::Blocked, why.clone(), "", "board", now);
            self.flag(id, format!("blocked: {why}"));
            return;
        }
        let Some(t) = self.task(id) else { return };
        let gate = t.spec.gate.clone().unwrap_or_default();
        let reason = match t.spec.pr {
            Some(pr) => format!("waiting on {gate} #{pr}"),
            None => format!("waiting on {gate}"),
        };
        let human = gate == "human_approval";
        if let Some(t) = self.task_mut(id) {
            t.attempt += 1;
            t.deadline = t.spec.timeout.map(|s| now + s as Millis * 1000);
            t.next_poll = t.spec.poll.as_ref().map(|_| now);
            t.poll_in_flight = false;
        }
        self.set_status(id, Status::Active, reason, "", "board", now);
        if human {
            self.flag(id, "approval".into());
        }
    }

    /// Starts one candidate if the limits allow; else says why it waits. Returns when a
    /// spawn window frees up, if that is what holds it.
    fn try_spawn(
        &mut self,
        c: &Candidate,
        now: Millis,
        slots: &mut usize,
        goal_used: &mut [(TaskId, usize)],
        fx: &mut Vec<Effect>,
    ) -> Option<Millis> {
        let settings = self.task(c.goal).and_then(|g| g.spec.goal.as_ref());
        let max_global = self.limits.max_agents;
        let max_goal = settings.and_then(|s| s.max_agents).unwrap_or(usize::MAX);
        let spm = settings
            .and_then(|s| s.spawns_per_minute)
            .unwrap_or(self.limits.spawns_per_minute) as usize;
        let gu = goal_used
            .iter_mut()
            .find(|(g, _)| *g == c.goal)
            .map(|(_, u)| u)?;
        let hold = |b: &mut Board, reason: String| {
            if b.task(c.id)
                .is_some_and(|t| t.status == Status::Pending && t.reason != reason)
            {
                b.set_status(c.id, Status::Pending, reason, "", "board", now);
            }
        };
        if self.paused {
            hold(self, "paused".into());
            return None;
        }
        let pinned = self.is_pinned(c.id);
        if pinned {
            match self.start_pinned(c.id, now, fx) {
                PinnedStart::Spawn => {}
                PinnedStart::Wait(reason) => {
                    hold(self, reason);
                    return None;
                }
                PinnedStart::Typed => {
                    let reason = self
                        .task(c.id)
                        .map(|t| start_reason(c.holds_slot, &t.reason))
                        .unwrap_or_default();
                    self.set_status(c.id, Status::Active, reason, "", "board", now);
                    self.touch(c.id);
                    return None;
                }
            }
        }
        if *slots >= max_global || *gu >= max_goal {
            let n = if *gu >= max_goal {
                max_goal
            } else {
                max_global
            };
            hold(self, format!("waiting for a free agent slot ({n} running)"));
            return None;
        }
        let free = self.task(c.id).is_some_and(|t| t.free_spawn);
        let log = self.spawn_log.entry(c.goal).or_default();
        while log.front().is_some_and(|t| *t <= now - MINUTE) {
            log.pop_front();
        }
        if !free && log.len() >= spm {
            let at = log.front().map(|t| t + MINUTE);
            hold(self, format!("spawn limit: {spm}/min"));
            return at;
        }
        if !free {
            log.push_back(now);
        }
        *slots += 1;
        *gu += 1;
        let prompt = self.prompt_for(c.id);
        let context = self.context(c.id).map(|x| x.compact()).unwrap_or_default();
        let repo = self.goal_repo(c.goal).unwrap_or_default();
        // Stack work: start from the branch of the nearest finished agent task this one
        // depends on (its rework target), else the repository's HEAD.
        let base_branch = self
            .rework_target(c.id)
            .and_then(|b| self.task(b))
            .filter(|b| b.status == Status::Done)
            .and_then(|b| b.workdir.as_ref().map(|w| w.branch.clone()));
        let t = self.task_mut(c.id)?;
        t.attempt += 1;
        t.proc = Proc::Starting;
        t.free_spawn = false;
        t.deadline = t.spec.timeout.map(|s| now + s as Millis * 1000);
        let spec = SpawnSpec {
            task: c.id,
            goal: c.goal,
            attempt: t.attempt,
            title: t.spec.title.clone(),
            command: t.spec.command.clone(),
            agent: t.spec.agent.clone(),
            prompt,
            context,
            repo,
            worktree: t.spec.worktree,
            workdir: t.workdir.clone(),
            base_branch,
            session_id: t.session_id.clone().unwrap_or_default(),
            resume: t.resume,
            pinned,
        };
        let reason = start_reason(c.holds_slot, &t.reason);
        if pinned {
            self.pinned_spawning(c.id, spec.attempt);
        }
        self.set_status(c.id, Status::Active, reason, "", "board", now);
        self.touch(c.id);
        fx.push(Effect::Spawn(spec));
        None
    }

    /// The prompt with `{result.KEY}` filled and every piece of feedback appended.
    pub fn prompt_for(&self, id: TaskId) -> String {
        let Some(t) = self.task(id) else {
            return String::new();
        };
        let mut prompt = self.fill_results(t.goal, t.spec.prompt.as_deref().unwrap_or_default());
        if t.spec.plan {
            prompt.push_str(PLAN_NOTE);
        }
        for f in &t.feedback {
            prompt.push_str("\n\n");
            prompt.push_str(f);
        }
        prompt
    }
}

/// The reason a task shows once it starts: a re-run keeps its "retry k/n" line.
fn start_reason(holds_slot: bool, current: &str) -> String {
    if holds_slot && !is_limit_reason(current) && current != "interrupted by restart" {
        current.to_string()
    } else {
        String::new()
    }
}

fn is_limit_reason(r: &str) -> bool {
    if r.starts_with("waiting for the pinned session") {
        return true;
    }
    r.starts_with("spawn limit") || r.starts_with("waiting for a free agent slot") || r == "paused"
}
