//! `{result.KEY}` placeholders (ARCHITECTURE §3): filled from the results (artifacts, gate
//! payloads) of the goal's finished tasks when a prompt is sent, when a signal gate arms
//! (its `pr_url`) and when a poll command runs. Part of the pure core.

use super::machine::Board;
use crate::model::TaskId;

/// The text that opens a result placeholder.
pub const RESULT_PLACEHOLDER: &str = "{result.";

impl Board {
    /// `text` with every `{result.KEY}` filled from goal `goal`'s finished tasks; an unknown
    /// key is left as written.
    pub(super) fn fill_results(&self, goal: TaskId, text: &str) -> String {
        // One pass: a filled value is never scanned again, and an unknown name is left as
        // written without stopping the names after it.
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(RESULT_PLACEHOLDER) {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            out.push_str(&rest[..start]);
            match self.result_value(goal, &rest[start + RESULT_PLACEHOLDER.len()..start + len]) {
                Some(v) => out.push_str(&v),
                None => out.push_str(&rest[start..start + len + 1]),
            }
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    /// `KEY` from the latest-finished task of the goal whose result has it.
    fn result_value(&self, goal: TaskId, key: &str) -> Option<String> {
        self.preorder(goal)
            .into_iter()
            .filter_map(|x| self.task(x))
            .filter(|x| x.completed_at.is_some())
            .filter_map(|x| {
                x.result
                    .as_ref()
                    .and_then(|r| r.get(key))
                    .map(|v| (x.completed_at, v))
            })
            .max_by_key(|(at, _)| *at)
            .map(|(_, v)| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
    }

    /// A signal gate whose `pr_url` names results (`"{result.pr_url}"`: an agent's artifact,
    /// the PR a land task opened), filled when it arms: sets the PR it waits on (`repo` +
    /// `pr`, what matching reads). `Err` says why it cannot wait yet.
    pub(super) fn fill_gate(&mut self, id: TaskId) -> Result<(), String> {
        let Some(t) = self.task(id) else {
            return Ok(());
        };
        let Some(template) = t
            .spec
            .pr_url
            .clone()
            .filter(|u| u.contains(RESULT_PLACEHOLDER))
        else {
            return Ok(());
        };
        let url = self.fill_results(t.goal, &template);
        if let Some(start) = url.find(RESULT_PLACEHOLDER) {
            let name = url[start + RESULT_PLACEHOLDER.len()..]
                .split('}')
                .next()
                .unwrap_or("");
            return Err(format!(
                "pr_url \"{template}\": no finished task of this goal has `{name}` in its result; \
                 retry (R) once one has"
            ));
        };
        let Some((repo, pr)) = crate::signal_match::parse_pr_url(&url) else {
            return Err(format!(
                "pr_url \"{url}\" (from \"{template}\") is not a pull request URL"
            ));
        };
        if let Some(t) = self.task_mut(id) {
            t.spec.repo = Some(repo);
            t.spec.pr = Some(pr);
        }
        self.touch(id);
        Ok(())
    }
}
