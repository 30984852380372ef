//! `/learn`: mining the repository's conventions and the user's corrections off the engine task
//! (`learning::conventions`), and accepting one — an edit of `KV1NT.md` proposed through the
//! approval gate exactly like a model's edit (dialog, edit with `e`, audit, proposal record,
//! pre-image in the change ledger so `/undo` restores it).
//!
//! Invariants: mining never blocks the op loop (the graph is asked for at most
//! [`super::graph_context::GRAPH_WAIT`], the walk runs under `spawn_blocking` within its
//! `Bounds`); `KV1NT.md` is never written without a verdict of the gate; after it is written the
//! system prompt is rebuilt so the next turn follows the new rule.

use super::gate::{Ask, GateWords, Gated};
use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use crate::engine::approval::GateAction;
use crate::engine::approval::risk::assess;
use crate::engine::learning::conventions::{self, Bounds, Rule, gather};
use crate::engine::protocol::{Event, LogLevel};
use crate::engine::tools::{self, ReadLedger, WriteArgs};

/// The file accepted rules are added to.
pub const KV1NT_FILE: &str = "KV1NT.md";

impl Engine {
    /// Mine in the background; answers `Event::Conventions` (or a notice).
    pub(super) fn learn(&self) {
        let corrections = match &self.store {
            Some(store) => {
                gather::corrections(store, &self.workspace.display().to_string()).unwrap_or_else(|e| {
                    self.log(LogLevel::Warn, format!("learn: the corrections could not be read: {e}"));
                    Vec::new()
                })
            }
            None => Vec::new(),
        };
        let (graph, root, events) = (self.graph.clone(), self.workspace.clone(), self.events.clone());
        tokio::spawn(async move {
            let bounds = Bounds::default();
            let limit = bounds.max_entities;
            let entities = match graph {
                Some(graph) => {
                    let asked = graph.ask(move |db| gather::entities(db, limit));
                    tokio::time::timeout(super::graph_context::GRAPH_WAIT, asked).await.ok().flatten()
                }
                None => None,
            };
            let mined = tokio::task::spawn_blocking(move || {
                conventions::mine(&conventions::gather(
                    &root,
                    entities.unwrap_or_default(),
                    corrections,
                    &bounds,
                ))
            })
            .await;
            let _ = events.send(match mined {
                Ok(rules) => Event::Conventions(rules),
                Err(e) => {
                    Event::Notice { level: LogLevel::Error, text: format!("Mining conventions failed: {e}") }
                }
            });
        });
    }

    /// Propose adding `rule` to `KV1NT.md` through the gate; write it only on approval.
    pub(super) async fn accept_rule(&mut self, rule: Rule) -> LoopControl {
        let Some(workspace) = self.tools_workspace.clone() else {
            self.notice(LogLevel::Error, "Cannot add the rule: the workspace directory cannot be opened.");
            return LoopControl::Continue;
        };
        // Through the workspace guard: a KV1NT.md that links outside the repository is refused.
        let path = match workspace.resolve(KV1NT_FILE, true) {
            Ok((path, _)) => path,
            Err(e) => {
                self.notice(LogLevel::Error, format!("Cannot add the rule: {e}"));
                return LoopControl::Continue;
            }
        };
        let before = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Some(text),
                Err(_) => {
                    self.notice(
                        LogLevel::Error,
                        format!("Cannot add the rule: {KV1NT_FILE} is not UTF-8 text."),
                    );
                    return LoopControl::Continue;
                }
            },
            Err(_) => None,
        };
        let content = conventions::with_rule(before.as_deref(), &rule);
        // A fresh ledger: the content was built from the file as read just now.
        let args = WriteArgs { path: KV1NT_FILE.into(), content };
        let mut proposal = match tools::propose_write(&workspace, &ReadLedger::default(), &args) {
            Ok(p) => p,
            Err(e) => {
                self.notice(LogLevel::Error, format!("Cannot add the rule: {e}"));
                return LoopControl::Continue;
            }
        };
        self.ensure_session();
        let action = GateAction::Edit { changes: vec![proposal.change.clone()] };
        let assessment = assess(&action, &self.workspace);
        let ask = Ask::new(format!("add this convention to {KV1NT_FILE}: {}", rule.text), GateWords::CHANGE)
            .editable();
        let edited = match self.pass_gate(&action, assessment, ask).await {
            Ok(Gated::Proceed { edited }) => edited,
            Ok(Gated::Stop(_) | Gated::Picked(_)) | Err(Interrupt::Cancel) => {
                self.notice(LogLevel::Info, format!("{KV1NT_FILE} was not changed."));
                return LoopControl::Continue;
            }
            Err(Interrupt::Shutdown) => return LoopControl::Shutdown,
        };
        if let Some(content) = edited {
            proposal.change.after = Some(content);
        }
        let outcome = self.apply(&proposal);
        if outcome.is_error {
            self.notice(LogLevel::Error, outcome.content);
        } else {
            self.system_prompt = super::prompt::system_prompt(&self.workspace, &self.config.context);
            self.notice(
                LogLevel::Info,
                format!("Added to {KV1NT_FILE}: {} (/undo takes it back)", rule.text),
            );
        }
        LoopControl::Continue
    }
}
