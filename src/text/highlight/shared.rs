//! Highlighted blocks shared between views: the same code block is shown in Chat (when its
//! fence closes), in Code and in Diff, and highlighting it once serves all three. A small
//! most-recently-used memo, keyed by language, theme and the exact source text, holds the last
//! blocks highlighted on the UI thread.
//!
//! Invariants: a hit returns exactly what highlighting the text would (the key compares the
//! whole source, not a hash alone); lines made before the syntax assets were ready (plain) are
//! never stored; the memo holds at most [`MAX_ENTRIES`] blocks and [`MAX_BYTES`] of source, and
//! blocks over [`MAX_BLOCK_BYTES`] are not stored at all.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use ratatui::text::Line;

use crate::text::theme::{ColorMode, Theme};

pub const MAX_ENTRIES: usize = 32;
pub const MAX_BYTES: usize = 1 << 20;
pub const MAX_BLOCK_BYTES: usize = 256 * 1024;

struct Entry {
    lang: Option<String>,
    theme: String,
    mode: ColorMode,
    code: Arc<str>,
    lines: Arc<[Line<'static>]>,
}

thread_local! {
    static MEMO: RefCell<VecDeque<Entry>> = const { RefCell::new(VecDeque::new()) };
}

/// The block's highlighted lines: from the memo, or made by `highlight` and stored when `ready`.
pub(super) fn block(
    lang: Option<&str>,
    code: &str,
    theme: &Theme,
    ready: bool,
    highlight: impl FnOnce() -> Vec<Line<'static>>,
) -> Arc<[Line<'static>]> {
    let same = |e: &Entry| {
        e.code.len() == code.len()
            && e.lang.as_deref() == lang
            && e.theme == theme.name
            && e.mode == theme.color_mode
            && *e.code == *code
    };
    if let Some(hit) = MEMO.with_borrow_mut(|memo| {
        let at = memo.iter().position(same)?;
        let entry = memo.remove(at)?;
        let lines = entry.lines.clone();
        memo.push_front(entry);
        Some(lines)
    }) {
        return hit;
    }
    let lines: Arc<[Line<'static>]> = highlight().into();
    if ready && code.len() <= MAX_BLOCK_BYTES {
        MEMO.with_borrow_mut(|memo| {
            memo.push_front(Entry {
                lang: lang.map(str::to_owned),
                theme: theme.name.clone(),
                mode: theme.color_mode,
                code: code.into(),
                lines: lines.clone(),
            });
            let mut bytes: usize = memo.iter().map(|e| e.code.len()).sum();
            while memo.len() > MAX_ENTRIES || bytes > MAX_BYTES {
                bytes -= memo.pop_back().map_or(0, |e| e.code.len());
            }
        });
    }
    lines
}
