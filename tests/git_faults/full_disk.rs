//! A full disk (a tiny tmpfs) while a worktree is made: the task blocks with the error and
//! nothing is left half-made.

use super::*;

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).expect("mkdir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "cannot mount a tmpfs on {} (this test needs root): {}",
            dir.display(),
            text(&out)
        );
        Mount(dir.into())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

#[test]
fn a_full_disk_while_a_worktree_is_made_blocks_the_task_and_leaves_nothing_half_made() {
    let s = Scratch::new();
    let (repo, goal) = setup(&s, false);
    // A file the worktree's checkout cannot fit.
    let big: Vec<u8> = (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(repo.join("big.bin"), big).unwrap();
    git(&repo, &["add", "big.bin"]);
    git(
        &repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qm",
            "big",
        ],
    );
    let data = s.data();
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let mount = Mount::tmpfs(&data.join("worktrees"), "1m");
    let out = s.run(&["up"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    struct Down<'a>(&'a Scratch);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = self.0.run(&["down", "--force"]);
        }
    }
    let _down = Down(&s);
    assert_eq!(
        s.run(&["add", goal.to_str().unwrap()]).status.code(),
        Some(0)
    );
    assert!(
        wait_status(&s, "work", "blocked", LONG),
        "{}",
        s.read("data/taskboard.log")
    );
    let t = flatten(&s.status());
    let reason = by_title(&t, "work")["reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        reason.contains("No space left on device") || reason.contains("no space"),
        "the reason says why: {reason}"
    );
    // Nothing half-made: no directory, no registration, no branch, no lock.
    assert_eq!(dirs(&data.join("worktrees")), Vec::<PathBuf>::new());
    assert_eq!(dirs(&repo.join(".git/worktrees")), Vec::<PathBuf>::new());
    assert_eq!(git(&repo, &["branch", "--list", "taskboard/*"]), "");
    assert_eq!(locks(&repo.join(".git")), Vec::<PathBuf>::new());
    assert!(listed(&repo).is_empty());
    // Room again: a retry makes it whole.
    drop(mount);
    let id = id_of(&s, "work").to_string();
    let out = s.run(&["retry", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(wait_status(&s, "work", "done", LONG));
    assert_consistent(&s, &repo);
}
