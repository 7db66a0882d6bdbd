//! `scripts/deps-check` (run by CI): this repository's module graph has no cycle, and the
//! script does fail, naming the modules, on a tree that has one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

fn deps_check(args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/deps-check");
    Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs scripts/deps-check (CI installs python3)")
}

#[test]
fn the_crate_has_no_module_cycle() {
    let out = deps_check(&["--quiet"]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("no cycle"), "{text}");
}

#[test]
fn a_cycle_fails_and_names_its_modules_while_test_modules_do_not_count() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\npub mod c;\n").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::B;\npub struct A;\n").unwrap();
    std::fs::create_dir(src.join("b")).unwrap();
    std::fs::write(src.join("b/mod.rs"), "mod inner;\npub struct B;\n").unwrap();
    // The edge back to `a` hides in a submodule, behind a `use crate::{...}` group.
    std::fs::write(src.join("b/inner.rs"), "use crate::{a::A, c};\n").unwrap();
    // `c` reaches `a` only from its tests: no edge.
    std::fs::write(
        src.join("c.rs"),
        "pub fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n",
    )
    .unwrap();
    let out = deps_check(&[src.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("crate::a -> crate::b"), "{stdout}");
    assert!(stdout.contains("crate::b -> crate::a"), "{stdout}");
    assert!(!stdout.contains("crate::c -> crate::a"), "{stdout}");
    assert!(stderr.contains("cycle among 2 modules: a, b"), "{stderr}");

    // Without the back edge the same tree passes.
    std::fs::write(src.join("b/inner.rs"), "use crate::c;\n").unwrap();
    let out = deps_check(&["--quiet", src.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
