//! Quick runs of the benchmark harnesses so they cannot rot (numbers, not speeds).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// `store_commit` and `http_signal` are separate bench crates that each include the shared
// reference writer (`bench/group_commit.rs`); here both are modules of one crate.
#![allow(clippy::duplicate_mod)]

#[path = "../bench/board_tick.rs"]
mod board_tick;

#[test]
fn board_tick_bench_produces_numbers() {
    let (tasks, median, p99) = board_tick::measure(4, 25, 20);
    assert_eq!(tasks, 1 + 4 + 4 * 25);
    assert!(median > 0.0 && p99 >= median, "median {median} p99 {p99}");
}

// B10's harness, compiled once: inside B15's, which builds on it.
use flood::http_signal;

#[test]
fn http_signal_bench_produces_numbers_for_both_contenders() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::thread::spawn(move || http_signal::serve_reference(port));
    let reference = format!("127.0.0.1:{port}");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(&reference).is_err() && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut board = http_signal::start_board(env!("CARGO_BIN_EXE_taskboard"));
    let signal = format!("/api/tasks/{}/signal", board.gate);
    let resize = format!("/api/tasks/{}/resize", board.agent);
    let body = http_signal::SIGNAL_BODY;
    let ours = http_signal::load(&board.addr, &signal, body, &board.token, 4, 0.5);
    let layer = http_signal::load(
        &board.addr,
        &resize,
        http_signal::RESIZE_BODY,
        &board.token,
        4,
        0.5,
    );
    let theirs = http_signal::load(&reference, &signal, body, "", 4, 0.5);
    assert!(
        board.dir.path().join("data").join("taskboard.db").exists(),
        "the board's store is on disk"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = dir.path().to_path_buf();
    std::thread::spawn(move || http_signal::serve_reference_durable(port, &d, "{}".into()));
    let durable_addr = format!("127.0.0.1:{port}");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(&durable_addr).is_err() && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let durable = http_signal::load(&durable_addr, &signal, body, "", 4, 0.5);
    let _ = board.child.kill();
    let _ = board.child.wait();
    assert!(
        ours > 0.0 && layer > 0.0 && theirs > 0.0 && durable > 0.0,
        "ours {ours} resize {layer} reference {theirs} durable reference {durable}"
    );
}

#[test]
fn memory_bench_runs_quick() {
    let text = quick("bench/memory.py");
    assert!(
        text.contains("taskboard board RSS") && text.contains("ratio taskboard/tmux"),
        "{text}"
    );
}

#[test]
fn attach_bench_runs_quick() {
    let text = quick("bench/attach.py");
    let re = regex::Regex::new(
        r"(?s)taskboard: first frame median \d+ ms, pane tail shown median \d+ ms.*tmux: pane tail shown median \d+ ms.*second attached TUI: median [\d.]+ ms",
    )
    .expect("regex");
    assert!(re.is_match(&text), "{text}");
}

#[path = "../bench/flood.rs"]
mod flood;

/// B15 in small: 300 idle + 30 slow-header flooding connections, a few samples.
#[test]
fn flood_bench_produces_numbers_under_and_without_the_flood() {
    let f = flood::run(env!("CARGO_BIN_EXE_taskboard"), 300, 30, 2);
    for s in [&f.quiet, &f.flooded] {
        assert!(
            [&s.health, &s.status, &s.signal]
                .iter()
                .all(|v| v.len() == 2 && v.iter().all(|ms| *ms > 0.0)),
            "{s:?}"
        );
    }
    assert!(
        f.flood.closed > 0,
        "the flood never hit the cap: {:?}",
        f.flood
    );
    println!("quiet: {}\nflooded: {}", f.quiet.line(), f.flooded.line());
}

#[test]
fn hook_latency_bench_runs_quick() {
    let text = quick("bench/hooklat.py");
    let re = regex::Regex::new(
        r"B16 hook -> inbox: median [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms \(n=20",
    )
    .expect("regex");
    assert!(re.is_match(&text), "{text}");
}

#[path = "../bench/store_commit.rs"]
mod store_commit;

#[test]
fn store_commit_bench_produces_numbers_for_both_contenders() {
    let (ours, record) = store_commit::board_rate_and_record(4, 0.3);
    assert!(
        record.contains("\"gate\""),
        "the board's record of the gate: {record}"
    );
    let group = store_commit::group_rate(4, 0.3, &record);
    let raw = store_commit::raw_rate(0.3);
    assert!(
        ours > 0.0 && group > 0.0 && raw > 0.0,
        "ours {ours} group {group} raw {raw}"
    );
}

/// The side-by-side suite against tmux (`bench/run --quick`): every row comes out with
/// numbers for both contenders (speeds are not judged here).
#[test]
fn bench_run_quick_prints_every_row_for_both_contenders() {
    let text = quick("bench/run");
    for id in [
        "B2 |", "B3 |", "B4 |", "B5 |", "B6-80 |", "B6-200 |", "B7 |",
    ] {
        let row = text
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no row {id} in {text}"));
        let cells: Vec<&str> = row.split(" | ").collect();
        assert_eq!(cells.len(), 9, "{row}");
        // The pane sizes each side's panes reported (`stty size`) are the same (B7: idle
        // and flood both).
        assert!(
            cells[2].ends_with("(same)") && !cells[2].contains("DIFFER"),
            "{row}"
        );
        assert!(
            cells[4].chars().any(|c| c.is_ascii_digit())
                && cells[5].chars().any(|c| c.is_ascii_digit()),
            "{row}"
        );
    }
}

/// B13/B14 on a small big board: every figure comes out, the attached TUI reads the same
/// bytes per change at both sizes (deltas), and draws each change.
#[test]
fn bigboard_bench_runs_quick() {
    let text = quick("bench/bigboard.py");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT in {text}"));
    let r: serde_json::Value = serde_json::from_str(line).expect("json");
    let b13 = &r["B13"]["raw"];
    assert!(b13["tasks"].as_u64().unwrap_or(0) > 400, "{b13}");
    assert!(b13["frames"].as_u64().unwrap_or(0) > 0, "{b13}");
    assert!(b13["status_json_ms"].as_f64().unwrap_or(0.0) > 0.0, "{b13}");
    assert!(b13["rss_mb"].as_f64().unwrap_or(0.0) > 0.0, "{b13}");
    let (small, big) = (&r["B14"]["raw"]["small"], &r["B14"]["raw"]["big"]);
    let (s, b) = (
        small["bytes_per_change"].as_f64().unwrap_or(0.0),
        big["bytes_per_change"].as_f64().unwrap_or(0.0),
    );
    assert!(s > 0.0 && b > 0.0, "{small} {big}");
    assert!(
        b <= 1.5 * s,
        "bytes per change grow with the board: {s} at {} tasks, {b} at {}",
        small["tasks"],
        big["tasks"]
    );
}

/// Runs a Python harness with `--quick` on the debug binary; its output (it must succeed).
fn quick(script: &str) -> String {
    let out = std::process::Command::new("python3")
        .args([script, "--quick", "--bin", env!("CARGO_BIN_EXE_taskboard")])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}
