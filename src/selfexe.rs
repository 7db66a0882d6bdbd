//! The taskboard executable that agents call: `<data>/bin/taskboard`, a link to the running
//! board's own binary, put first on every agent's `PATH` and named in prompts. So an agent
//! reaches the board that started it whether taskboard was started by `cargo run`, installed
//! with `cargo install`, or copied somewhere, and whatever the user's `PATH` holds. This
//! module owns only that link and the `PATH` built around it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::datadir::{DataDir, DataDirError};

/// The path of the taskboard executable agents should call (the one public answer to that
/// question: prompts, agent `PATH` and agent tool configs all use it). The link exists once
/// a board has started on `data` ([`link_own_exe`]); it then points at that board's binary.
pub fn agent_exe(data: &DataDir) -> PathBuf {
    bin_dir(data).join("taskboard")
}

/// `<data>/bin`: a private dir holding only the `taskboard` link, so putting it first on an
/// agent's `PATH` shadows nothing else. Absolute, since agents run in other directories.
pub fn bin_dir(data: &DataDir) -> PathBuf {
    let dir = data.root.join("bin");
    std::path::absolute(&dir).unwrap_or(dir)
}

/// Points [`agent_exe`] at this process's own executable. A new link is made beside the old
/// one and renamed over it, so an agent starting meanwhile finds the old link or the new one,
/// never none. Called at every board start (a rebuilt or moved binary gets picked up).
pub fn link_own_exe(data: &DataDir) -> Result<PathBuf, DataDirError> {
    let io = |source: std::io::Error| DataDirError::Io {
        dir: data.root.clone(),
        source,
    };
    let exe = own_exe().map_err(io)?;
    let dir = bin_dir(data);
    std::fs::create_dir_all(&dir).map_err(io)?;
    let link = agent_exe(data);
    let tmp = dir.join(format!(".taskboard.{}.tmp", std::process::id()));
    // A temp link left by a crashed start of the same pid would block the new one.
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&exe, &tmp).map_err(io)?;
    if let Err(e) = std::fs::rename(&tmp, &link) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(link)
}

/// This process's executable, as an absolute path that exists. When the binary was replaced
/// while it ran (a rebuild under `cargo run`), Linux reports "… (deleted)"; the file now at
/// that path is the nearest thing to call.
fn own_exe() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    if exe.exists() {
        return Ok(exe);
    }
    let shown = exe.to_string_lossy();
    if let Some(path) = shown.strip_suffix(" (deleted)") {
        let path = PathBuf::from(path);
        if path.exists() {
            return Ok(path);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("the running executable {} is gone", exe.display()),
    ))
}

/// The `PATH` an agent gets: `bin` first, then `rest` (the profile's own `PATH` when it sets
/// one, else the board's), without repeating `bin`.
pub fn agent_path(bin: &Path, rest: Option<&OsStr>) -> String {
    let mut dirs = vec![bin.to_path_buf()];
    if let Some(rest) = rest {
        dirs.extend(std::env::split_paths(rest).filter(|d| d != bin));
    }
    std::env::join_paths(&dirs)
        .map(|p| p.to_string_lossy().into_owned())
        // A dir with ':' in it cannot be on a PATH at all: keep the rest as it was.
        .unwrap_or_else(|_| {
            rest.map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
}

/// `path` as a shell word: quoted only when it needs to be (prompts show it to agents).
pub fn shell_word(path: &Path) -> String {
    let s = path.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':'));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_points_at_this_executable_and_replaces_an_old_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = DataDir::new(dir.path().join("data"));
        std::fs::create_dir_all(bin_dir(&data)).expect("bin dir");
        std::os::unix::fs::symlink("/nonexistent/old-taskboard", agent_exe(&data))
            .expect("old link");
        let link = link_own_exe(&data).expect("link");
        assert_eq!(link, agent_exe(&data));
        let target = std::fs::read_link(&link).expect("read link");
        assert_eq!(target, std::env::current_exe().expect("current exe"));
        // Only the link is left in the bin dir (no temp link behind).
        let names: Vec<_> = std::fs::read_dir(bin_dir(&data))
            .expect("read bin dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("taskboard")]);
    }

    #[test]
    fn the_bin_dir_comes_first_once() {
        let bin = Path::new("/d/bin");
        assert_eq!(
            agent_path(bin, Some(OsStr::new("/usr/bin:/d/bin:/bin"))),
            "/d/bin:/usr/bin:/bin"
        );
        assert_eq!(agent_path(bin, None), "/d/bin");
    }

    #[test]
    fn paths_with_spaces_are_quoted_for_the_shell() {
        assert_eq!(
            shell_word(Path::new("/a/b-c/taskboard")),
            "/a/b-c/taskboard"
        );
        assert_eq!(shell_word(Path::new("/a b/it's")), r"'/a b/it'\''s'");
    }
}
