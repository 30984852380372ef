//! `kv1nt trust [--revoke] [PATH]`: show what the repository's `.kv1nt/config.toml` (and the
//! servers of its `.mcp.json`) set and record (or forget) that the user trusts them, in `<data dir>/trusted.toml`
//! (`engine::config::trust`). A trust holds for the file's current content only.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::engine::config::trust::{self, Status, TRUST_FILE};
use crate::engine::config::{Paths, RepoLayer, repo_layer};
use crate::engine::mcp::project::FILE as MCP_JSON;

#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Forget the trust: the file's held-back settings are ignored again.
    #[arg(long)]
    pub revoke: bool,
    /// The repository (or a directory or file in it); default: the current directory's.
    pub path: Option<PathBuf>,
}

pub fn run(args: &TrustArgs, paths: &Paths) -> Result<i32> {
    let repo = trust::repo_key(&paths.workspace);
    if args.revoke {
        let done = trust::revoke(&paths.data_dir, &repo)?;
        println!(
            "{}: {}",
            repo.display(),
            if done { "no longer trusted" } else { "was not trusted (nothing to revoke)" }
        );
        return Ok(0);
    }
    let layer = match repo_layer(paths)? {
        Some(layer) => layer,
        None => {
            // Nothing to apply, but the repository's commands and skills need a trust too: the
            // absent files are recorded as empty (a config file added later is not trusted).
            let file = paths.repo_config();
            println!(
                "{} does not exist (nor {MCP_JSON}): trusting the repository's commands and skills only",
                file.display()
            );
            RepoLayer {
                table: Default::default(),
                sha256: crate::engine::store::sha256_hex(b""),
                file,
                skipped: Vec::new(),
            }
        }
    };
    let (file, table, sha256) = (layer.file, layer.table, layer.sha256);
    let (_, held) = trust::split(&table);
    let applied: Vec<_> = trust::all_keys(&table).into_iter().filter(|k| !held.contains(k)).collect();
    if !table.is_empty() {
        println!("{} sets:", file.display());
    }
    let list = |title: &str, keys: &[(String, String)]| {
        if !keys.is_empty() {
            println!("  {title}:");
            for (k, v) in keys {
                println!("    {k} = {v}");
            }
        }
    };
    list("held back until trusted (credentials, safety, programs)", &held);
    list("applied in any case", &applied);
    let before = trust::status(&paths.data_dir, &repo, &sha256)?;
    trust::record(&paths.data_dir, &repo, &sha256)?;
    let note = match before {
        Status::Trusted => "was already trusted",
        Status::Changed => "trusted again (it changed since the last trust)",
        Status::Untrusted => "trusted",
    };
    println!(
        "{note}: kv1nt applies this file in full until it changes (sha256 {}…, recorded in {}); \
         `kv1nt exec` still needs --trust",
        &sha256[..12],
        paths.data_dir.join(TRUST_FILE).display()
    );
    Ok(0)
}
