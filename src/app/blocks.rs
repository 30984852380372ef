//! Keeping Code and Diff in step with the conversation: code blocks are extracted from the chat
//! (only the newest entry is re-scanned while it streams), the newest block is shown in Code, and
//! when a block completes that revises an earlier one (same language), Diff shows the change.

use super::code::CodeDoc;
use super::diff::DiffModel;
use crate::engine::protocol::fences::extract_code_blocks;

use super::chat::EntryKind;
use super::code::CodeBlockRef;
use super::state::AppState;

/// Re-extract the blocks of entries from `from_entry` on.
pub fn refresh_from(state: &mut AppState, from_entry: usize) {
    let before: Vec<CodeBlockRef> =
        state.code.blocks.iter().filter(|b| b.entry >= from_entry).cloned().collect();
    state.code.blocks.retain(|b| b.entry < from_entry);
    for (index, entry) in state.chat.entries.iter().enumerate().skip(from_entry) {
        if entry.kind != EntryKind::Assistant {
            continue;
        }
        for block in extract_code_blocks(&entry.text) {
            state.code.blocks.push(CodeBlockRef { entry: index, block });
        }
    }
    let newly_completed: Vec<usize> = state
        .code
        .blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.entry >= from_entry && b.block.complete)
        .filter(|(_, b)| !before.iter().any(|old| old.entry == b.entry && old.block == b.block))
        .map(|(i, _)| i)
        .collect();
    if let Some(&latest) = newly_completed.last() {
        diff_against_previous(state, latest);
    }
    if state.code.follow_latest && !state.code.blocks.is_empty() {
        select(state, state.code.blocks.len() - 1);
    } else if let Some(selected) = state.code.selected {
        select(state, selected.min(state.code.blocks.len().saturating_sub(1)));
    }
    state.blocks_stale = false;
    state.dirty = true;
}

/// Show block `index` in Code (keeping the scroll position when it is the same block growing).
pub fn select(state: &mut AppState, index: usize) {
    let Some(block) = state.code.blocks.get(index) else { return };
    let title = format!(
        "block {}/{}{}",
        index + 1,
        state.code.blocks.len(),
        block.block.lang.as_deref().map(|l| format!(" · {l}")).unwrap_or_default()
    );
    let same_block = state.code.selected == Some(index);
    let unchanged =
        state.code.doc.is_some() && same_block && state.code.doc_source_len == block.block.code.len();
    if !unchanged {
        // The block shown, grown: keep what was highlighted (not when a file was shown instead).
        let growing = same_block && state.code.file.is_none();
        state.code.file = None;
        let lang = block.block.lang.as_deref();
        match state.code.doc.as_mut().filter(|doc| growing && doc.lang.as_deref() == lang) {
            Some(doc) => doc.grow(title, &block.block.code),
            None => {
                state.code.doc = Some(CodeDoc::new(block.block.lang.as_deref(), title, &block.block.code))
            }
        }
        state.code.doc_source_len = block.block.code.len();
        if !same_block {
            state.code.scroll_y = 0;
            state.code.scroll_x = 0;
        }
    }
    state.code.selected = Some(index);
    state.dirty = true;
}

/// Step through blocks; stepping away from the newest stops following new ones.
pub fn step(state: &mut AppState, forward: bool) {
    let n = state.code.blocks.len();
    if n == 0 {
        return;
    }
    let current = state.code.selected.unwrap_or(n - 1);
    let next = if forward { (current + 1).min(n - 1) } else { current.saturating_sub(1) };
    state.code.follow_latest = next == n - 1;
    select(state, next);
    if next > 0 {
        diff_against_previous(state, next);
    }
}

/// Diff block `index` against the closest earlier block of the same language.
fn diff_against_previous(state: &mut AppState, index: usize) {
    let Some(block) = state.code.blocks.get(index) else { return };
    let previous =
        state.code.blocks[..index].iter().enumerate().rev().find(|(_, b)| b.block.lang == block.block.lang);
    let Some((prev_index, prev)) = previous else { return };
    if prev.block.code == block.block.code {
        return;
    }
    let model = DiffModel::between(&prev.block.code, &block.block.code, 3);
    state.diff.caption = format!(
        "block {} → {}{}  +{} −{}",
        prev_index + 1,
        index + 1,
        block.block.lang.as_deref().map(|l| format!(" · {l}")).unwrap_or_default(),
        model.added,
        model.removed
    );
    state.diff.lang = block.block.lang.clone();
    state.diff.model = Some(model);
    state.diff.highlights = Default::default();
    state.diff.scroll_y = 0;
}
