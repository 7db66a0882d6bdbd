//! The `run` word (shared by the binary and `demo`): a goal file on the TUI, or headless
//! until its goals settle; and the trace log every long-running command writes.

use std::collections::BTreeMap;

use crate::cli::RunArgs;
use crate::config::Config;
use crate::datadir::DataDir;
use crate::failure::{runtime, Failure};
use crate::{goalfile, headless, runtime};

/// Sends `tracing` output to the data dir's trace log (best effort).
pub fn init_tracing(data: &DataDir) {
    if data.create().is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.trace_log())
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

pub fn run(data: &DataDir, config: &Config, args: &RunArgs) -> Result<i32, Failure> {
    // Validate the goal file before anything touches the data dir.
    let goal = match &args.file {
        Some(f) => {
            let vars: BTreeMap<String, String> = args.vars.iter().cloned().collect();
            let mut goal = goalfile::load_file(f, &vars).map_err(Failure::usage)?;
            crate::git::fill_signal_repos(&mut goal);
            Some(goal)
        }
        None => None,
    };
    init_tracing(data);
    if !args.headless {
        let opts = crate::app::TuiOpts {
            goal,
            listen: args.listen.clone(),
            auto_approve: args.auto_approve,
        };
        return crate::app::main(data, config, opts);
    }
    let rt = runtime()?;
    rt.block_on(async {
        let wiring = runtime::Wiring {
            listen: args.listen.clone(),
            pane_size: None,
            notices_from_start: true,
        };
        let running = runtime::start_board(data, config, wiring).map_err(|e| Failure {
            message: e.to_string(),
            code: e.exit_code(),
        })?;
        println!(
            "listening on {} (token in {})",
            running.listener.url,
            data.token().display()
        );
        let opts = headless::HeadlessOpts {
            goal,
            auto_approve: args.auto_approve,
            timeout: args.timeout,
        };
        let code = headless::run(&running.handle, opts).await;
        running.shutdown().await;
        Ok(code)
    })
}
