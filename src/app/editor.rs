//! The external editor (`external_editor`, Ctrl+X Ctrl+E): the prompt — or, in the approval
//! dialog, the proposed content — is written to a temporary file, `$VISUAL` (else `$EDITOR`,
//! else `vi`) runs on it with the terminal handed over, and the saved text comes back.
//!
//! Invariants: the edit is asked for here and run by the event loop (`app::run`), which hands the
//! terminal over and takes it back; an editor that fails or exits non-zero changes nothing (the
//! text stays as it was, and a flash says why); in the approval dialog the edited content is
//! only put in the dialog's editor — approving it is still the user's Ctrl+S.

use std::process::Command;

use super::modals::{ApprovalMode, Modal};
use super::state::{AppState, Focus};
use crate::engine::protocol::LogLevel;

/// Where the edited text goes back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditTarget {
    Composer,
    /// The approval dialog on top (its proposed content, or its editor's text).
    Approval,
}

/// An edit the event loop is to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalEdit {
    pub target: EditTarget,
    pub text: String,
}

/// The `external_editor` action: ask the loop to edit what has focus.
pub fn request(state: &mut AppState) {
    let edit = match state.modals.last() {
        Some(Modal::Approval(dialog)) => {
            let text = match &dialog.mode {
                ApprovalMode::Edit(area) => Some(area.lines().join("\n")),
                ApprovalMode::Choose if dialog.request.editable => {
                    super::approvals::proposed_content(&dialog.request)
                }
                _ => None,
            };
            text.map(|text| ExternalEdit { target: EditTarget::Approval, text })
        }
        None if state.focus == Focus::Composer => {
            Some(ExternalEdit { target: EditTarget::Composer, text: state.composer.text() })
        }
        _ => None,
    };
    match edit {
        Some(edit) => state.external_edit = Some(edit),
        None => state.status.flash = Some(("nothing to edit here".into(), LogLevel::Warn)),
    }
}

/// The editor to run: `$VISUAL`, else `$EDITOR` (split like a shell would: `code --wait`),
/// else `vi`.
pub fn command() -> Vec<String> {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find_map(|v| shlex::split(&v).filter(|words| !words.is_empty()))
        .unwrap_or_else(|| vec!["vi".to_string()])
}

/// Run `editor` on `text` (blocking; the terminal must be handed over). The saved text, or why not.
pub fn edit(editor: &[String], text: &str) -> Result<String, String> {
    let (program, args) = editor.split_first().ok_or("no editor to run")?;
    let file = tempfile::Builder::new()
        .prefix("kv1nt-edit-")
        .suffix(".md")
        .tempfile()
        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
    std::fs::write(file.path(), text).map_err(|e| format!("cannot write the temporary file: {e}"))?;
    let status = Command::new(program)
        .args(args)
        .arg(file.path())
        .status()
        .map_err(|e| format!("cannot run `{program}`: {e} (set $VISUAL or $EDITOR)"))?;
    if !status.success() {
        return Err(format!("`{program}` exited with {status}; the text is unchanged"));
    }
    let edited =
        std::fs::read_to_string(file.path()).map_err(|e| format!("cannot read the edited text back: {e}"))?;
    // Editors end the last line with a newline the prompt did not have.
    Ok(edited.strip_suffix('\n').unwrap_or(&edited).to_string())
}

/// Put the result of `edit` where it came from.
pub fn apply(state: &mut AppState, target: EditTarget, result: Result<String, String>) {
    state.dirty = true;
    let text = match result {
        Ok(text) => text,
        Err(why) => {
            state.status.flash = Some((why, LogLevel::Warn));
            return;
        }
    };
    match target {
        EditTarget::Composer => state.composer.set_text(&text),
        EditTarget::Approval => {
            if let Some(Modal::Approval(dialog)) = state.modals.last_mut() {
                let area = ratatui_textarea::TextArea::new(text.split('\n').map(String::from).collect());
                dialog.mode = ApprovalMode::Edit(Box::new(area));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_text_comes_back_and_a_failing_editor_changes_nothing() {
        let append = vec!["sh".into(), "-c".into(), "printf ' and more\\n' >> \"$1\"".into(), "sh".into()];
        assert_eq!(edit(&append, "draft").unwrap(), "draft and more");
        let fail = vec!["sh".into(), "-c".into(), "exit 3".into(), "sh".into()];
        assert!(edit(&fail, "draft").unwrap_err().contains("exited with"));
        let missing = vec!["/nonexistent/editor".into()];
        assert!(edit(&missing, "draft").unwrap_err().contains("set $VISUAL or $EDITOR"));

        let mut state = AppState::for_tests();
        state.composer.set_text("old");
        apply(&mut state, EditTarget::Composer, Err("`vi` exited with 1".into()));
        assert_eq!(state.composer.text(), "old");
        apply(&mut state, EditTarget::Composer, Ok("new\ntext".into()));
        assert_eq!(state.composer.text(), "new\ntext");
    }
}
