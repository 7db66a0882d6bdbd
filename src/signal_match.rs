//! Matching external signals to signal tasks: PR URLs, `owner/name` repos, gate names.

/// `https://github.com/owner/name/pull/42` (any host, optional trailing parts) → (`owner/name`, 42).
pub fn parse_pr_url(url: &str) -> Option<(String, u64)> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let mut parts = rest.split('/').filter(|p| !p.is_empty());
    let _host = parts.next()?;
    let owner = parts.next()?;
    let name = parts.next()?;
    let pull = parts.next()?;
    if pull != "pull" && pull != "pulls" && pull != "merge_requests" {
        return None;
    }
    let number: u64 = parts.next()?.split(['#', '?']).next()?.parse().ok()?;
    Some((format!("{owner}/{name}"), number))
}

/// `git@github.com:owner/name.git`, `https://github.com/owner/name(.git)` → `owner/name`.
pub fn repo_from_remote(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let url = url.strip_suffix(".git").unwrap_or(url);
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/')?.1
    } else if let Some((_, rest)) = url.split_once(':') {
        rest
    } else {
        return None;
    };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 {
        return None;
    }
    Some(format!("{}/{}", segs[segs.len() - 2], segs[segs.len() - 1]))
}

/// What a `signals/resolve` request names.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignalTarget {
    pub gate: String,
    pub repo: Option<String>,
    pub pr: Option<u64>,
}

impl SignalTarget {
    /// From `repo` + `pr`, or a `pr_url` (which wins when both are given and agree).
    pub fn new(
        gate: &str,
        repo: Option<&str>,
        pr: Option<u64>,
        pr_url: Option<&str>,
    ) -> Result<SignalTarget, String> {
        let (mut repo, mut pr) = (repo.map(str::to_string), pr);
        if let Some(url) = pr_url {
            let (r, n) = parse_pr_url(url)
                .ok_or_else(|| format!("pr_url \"{url}\" is not a pull request URL"))?;
            if pr.is_some_and(|p| p != n) {
                return Err(format!("pr_url names PR {n} but pr is {}", pr.unwrap_or(0)));
            }
            if repo.as_deref().is_some_and(|x| !x.eq_ignore_ascii_case(&r)) {
                return Err(format!(
                    "pr_url names {r} but repo is {}",
                    repo.unwrap_or_default()
                ));
            }
            repo = Some(r);
            pr = Some(n);
        }
        Ok(SignalTarget {
            gate: gate.to_string(),
            repo,
            pr,
        })
    }

    /// Does a signal task with these fields (repo already defaulted from `origin`) match?
    pub fn matches(&self, gate: &str, repo: Option<&str>, pr: Option<u64>) -> bool {
        if !gate.eq_ignore_ascii_case(&self.gate) {
            return false;
        }
        let repo_ok = match (&self.repo, repo) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (Some(_), None) => false,
            (None, _) => true,
        };
        let pr_ok = match (self.pr, pr) {
            (Some(a), Some(b)) => a == b,
            (Some(_), None) => false,
            (None, _) => true,
        };
        repo_ok && pr_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pr_urls() {
        assert_eq!(
            parse_pr_url("https://github.com/o/n/pull/42"),
            Some(("o/n".into(), 42))
        );
        assert_eq!(
            parse_pr_url("https://github.com/o/n/pull/42/files"),
            Some(("o/n".into(), 42))
        );
        assert_eq!(parse_pr_url("https://github.com/o/n/issues/42"), None);
        assert_eq!(parse_pr_url("nonsense"), None);
    }

    #[test]
    fn remotes() {
        assert_eq!(
            repo_from_remote("git@github.com:Owner/Name.git").as_deref(),
            Some("Owner/Name")
        );
        assert_eq!(
            repo_from_remote("https://github.com/o/n").as_deref(),
            Some("o/n")
        );
        assert_eq!(
            repo_from_remote("https://github.com/o/n.git/").as_deref(),
            Some("o/n")
        );
        assert_eq!(repo_from_remote("/local/path"), None);
    }

    #[test]
    fn matching_is_case_insensitive_and_url_equals_number() {
        let t =
            SignalTarget::new("gh_ci", None, None, Some("https://github.com/O/N/pull/7")).unwrap();
        assert!(t.matches("gh_ci", Some("o/n"), Some(7)));
        assert!(!t.matches("gh_ci", Some("o/n"), Some(8)));
        assert!(!t.matches("gh_review", Some("o/n"), Some(7)));
        assert!(
            SignalTarget::new("g", Some("a/b"), Some(1), Some("https://x/a/b/pull/2")).is_err()
        );
    }
}
