//! `L`: land the selected finished agent task or group. It asks first, saying what lands,
//! on which branch and how; the yes carries the command. No IO.

use super::modal::{Confirm, Modal, Pending};
use super::tui_model::Model;
use crate::command::Command;
use crate::model::{Kind, LandStrategy, Status};

pub fn land(m: &mut Model) {
    let Some(t) = m.target().and_then(|id| m.snap.task(id)).cloned() else {
        return m.warn("select a finished agent task or group first");
    };
    if !matches!(t.kind, Kind::Agent | Kind::Group) {
        return m.warn(format!(
            "#{} is a {} task: land an agent task or a group",
            t.id,
            t.kind.as_str()
        ));
    }
    if t.status != Status::Done {
        return m.warn(format!(
            "#{} is {}: it lands once it is done",
            t.id, t.status
        ));
    }
    let branches = m
        .snap
        .subtree(t.id)
        .into_iter()
        .filter_map(|x| m.snap.task(x))
        .filter(|x| x.kind == Kind::Agent && x.status == Status::Done && x.workdir.is_some())
        .count();
    if branches == 0 {
        return m.warn(format!(
            "#{} has no finished agent work on a branch of its own to land",
            t.id
        ));
    }
    let into = m
        .snap
        .task(t.goal)
        .and_then(|g| g.spec.goal.as_ref())
        .and_then(|g| g.branch.clone())
        .unwrap_or_else(|| "the branch checked out now".into());
    let strategy = LandStrategy::default();
    let question = format!(
        "Land #{} {} ({branches} branch{}) on {into} with strategy {}? A checkout of {into} is \
         updated only where you have no uncommitted changes.",
        t.id,
        t.spec.title,
        if branches == 1 { "" } else { "es" },
        strategy.as_str(),
    );
    m.modal = Some(Modal::Confirm(Confirm {
        question,
        on_yes: Pending::Send {
            cmd: Command::Land {
                task: t.id,
                into: None,
                strategy: None,
                pr: false,
            },
            label: format!("#{} is landing on {into}", t.id),
        },
    }));
}
