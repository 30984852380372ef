//! `kv1nt config-check`: the environment variables the code reads against `.env.example`
//! (missing, unused), where each is defined (`.env`, compose, Dockerfile, k8s `env:`), and the
//! JSON/YAML/TOML files that declare a JSON Schema validated against it — as text or one JSON
//! object (`--json`). Read-only; no value of any environment file is printed. Exit status 1
//! when a file fails its schema, else 0.

use anyhow::Result;
use clap::Args;

use crate::engine::config::Config;
use crate::engine::config::Paths;
use crate::engine::project::{config_check, render, walk};

#[derive(Debug, Args)]
pub struct ConfigCheckArgs {
    /// One JSON object: examples, variables, missing, unused, schemas, problems.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ConfigCheckArgs, paths: &Paths, config: &Config) -> Result<i32> {
    let root = &paths.workspace;
    let files = walk::files(root);
    let report = config_check::check(root, &files, &config.project_config);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render::config_text(&report));
    }
    Ok(if report.schema_errors() > 0 { 1 } else { 0 })
}
