//! The knowledge-graph commands: `kv1nt index`, `kv1nt search` and `kv1nt graph …`.
//!
//! Layout: the arguments and what the commands share (opening an existing index, entity output
//! as text or JSON, "did you mean" suggestions) are here; [`index`] builds the index (progress,
//! stats, `--embed`), [`query`] answers `search` and `graph`.
//!
//! Invariants:
//! - The database is the repository's ([`graph_db_path`] of the data dir and the workspace
//!   root); read commands never create it: without one they say to run `kv1nt index` (exit 1).
//! - With `--json`, stdout carries exactly one JSON value (an array of entities, or one object
//!   for stats and index); notes and progress go to stderr, and only without `--json`.
//! - An unknown name is an error (exit 1) naming close matches from the index.

mod index;
mod query;

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::engine::config::Paths;
use crate::engine::graph::{Entity, EntityKind, GraphDb, GraphError, graph_db_path};

pub use index::run as index;
pub use query::{graph, search};

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// A directory (or file) in the repository to index; the whole repository is indexed.
    pub path: Option<PathBuf>,
    /// Then embed new entities with the configured embedding model ([graph] embed).
    #[arg(long)]
    pub embed: bool,
    /// Print the stats as one JSON object (no progress).
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for another index run of this repository before giving up.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub wait: u64,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for: names, words of signatures and doc comments.
    #[arg(required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Only entities of this type (repeatable): module, class, struct, enum, trait, interface,
    /// function, method, variable, constant, api_endpoint, database_model.
    #[arg(long = "type", value_name = "T", value_parser = parse_kind)]
    pub types: Vec<EntityKind>,
    /// At most this many results.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print an array of JSON objects.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(subcommand)]
    pub command: GraphCommand,
}

#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// Who calls NAME (a qualified or short name); --depth follows callers of callers.
    Callers(NameArgs),
    /// What NAME calls; --depth follows further.
    Callees(NameArgs),
    /// The modules a module (by name) or file (by path) depends on.
    Deps(NameArgs),
    /// Everything within --depth edges of NAME (default 2), any relation, either direction.
    Related(NameArgs),
    /// Counts of files, entities by type, relations by kind, embeddings.
    Stats {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct NameArgs {
    /// A qualified name (`app.utils.is_valid_email`, `crate::text::diff`), a short name, or for
    /// `deps` a file path relative to the repository root.
    pub name: String,
    /// How many edges to follow (callers, callees, deps: 1; related: 2).
    #[arg(long, value_name = "N")]
    pub depth: Option<u32>,
    /// Print an array of JSON objects.
    #[arg(long)]
    pub json: bool,
}

fn parse_kind(name: &str) -> Result<EntityKind, String> {
    EntityKind::parse(name).ok_or_else(|| {
        let all: Vec<&str> = EntityKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("`{name}` is not an entity type; use one of {}", all.join(", "))
    })
}

/// Opens the index of the workspace's repository; an error (exit 1) when there is none yet.
fn open_existing(paths: &Paths) -> Result<GraphDb> {
    const NO_INDEX: &str = "no index for this repository; run `kv1nt index` first";
    let path = graph_db_path(&paths.data_dir, &paths.workspace);
    if !path.exists() {
        bail!(NO_INDEX);
    }
    let db = GraphDb::open(&path)?;
    if let Some(notice) = db.notice() {
        eprintln!("kv1nt: {notice}");
    }
    let indexed: bool = db.connection().query_row("SELECT EXISTS (SELECT 1 FROM files)", [], |r| r.get(0))?;
    if !indexed {
        bail!(NO_INDEX);
    }
    Ok(db)
}

/// An entity as a JSON object: name, qualified_name, type, file, line, end_line, signature.
fn entity_json(e: &Entity) -> Value {
    json!({
        "name": e.name,
        "qualified_name": e.qualified_name,
        "type": e.kind.as_str(),
        "file": e.file,
        "line": e.start_line,
        "end_line": e.end_line,
        "signature": e.signature,
    })
}

/// Adds `extra`'s fields to the entity object.
fn entity_json_with(e: &Entity, extra: Value) -> Value {
    let mut v = entity_json(e);
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    v
}

/// One aligned text line: `kind  qualified_name  file:line  signature`.
fn entity_line(e: &Entity) -> String {
    let sig = e.signature.lines().next().unwrap_or("").trim();
    let mut line = format!("{:<14} {}  {}:{}", e.kind.as_str(), e.qualified_name, e.file, e.start_line);
    if !sig.is_empty() {
        line.push_str("  ");
        line.push_str(&truncate(sig, 100));
    }
    line
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// A graph error, with "did you mean" names for an unknown entity.
fn explain(db: &GraphDb, error: GraphError) -> anyhow::Error {
    let GraphError::NoSuchEntity(name) = &error else { return error.into() };
    let close = suggestions(db, name);
    if close.is_empty() {
        anyhow::anyhow!("no entity named `{name}` in the graph (try `kv1nt search {name}`)")
    } else {
        anyhow::anyhow!("no entity named `{name}` in the graph; did you mean {}?", close.join(", "))
    }
}

/// Up to five qualified names close to `name`: lexical hits on its words, nearest spelling first.
fn suggestions(db: &GraphDb, name: &str) -> Vec<String> {
    let words = split_words(name);
    let Ok(hits) = db.lexical_search(&words.join(" "), &[], 40) else { return Vec::new() };
    let short = name.rsplit(['.', ':', '/']).next().unwrap_or(name).to_lowercase();
    let mut scored: Vec<(usize, usize, String)> = Vec::new();
    for (rank, hit) in hits.into_iter().enumerate() {
        let qn = hit.entity.qualified_name;
        if scored.iter().any(|(_, _, q)| *q == qn) {
            continue;
        }
        scored.push((edit_distance(&hit.entity.name.to_lowercase(), &short), rank, qn));
    }
    scored.sort();
    scored.into_iter().take(5).map(|(_, _, qn)| format!("`{qn}`")).collect()
}

/// The words of an identifier path: split at non-alphanumerics and lower→upper case changes.
fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            prev_lower = false;
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_numeric();
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diag + usize::from(ca != *cb));
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

fn print_json(value: &Value) -> Result<()> {
    emit(&format!("{}\n", serde_json::to_string_pretty(value)?));
    Ok(())
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error worth a message.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_distance() {
        assert_eq!(split_words("app.utils.is_valid_emal"), ["app", "utils", "is", "valid", "emal"]);
        assert_eq!(split_words("crate::TextDiff::groupedOps"), ["crate", "Text", "Diff", "grouped", "Ops"]);
        assert_eq!(edit_distance("is_valid_email", "is_valid_emal"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
