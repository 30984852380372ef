//! What a model's command did to the workspace, settled through the gate: the run's change set
//! (`sandbox::changeset`) is shown like an edit (Diff pane, risk from the same rules: deletions,
//! many files, secrets, protected paths), and then
//! - copy-on-write (`Pending`): approved → written all-or-none with its pre-images in the
//!   change ledger, so `/undo` and `/rewind` restore it byte-exactly; denied → discarded;
//! - recorded (`Recorded`, no copy-on-write here): approved → recorded in the ledger as it is on
//!   disk; denied → restored from the pre-images taken before the run.
//!
//! Invariants:
//! - Nothing of a `Pending` set reaches the workspace without a verdict of the gate, its ledger
//!   row (`pending` before the write, `applied` after) and its audit row; without session
//!   storage nothing is written (fail closed) and the model is told.
//! - A write of several files is all-or-none (`tools::restore`, journaled under the data dir
//!   so a crash part-way is rolled back on the next start), and refused if a file changed
//!   since the run began (stale).
//! - What the set could not carry (`not_carried`) is named in the dialog and to the model.

use super::gate::{Ask, GateWords, Gated};
use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::approval::risk::assess;
use crate::engine::approval::{FileChange, GateAction};
use crate::engine::protocol::LogLevel;
use crate::engine::sandbox::{ChangeSet, ChangeSetState, ChangedFile};
use crate::engine::store::changes::ByteChange;
use crate::engine::store::sha256_hex;
use crate::engine::tools::restore::{self, RestoreFile};

/// Journals of multi-file writes in flight (shared with undo's: `tools::restore::recover`).
const JOURNAL_DIR: &str = "restore-journal";

impl Engine {
    /// Gate and settle `set`, the effects of the command `title`; returns the lines for the
    /// model's report.
    pub(super) async fn settle_run_changes(
        &mut self,
        title: &str,
        set: ChangeSet,
    ) -> Result<String, Interrupt> {
        let what = describe(&set.files);
        let mut report = String::new();
        if !set.not_carried.is_empty() {
            let verb = match set.state {
                ChangeSetState::Pending => "not applied",
                ChangeSetState::Recorded => "written, but cannot be undone",
            };
            report.push_str(&format!("\n--- {verb}: {} ---", set.not_carried.join(", ")));
        }
        if set.files.is_empty() {
            return Ok(report);
        }
        let changes: Vec<FileChange> = set.files.iter().map(as_text).collect();
        let action = GateAction::Edit { changes };
        let mut assessment = assess(&action, &self.workspace);
        assessment.reasons.insert(0, format!("made by the command `{}`", one_line(title)));
        if set.state == ChangeSetState::Recorded {
            assessment.reasons.insert(1, "already written (no copy-on-write here): No restores them".into());
        }
        for item in &set.not_carried {
            assessment.reasons.push(format!("not carried: {item}"));
        }
        let summary = match set.state {
            ChangeSetState::Pending => format!("apply what the command changed: {what}"),
            ChangeSetState::Recorded => format!("keep what the command changed: {what}"),
        };
        let outcome = self.pass_gate(&action, assessment, Ask::new(summary, GateWords::CHANGE)).await?;
        let line = match (outcome, set.state) {
            (Gated::Proceed { .. }, ChangeSetState::Pending) => self.write_change_set(title, &set.files),
            (Gated::Proceed { .. }, ChangeSetState::Recorded) => self.record_change_set(title, &set.files),
            (Gated::Stop(why), ChangeSetState::Pending) => {
                format!("The command's changes ({what}) were discarded: {why}")
            }
            (Gated::Stop(why), ChangeSetState::Recorded) => self.restore_before(&set.files, &why),
            (Gated::Picked(_), _) => "The command's changes were not settled: no choice was offered".into(),
        };
        report.push_str(&format!("\n--- changes: {line} ---"));
        Ok(report)
    }

    /// A run stopped by the user (Esc, Ctrl+C, shutdown): a copy-on-write run's effects are
    /// dropped; a recorded run's are on disk already, so they are recorded for `/undo`.
    pub(super) fn settle_stopped_run(&mut self, title: &str, set: ChangeSet) {
        let what = describe(&set.files);
        let text = match set.state {
            ChangeSetState::Pending => format!("The stopped command's changes ({what}) were discarded."),
            ChangeSetState::Recorded if set.files.is_empty() => return,
            ChangeSetState::Recorded => {
                format!("The stopped command's changes were {}.", self.record_change_set(title, &set.files))
            }
        };
        self.emit_notice(LogLevel::Info, text);
    }

    /// Write a copy-on-write run's files: ledger row first, then all files or none.
    fn write_change_set(&mut self, title: &str, files: &[ChangedFile]) -> String {
        let description = format!("command `{}`: {}", one_line(title), describe(files));
        let change_id = match self.begin_ledger_change(&description, files) {
            Ok(id) => id,
            Err(text) => return text,
        };
        let written = self.write_all_or_none(files, Direction::Forward, change_id);
        let state = if written.is_ok() { "applied" } else { "undone" };
        self.mark(change_id, state);
        match written {
            Ok(()) => {
                self.after_write(files);
                format!("applied as change #{change_id}: {}", describe(files))
            }
            Err(e) => format!("not applied: {e}"),
        }
    }

    /// A recorded run's files are on disk already: record them so `/undo` can restore them.
    fn record_change_set(&mut self, title: &str, files: &[ChangedFile]) -> String {
        let description = format!("command `{}`: {}", one_line(title), describe(files));
        match self.begin_ledger_change(&description, files) {
            Ok(change_id) => {
                self.mark(change_id, "applied");
                self.after_write(files);
                format!("kept as change #{change_id}: {}", describe(files))
            }
            Err(text) => format!("kept, but {text}"),
        }
    }

    /// Put a recorded run's files back as they were before it.
    fn restore_before(&mut self, files: &[ChangedFile], why: &str) -> String {
        match self.write_all_or_none(files, Direction::Back, 0) {
            Ok(()) => {
                self.after_write(files);
                format!("restored as they were before the command ({why})")
            }
            Err(e) => {
                let text = format!("could not be restored ({e}); they stay as the command left them");
                self.emit_notice(LogLevel::Error, format!("The command's changes {text}."));
                text
            }
        }
    }

    fn begin_ledger_change(&mut self, description: &str, files: &[ChangedFile]) -> Result<i64, String> {
        let (Some(store), Some(session)) = (&self.store, &self.session) else {
            let text = "not applied: session storage is unavailable, so they could not be recorded for \
                        undo; nothing was written"
                .to_string();
            self.emit_notice(LogLevel::Error, text.clone());
            return Err(text);
        };
        let bytes: Vec<ByteChange> = files
            .iter()
            .map(|f| ByteChange { path: &f.path, before: f.before.as_deref(), after: f.after.as_deref() })
            .collect();
        let begun = store.begin_change_bytes(&session.id, description, &bytes);
        if let Ok(id) = begun {
            self.link_proposal(id);
        }
        begun.map_err(|e| {
            let text = format!(
                "not applied: the session database refused the pre-images ({e}); nothing was written"
            );
            self.emit_notice(LogLevel::Error, text.clone());
            text
        })
    }

    fn mark(&self, change_id: i64, state: &str) {
        if let Some(store) = &self.store
            && let Err(e) = store.mark_change(change_id, state)
        {
            self.emit_notice(
                LogLevel::Error,
                format!(
                    "Change #{change_id} could not be marked {state} ({e}); it stays pending and is \
                     reconciled from the disk when the session is reopened."
                ),
            );
        }
    }

    /// Every file to its after (`Forward`) or before (`Back`) content, checked to hold the other
    /// one now; all files or none, journaled (`change_id` 0: not a ledger change).
    fn write_all_or_none(
        &self,
        files: &[ChangedFile],
        direction: Direction,
        change_id: i64,
    ) -> Result<(), String> {
        let hashes: Vec<Option<String>> = files.iter().map(|f| direction.ends(f).0.map(sha256_hex)).collect();
        let files: Vec<RestoreFile> = files
            .iter()
            .zip(&hashes)
            .map(|(f, hash)| RestoreFile {
                path: &f.path,
                content: direction.ends(f).1,
                expected: hash.as_deref(),
            })
            .collect();
        let workspace = self.tools_workspace.clone().ok_or("the workspace directory cannot be opened")?;
        let journal = self.store.as_ref().and_then(|s| s.data_dir()).map(|dir| dir.join(JOURNAL_DIR));
        if let Some(dir) = &journal {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let journal = journal.map(|dir| dir.join(format!("apply-{}.json", std::process::id())));
        let staged = restore::stage(&workspace, &files).map_err(|e| e.to_string())?;
        let ids: Vec<i64> = (change_id != 0).then_some(change_id).into_iter().collect();
        let committed = staged.commit(&ids, journal.as_deref()).map_err(|e| e.to_string())?;
        committed.finish();
        Ok(())
    }

    /// The read ledger and the graph learn the new contents.
    fn after_write(&mut self, files: &[ChangedFile]) {
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        for file in files {
            match &file.after {
                Some(bytes) => ledger.record(&file.path, bytes),
                None => ledger.forget(&file.path),
            }
        }
        drop(ledger);
        if let Some(graph) = &self.graph {
            for file in files {
                graph.reindex(self.workspace.join(&file.path));
            }
        }
        self.turn.edits_applied += 1;
    }

    fn emit_notice(&self, level: LogLevel, text: String) {
        self.log(level, text.clone());
        self.emit(crate::engine::protocol::Event::Notice { level, text });
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Forward,
    Back,
}

impl Direction {
    /// The content a file holds now and the one it is written to.
    fn ends(self, file: &ChangedFile) -> (Option<&[u8]>, Option<&[u8]>) {
        match self {
            Direction::Forward => (file.before.as_deref(), file.after.as_deref()),
            Direction::Back => (file.after.as_deref(), file.before.as_deref()),
        }
    }
}

/// "3 files: a.txt, b.txt (deleted), c.txt (new)" (at most 8 named).
fn describe(files: &[ChangedFile]) -> String {
    let mut names: Vec<String> = files
        .iter()
        .take(8)
        .map(|f| match (&f.before, &f.after) {
            (None, _) => format!("{} (new)", f.path),
            (_, None) => format!("{} (deleted)", f.path),
            _ => f.path.clone(),
        })
        .collect();
    if files.len() > 8 {
        names.push(format!("…{} more", files.len() - 8));
    }
    let count = if files.len() == 1 { "1 file".to_string() } else { format!("{} files", files.len()) };
    format!("{count}: {}", names.join(", "))
}

fn as_text(file: &ChangedFile) -> FileChange {
    FileChange::from_bytes(&file.path, file.before.as_deref(), file.after.as_deref())
}

fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut short: String = line.chars().take(80).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
