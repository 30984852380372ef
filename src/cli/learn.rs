//! `kv1nt learn`: the conventions kv1nt noticed in this repository and in the user's
//! corrections, each with its evidence — as text or one JSON array (`--json`). Read-only:
//! adding a rule to `KV1NT.md` goes through the approval dialog of `/learn` in the TUI.
//!
//! Invariants: nothing is written (the graph's index is read only when it exists, never
//! created: without it the naming rules are left out and stderr says so, unless `--json`);
//! text from the repository is printed without control characters.

use anyhow::Result;
use clap::Args;

use crate::engine::config::Paths;
use crate::engine::graph::{GraphDb, graph_db_path};
use crate::engine::learning::conventions::{
    self, Bounds, MIN_CASES, MIN_CORRECTIONS, MIN_SHARE, Rule, gather,
};
use crate::engine::store::Store;

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Print one JSON array of rules (id, category, text, evidence {count, total, examples}).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &LearnArgs, paths: &Paths, store: &Store) -> Result<()> {
    let bounds = Bounds::default();
    let root = &paths.workspace;
    let db_path = graph_db_path(&paths.data_dir, root);
    let entities = match db_path.exists().then(|| GraphDb::open(&db_path)) {
        Some(Ok(db)) => gather::entities(&db, bounds.max_entities),
        _ => {
            if !args.json {
                eprintln!("kv1nt: no index of this repository: naming rules need `kv1nt index` first");
            }
            Vec::new()
        }
    };
    let corrections = gather::corrections(store, &root.display().to_string())?;
    let rules = conventions::mine(&conventions::gather(root, entities, corrections, &bounds));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rules)?);
    } else {
        print!("{}", render(&rules));
    }
    Ok(())
}

/// The list as `kv1nt learn` prints it.
pub fn render(rules: &[Rule]) -> String {
    let threshold = format!(
        "at least {} % of at least {MIN_CASES} cases, a config file, or a correction you made in {MIN_CORRECTIONS}+ proposals",
        (MIN_SHARE * 100.0) as u32
    );
    if rules.is_empty() {
        return format!("No convention has strong enough evidence yet ({threshold}).\n");
    }
    let mut out = format!("kv1nt learn — {} conventions with strong evidence ({threshold})\n", rules.len());
    for rule in rules {
        out.push_str(&format!("\n[{}] {}\n", rule.category.as_str(), rule.text));
        out.push_str(&format!("    {} · id {}\n", rule.evidence.share(), rule.id));
        for example in &rule.evidence.examples {
            out.push_str(&format!("    e.g. {example}\n"));
        }
    }
    out.push_str("\nAdd one to KV1NT.md with /learn in kv1nt (it asks first, like any edit).\n");
    out
}
