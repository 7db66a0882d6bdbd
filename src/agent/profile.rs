//! Turning a spawn request and an agent profile into argv + environment.

use std::path::{Path, PathBuf};

use super::SpawnError;
use crate::config::Config;
use crate::model::SpawnSpec;

/// What the placeholders of §4 stand for.
pub struct Fill<'a> {
    pub prompt: &'a str,
    pub prompt_file: &'a Path,
    pub task_id: u64,
    pub session_id: &'a str,
    pub worktree: &'a Path,
}

impl Fill<'_> {
    /// Fills every known `{name}` of `s` in one pass: a filled value is never read again, so
    /// a prompt that contains the text `{worktree}` reaches the agent as written. Unknown
    /// names are left as written.
    pub fn apply(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open..];
            match after.find('}').and_then(|close| {
                let value = self.value(&after[1..close])?;
                Some((value, close))
            }) {
                Some((value, close)) => {
                    out.push_str(&value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = &after[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn value(&self, name: &str) -> Option<String> {
        Some(match name {
            "prompt" => self.prompt.to_string(),
            "prompt_file" => self.prompt_file.display().to_string(),
            "task_id" => self.task_id.to_string(),
            "session_id" => self.session_id.to_string(),
            "worktree" => self.worktree.display().to_string(),
            _ => return None,
        })
    }
}

/// The note appended to agent prompts: where the task stands (its compact context), then
/// how to report back. It names the board's own executable by its absolute path (`exe`, from
/// [`crate::selfexe::agent_exe`]), so an agent whose shell resets `PATH` still reaches the
/// board.
pub fn prompt_suffix(task: u64, context: &str, exe: &Path) -> String {
    let exe = crate::selfexe::shell_word(exe);
    let mut note = String::new();
    if !context.trim().is_empty() {
        note.push_str("\n\n");
        note.push_str(context.trim_end());
    }
    note.push_str(&format!(
        "\n\nWhen you are done, run: {exe} complete --task {task} --summary \"<one line on what you did>\" (or {exe} block --task {task} --reason \"…\" if you cannot go on). If you have the taskboard MCP tools, call `complete` or `block` (task {task}) instead; `status` shows this context again."
    ));
    note
}

/// A prompt typed into an open session, with the profile's note (context, how to finish).
pub fn typed_prompt(
    cfg: &Config,
    agent: Option<&str>,
    prompt: &str,
    context: &str,
    task: u64,
    exe: &Path,
) -> String {
    let name = agent.unwrap_or(&cfg.default_agent);
    match cfg.agents.get(name) {
        Some(p) if !p.prompt_suffix => prompt.to_string(),
        _ => format!("{prompt}{}", prompt_suffix(task, context, exe)),
    }
}

/// The program to run, its profile's extra environment and attention patterns.
pub struct Plan {
    pub argv: Vec<String>,
    /// The profile's environment, then `PATH` with the board's bin dir first.
    pub env: Vec<(String, String)>,
    pub attention: Vec<String>,
    /// The prompt as given to the agent (with the suffix when the profile wants it).
    pub prompt: String,
    /// The agent program the board wires up for this session, if any.
    pub integration: Option<crate::config::Integration>,
}

/// `exe` is the taskboard agents call ([`crate::selfexe::agent_exe`]): its dir goes first on
/// the agent's `PATH` and the prompt suffix names it.
pub fn plan(
    spec: &SpawnSpec,
    cfg: &Config,
    prompt_file: &Path,
    worktree: &Path,
    exe: &Path,
) -> Result<Plan, SpawnError> {
    let (template, env, attention, prompt, what, integration) = match &spec.command {
        Some(cmd) => (
            cmd.clone(),
            Vec::new(),
            Vec::new(),
            spec.prompt.clone(),
            "command",
            None,
        ),
        None => {
            let name = spec
                .agent
                .clone()
                .unwrap_or_else(|| cfg.default_agent.clone());
            let Some(p) = cfg.agents.get(&name) else {
                let known: Vec<&str> = cfg.agents.keys().map(String::as_str).collect();
                return Err(SpawnError::UnknownProfile {
                    name,
                    known: known.join(", "),
                });
            };
            let argv = match (&p.resume, spec.resume) {
                (Some(r), true) => r.clone(),
                _ => p.command.clone(),
            };
            let prompt = if p.prompt_suffix {
                format!(
                    "{}{}",
                    spec.prompt,
                    prompt_suffix(spec.task, &spec.context, exe)
                )
            } else {
                spec.prompt.clone()
            };
            (
                argv,
                p.env.clone().into_iter().collect(),
                p.attention.clone(),
                prompt,
                "agent",
                p.integration,
            )
        }
    };
    let fill = Fill {
        prompt: &prompt,
        prompt_file,
        task_id: spec.task,
        session_id: &spec.session_id,
        worktree,
    };
    let argv: Vec<String> = template.iter().map(|a| fill.apply(a)).collect();
    let mut env: Vec<(String, String)> =
        env.into_iter().map(|(k, v)| (k, fill.apply(&v))).collect();
    // The profile's own PATH, if it sets one, else the board's: either way after the bin dir.
    let rest = env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| std::ffi::OsString::from(v))
        .or_else(|| std::env::var_os("PATH"));
    let bin = exe.parent().unwrap_or(Path::new("/"));
    let path = crate::selfexe::agent_path(bin, rest.as_deref());
    let program = argv.first().ok_or(SpawnError::EmptyTemplate)?;
    if find_program_in(program, worktree, Some(std::ffi::OsStr::new(&path))).is_none() {
        let name = if what == "agent" {
            spec.agent
                .clone()
                .unwrap_or_else(|| cfg.default_agent.clone())
        } else {
            program.clone()
        };
        return Err(SpawnError::NotFound {
            what,
            name,
            program: program.clone(),
        });
    }
    env.push(("PATH".into(), path));
    Ok(Plan {
        argv,
        env,
        attention,
        prompt,
        integration,
    })
}

/// Finds a program as `execvp` would from `cwd`, on this process's `PATH`.
pub fn find_program(program: &str, cwd: &Path) -> Option<PathBuf> {
    find_program_in(program, cwd, std::env::var_os("PATH").as_deref())
}

/// Finds a program as `execvp` would from `cwd` with `path` as `PATH`.
pub fn find_program_in(
    program: &str,
    cwd: &Path,
    path: Option<&std::ffi::OsStr>,
) -> Option<PathBuf> {
    if program.contains('/') {
        let p = cwd.join(program);
        return p.is_file().then_some(p);
    }
    path.and_then(|paths| {
        std::env::split_paths(paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

#[cfg(test)]
mod fill_tests {
    use super::*;

    fn fill<'a>(prompt: &'a str) -> Fill<'a> {
        Fill {
            prompt,
            prompt_file: Path::new("/p/prompt.txt"),
            task_id: 7,
            session_id: "s-1",
            worktree: Path::new("/w/7"),
        }
    }

    #[test]
    fn each_placeholder_is_filled_once() {
        let f = fill("see {worktree} and {task_id} {session_id} {prompt_file} {prompt}");
        assert_eq!(
            f.apply("{prompt}"),
            "see {worktree} and {task_id} {session_id} {prompt_file} {prompt}"
        );
        assert_eq!(
            f.apply("--id={task_id} -C {worktree} {session_id} @{prompt_file}"),
            "--id=7 -C /w/7 s-1 @/p/prompt.txt"
        );
    }

    #[test]
    fn unknown_names_and_stray_braces_stay_as_written() {
        let f = fill("x");
        assert_eq!(f.apply("{nope} {{prompt}} { } {"), "{nope} {x} { } {");
        assert_eq!(f.apply("a}b{"), "a}b{");
        assert_eq!(f.apply("{{task_id}"), "{7");
    }
}
