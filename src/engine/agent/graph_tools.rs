//! Running the model's graph tools against the repository's index, and formatting the answers
//! compactly (one line per entity: kind, qualified name, file:lines, then the signature).

use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::graph::{Entity, EntityKey, GraphDb, RelationKind};
use crate::engine::protocol::{GraphOp, LogLevel};
use crate::engine::tools::GraphQuery;

/// One entity as the model reads it.
pub(super) fn describe(e: &Entity) -> String {
    let mut line =
        format!("{} {} — {}:{}-{}", e.kind.as_str(), e.qualified_name, e.file, e.start_line, e.end_line);
    if !e.signature.is_empty() {
        line.push_str("\n    ");
        line.push_str(e.signature.lines().next().unwrap_or_default().trim());
    }
    line
}

/// "no entity named X" with the closest names, so the model can retry.
fn unknown(db: &GraphDb, name: &str) -> String {
    let close: Vec<String> = db
        .lexical_search(name, &[], 5)
        .unwrap_or_default()
        .into_iter()
        .map(|h| h.entity.qualified_name)
        .collect();
    if close.is_empty() {
        format!("No entity named `{name}` in the index.")
    } else {
        format!("No entity named `{name}` in the index. Close names: {}", close.join(", "))
    }
}

fn run(db: &GraphDb, query: GraphQuery, vector: Option<Vec<f32>>) -> Result<String, String> {
    let e = |e: crate::engine::graph::GraphError| e.to_string();
    match query {
        GraphQuery::Search { query, kind, limit } => {
            let kinds: Vec<_> = kind.into_iter().collect();
            let hits = db.semantic_search(&query, vector.as_deref(), &kinds, limit).map_err(e)?;
            if hits.is_empty() {
                return Ok(format!("Nothing in the index matches `{query}`. Try other words, or grep."));
            }
            Ok(hits.iter().map(|h| describe(&h.entity)).collect::<Vec<_>>().join("\n"))
        }
        GraphQuery::Callers { name } => {
            if db.find_entities(&name).map_err(e)?.is_empty() {
                return Err(unknown(db, &name));
            }
            let callers = db.find_callers(&name).map_err(e)?;
            if callers.is_empty() {
                return Ok(format!("No callers of `{name}` were found in the repository."));
            }
            let lines: Vec<String> = callers
                .iter()
                .map(|(c, strength)| format!("{} (link strength {strength:.1})", describe(c)))
                .collect();
            Ok(format!("{} callers of `{name}`:\n{}", callers.len(), lines.join("\n")))
        }
        GraphQuery::Related { name, depth } => {
            if db.find_entities(&name).map_err(e)?.is_empty() {
                return Err(unknown(db, &name));
            }
            let related =
                db.query_related(EntityKey::Name(&name), depth as u32, &RelationKind::ALL).map_err(e)?;
            if related.is_empty() {
                return Ok(format!("Nothing is related to `{name}` in the index."));
            }
            let lines: Vec<String> = related
                .iter()
                .take(60)
                .map(|r| {
                    let arrow = if r.outgoing { "→" } else { "←" };
                    format!("[{} {arrow} depth {}] {}", r.via.as_str(), r.depth, describe(&r.entity))
                })
                .collect();
            Ok(lines.join("\n"))
        }
        GraphQuery::FileContext { path } => {
            let text = db.architectural_context(path.trim_start_matches("./")).map_err(e)?;
            if text.trim().is_empty() {
                return Ok(format!(
                    "The index has nothing for `{path}` (not a source file, or not indexed)."
                ));
            }
            Ok(text)
        }
    }
}

impl Engine {
    /// A graph tool call: (content for the model, is_error).
    /// Every wait is bounded ([`Engine::graph_wait`]): a busy index answers "try again".
    pub(in crate::engine) async fn graph_tool(
        &mut self,
        query: GraphQuery,
    ) -> Result<(String, bool), Interrupt> {
        let Some(graph) = self.graph.clone() else {
            return Ok((
                "The code index is unavailable in this session; use grep and read_file.".into(),
                true,
            ));
        };
        let busy = || ("The code index is busy, try again (or use grep and read_file).".to_string(), true);
        let vector = match &query {
            GraphQuery::Search { query, .. } => {
                match self.graph_wait("a search vector", graph.embed_query(query.clone())).await? {
                    Some(vector) => vector,
                    None => return Ok(busy()),
                }
            }
            _ => None,
        };
        Ok(match self.graph_wait("a graph tool", graph.ask(move |db| run(db, query, vector))).await? {
            None => busy(),
            Some(Some(Ok(text))) => (text, false),
            Some(Some(Err(text))) => (text, true),
            Some(None) => ("The code index stopped; use grep and read_file.".into(), true),
        })
    }
}

impl Engine {
    /// A Graph panel request (answered in the background; says so when there is no index).
    pub(in crate::engine) fn graph_panel(&self, op: GraphOp) {
        match &self.graph {
            Some(graph) => graph.panel(op, self.workspace.clone(), self.events.clone()),
            None => self.log(LogLevel::Warn, "the knowledge graph is unavailable in this session"),
        }
    }
}
