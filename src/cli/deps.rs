//! `kv1nt deps`: the dependencies the code uses against those the manifests declare — missing,
//! unused, duplicated in a lockfile, conflicting between manifests — as text or one JSON object
//! (`--json`). Read-only: the imports come from the graph's index when there is one (never
//! created here), else from parsing the files now; declaring a missing one is `/deps add NAME`
//! in the TUI or `kv1nt exec '/deps add NAME'`, through the approval gate.

use anyhow::Result;
use clap::Args;

use crate::engine::config::Paths;
use crate::engine::graph::graph_db_path;
use crate::engine::project::{deps, render, walk};

#[derive(Debug, Args)]
pub struct DepsArgs {
    /// One JSON object: source, manifests, lockfiles, missing, unused, duplicates, conflicts, problems.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &DepsArgs, paths: &Paths) -> Result<i32> {
    let root = &paths.workspace;
    let files = walk::files(root);
    let db = graph_db_path(&paths.data_dir, root);
    let usage = deps::Usage::gather(Some(&db), &files);
    let report = deps::report(root, &files, &usage);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render::deps_text(&report));
    }
    Ok(0)
}
