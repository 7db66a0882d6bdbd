//! The taskboard binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = taskboard::cli::Cli::parse();
    let code = taskboard::entry::main(cli);
    ExitCode::from(code.clamp(0, 255) as u8)
}
