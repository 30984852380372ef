//! The Graph panel's requests: search as you type, an entity's details (callers and callees),
//! and opening an entity's file in Code. Each runs as a task awaiting the graph thread, so the
//! engine keeps going; answers carry the panel's sequence number (the newest wins in the UI).

use tokio::sync::mpsc;

use super::Codebase;
use crate::engine::graph::{Entity, GraphDb};
use crate::engine::protocol::{Event, LogLevel};

/// Most results the panel lists.
const PANEL_RESULTS: usize = 40;
/// Files larger than this are not opened in Code from the panel.
const MAX_OPEN_BYTES: u64 = 10 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum GraphOp {
    /// Answers `Event::GraphResults`.
    Search { seq: u64, query: String },
    /// Answers `Event::GraphDetails`.
    Details { seq: u64, id: i64 },
    /// Answers `Event::OpenFile` with the entity's file, at its first line.
    Open { id: i64 },
}

/// One entity's neighbourhood for the panel.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityDetails {
    pub entity: Entity,
    pub callers: Vec<(Entity, f32)>,
    pub callees: Vec<(Entity, f32)>,
}

fn details(db: &GraphDb, id: i64) -> Option<EntityDetails> {
    let entity = db.entity(id).ok()??;
    let key = entity.qualified_name.clone();
    let callers = db.find_callers(&key).unwrap_or_default();
    let callees = db.find_callees(&key).unwrap_or_default();
    Some(EntityDetails { entity, callers, callees })
}

impl Codebase {
    /// Runs a panel request in the background; the answer arrives as an event.
    pub fn panel(&self, op: GraphOp, workspace: std::path::PathBuf, events: mpsc::UnboundedSender<Event>) {
        let codebase = self.clone();
        tokio::spawn(async move {
            let event = match op {
                GraphOp::Search { seq, query } => {
                    let vector = codebase.embed_query(query.clone()).await;
                    let lexical_only = vector.is_none();
                    let hits = codebase
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
                GraphOp::Details { seq, id } => match codebase.ask(move |db| details(db, id)).await.flatten()
                {
                    Some(details) => Event::GraphDetails { seq, details: Box::new(details) },
                    None => return,
                },
                GraphOp::Open { id } => {
                    let Some(Ok(Some(entity))) = codebase.ask(move |db| db.entity(id)).await else { return };
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
