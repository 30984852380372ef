//! `/undo` and `/rewind`: restoring files from the session's change ledger (pre-images). Both show the diff
//! and ask first (through the same approval request as edits, never auto-approved), refuse to
//! silently overwrite changes the user made since, and are audited.
//!
//! A restore writes all of its files or none (`tools::restore`, journaled so a crash part-way
//! is rolled back on the next start) and marks its changes undone in one transaction; its
//! audit row is written before any file is.
//!
//! A change left `pending` by a crash between approval and write is reconciled when the session
//! is reopened: written → `applied` (so `/undo` can restore it), not written → `undone`.

use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use crate::engine::approval::risk::assess;
use crate::engine::approval::{FileChange, GateAction};
use crate::engine::protocol::{ApprovalDecision, ApprovalRequest, ChangeSummary, Event, LogLevel, Op};
use crate::engine::store::changes::{ChangeRecord, RestoreStep, restore_plan, rewind_plan};
use crate::engine::store::sha256_hex;
use crate::engine::tools::{self, restore, restore::RestoreFile};

/// Journals of restores in flight, under the data directory (see `tools::restore`).
const JOURNAL_DIR: &str = "restore-journal";

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
        let last = self.session_changes().into_iter().rev().find(|c| c.state == "applied");
        let Some(change) = last else {
            self.notice(LogLevel::Info, "Nothing to undo in this session.");
            return LoopControl::Continue;
        };
        let plan = match self.plan(|store, current| restore_plan(store, &change, current)) {
            Ok(plan) => plan,
            Err(e) => {
                self.notice(LogLevel::Error, format!("Cannot undo: {e}"));
                return LoopControl::Continue;
            }
        };
        let title = format!("undo change #{}: {}", change.id, change.description);
        self.restore(&title, plan, &[change.id]).await
    }

    pub(super) async fn rewind(&mut self, to: i64) -> LoopControl {
        let changes = self.session_changes();
        if to != 0 && !changes.iter().any(|c| c.id == to) {
            self.notice(LogLevel::Warn, format!("There is no change #{to} in this session (see /rewind)."));
            return LoopControl::Continue;
        }
        let later: Vec<i64> =
            changes.iter().filter(|c| c.id > to && c.state == "applied").map(|c| c.id).collect();
        if later.is_empty() {
            self.notice(LogLevel::Info, format!("The workspace is already as it was after change #{to}."));
            return LoopControl::Continue;
        }
        let session = self.session.as_ref().map(|s| s.id.clone()).unwrap_or_default();
        let plan = match self.plan(|store, current| rewind_plan(store, &session, to, current)) {
            Ok(plan) => plan,
            Err(e) => {
                self.notice(LogLevel::Error, format!("Cannot rewind: {e}"));
                return LoopControl::Continue;
            }
        };
        let point = if to == 0 { "the session's start".to_string() } else { format!("after change #{to}") };
        let title = format!("rewind to {point} (undoes {} change(s))", later.len());
        self.restore(&title, plan, &later).await
    }

    /// Show the restore as an approval request; on yes write it and mark `change_ids` undone.
    async fn restore(&mut self, title: &str, plan: Vec<RestoreStep>, change_ids: &[i64]) -> LoopControl {
        let mut changes = Vec::new();
        let mut conflicts = Vec::new();
        let mut expected = Vec::new();
        for step in &plan {
            let bytes = self.read_current(&step.path);
            expected.push(bytes.as_deref().map(sha256_hex));
            let current = bytes.map(|b| String::from_utf8_lossy(&b).into_owned());
            // Shown as text (binary content as one line); the bytes are what is written.
            let after = step.content.as_deref().map(super::run_changes::shown);
            if step.conflict {
                conflicts.push(step.path.clone());
            }
            changes.push(FileChange { path: step.path.clone(), before: current, after });
        }
        let action = GateAction::Edit { changes: changes.clone() };
        let mut assessment = assess(&action, &self.workspace);
        assessment.reasons.insert(0, title.to_string());
        for path in &conflicts {
            assessment
                .reasons
                .push(format!("{path} was changed after kv1nt's edit: restoring overwrites that"));
        }
        let id = self.next_request_id();
        let request = ApprovalRequest {
            id,
            action: action.clone(),
            risk: assessment.risk,
            reasons: assessment.reasons.clone(),
            summary: title.to_string(),
            session_scope: None,
            editable: false,
            picks: Vec::new(),
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
        let files: Vec<RestoreFile> = plan
            .iter()
            .zip(&expected)
            .map(|(step, hash)| RestoreFile {
                path: &step.path,
                content: step.content.as_deref(),
                expected: hash.as_deref(),
            })
            .collect();
        match self.restore_all(&workspace, &files, change_ids) {
            Ok(()) => self.notice(LogLevel::Info, format!("Restored: {title}.")),
            Err(e) => self.notice(LogLevel::Error, format!("Nothing was restored: {e}")),
        }
        LoopControl::Continue
    }

    /// Writes every file of a restore or none (see `tools::restore`), journaled in the data
    /// directory so a crash part-way is rolled back on the next start, then marks `change_ids`
    /// undone in one transaction (a failure there puts the files back too).
    fn restore_all(
        &mut self,
        workspace: &tools::Workspace,
        files: &[RestoreFile],
        change_ids: &[i64],
    ) -> Result<(), String> {
        let store = self.store.as_ref().ok_or("session storage is unavailable")?;
        let journal = store.data_dir().map(|dir| dir.join(JOURNAL_DIR));
        if let Some(dir) = &journal {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let journal = journal.map(|dir| dir.join(format!("{}.json", std::process::id())));
        let staged = restore::stage(workspace, files).map_err(|e| e.to_string())?;
        let paths = staged.paths().to_vec();
        let committed = staged.commit(change_ids, journal.as_deref()).map_err(|e| e.to_string())?;
        if let Err(e) = store.mark_changes(change_ids, "undone") {
            committed.rollback();
            return Err(format!("the session database refused to record it ({e}); the files were put back"));
        }
        committed.finish();
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        for (rel, file) in paths.iter().zip(files) {
            match file.content {
                Some(bytes) => ledger.record(rel, bytes),
                None => ledger.forget(rel),
            }
        }
        Ok(())
    }

    /// Restores a crash interrupted: rolled back unless their changes were already recorded
    /// undone (then only the kept originals are dropped).
    fn recover_restores(&self) {
        let Some(store) = &self.store else { return };
        let Some(dir) = store.data_dir().map(|d| d.join(JOURNAL_DIR)) else { return };
        let Ok(entries) = std::fs::read_dir(&dir) else { return };
        for entry in entries.flatten() {
            let done = |ids: &[i64]| {
                ids.iter().all(|id| store.change(*id).ok().flatten().is_some_and(|c| c.state == "undone"))
            };
            if let Some((ids, rolled_back)) = restore::recover(&entry.path(), done) {
                let what = if rolled_back { "rolled back" } else { "completed" };
                self.notice(
                    LogLevel::Warn,
                    format!("An undo of change(s) {ids:?} was interrupted by a crash; it was {what}."),
                );
            }
        }
    }

    fn session_changes(&self) -> Vec<ChangeRecord> {
        match (&self.store, &self.session) {
            (Some(store), Some(session)) => store.changes(&session.id).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn plan(
        &self,
        make: impl FnOnce(
            &crate::engine::store::Store,
            &dyn Fn(&str) -> Option<Vec<u8>>,
        ) -> crate::engine::store::Result<Vec<RestoreStep>>,
    ) -> Result<Vec<RestoreStep>, String> {
        let store = self.store.as_ref().ok_or("session storage is unavailable")?;
        let current = |path: &str| self.read_current(path);
        make(store, &current).map_err(|e| e.to_string())
    }

    fn read_current(&self, path: &str) -> Option<Vec<u8>> {
        let workspace = self.tools_workspace.as_ref()?;
        let (absolute, _) = workspace.resolve(path, false).ok()?;
        std::fs::read(absolute).ok()
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

    fn notice(&self, level: LogLevel, text: impl Into<String>) {
        self.emit(Event::Notice { level, text: text.into() });
    }
}
