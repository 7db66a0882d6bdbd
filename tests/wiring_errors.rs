//! A session's wiring that cannot be written says why, naming the file: the user's Codex
//! config is read (never written) to build the session's own, so a broken one is reported,
//! not passed on, and nothing of it reaches the session's CODEX_HOME.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use taskboard::agent::wiring::{prepare, Wiring, WiringError};
use taskboard::config::Integration;

fn wire_codex(user: &Path, dir: &Path) -> Result<(), WiringError> {
    prepare(&Wiring {
        integration: Integration::Codex,
        dir: dir.to_path_buf(),
        exe: Path::new("/usr/local/bin/taskboard"),
        permission_wait: Duration::from_secs(60),
        codex_home: Some(user.to_path_buf()),
    })
    .map(|_| ())
}

#[test]
fn a_broken_user_codex_config_is_reported_with_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let user = tmp.path().join("user-codex");
    std::fs::create_dir_all(&user).unwrap();
    let cfg = user.join("config.toml");
    std::fs::write(&cfg, "model = \"o3\"\n[profiles\n").unwrap();
    let err = wire_codex(&user, &tmp.path().join("session")).unwrap_err();
    assert!(matches!(err, WiringError::CodexConfig { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with(&format!("{}: ", cfg.display())), "{text}");
    assert!(!tmp.path().join("session/codex/config.toml").exists());
}

#[test]
fn mcp_servers_that_is_not_a_table_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let user = tmp.path().join("user-codex");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(user.join("config.toml"), "mcp_servers = 3\n").unwrap();
    let err = wire_codex(&user, &tmp.path().join("session")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the Codex config's mcp_servers is not a table"
    );
}

#[test]
fn a_session_dir_that_cannot_be_made_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let dir = file.join("session");
    let err = wire_codex(tmp.path(), &dir).unwrap_err();
    assert!(
        matches!(&err, WiringError::Io { what: "make", path, .. } if *path == dir),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .starts_with(&format!("cannot make {}: ", dir.display())));
}
