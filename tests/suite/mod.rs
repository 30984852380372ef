//! The integration tests, one module per area of kv1nt (each was its own test binary before).
//! Test names are `suite::<module>::<test>`.

mod agent;
mod approval;
mod architecture;
mod cli;
mod engine;
mod git_assist;
mod git_cli;
mod git_flow;
mod git_gate;
mod graph;
mod graph_busy;
mod graph_cli;
mod graph_engine;
mod harness;
mod ledger;
mod ledger_fail_closed;
mod log_file;
mod providers;
mod pty_e2e;
mod pty_git;
mod pty_trust;
mod real_model;
mod run_tool;
mod sandbox;
mod sandbox_fail_closed;
mod sandbox_git;
mod sandbox_helper;
mod store;
mod tools;
mod trust;
mod ui;
mod ui_git;
mod ui_graph;
mod ui_run;
mod vcs;
