//! What each CLI word does: the binary's dispatch to the modules that do the work. Errors
//! become a sentence and an exit code (ARCHITECTURE §7), never a backtrace.

use crate::cli::{Cli, Cmd};
use crate::config::Config;
use crate::datadir::DataDir;
use crate::demo;
use crate::failure::Failure;
use crate::run::{init_tracing, run};

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

fn load_config(cli: &Cli) -> Result<Config, Failure> {
    match &cli.config {
        Some(p) => Config::load(Some(p), true),
        None => Config::load(Config::default_path().as_deref(), false),
    }
    .map_err(Failure::usage)
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
            crate::status_cmd::status(&data, *json)
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
