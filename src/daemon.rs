//! `taskboard up` / `down`: the board in the background, in its own session, so agents
//! outlive the terminal. The TUI attaches to it through the listener.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::datadir::DataDir;
use crate::failure::Failure;
use crate::http::client::Client;

/// Starts `taskboard serve` detached and returns once its listener answers.
pub fn up(
    data: &DataDir,
    config_path: Option<&Path>,
    listen: Option<&str>,
) -> Result<i32, Failure> {
    if let Some(pid) = data.running_pid() {
        return Err(Failure {
            message: format!(
                "a board already runs on {} (pid {pid})",
                data.root.display()
            ),
            code: 3,
        });
    }
    data.create().map_err(Failure::usage)?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.trace_log())
        .map_err(|e| Failure::usage(format!("cannot open {}: {e}", data.trace_log().display())))?;
    let exe = std::env::current_exe()
        .map_err(|e| Failure::usage(format!("cannot find this program: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--data-dir").arg(&data.root);
    if let Some(c) = config_path {
        cmd.arg("--config").arg(c);
    }
    cmd.arg("serve");
    if let Some(l) = listen {
        cmd.arg("--listen").arg(l);
    }
    let err = log.try_clone().map_err(|e| Failure::usage(e.to_string()))?;
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| Failure::usage(format!("cannot start the board: {e}")))?;
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let tail = std::fs::read_to_string(data.trace_log()).unwrap_or_default();
            let last = tail
                .lines()
                .rev()
                .find(|l| l.starts_with("taskboard:"))
                .unwrap_or("see the log")
                .to_string();
            return Err(Failure {
                message: format!("the board did not start: {last}"),
                code: status.code().unwrap_or(1),
            });
        }
        if let Ok(client) = Client::discover(data) {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure::usage(e.to_string()))?;
            if rt
                .block_on(client.call("GET", "/api/health", None, None))
                .is_ok()
            {
                println!(
                    "board running on {} (pid {}, {})",
                    data.root.display(),
                    child.id(),
                    client.url
                );
                return Ok(0);
            }
        }
        if Instant::now() > end {
            let _ = child.kill();
            return Err(Failure {
                message: "the board did not answer within 20 s (see taskboard.log in the data dir)"
                    .into(),
                code: 1,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The detached board: its own session, no terminal, until SIGTERM/SIGINT.
pub fn serve(data: &DataDir, config: &Config, listen: Option<String>) -> Result<i32, Failure> {
    // Fails only when we already lead a session (run by hand from a login shell): fine.
    let _ = nix::unistd::setsid();
    let rt = crate::failure::runtime()?;
    rt.block_on(async {
        let wiring = crate::runtime::Wiring {
            listen,
            pane_size: None,
            notices_from_start: false,
        };
        let running = crate::runtime::start_board(data, config, wiring).map_err(|e| Failure {
            message: e.to_string(),
            code: e.exit_code(),
        })?;
        tracing::info!(url = %running.listener.url, "board serving in the background");
        stop_signal().await;
        tracing::info!("stopping: ending every agent session");
        running.shutdown().await;
        Ok(0)
    })
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    loop {
        tokio::select! {
            _ = term.recv() => return,
            _ = int.recv() => return,
            // No terminal to lose: a hangup changes nothing.
            _ = hup.recv() => continue,
        }
    }
}

/// Stops the background board; asks first when agents are running (unless `force`).
pub fn down(data: &DataDir, force: bool) -> Result<i32, Failure> {
    let Some(pid) = data.running_pid() else {
        return Err(Failure {
            message: format!("no board is running on {}", data.root.display()),
            code: 1,
        });
    };
    if !force {
        let running = running_agents(data);
        if running > 0 {
            let question = format!(
                "{running} agent(s) are running; stopping the board stops them. Stop? [y/N] "
            );
            if !std::io::stdin().is_terminal() {
                return Err(Failure {
                    message: format!(
                        "{running} agent(s) are running: `taskboard down --force` stops them too"
                    ),
                    code: 1,
                });
            }
            eprint!("{question}");
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                println!("left running");
                return Ok(1);
            }
        }
    }
    stop_board(data, pid).map_err(|message| Failure { message, code: 1 })?;
    println!("board stopped (pid {pid})");
    Ok(0)
}

/// Asks the background board `pid` to stop (it ends every agent session) and waits until
/// it has let go of the data dir. Blocking.
pub fn stop_board(data: &DataDir, pid: u32) -> Result<(), String> {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let end = Instant::now() + Duration::from_secs(20);
    while data.running_pid().is_some() {
        if Instant::now() > end {
            return Err(format!("the board (pid {pid}) did not stop within 20 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn running_agents(data: &DataDir) -> usize {
    let Ok(client) = Client::discover(data) else {
        return 0;
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return 0;
    };
    let Ok(v) = rt.block_on(client.call("GET", "/api/goals", None, None)) else {
        return 0;
    };
    let mut n = 0;
    let mut stack: Vec<serde_json::Value> = v["goals"].as_array().cloned().unwrap_or_default();
    while let Some(t) = stack.pop() {
        if t["kind"] == "agent" && t["status"] == "active" {
            n += 1;
        }
        stack.extend(t["children"].as_array().cloned().unwrap_or_default());
    }
    n
}
