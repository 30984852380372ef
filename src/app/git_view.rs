//! The Git view (Ctrl+G or `/git`): Code lists the changed files, Diff shows the selected file's
//! hunks (unstaged, or staged after `t`) with a line cursor; `s`/`u` stage or unstage the file
//! (in Code) or the hunk under the cursor (in Diff), `S`/`U` the single line.
//!
//! Requests are queued in `AppState::outbox` and sent by the event loop, so engine answers (handled in
//! `update`, which has no channel) can ask for more.
//!
//! Invariants: every request carries a new sequence number and answers older than the newest
//! request of their kind are dropped, so a slow status never overwrites a newer one; the UI never
//! touches git itself — it sends `Op::Git` jobs and shows the answers.

use super::diff::DiffModel;
use crate::engine::protocol::{FileDiff, FileStatus};
use crate::engine::protocol::{GitFileDiff, GitOp, GitPart, GitSnapshot, Op};

use super::keymap::KeyAction;
use super::state::{AppState, Focus, Pane};

#[derive(Debug, Default)]
pub struct GitView {
    pub open: bool,
    pub snapshot: Option<GitSnapshot>,
    /// Index into the snapshot's files.
    pub selected: usize,
    /// Showing the staged side (index vs HEAD) of the selected file instead of the unstaged one.
    pub staged: bool,
    pub diff: Option<FileDiff>,
    /// For each Diff row: its hunk, and its position in `hunk.lines` (None for the header).
    pub rows: Vec<(usize, Option<usize>)>,
    /// The Diff row the cursor is on.
    pub cursor: usize,
    /// A flow (/commit, /merge…) is running: the UI is busy until `GitChanged`.
    pub flow_running: bool,
    next_seq: u64,
    status_seq: u64,
    diff_seq: u64,
}

impl GitView {
    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub fn selected_file(&self) -> Option<&FileStatus> {
        self.snapshot.as_ref()?.files.get(self.selected)
    }
}

/// Ctrl+G / `/git`: open (and refresh) or close the view.
pub fn toggle(state: &mut AppState) {
    state.git.open = !state.git.open;
    if state.git.open {
        state.focus = Focus::Pane(Pane::Code);
        state.tab = Pane::Code;
        refresh(state);
    } else {
        state.diff.model = None;
        state.diff.caption.clear();
    }
    state.dirty = true;
}

pub fn refresh(state: &mut AppState) {
    let seq = state.git.seq();
    state.git.status_seq = seq;
    state.outbox.push(Op::Git(GitOp::Refresh { seq }));
}

fn request_diff(state: &mut AppState) {
    let Some(path) = state.git.selected_file().map(|f| f.path.clone()) else {
        state.git.diff = None;
        state.git.rows.clear();
        state.diff.model = None;
        state.diff.caption = "no changes".into();
        return;
    };
    let seq = state.git.seq();
    state.git.diff_seq = seq;
    state.outbox.push(Op::Git(GitOp::ShowFile { seq, path, staged: state.git.staged }));
}

/// A status answer: newest wins; the selected file's diff is asked for again.
pub fn on_status(state: &mut AppState, snapshot: GitSnapshot) {
    if snapshot.seq < state.git.status_seq || !state.git.open {
        return;
    }
    let before = state.git.selected_file().map(|f| f.path.clone());
    let count = snapshot.files.len();
    state.git.snapshot = Some(snapshot);
    // Keep the same file selected when it is still listed.
    let files = state.git.snapshot.as_ref().map(|s| &s.files[..]).unwrap_or_default();
    state.git.selected = match before.and_then(|p| files.iter().position(|f| f.path == p)) {
        Some(i) => i,
        None => state.git.selected.min(count.saturating_sub(1)),
    };
    request_diff(state);
}

pub fn on_file_diff(state: &mut AppState, answer: GitFileDiff) {
    let current = state.git.selected_file().map(|f| f.path.as_str());
    if answer.seq < state.git.diff_seq || !state.git.open || current != Some(answer.path.as_str()) {
        return;
    }
    let side = if answer.staged { "staged" } else { "unstaged" };
    let keys = if answer.staged { "u unstage hunk · U line" } else { "s stage hunk · S line" };
    match &answer.diff {
        Some(diff) if !diff.hunks.is_empty() => {
            let (model, rows) = diff_rows(diff);
            state.diff.caption = format!(
                "{} — {side} +{} −{} · {keys} · t other side",
                answer.path, model.added, model.removed
            );
            state.git.cursor = state.git.cursor.min(rows.len().saturating_sub(1));
            state.git.rows = rows;
            state.diff.model = Some(model);
        }
        Some(diff) if diff.binary => {
            state.diff.caption =
                format!("{} — {side}: binary file (s/u stage or unstage it whole)", answer.path);
            state.git.rows.clear();
            state.diff.model = Some(DiffModel::default());
        }
        _ => {
            let other = if answer.staged { "unstaged" } else { "staged" };
            state.diff.caption = format!("{} — nothing {side} (t shows the {other} side)", answer.path);
            state.git.rows.clear();
            state.diff.model = Some(DiffModel::default());
        }
    }
    state.diff.lang = crate::text::highlight::lang_from_path(&answer.path);
    state.diff.highlights = Default::default();
    state.git.diff = answer.diff;
    state.dirty = true;
}

/// `/diff`: ask for the whole change (shown in Diff when it arrives).
pub fn show_all(state: &mut AppState) {
    let seq = state.git.seq();
    state.git.diff_seq = seq;
    state.outbox.push(Op::Git(GitOp::ShowAll { seq }));
}

pub fn on_whole_diff(state: &mut AppState, seq: u64, staged: &str, unstaged: &str) {
    if seq < state.git.diff_seq {
        return;
    }
    let model = DiffModel::from_unified(&format!("{staged}{unstaged}"));
    state.diff.caption = format!("whole change (staged, then unstaged) +{} −{}", model.added, model.removed);
    if model.lines.is_empty() {
        state.diff.caption = "no changes: the working tree matches HEAD".into();
    }
    state.git.rows.clear();
    state.diff.model = Some(model);
    state.diff.lang = None;
    state.diff.highlights = Default::default();
    state.diff.scroll_y = 0;
    state.focus = Focus::Pane(Pane::Diff);
    state.tab = Pane::Diff;
    state.dirty = true;
}

/// The Diff pane's model for a file, and each row's (hunk, line) position.
fn diff_rows(diff: &FileDiff) -> (DiffModel, Vec<(usize, Option<usize>)>) {
    let mut text = String::new();
    let mut rows = Vec::new();
    for (h, hunk) in diff.hunks.iter().enumerate() {
        text.push_str(&hunk.header);
        text.push('\n');
        rows.push((h, None));
        for (i, line) in hunk.lines.iter().enumerate() {
            text.push(line.origin.prefix());
            text.push_str(line.content.trim_end_matches('\r'));
            text.push('\n');
            rows.push((h, Some(i)));
        }
    }
    (DiffModel::from_unified(&text), rows)
}

/// Keys while the view is open and Code or Diff has focus; false when the key is not the view's.
pub fn on_action(state: &mut AppState, action: KeyAction) -> bool {
    let in_diff = state.focus == Focus::Pane(Pane::Diff);
    match action {
        KeyAction::ScrollDown | KeyAction::ScrollUp if in_diff => {
            let last = state.git.rows.len().saturating_sub(1);
            let c = &mut state.git.cursor;
            *c = if action == KeyAction::ScrollDown { (*c + 1).min(last) } else { c.saturating_sub(1) };
            keep_cursor_visible(state);
        }
        KeyAction::ScrollDown | KeyAction::ScrollUp => {
            let last = state.git.snapshot.as_ref().map_or(0, |s| s.files.len().saturating_sub(1));
            let s = &mut state.git.selected;
            *s = if action == KeyAction::ScrollDown { (*s + 1).min(last) } else { s.saturating_sub(1) };
            state.git.cursor = 0;
            state.diff.scroll_y = 0;
            request_diff(state);
        }
        KeyAction::FocusComposer if !in_diff => state.focus = Focus::Pane(Pane::Diff),
        KeyAction::GitSide => {
            state.git.staged = !state.git.staged;
            state.git.cursor = 0;
            request_diff(state);
        }
        KeyAction::GitRefresh => refresh(state),
        KeyAction::GitStage | KeyAction::GitUnstage | KeyAction::GitStageLine | KeyAction::GitUnstageLine => {
            stage(state, action, in_diff)
        }
        _ => return false,
    }
    state.dirty = true;
    true
}

fn stage(state: &mut AppState, action: KeyAction, in_diff: bool) {
    let unstage = matches!(action, KeyAction::GitUnstage | KeyAction::GitUnstageLine);
    let Some(path) = state.git.selected_file().map(|f| f.path.clone()) else { return };
    let part = if !in_diff {
        GitPart::File
    } else {
        // Hunks and lines come from the side shown: stage from unstaged, unstage from staged.
        if unstage != state.git.staged {
            let want = if unstage { "staged" } else { "unstaged" };
            state.status.flash =
                Some((format!("t shows the {want} side first"), crate::engine::protocol::LogLevel::Warn));
            return;
        }
        let (Some(diff), Some(&(h, line))) = (&state.git.diff, state.git.rows.get(state.git.cursor)) else {
            return;
        };
        let Some(hunk) = diff.hunks.get(h).cloned() else { return };
        match (action, line) {
            (KeyAction::GitStageLine | KeyAction::GitUnstageLine, Some(i)) => GitPart::Lines(hunk, vec![i]),
            (KeyAction::GitStageLine | KeyAction::GitUnstageLine, None) => return,
            _ => GitPart::Hunk(hunk),
        }
    };
    let seq = state.git.seq();
    state.git.status_seq = seq;
    state.git.diff_seq = seq;
    state.outbox.push(Op::Git(GitOp::Stage { seq, path, part, unstage }));
}

fn keep_cursor_visible(state: &mut AppState) {
    let rows = state.hit.panes.iter().find(|(p, _)| *p == Pane::Diff).map_or(10, |(_, r)| r.height as usize);
    let rows = rows.saturating_sub(2).max(1);
    let cursor = state.git.cursor;
    if cursor < state.diff.scroll_y {
        state.diff.scroll_y = cursor;
    } else if cursor >= state.diff.scroll_y + rows {
        state.diff.scroll_y = cursor + 1 - rows;
    }
}
