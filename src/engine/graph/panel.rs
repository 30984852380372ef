//! The Graph panel's requests: search as you type, an entity's details (callers and callees),
//! and opening an entity's file in Code. Each runs as a task awaiting the graph thread, so the
//! engine keeps going; answers carry the panel's sequence number (the newest wins in the UI).

use tokio::sync::mpsc;

use super::GraphWorker;
use crate::engine::graph::GraphDb;
use crate::engine::protocol::{EntityDetails, GraphOp};
use crate::engine::protocol::{Event, LogLevel};

/// Most results the panel lists.
const PANEL_RESULTS: usize = 40;
/// Files larger than this are not opened in Code from the panel.
const MAX_OPEN_BYTES: u64 = 10 * 1024 * 1024;

fn details(db: &GraphDb, id: i64) -> Option<EntityDetails> {
    let entity = db.entity(id).ok()??;
    let key = entity.qualified_name.clone();
    let callers = db.find_callers(&key).unwrap_or_default();
    let callees = db.find_callees(&key).unwrap_or_default();
    Some(EntityDetails { entity, callers, callees })
}

impl GraphWorker {
    /// Runs a panel request in the background; the answer arrives as an event.
    pub fn panel(&self, op: GraphOp, workspace: std::path::PathBuf, events: mpsc::UnboundedSender<Event>) {
        let graph = self.clone();
        tokio::spawn(async move {
            let event = match op {
                GraphOp::Search { seq, query } => {
                    let vector = graph.embed_query(query.clone()).await;
                    let lexical_only = vector.is_none();
                    let hits = graph
                        .ask(move |db| db.semantic_search(&query, vector.as_deref(), &[], PANEL_RESULTS))
                        .await;
                    match hits {
                        Some(Ok(hits)) => Event::GraphResults {
                            seq,
                            hits: hits.into_iter().map(|h| h.entity).collect(),
                            lexical_only,
                        },
                        Some(Err(e)) => {
                            Event::Log { level: LogLevel::Warn, text: format!("graph search: {e}") }
                        }
                        None => return,
                    }
                }
                GraphOp::Details { seq, id } => match graph.ask(move |db| details(db, id)).await.flatten() {
                    Some(details) => Event::GraphDetails { seq, details: Box::new(details) },
                    None => return,
                },
                GraphOp::Open { id } => {
                    let Some(Ok(Some(entity))) = graph.ask(move |db| db.entity(id)).await else { return };
                    let path = workspace.join(&entity.file);
                    let too_big = std::fs::metadata(&path).map(|m| m.len() > MAX_OPEN_BYTES).unwrap_or(false);
                    match std::fs::read(&path) {
                        Ok(_) if too_big => Event::Notice {
                            level: LogLevel::Warn,
                            text: format!("{} is too large to open here", entity.file),
                        },
                        Ok(bytes) => Event::OpenFile {
                            path: entity.file.clone(),
                            line: entity.start_line as usize,
                            text: String::from_utf8_lossy(&bytes).into_owned(),
                        },
                        Err(e) => Event::Notice {
                            level: LogLevel::Warn,
                            text: format!("cannot open {}: {e}", entity.file),
                        },
                    }
                }
            };
            let _ = events.send(event);
        });
    }
}
