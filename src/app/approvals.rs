//! Approval requests in the TUI: the queue, the preview in the Diff pane, and the keys of the
//! approval dialog (once, for the session, deny, deny with a message, edit then approve).

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;
use tokio::sync::mpsc::UnboundedSender;

use super::diff::DiffModel;
use crate::engine::protocol::GateAction;
use crate::engine::protocol::{ApprovalDecision, ApprovalRequest, Op};
use crate::text::highlight::lang_from_path;

use super::keymap::{KeyAction, KeyContext};
use super::modals::{ApprovalDialog, ApprovalMode, Modal};
use super::state::AppState;

/// Show `request` now, or after the ones already waiting.
pub fn enqueue(state: &mut AppState, request: ApprovalRequest) {
    if state.modals.iter().any(|l| matches!(l, Modal::Approval(_))) {
        state.approvals.push_back(request);
    } else {
        show(state, request);
    }
}

fn show(state: &mut AppState, request: ApprovalRequest) {
    if let GateAction::Edit { changes } = &request.action
        && let Some(change) = changes.first()
    {
        let before = change.before.as_deref().unwrap_or_default();
        let after = change.after.as_deref().unwrap_or_default();
        let model = DiffModel::between(before, after, 3);
        let files =
            if changes.len() > 1 { format!(" (1 of {} files)", changes.len()) } else { String::new() };
        state.diff.caption = format!("proposed: {}{files}  +{} −{}", change.path, model.added, model.removed);
        state.diff.lang = lang_from_path(&change.path);
        state.diff.model = Some(model);
        state.diff.highlights = Default::default();
        state.diff.scroll_y = 0;
    }
    if let GateAction::Command { command, .. } = &request.action
        && command.contains('\n')
    {
        // A snippet: the whole code is shown in Diff, as lines to be added, for the user to read.
        let model = DiffModel::between("", command, 3);
        state.diff.caption = format!("proposed {}  ({} lines)", request.summary, model.added);
        state.diff.lang = command.split_whitespace().next().map(str::to_string);
        state.diff.model = Some(model);
        state.diff.highlights = Default::default();
        state.diff.scroll_y = 0;
    }
    if let GateAction::Git { op, target, detail, .. } = &request.action
        && !detail.is_empty()
    {
        // A pull request's body or a hook's content: shown whole in Diff, as lines to be added.
        let model = DiffModel::between("", detail, 3);
        state.diff.caption = format!("{} {target}  ({} lines)", op.as_str(), model.added);
        state.diff.lang = (*op == crate::engine::protocol::GitAction::Hook).then(|| "sh".to_string());
        state.diff.model = Some(model);
        state.diff.highlights = Default::default();
        state.diff.scroll_y = 0;
    }
    if let GateAction::Mcp { server, tool, arguments, .. } = &request.action {
        // An MCP call's arguments: shown whole in Diff, as lines to be added.
        let model = DiffModel::between("", arguments, 3);
        state.diff.caption = format!("{server}__{tool} arguments  ({} lines)", model.added);
        state.diff.lang = Some("json".to_string());
        state.diff.model = Some(model);
        state.diff.highlights = Default::default();
        state.diff.scroll_y = 0;
    }
    if let GateAction::Commit { diff, .. } = &request.action {
        let model = DiffModel::from_unified(diff);
        state.diff.caption = format!("proposed commit  +{} −{}", model.added, model.removed);
        state.diff.lang = None;
        state.diff.model = Some(model);
        state.diff.highlights = Default::default();
        state.diff.scroll_y = 0;
    }
    state.modals.push(Modal::Approval(ApprovalDialog { request, mode: ApprovalMode::Choose }));
    state.dirty = true;
}

/// Close the dialog with `decision` and show the next waiting request.
fn answer(state: &mut AppState, decision: ApprovalDecision, ops: &UnboundedSender<Op>) {
    let Some(index) = state.modals.iter().rposition(|l| matches!(l, Modal::Approval(_))) else { return };
    let Modal::Approval(dialog) = state.modals.remove(index) else { return };
    let _ = ops.send(Op::Approve { id: dialog.request.id, decision });
    if let Some(next) = state.approvals.pop_front() {
        show(state, next);
    }
}

/// Keys while the approval dialog is on top.
pub fn on_key(state: &mut AppState, key: KeyEvent, ops: &UnboundedSender<Op>) {
    let action = state.keymap.lookup(&[KeyContext::Approval], &key);
    let Some(Modal::Approval(dialog)) = state.modals.last_mut() else { return };
    match &mut dialog.mode {
        ApprovalMode::Choose => match action {
            Some(KeyAction::ApproveOnce) => answer(state, ApprovalDecision::Once, ops),
            Some(KeyAction::ApproveSession) if dialog.request.session_scope.is_some() => {
                answer(state, ApprovalDecision::ForSession, ops)
            }
            Some(KeyAction::Deny) => answer(state, ApprovalDecision::Deny, ops),
            Some(KeyAction::DenyWithMessage) => {
                let mut area = TextArea::default();
                area.set_placeholder_text("What should the model do instead?");
                dialog.mode = ApprovalMode::Message(Box::new(area));
            }
            Some(KeyAction::EditProposal) if dialog.request.editable => {
                let content = proposed_content(&dialog.request).unwrap_or_default();
                let area = TextArea::new(content.split('\n').map(String::from).collect());
                dialog.mode = ApprovalMode::Edit(Box::new(area));
            }
            _ => {
                let picked = match key.code {
                    crossterm::event::KeyCode::Char(c) => dialog.request.picks.iter().find(|(k, _)| *k == c),
                    _ => None,
                };
                if let Some(&(c, _)) = picked {
                    answer(state, ApprovalDecision::Pick(c), ops);
                }
            }
        },
        ApprovalMode::Message(area) => match key.code {
            crossterm::event::KeyCode::Esc => dialog.mode = ApprovalMode::Choose,
            crossterm::event::KeyCode::Enter => {
                let message = area.lines().join("\n").trim().to_string();
                let decision = if message.is_empty() {
                    ApprovalDecision::Deny
                } else {
                    ApprovalDecision::DenyWithMessage(message)
                };
                answer(state, decision, ops);
            }
            _ => {
                area.input(key);
            }
        },
        ApprovalMode::Edit(area) => match (key.code, action) {
            (crossterm::event::KeyCode::Esc, _) => dialog.mode = ApprovalMode::Choose,
            (_, Some(KeyAction::SaveEdit)) => {
                let content = area.lines().join("\n");
                answer(state, ApprovalDecision::ApproveEdited(content), ops);
            }
            _ => {
                area.input(key);
            }
        },
    }
}

/// Text typed or pasted while editing or writing a message goes into that box.
pub fn on_paste(state: &mut AppState, text: &str) {
    if let Some(Modal::Approval(dialog)) = state.modals.last_mut() {
        match &mut dialog.mode {
            ApprovalMode::Message(area) | ApprovalMode::Edit(area) => {
                area.insert_str(text);
            }
            ApprovalMode::Choose => {}
        }
    }
}

pub(super) fn proposed_content(request: &ApprovalRequest) -> Option<String> {
    match &request.action {
        GateAction::Edit { changes } if changes.len() == 1 => changes[0].after.clone(),
        GateAction::Commit { message, .. } => Some(message.clone()),
        _ => None,
    }
}
