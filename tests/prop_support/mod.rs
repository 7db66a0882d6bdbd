//! Shared by the property tests: random goal trees that are valid by construction, and their
//! rendering as goal-file TOML (nested `[[task.task]]` tables in file order).
#![allow(dead_code)]

use proptest::prelude::*;

/// Cases per property: 1,000 in the suite; `PROPTEST_CASES=N` for a deeper run on demand.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .max(1000)
}

/// One node of a generated goal tree.
#[derive(Clone, Debug)]
pub enum Node {
    Group {
        parallel: bool,
        children: Vec<Node>,
    },
    Agent {
        retries: u32,
        review: bool,
        timeout: Option<u32>,
        priority: i64,
        /// Plan first: the agent posts subtasks for review instead of doing the work.
        plan: bool,
    },
    Review {
        timeout: Option<u32>,
        on_timeout: &'static str,
    },
    Signal {
        gate: &'static str,
        retries: u32,
        poll: bool,
        timeout: Option<u32>,
        on_timeout: &'static str,
    },
}

/// A goal: its settings, its top-level tasks, and `after` edges picked by index.
#[derive(Clone, Debug)]
pub struct Tree {
    pub parallel: bool,
    /// `session = "pinned"`: one long-lived session per goal.
    pub pinned: bool,
    pub max_agents: Option<usize>,
    pub tasks: Vec<Node>,
    /// For the n-th task in preorder, picks of earlier tasks it runs `after`.
    pub after: Vec<Vec<usize>>,
}

const ON_TIMEOUT: [&str; 3] = ["fail", "pass", "escalate"];
const GATES: [&str; 4] = ["gh_ci", "human_approval", "gh_review", "custom_gate"];

fn leaf() -> impl Strategy<Value = Node> {
    prop_oneof![
        4 => (
            0u32..3,
            any::<bool>(),
            prop::option::of(1u32..120),
            -2i64..3,
            prop::bool::weighted(0.15)
        )
            .prop_map(|(retries, review, timeout, priority, plan)| Node::Agent {
                retries,
                review,
                timeout,
                priority,
                plan
            }),
        1 => (prop::option::of(1u32..120), 0usize..3).prop_map(|(timeout, o)| Node::Review {
            timeout,
            on_timeout: ON_TIMEOUT[o]
        }),
        2 => (0usize..4, 0u32..3, any::<bool>(), prop::option::of(1u32..120), 0usize..3)
            .prop_map(|(g, retries, poll, timeout, o)| Node::Signal {
                gate: GATES[g],
                retries,
                poll,
                timeout,
                on_timeout: ON_TIMEOUT[o]
            }),
    ]
}

pub fn node() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        (any::<bool>(), prop::collection::vec(inner, 1..4))
            .prop_map(|(parallel, children)| Node::Group { parallel, children })
    })
}

pub fn tree() -> impl Strategy<Value = Tree> {
    (
        any::<bool>(),
        prop::bool::weighted(0.25),
        prop::option::of(1usize..4),
        prop::collection::vec(node(), 1..5),
        prop::collection::vec(prop::collection::vec(any::<usize>(), 0..2), 0..24),
    )
        .prop_map(|(parallel, pinned, max_agents, tasks, after)| Tree {
            parallel,
            pinned,
            max_agents,
            tasks,
            after,
        })
}

/// How many tasks (all nodes below the goal) a tree has.
pub fn count(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|n| match n {
            Node::Group { children, .. } => 1 + count(children),
            _ => 1,
        })
        .sum()
}

fn dur(secs: u32) -> String {
    format!("\"{secs}s\"")
}

/// Renders the tree as a goal file. Each task gets key `kN` (N = preorder index); `after`
/// only names earlier tasks that are not ancestors, so no cycle can form.
pub fn render(t: &Tree) -> String {
    let mut out = String::from("title = \"generated goal\"\n");
    out.push_str(&format!("parallel = {}\n", t.parallel));
    out.push_str("spawns_per_minute = 1000\n");
    if t.pinned {
        out.push_str("session = \"pinned\"\n");
    }
    if let Some(m) = t.max_agents {
        out.push_str(&format!("max_agents = {m}\n"));
    }
    let mut n = 0usize;
    // (node, depth, ancestors' preorder indices)
    let mut stack: Vec<(&Node, usize, Vec<usize>)> =
        t.tasks.iter().rev().map(|c| (c, 1, Vec::new())).collect();
    while let Some((node, depth, ancestors)) = stack.pop() {
        let me = n;
        n += 1;
        out.push_str(&format!("\n[[{}task]]\n", "task.".repeat(depth - 1)));
        out.push_str(&format!("title = \"task {me}\"\nkey = \"k{me}\"\n"));
        let picks: Vec<usize> = t
            .after
            .get(me)
            .map(|p| {
                let mut v: Vec<usize> = p
                    .iter()
                    .filter(|_| me > 0)
                    .map(|x| x % me.max(1))
                    .filter(|x| !ancestors.contains(x))
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            })
            .unwrap_or_default();
        if !picks.is_empty() {
            let names: Vec<String> = picks.iter().map(|p| format!("\"k{p}\"")).collect();
            out.push_str(&format!("after = [{}]\n", names.join(", ")));
        }
        match node {
            Node::Group { parallel, children } => {
                out.push_str(&format!("parallel = {parallel}\n"));
                let mut anc = ancestors.clone();
                anc.push(me);
                for c in children.iter().rev() {
                    stack.push((c, depth + 1, anc.clone()));
                }
            }
            Node::Agent {
                retries,
                review,
                timeout,
                priority,
                plan,
            } => {
                if *plan {
                    out.push_str("plan = true\n");
                }
                out.push_str("kind = \"agent\"\ncommand = [\"true\"]\nworktree = false\n");
                out.push_str(&format!(
                    "retries = {retries}\nreview = {review}\npriority = {priority}\n"
                ));
                if let Some(s) = timeout {
                    out.push_str(&format!("timeout = {}\n", dur(*s)));
                }
            }
            Node::Review {
                timeout,
                on_timeout,
            } => {
                out.push_str("kind = \"human_review\"\n");
                if let Some(s) = timeout {
                    out.push_str(&format!(
                        "timeout = {}\non_timeout = \"{on_timeout}\"\n",
                        dur(*s)
                    ));
                }
            }
            Node::Signal {
                gate,
                retries,
                poll,
                timeout,
                on_timeout,
            } => {
                out.push_str(&format!(
                    "kind = \"signal\"\ngate = \"{gate}\"\nrepo = \"o/r\"\npr = 1\nretries = {retries}\n"
                ));
                if *poll {
                    out.push_str("poll = \"exit 8\"\npoll_every = \"5s\"\n");
                }
                if let Some(s) = timeout {
                    out.push_str(&format!(
                        "timeout = {}\non_timeout = \"{on_timeout}\"\n",
                        dur(*s)
                    ));
                }
            }
        }
    }
    out
}
