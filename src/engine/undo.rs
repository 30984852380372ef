//! Undo and rewind from the session's change ledger, shared by the TUI's `/undo` and `/rewind`
//! (`agent::undo`, which asks through the gate) and the headless `kv1nt undo` / `kv1nt rewind`
//! (`cli::undo`, which asks on the terminal): what to restore ([`plan_undo`], [`plan_rewind`]),
//! how it is shown to the gate and the audit log ([`describe`]), restoring it ([`perform`]) and
//! rolling back a restore a crash interrupted ([`recover`]).
//!
//! Invariants:
//! - Planning only reads (the ledger and the files); nothing is written before the caller's
//!   audit row is.
//! - [`perform`] writes every file of a [`Restore`] or none (`tools::restore`, journaled under
//!   `<data dir>/`[`JOURNAL_DIR`]), each only if it still holds what it held when planned, and
//!   marks the restore's changes `undone` in one transaction; when that mark fails the files
//!   are put back.
//! - Contents are bytes end to end (CRLF and non-UTF-8 bytes come back exactly).

use std::path::Path;

use crate::engine::approval::risk::assess;
use crate::engine::approval::{Assessment, FileChange, GateAction};
use crate::engine::store::changes::{RestoreStep, restore_plan, rewind_plan};
use crate::engine::store::{Store, StoreError, sha256_hex};
use crate::engine::tools::{Workspace, restore, restore::RestoreFile};

/// Journals of restores in flight, under the data directory (see `tools::restore`).
pub const JOURNAL_DIR: &str = "restore-journal";

/// What an undo or a rewind writes, planned against the files as they were then.
#[derive(Debug, Clone)]
pub struct Restore {
    /// "undo change #3: …" / "rewind to after change #2 (undoes 2 change(s))".
    pub title: String,
    /// The changes it marks `undone`.
    pub change_ids: Vec<i64>,
    pub steps: Vec<RestoreStep>,
    /// Each step's file as it is now (`None`: absent), in step order.
    pub current: Vec<Option<Vec<u8>>>,
}

impl Restore {
    /// The files that changed after kv1nt's edit (restoring overwrites that).
    pub fn conflicts(&self) -> Vec<&str> {
        self.steps.iter().filter(|s| s.conflict).map(|s| s.path.as_str()).collect()
    }
}

/// A plan, or why there is nothing to do (a sentence for the user).
#[derive(Debug)]
pub enum Plan {
    Ready(Restore),
    Nothing(String),
}

/// Why a restore could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("there is no change #{0} in this session")]
    NoSuchChange(i64),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What `/undo` says when the session has no applied change.
pub const NOTHING_TO_UNDO: &str = "Nothing to undo in this session.";

/// What `/rewind N` says when no applied change comes after `to`.
pub fn already_rewound(to: i64) -> String {
    format!("The workspace is already as it was after change #{to}.")
}

/// The file at workspace-relative `path` now (`None`: absent or outside the workspace).
pub fn read_current(workspace: &Workspace, path: &str) -> Option<Vec<u8>> {
    let (absolute, _) = workspace.resolve(path, false).ok()?;
    std::fs::read(absolute).ok()
}

/// Restoring the session's last `applied` change.
pub fn plan_undo(store: &Store, session_id: &str, workspace: &Workspace) -> Result<Plan, PlanError> {
    let last = store.changes(session_id)?.into_iter().rev().find(|c| c.state == "applied");
    let Some(change) = last else { return Ok(Plan::Nothing(NOTHING_TO_UNDO.to_string())) };
    let steps = restore_plan(store, &change, &|path| read_current(workspace, path))?;
    let title = format!("undo change #{}: {}", change.id, change.description);
    Ok(Plan::Ready(ready(title, vec![change.id], steps, workspace)))
}

/// Restoring the workspace to just after change `to` (0: before the session's first change):
/// every later `applied` change is undone.
pub fn plan_rewind(
    store: &Store,
    session_id: &str,
    to: i64,
    workspace: &Workspace,
) -> Result<Plan, PlanError> {
    let changes = store.changes(session_id)?;
    if to != 0 && !changes.iter().any(|c| c.id == to) {
        return Err(PlanError::NoSuchChange(to));
    }
    let later: Vec<i64> =
        changes.iter().filter(|c| c.id > to && c.state == "applied").map(|c| c.id).collect();
    if later.is_empty() {
        return Ok(Plan::Nothing(already_rewound(to)));
    }
    let steps = rewind_plan(store, session_id, to, &|path| read_current(workspace, path))?;
    let point = if to == 0 { "the session's start".to_string() } else { format!("after change #{to}") };
    let title = format!("rewind to {point} (undoes {} change(s))", later.len());
    Ok(Plan::Ready(ready(title, later, steps, workspace)))
}

fn ready(title: String, change_ids: Vec<i64>, steps: Vec<RestoreStep>, workspace: &Workspace) -> Restore {
    let current = steps.iter().map(|s| read_current(workspace, &s.path)).collect();
    Restore { title, change_ids, steps, current }
}

/// The restore as the gate and the audit log see it: an edit from the current contents to the
/// restored ones (binary content named, see [`FileChange::from_bytes`]), assessed as edits are, with the title as its
/// first reason and one reason per conflicting file.
pub fn describe(restore: &Restore, workspace_root: &Path) -> (GateAction, Assessment) {
    let changes = restore
        .steps
        .iter()
        .zip(&restore.current)
        .map(|(step, now)| FileChange::from_bytes(&step.path, now.as_deref(), step.content.as_deref()))
        .collect();
    let action = GateAction::Edit { changes };
    let mut assessment = assess(&action, workspace_root);
    assessment.reasons.insert(0, restore.title.clone());
    for path in restore.conflicts() {
        assessment.reasons.push(format!("{path} was changed after kv1nt's edit: restoring overwrites that"));
    }
    (action, assessment)
}

/// Writes every file of `restore` or none, journaled in the data directory so a crash part-way
/// is rolled back on the next start, then marks its changes undone in one transaction (a
/// failure there puts the files back too). A file that changed since the plan was made fails
/// the whole restore. Returns the workspace-relative paths written, in step order.
pub fn perform(store: &Store, workspace: &Workspace, restore: &Restore) -> Result<Vec<String>, String> {
    let expected: Vec<Option<String>> =
        restore.current.iter().map(|b| b.as_deref().map(sha256_hex)).collect();
    let files: Vec<RestoreFile> = restore
        .steps
        .iter()
        .zip(&expected)
        .map(|(step, hash)| RestoreFile {
            path: &step.path,
            content: step.content.as_deref(),
            expected: hash.as_deref(),
        })
        .collect();
    let journal = store.data_dir().map(|dir| dir.join(JOURNAL_DIR));
    if let Some(dir) = &journal {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let journal = journal.map(|dir| dir.join(format!("{}.json", std::process::id())));
    let staged = restore::stage(workspace, &files).map_err(|e| e.to_string())?;
    let paths = staged.paths().to_vec();
    let committed = staged.commit(&restore.change_ids, journal.as_deref()).map_err(|e| e.to_string())?;
    if let Err(e) = store.mark_changes(&restore.change_ids, "undone") {
        committed.rollback();
        return Err(format!("the session database refused to record it ({e}); the files were put back"));
    }
    committed.finish();
    Ok(paths)
}

/// Restores a crash interrupted (journals under the data directory): rolled back unless their
/// changes were already recorded undone (then only the kept originals are dropped). Returns, per
/// journal found, its change ids and whether it was rolled back.
pub fn recover(store: &Store) -> Vec<(Vec<i64>, bool)> {
    let Some(dir) = store.data_dir().map(|d| d.join(JOURNAL_DIR)) else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let done = |ids: &[i64]| {
        ids.iter().all(|id| store.change(*id).ok().flatten().is_some_and(|c| c.state == "undone"))
    };
    entries.flatten().filter_map(|entry| restore::recover(&entry.path(), done)).collect()
}

/// The sentence saying what [`recover`] did about one interrupted restore.
pub fn recovered_notice(ids: &[i64], rolled_back: bool) -> String {
    let what = if rolled_back { "rolled back" } else { "completed" };
    format!("An undo of change(s) {ids:?} was interrupted by a crash; it was {what}.")
}
