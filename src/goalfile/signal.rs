//! A signal task's own fields: `gate`, and what it waits on (`repo`, `pr`, `pr_url`), checked
//! to agree with each other. Matching signals to tasks is `signal_match`'s job, not this one's.

use std::ops::Range;

use super::build::Builder;
use super::raw::{RawPr, RawTask};
use crate::model::TaskSpec;

impl Builder<'_, '_> {
    /// `id`: where the task's table starts, to skip a `gate` the first pass already dropped.
    pub(super) fn signal_fields(
        &self,
        raw: &RawTask,
        spec: &mut TaskSpec,
        table_span: Range<usize>,
        id: Option<usize>,
        field: &dyn Fn(&str) -> Option<String>,
    ) {
        let cx = self.cx;
        match &raw.gate {
            Some(g) if !g.get_ref().trim().is_empty() => spec.gate = Some(self.fill(g.get_ref())),
            Some(g) => cx.report(g.span(), "`gate` must not be empty".into(), field("gate")),
            None if cx.was_dropped(id, "gate") => {}
            None => cx.report(
                table_span,
                "a signal task needs `gate` (gh_ci, gh_review, centaur_review, human_approval \
                 or a name of yours)"
                    .into(),
                field("gate"),
            ),
        }
        // Empty (e.g. a template var left at its "" default) means "from origin", as if unset.
        spec.repo = raw
            .repo
            .as_ref()
            .map(|r| self.fill(r.get_ref()))
            .filter(|r| !r.trim().is_empty());
        if let Some(pr) = &raw.pr {
            let (n, shown) = match pr.get_ref() {
                RawPr::Number(n) => (u64::try_from(*n).ok().filter(|n| *n > 0), n.to_string()),
                RawPr::Text(t) => {
                    let t = self.fill(t);
                    (
                        t.trim().parse::<u64>().ok().filter(|n| *n > 0),
                        format!("\"{t}\""),
                    )
                }
                RawPr::Other(v) => (None, v.to_string()),
            };
            match n {
                Some(n) => spec.pr = Some(n),
                None => {
                    let message =
                        format!("`pr` is {shown}; it must be a positive PR number (42 or \"42\")");
                    cx.report(pr.span(), message, field("pr"));
                }
            }
        }
        let Some(u) = &raw.pr_url else { return };
        let url = self.fill(u.get_ref());
        if url.contains("{result.") {
            // Filled from the results of earlier tasks when the gate arms (an agent's `pr_url`
            // artifact, the PR a land task opened) and checked then; the URL then names the
            // repository and the PR.
            if raw.pr.is_some() || raw.repo.is_some() {
                cx.report(
                    u.span(),
                    format!(
                        "`pr_url` \"{url}\" is filled from a result when the gate arms: \
                         leave out `pr` and `repo`, the URL names both"
                    ),
                    field("pr_url"),
                );
                return;
            }
            spec.pr_url = Some(url);
            return;
        }
        let Some((repo, n)) = crate::signal_match::parse_pr_url(&url) else {
            let message = format!(
                "`pr_url` \"{url}\" is not a pull request URL \
                 like https://github.com/owner/name/pull/42"
            );
            cx.report(u.span(), message, field("pr_url"));
            return;
        };
        if let Some(p) = spec.pr.filter(|p| *p != n) {
            cx.report(
                u.span(),
                format!("`pr_url` names PR {n} but `pr` is {p}: they must agree"),
                field("pr_url"),
            );
            return;
        }
        if let Some(r) = spec
            .repo
            .as_deref()
            .filter(|r| !r.eq_ignore_ascii_case(&repo))
        {
            cx.report(
                u.span(),
                format!("`pr_url` names {repo} but `repo` is {r}: they must agree"),
                field("pr_url"),
            );
            return;
        }
        // Matching reads `repo` + `pr`, so a pr_url must fill both.
        spec.repo = Some(repo);
        spec.pr = Some(n);
        spec.pr_url = Some(url);
    }
}
