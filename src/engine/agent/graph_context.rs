//! The prompt's "semantic summary" and "related code" sections (the seed's context budgets),
//! filled from the graph for the files the conversation is about: files the model read or edited
//! through tools, and paths the user named that exist.
//!
//! Invariants: a turn never waits on the graph for more than [`GRAPH_WAIT`] and Esc ends the
//! wait (on timeout the step goes without the sections); the sections pass the same injection
//! screen as tool results ([`Engine::screen`]) before they reach the system prompt; with no
//! file in view, a map of the repository (its most-used definitions) takes their place within a
//! sixteenth of the window; each section stays within its budget (4 bytes a token, as everywhere in the
//! context manager) and within an eighth of the model's window, so a small local model is never
//! crowded out; with no index nothing is added.

use std::collections::BTreeSet;

use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::graph::{EntityKey, GraphDb, RelationKind};
use crate::engine::llm::Message;
use crate::engine::protocol::LogLevel;

use super::graph_tools::describe;

/// The longest a turn waits for any graph answer (sections, tools); the graph thread answers
/// between index batches, so only a stuck graph (a held index lock, a slow embedder) hits it.
pub(super) const GRAPH_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// At most this many files feed the sections (the most recently mentioned).
const MAX_FILES: usize = 8;

/// Workspace-relative paths the conversation mentions, most recent last.
fn files_in_view(history: &[Message], workspace: &std::path::Path) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut push = |p: &str| {
        let p = p.trim_start_matches("./").to_string();
        if !p.is_empty() && workspace.join(&p).is_file() {
            seen.retain(|q| *q != p);
            seen.push(p);
        }
    };
    for m in history {
        for call in &m.tool_calls {
            if let Some(path) = call.arguments.get("path").and_then(|v| v.as_str()) {
                push(path);
            }
        }
        if m.role == crate::engine::llm::Role::User {
            for word in m.text.split(|c: char| c.is_whitespace() || "`'\"(),;".contains(c)) {
                if word.contains('/') || word.contains('.') {
                    push(word.trim_start_matches('@').trim_end_matches([':', '.']));
                }
            }
        }
    }
    let skip = seen.len().saturating_sub(MAX_FILES);
    seen.into_iter().skip(skip).collect()
}

fn sections(db: &GraphDb, files: &[String], summary_bytes: usize, related_bytes: usize) -> String {
    let mut summary = String::new();
    for file in files.iter().rev() {
        let Ok(text) = db.architectural_context(file) else { continue };
        if text.trim().is_empty() || summary.len() + text.len() > summary_bytes {
            continue;
        }
        summary.push_str(&text);
        summary.push('\n');
    }
    let mut related = String::new();
    let mut shown: BTreeSet<i64> = BTreeSet::new();
    'files: for file in files.iter().rev() {
        for id in entity_ids_in(db, file) {
            let Ok(near) = db.query_related(EntityKey::Id(id), 1, &RelationKind::ALL) else { continue };
            for r in near.into_iter().filter(|r| r.entity.file != *file) {
                if !shown.insert(r.entity.id) {
                    continue;
                }
                let line = format!("{}\n", describe(&r.entity));
                if related.len() + line.len() > related_bytes {
                    break 'files;
                }
                related.push_str(&line);
            }
        }
    }
    let mut out = String::new();
    if !summary.is_empty() {
        out.push_str("\n\n# Semantic summary of the files in view (from kv1nt's code index)\n\n");
        out.push_str(summary.trim_end());
    }
    if !related.is_empty() {
        out.push_str("\n\n# Related code elsewhere in the repository (from kv1nt's code index)\n\n");
        out.push_str(related.trim_end());
    }
    out
}

/// The repository map section (empty when the index has no used definitions yet).
fn map_section(db: &GraphDb, bytes: usize) -> String {
    match db.repo_map(bytes) {
        Ok(map) if !map.is_empty() => format!(
            "\n\n# Map of the repository (its most-used definitions, from kv1nt's code index)\n\n{}",
            map.trim_end()
        ),
        _ => String::new(),
    }
}

/// The ids of the entities defined in `file`, in line order.
fn entity_ids_in(db: &GraphDb, file: &str) -> Vec<i64> {
    let conn = db.connection();
    let Ok(mut stmt) = conn.prepare_cached("SELECT id FROM entities WHERE file = ?1 ORDER BY start_line, id")
    else {
        return Vec::new();
    };
    stmt.query_map([file], |r| r.get(0)).map(|rows| rows.flatten().collect()).unwrap_or_default()
}

impl Engine {
    /// Wait for a graph answer for at most [`GRAPH_WAIT`], yielding to Esc; `None` on timeout
    /// (logged, naming `what`).
    pub(super) async fn graph_wait<T>(
        &mut self,
        what: &str,
        answer: impl Future<Output = T>,
    ) -> Result<Option<T>, Interrupt> {
        match self.unless_interrupted(tokio::time::timeout(GRAPH_WAIT, answer)).await? {
            Ok(answer) => Ok(Some(answer)),
            Err(_) => {
                let secs = GRAPH_WAIT.as_secs();
                self.log(LogLevel::Warn, format!("graph: no answer for {what} within {secs} s (index busy)"));
                Ok(None)
            }
        }
    }

    /// The screened graph sections for the next step; empty when the graph does not answer in
    /// time.
    pub(super) async fn prompt_graph_sections(&mut self, window_tokens: usize) -> Result<String, Interrupt> {
        let answer = self.graph_context(window_tokens);
        let text = self.graph_wait("the prompt's graph sections", answer).await?.unwrap_or_default();
        if text.is_empty() {
            return Ok(text);
        }
        Ok(self.screen("the code index's prompt sections", text).0)
    }

    /// The graph sections for the next request (empty without files in view or an index).
    /// (A future that does not borrow the engine, so the engine task stays `Send`.)
    fn graph_context(&self, window_tokens: usize) -> impl Future<Output = String> + Send + 'static {
        let graph = self.graph.clone();
        let files = files_in_view(self.history.held(), &self.workspace);
        let cap = window_tokens.saturating_mul(4) / 8;
        let budgets = &self.config.context;
        let summary = budgets.semantic_summary.saturating_mul(4).min(cap);
        let related = budgets.related_code.saturating_mul(4).min(cap);
        // With no file in view, a map of the repository takes part of the codebase budget.
        let map = related.min(window_tokens.saturating_mul(4) / 16);
        async move {
            match graph {
                Some(graph) if !files.is_empty() => {
                    graph.ask(move |db| sections(db, &files, summary, related)).await.unwrap_or_default()
                }
                Some(graph) => graph.ask(move |db| map_section(db, map)).await.unwrap_or_default(),
                None => String::new(),
            }
        }
    }
}
