//! What each CLI word does: shared by the binary and `demo`. Errors become a sentence and
//! an exit code (ARCHITECTURE §7), never a backtrace.

use std::collections::BTreeMap;

use crate::cli::{Cli, Cmd, RunArgs};
use crate::config::Config;
use crate::datadir::DataDir;
use crate::{demo, goalfile, headless, runtime, store, view};

/// Runs the parsed command line; returns the process exit code.
pub fn main(cli: Cli) -> i32 {
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("taskboard: {}", e.message);
            e.code
        }
    }
}

/// A user-facing failure: a sentence and an exit code.
pub struct Failure {
    pub message: String,
    pub code: i32,
}

impl Failure {
    pub fn usage(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            code: 2,
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config, Failure> {
    match &cli.config {
        Some(p) => Config::load(Some(p), true),
        None => Config::load(Config::default_path().as_deref(), false),
    }
    .map_err(Failure::usage)
}

fn init_tracing(data: &DataDir) {
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

/// The board's runtime: two workers (the machines this runs on have two cores).
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the runtime: {e}")))
}

fn real_main(cli: Cli) -> Result<i32, Failure> {
    crate::fault::check().map_err(Failure::usage)?;
    if let Some(Cmd::Completions { shell }) = &cli.command {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(*shell, &mut cmd, "taskboard", &mut std::io::stdout());
        return Ok(0);
    }
    if let Some(Cmd::Init { dir }) = &cli.command {
        let config = cli.config.clone().or_else(Config::default_path);
        return crate::init::run(dir, config);
    }
    if let Some(Cmd::Doctor { json }) = &cli.command {
        // Doctor reports a data dir others may write (a ✘ with the fix) rather than refusing.
        let data = DataDir::resolve(cli.data_dir.as_deref());
        return crate::doctor::run(&data, cli.config.as_deref(), *json);
    }
    // Every word trusts the data dir's files (token, endpoint, database): one that others
    // may write is refused before anything is read from it. `demo` alone makes its own.
    if !matches!(cli.command, Some(Cmd::Demo(_))) || cli.data_dir.is_some() {
        DataDir::resolve(cli.data_dir.as_deref())
            .check_private()
            .map_err(Failure::usage)?;
    }
    if let Some(Cmd::Logs { id, follow }) = &cli.command {
        return crate::logs::run(&DataDir::resolve(cli.data_dir.as_deref()), *id, *follow);
    }
    if let Some(Cmd::Mcp { task }) = &cli.command {
        let data = DataDir::resolve(cli.data_dir.as_deref());
        return crate::mcp::run(data, *task).map_err(|e| Failure {
            message: e.to_string(),
            code: 1,
        });
    }
    if let Some(Cmd::Shell { id }) = &cli.command {
        return crate::shell::run(&DataDir::resolve(cli.data_dir.as_deref()), *id);
    }
    if let Some(cmd) = &cli.command {
        let data = DataDir::resolve(cli.data_dir.as_deref());
        if let Some(result) = crate::client_cmds::run(&data, cmd) {
            return result;
        }
    }
    if let Some(Cmd::Up { listen }) = &cli.command {
        load_config(&cli)?;
        return crate::daemon::up(
            &DataDir::resolve(cli.data_dir.as_deref()),
            cli.config.as_deref(),
            listen.as_deref(),
        );
    }
    if let Some(Cmd::Down { force }) = &cli.command {
        return crate::daemon::down(&DataDir::resolve(cli.data_dir.as_deref()), *force);
    }
    let config = load_config(&cli)?;
    if let Some(Cmd::Serve { listen }) = &cli.command {
        let data = DataDir::resolve(cli.data_dir.as_deref());
        init_tracing(&data);
        return crate::daemon::serve(&data, &config, listen.clone());
    }
    match &cli.command {
        Some(Cmd::Run(args)) => {
            let data = DataDir::resolve(cli.data_dir.as_deref());
            run(&data, &config, args)
        }
        Some(Cmd::Demo(args)) => demo::run(cli.data_dir.as_deref(), &config, args),
        Some(Cmd::Status { json }) => {
            let data = DataDir::resolve(cli.data_dir.as_deref());
            status(&data, *json)
        }
        Some(_) => Err(Failure::usage("unknown command")),
        None => {
            let data = DataDir::resolve(cli.data_dir.as_deref());
            init_tracing(&data);
            crate::app::main(
                &data,
                &config,
                crate::app::TuiOpts {
                    goal: None,
                    listen: None,
                    auto_approve: false,
                },
            )
        }
    }
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

fn status(data: &DataDir, json: bool) -> Result<i32, Failure> {
    let db = data.db();
    if !db.exists() {
        if json {
            println!("{}", serde_json::json!({"goals": []}));
        } else {
            println!(
                "no goals yet in {}: `taskboard run FILE` to start one",
                data.root.display()
            );
        }
        return Ok(0);
    }
    let store = store::Store::open_read_only(&db).map_err(Failure::usage)?;
    let board = crate::board::Board::from_tasks(
        store.load_tasks().map_err(Failure::usage)?,
        store.meta("paused").ok().flatten().as_deref() == Some("true"),
    );
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&view::goals_json(&board)).unwrap_or_default()
        );
    } else {
        let endpoint = std::fs::read_to_string(data.endpoint())
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string));
        print!(
            "{}",
            view::tree_text(&board, Some(&data.root), endpoint.as_deref())
        );
    }
    Ok(0)
}

/// Adds a goal straight into the store of a data dir no board runs on.
pub fn add_offline(data: &DataDir, goal: crate::model::NewTask) -> Result<u64, Failure> {
    let _lock = data.lock().map_err(|e| Failure {
        message: e.to_string(),
        code: 3,
    })?;
    let mut store = store::Store::open(&data.db()).map_err(Failure::usage)?;
    let mut board =
        crate::board::Board::from_tasks(store.load_tasks().map_err(Failure::usage)?, false);
    let id = board.add_goal_offline(goal, "cli", crate::model::now_millis());
    let changes = board.take_changes();
    let batch = store::Batch {
        tasks: changes
            .dirty
            .iter()
            .filter_map(|i| board.task(*i).cloned())
            .collect(),
        audit: changes.audit,
        ..store::Batch::default()
    };
    store.commit(&batch).map_err(Failure::usage)?;
    Ok(id)
}
