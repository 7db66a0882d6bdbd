//! Key uniqueness, `after` resolution and dependency-cycle detection for a goal file.

use std::collections::HashMap;

use super::build::NodeInfo;
use super::Cx;

/// Checks keys and dependencies of the nodes (preorder; index 0 is the goal), reporting every
/// mistake into `cx`. A duplicate key keeps its first use; a bad `after` entry is left out,
/// so the cycle check runs on the rest.
pub(crate) fn check(cx: &Cx, nodes: &[NodeInfo]) {
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if let Some(k) = &n.key {
            if k.get_ref().trim().is_empty() {
                cx.report(
                    k.span(),
                    "`key` must not be empty".into(),
                    Some(field(n, "key")),
                );
                continue;
            }
            if let Some(&first) = keys.get(k.get_ref().as_str()) {
                let (line, _) = nodes[first]
                    .key
                    .as_ref()
                    .map(|f| super::line_col(cx.text, f.span().start))
                    .unwrap_or((0, 0));
                cx.report(
                    k.span(),
                    format!("duplicate key \"{}\" (first used on line {line}); keys must be unique within a goal", k.get_ref()),
                    Some(field(n, "key")),
                );
                continue;
            }
            keys.insert(k.get_ref(), i);
        }
    }
    // deps[i]: the nodes whose end node i's start waits for (after + sequential predecessor).
    let mut after_deps: Vec<Vec<(usize, std::ops::Range<usize>)>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for a in &n.after {
            let Some(&target) = keys.get(a.get_ref().as_str()) else {
                let known: Vec<&str> = keys.keys().copied().collect();
                let hint = if known.is_empty() {
                    "no task has a key yet".to_string()
                } else {
                    format!("keys: {}", sorted(known.clone()))
                };
                let name = a.get_ref();
                let close = crate::tomlcheck::did_you_mean(name, sorted_vec(known), "\"");
                cx.report(
                    a.span(),
                    format!(
                        "`after` names \"{name}\" but no task of this goal has that key{close} ({hint})"
                    ),
                    Some(field(n, "after")),
                );
                continue;
            };
            if target == i {
                cx.report(
                    a.span(),
                    format!("a task cannot wait for itself (\"{}\")", a.get_ref()),
                    Some(field(n, "after")),
                );
                continue;
            }
            if is_ancestor(nodes, target, i) {
                cx.report(
                    a.span(),
                    format!(
                        "\"{}\" is an ancestor of this task; `after` may not name an ancestor",
                        a.get_ref()
                    ),
                    Some(field(n, "after")),
                );
                continue;
            }
            after_deps[i].push((target, a.span()));
        }
    }
    if let Some((node, span)) = find_cycle(nodes, &after_deps) {
        cx.report(
            span,
            "dependency cycle: this `after` makes tasks wait for each other forever".into(),
            Some(field(&nodes[node], "after")),
        );
    }
}

fn field(n: &NodeInfo, name: &str) -> String {
    if n.path.is_empty() {
        name.to_string()
    } else {
        format!("{}.{name}", n.path)
    }
}

fn sorted_vec(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v
}

fn sorted(v: Vec<&str>) -> String {
    sorted_vec(v).join(", ")
}

fn is_ancestor(nodes: &[NodeInfo], anc: usize, mut of: usize) -> bool {
    while let Some(p) = nodes[of].parent {
        if p == anc {
            return true;
        }
        of = p;
    }
    false
}

/// Graph with a start and an end vertex per task: start(x) waits for start(parent) and for
/// end(dep) of each dependency; end(x) waits for start(x) and end(child). A cycle means a
/// deadlock. Returns the node and span of an `after` entry on the cycle.
fn find_cycle(
    nodes: &[NodeInfo],
    after: &[Vec<(usize, std::ops::Range<usize>)>],
) -> Option<(usize, std::ops::Range<usize>)> {
    let n = nodes.len();
    let start = |i: usize| 2 * i;
    let end = |i: usize| 2 * i + 1;
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); 2 * n];
    for (i, node) in nodes.iter().enumerate() {
        edges[end(i)].push(start(i));
        for &c in &node.children {
            edges[end(i)].push(end(c));
            edges[start(c)].push(start(i));
        }
        if !node.parallel {
            for w in node.children.windows(2) {
                edges[start(w[1])].push(end(w[0]));
            }
        }
        for (t, _) in &after[i] {
            edges[start(i)].push(end(*t));
        }
    }
    // Iterative three-colour DFS.
    let mut colour = vec![0u8; 2 * n];
    let mut parent_of = vec![usize::MAX; 2 * n];
    for root in 0..2 * n {
        if colour[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        colour[root] = 1;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if *next < edges[v].len() {
                let w = edges[v][*next];
                *next += 1;
                if colour[w] == 0 {
                    colour[w] = 1;
                    parent_of[w] = v;
                    stack.push((w, 0));
                } else if colour[w] == 1 {
                    // Cycle: w → … → v (tree edges) and the closing edge v → w.
                    let mut cycle = vec![(v, w)];
                    let mut x = v;
                    while x != w && parent_of[x] != usize::MAX {
                        cycle.push((parent_of[x], x));
                        x = parent_of[x];
                    }
                    for (a, b) in cycle {
                        if a % 2 == 0 && b % 2 == 1 {
                            if let Some((_, span)) = after[a / 2].iter().find(|(t, _)| *t == b / 2)
                            {
                                return Some((a / 2, span.clone()));
                            }
                        }
                    }
                    return Some((0, 0..0));
                }
            } else {
                colour[v] = 2;
                stack.pop();
            }
        }
    }
    None
}
