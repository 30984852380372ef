//! `/undo` and `/rewind`: restoring files from the session's change ledger (pre-images). Both show the diff
//! and ask first (through the same approval request as edits, never auto-approved), refuse to
//! silently overwrite changes the user made since, and are audited.
//!
//! Planning, restoring and crash recovery are `engine::undo` (shared with `kv1nt undo` and
//! `kv1nt rewind`): a restore writes all of its files or none (`tools::restore`, journaled so a
//! crash part-way is rolled back on the next start) and marks its changes undone in one
//! transaction; its audit row is written before any file is.
//!
//! A change left `pending` by a crash between approval and write is reconciled when the session
//! is reopened: written → `applied` (so `/undo` can restore it), not written → `undone`.

use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use crate::engine::protocol::{ApprovalDecision, ApprovalRequest, ChangeSummary, Event, LogLevel, Op};
use crate::engine::store::sha256_hex;
use crate::engine::undo::{self, Plan, PlanError, Restore};

impl Engine {
    pub(super) fn list_changes(&self) {
        let (Some(store), Some(session)) = (&self.store, &self.session) else {
            return self.emit(Event::Changes(Vec::new()));
        };
        let changes = store.changes(&session.id).unwrap_or_default();
        let list = changes
            .into_iter()
            .map(|c| ChangeSummary { id: c.id, time: c.time, description: c.description, state: c.state })
            .collect();
        self.emit(Event::Changes(list));
    }

    pub(super) async fn undo(&mut self) -> LoopControl {
        let plan = match (&self.store, &self.session, &self.tools_workspace) {
            (Some(store), Some(session), Some(ws)) => undo::plan_undo(store, &session.id, ws),
            _ => Ok(Plan::Nothing(undo::NOTHING_TO_UNDO.to_string())),
        };
        match plan {
            Ok(Plan::Ready(restore)) => self.restore(restore).await,
            Ok(Plan::Nothing(why)) => self.info(why),
            Err(e) => {
                self.notice(LogLevel::Error, format!("Cannot undo: {e}"));
                LoopControl::Continue
            }
        }
    }

    pub(super) async fn rewind(&mut self, to: i64) -> LoopControl {
        let plan = match (&self.store, &self.session, &self.tools_workspace) {
            (Some(store), Some(session), Some(ws)) => undo::plan_rewind(store, &session.id, to, ws),
            _ if to != 0 => Err(PlanError::NoSuchChange(to)),
            _ => Ok(Plan::Nothing(undo::already_rewound(to))),
        };
        match plan {
            Ok(Plan::Ready(restore)) => self.restore(restore).await,
            Ok(Plan::Nothing(why)) => self.info(why),
            Err(PlanError::NoSuchChange(_)) => {
                self.notice(
                    LogLevel::Warn,
                    format!("There is no change #{to} in this session (see /rewind)."),
                );
                LoopControl::Continue
            }
            Err(e) => {
                self.notice(LogLevel::Error, format!("Cannot rewind: {e}"));
                LoopControl::Continue
            }
        }
    }

    /// Show the restore as an approval request; on yes write it and mark its changes undone.
    async fn restore(&mut self, restore: Restore) -> LoopControl {
        let (action, assessment) = undo::describe(&restore, &self.workspace);
        let title = restore.title.clone();
        let id = self.next_request_id();
        let request = ApprovalRequest {
            id,
            action: action.clone(),
            risk: assessment.risk,
            reasons: assessment.reasons.clone(),
            summary: title.clone(),
            session_scope: None,
            editable: false,
            picks: Vec::new(),
            syntax: Vec::new(),
        };
        self.emit(Event::ApprovalRequest(request));
        let answer = self
            .wait_for(|op| match op {
                Op::Approve { id: answered, decision } if *answered == id => Some(decision.clone()),
                _ => None,
            })
            .await;
        let approved = match answer {
            Ok(ApprovalDecision::Once | ApprovalDecision::ForSession) => true,
            Ok(_) => false,
            Err(Interrupt::Shutdown) => return LoopControl::Shutdown,
            Err(Interrupt::Cancel) => false,
        };
        if !approved {
            self.audit(id, &action, &assessment, "denied", None, Some("undo"));
            self.notice(LogLevel::Info, "Nothing was restored.");
            return LoopControl::Continue;
        }
        let Some(workspace) = self.tools_workspace.clone() else { return LoopControl::Continue };
        if !self.audit(id, &action, &assessment, "approved-once", None, Some("undo")) {
            self.notice(LogLevel::Error, "Nothing was restored: the audit log could not be written.");
            return LoopControl::Continue;
        }
        let Some(store) = &self.store else { return LoopControl::Continue };
        match undo::perform(store, &workspace, &restore) {
            Ok(paths) => {
                let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
                for (rel, step) in paths.iter().zip(&restore.steps) {
                    match &step.content {
                        Some(bytes) => ledger.record(rel, bytes),
                        None => ledger.forget(rel),
                    }
                }
                drop(ledger);
                self.note_write();
                self.notice(LogLevel::Info, format!("Restored: {title}."));
            }
            Err(e) => self.notice(LogLevel::Error, format!("Nothing was restored: {e}")),
        }
        LoopControl::Continue
    }

    /// Restores a crash interrupted: rolled back unless their changes were already recorded
    /// undone (then only the kept originals are dropped).
    fn recover_restores(&self) {
        let Some(store) = &self.store else { return };
        for (ids, rolled_back) in undo::recover(store) {
            self.notice(LogLevel::Warn, undo::recovered_notice(&ids, rolled_back));
        }
    }

    fn read_current(&self, path: &str) -> Option<Vec<u8>> {
        undo::read_current(self.tools_workspace.as_ref()?, path)
    }

    fn info(&self, text: String) -> LoopControl {
        self.notice(LogLevel::Info, text);
        LoopControl::Continue
    }

    /// Changes left `pending` by a crash: applied if the file holds the new content, else undone.
    pub(super) fn reconcile_pending_changes(&self) {
        self.recover_restores();
        let (Some(store), Some(session)) = (&self.store, &self.session) else { return };
        for change in store.pending_changes(&session.id).unwrap_or_default() {
            let written = change.files.iter().all(|f| {
                let current = self.read_current(&f.path).map(|b| sha256_hex(&b));
                current == f.after_hash
            });
            let state = if written { "applied" } else { "undone" };
            if let Err(e) = store.mark_change(change.id, state) {
                self.notice(LogLevel::Error, format!("Could not reconcile change #{}: {e}", change.id));
                continue;
            }
            self.log(
                LogLevel::Warn,
                format!("change #{} was interrupted by a crash; recorded as {state}", change.id),
            );
        }
    }
}
