//! `kv1nt mcp list` (the configured MCP servers, as the config says, without starting them),
//! `kv1nt mcp add|remove NAME` (edits of the user's config: `mcp_edit`)
//! and `kv1nt mcp test NAME` (start one, list its tools with their risk source and its errors,
//! stop it; exit 1 when it did not get ready). Env values are never printed, only their names.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use super::Setup;
use super::mcp_edit::{self, Spec};
use crate::engine::mcp::{McpManager, McpSettings};
use crate::engine::protocol::{McpActivity, Op};

#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(subcommand)]
    pub command: McpCommand,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// List the configured MCP servers ([mcp.servers.NAME]) without starting them.
    List,
    /// Start the server NAME, list its tools, prompts, resources and errors, then stop it.
    Test { name: String },
    /// Add a server to your config: `add NAME -- COMMAND ARGS…` or `add NAME --url URL`.
    Add {
        name: String,
        /// A streamable HTTP server's endpoint, instead of a command.
        #[arg(long)]
        url: Option<String>,
        /// The environment variable holding the bearer token (its name is stored, not its value).
        #[arg(long = "bearer-env", requires = "url", value_name = "VAR")]
        bearer_env: Option<String>,
        /// Replace a server of the same name.
        #[arg(long)]
        force: bool,
        /// The command and its arguments, after `--`.
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Remove a server from your config.
    Remove { name: String },
}

pub async fn run(args: McpArgs, setup: Setup) -> Result<i32> {
    match args.command {
        McpCommand::List => {
            list(&setup.config.mcp);
            Ok(0)
        }
        McpCommand::Test { name } => test(&setup, &name).await,
        McpCommand::Add { name, url, bearer_env, force, command } => {
            let spec = match (url, command.is_empty()) {
                (Some(_), false) => bail!("give either --url or a command after --, not both"),
                (None, true) => bail!(
                    "give the server's command after -- (kv1nt mcp add NAME -- npx -y PACKAGE) or --url URL"
                ),
                (Some(url), true) => Spec::Url { url, bearer_env },
                (None, false) => Spec::Command(command),
            };
            println!("{}", mcp_edit::add(&user_config(&setup)?, &name, spec, force)?);
            Ok(0)
        }
        McpCommand::Remove { name } => {
            println!("{}", mcp_edit::remove(&user_config(&setup)?, &name)?);
            Ok(0)
        }
    }
}

fn list(settings: &McpSettings) {
    if settings.servers.is_empty() && settings.held.is_empty() {
        println!(
            "No MCP servers are configured: add [mcp.servers.NAME] to your config (see README, MCP servers)."
        );
    }
    for (name, s) in &settings.servers {
        let off = if s.enabled { "" } else { " (disabled)" };
        println!("{name}{off}: {}", s.transport());
        if !s.headers.is_empty() {
            let names: Vec<&str> = s.headers.keys().map(String::as_str).collect();
            println!("  headers (values from the environment, not shown): {}", names.join(", "));
        }
        if let Some(var) = &s.bearer_token_env {
            println!("  bearer token from ${var}");
        }
        let env: Vec<&str> =
            s.env.keys().map(String::as_str).chain(s.pass_env.iter().map(String::as_str)).collect();
        if !env.is_empty() {
            println!("  env (besides PATH, HOME): {}", env.join(", "));
        }
        if let Some(cwd) = &s.cwd {
            println!("  cwd: {}", cwd.display());
        }
        println!("  call timeout {} s, start timeout {} s", s.timeout_secs, s.start_timeout_secs);
        if !s.trust_annotations {
            println!("  annotations not trusted: every tool at least medium risk");
        }
        for (tool, t) in &s.tools {
            println!("  {name}__{tool}: {} risk (your config)", t.risk);
        }
    }
    for (name, why) in &settings.held {
        println!("{name}: {why}");
    }
}

fn user_config(setup: &Setup) -> Result<std::path::PathBuf> {
    setup
        .paths
        .user_config
        .clone()
        .ok_or_else(|| anyhow::anyhow!("there is no config directory (no home directory?)"))
}

/// `kv1nt exec '/SERVER:PROMPT key=value …'`, when SERVER is configured (or held back, so the
/// run says why it does not start).
pub fn prompt_op(prompt: &str, settings: &McpSettings) -> Option<Op> {
    let known = |s: &str| settings.servers.contains_key(s) || settings.held.iter().any(|(n, _)| n == s);
    crate::engine::protocol::mcp::slash_op(prompt, &known)
}

/// `kv1nt exec --json`'s line for an MCP server's activity.
pub fn activity_json(a: &McpActivity) -> serde_json::Value {
    serde_json::json!({"type": "mcp", "server": a.server, "what": a.what, "up": a.up, "total": a.total})
}

pub fn activity_text(a: &McpActivity) -> String {
    format!("MCP {}: {} ({}/{} up)", a.server, a.what, a.up, a.total)
}

async fn test(setup: &Setup, name: &str) -> Result<i32> {
    let Some(server) = setup.config.mcp.servers.get(name) else {
        if let Some((_, why)) = setup.config.mcp.held.iter().find(|(n, _)| n == name) {
            bail!("the MCP server `{name}` is not started: {why}");
        }
        let known: Vec<&str> = setup.config.mcp.servers.keys().map(String::as_str).collect();
        bail!(
            "no MCP server `{name}` is configured (configured: {})",
            if known.is_empty() { "none".into() } else { known.join(", ") }
        );
    };
    let mut one = McpSettings::default();
    let mut server = server.clone();
    server.enabled = true;
    one.servers.insert(name.to_string(), server.clone());
    let env = Arc::new(|n: &str| std::env::var(n).ok());
    let manager = McpManager::start(&one, &setup.paths.workspace, env);
    manager.settled(Duration::from_secs(server.start_timeout_secs.max(1) + 5)).await;
    let report = manager.report();
    manager.shutdown();
    let ready = report.iter().all(|r| r.state == "ready");
    for r in &report {
        for line in r.lines() {
            println!("{line}");
        }
    }
    Ok(if ready { 0 } else { 1 })
}
