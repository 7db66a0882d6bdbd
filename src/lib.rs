//! taskboard: a terminal task board that supervises coding agents.
#![forbid(unsafe_code)]

pub mod agent;
pub mod app;
pub mod attach;
pub mod board;
pub mod cli;
pub mod client_cmds;
pub mod command;
pub mod config;
pub mod daemon;
pub mod datadir;
pub mod demo;
pub mod doctor;
pub mod entry;
pub mod fault;
pub mod git;
pub mod goalfile;
pub mod headless;
pub mod hook_cmd;
pub mod http;
pub mod init;
pub mod logs;
pub mod mcp;
pub mod model;
pub mod notify;
pub mod runtime;
pub mod selfexe;
pub mod shell;
pub mod signal_match;
pub mod store;
pub mod tomlcheck;
pub mod ui;
pub mod view;
