//! Placeholders are filled once (ARCHITECTURE §4): a prompt whose text holds `{worktree}`,
//! `{task_id}` or `{session_id}` reaches the agent as written, while the same names in the
//! command line are filled. The real binary, headless, with a `sh` command as the agent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

#[test]
fn a_prompt_that_mentions_placeholders_reaches_the_agent_unchanged() {
    let s = Scratch::new();
    let prompt = "cd {worktree}; report {task_id} of {session_id} via {prompt_file} {nope}";
    let goal = format!(
        "title = \"fill\"\n[[task]]\ntitle = \"agent\"\nprompt = {}\nworktree = false\ncommand = [\"sh\", \"-c\", \"printf '%s' \\\"$1\\\" > prompt.txt; printf '%s' \\\"$2\\\" > id.txt\", \"sh\", \"{{prompt}}\", \"{{task_id}}\"]\n",
        toml_str(prompt)
    );
    let f = s.file("g.toml", &goal);
    let out = s.run(&["run", f.to_str().unwrap(), "--headless", "--timeout", "30s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s.read("prompt.txt"), prompt, "the prompt was rewritten");
    let id = id_of(&s, "agent");
    assert_eq!(
        s.read("id.txt"),
        id.to_string(),
        "the command's own {{task_id}}"
    );
}
