//! `kv1nt forget [--all] [--yes]`: deletes the learning records — each proposal's outcome and
//! each turn's tokens, what `kv1nt stats` reads — of this workspace's sessions, or of every
//! session with `--all` (`store::forget`).
//!
//! Invariants: says what it will delete before deleting; asks on the terminal, and without one
//! deletes only with `--yes`; sessions, the audit log and the undo ledger are kept.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use clap::Args;

use super::commit::ask;
use crate::engine::store::{LearningRecords, Store};

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// Every session's records, not only this workspace's.
    #[arg(long)]
    pub all: bool,
    /// Delete without asking (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
}

/// `workspace`: the repository kv1nt runs in (its sessions' `cwd`).
pub fn run(args: &ForgetArgs, workspace: &std::path::Path, store: &Store) -> Result<i32> {
    let workspace = workspace.display().to_string();
    let scope = if args.all { None } else { Some(workspace.as_str()) };
    let whose = match scope {
        None => "every session".to_string(),
        Some(w) => format!("the sessions in {w}"),
    };
    let found = store.learning_records(scope)?;
    if found == LearningRecords::default() {
        println!("Nothing to forget: no learning records for {whose}.");
        return Ok(0);
    }
    println!("{} of {whose}.", describe(found));
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            bail!("nothing deleted: there is no terminal to ask (stdin is not one); pass --yes to delete");
        }
        if !matches!(ask(&mut std::io::stdin().lock(), "Delete them? [y/N] ")?.as_str(), "y" | "yes") {
            println!("Nothing deleted.");
            return Ok(1);
        }
    }
    let forgotten = store.forget_learning(scope)?;
    println!("Deleted {}.", describe(forgotten).to_lowercase());
    Ok(0)
}

/// "3 proposal outcomes and the token counts of 2 turns".
fn describe(records: LearningRecords) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{} and the token counts of {}",
        plural(records.proposals, "proposal outcome", "proposal outcomes"),
        plural(records.turns, "turn", "turns")
    )
}
