//! The Chat pane: user prompts, streamed markdown replies and notices, bottom-anchored.
//!
//! Invariants: only entries that reach the viewport are laid out; each entry's wrapped lines are
//! cached per width and theme; a streaming reply is split into blocks at blank lines outside code
//! fences and only blocks that changed are re-rendered, so a long reply costs the same per frame
//! as a short one.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use crate::app::chat::{ChatEntry, ChatState, EntryKind, EntryStatus, RenderCache};
use crate::app::paging::Side;
use crate::app::selection::LineKey;
use crate::engine::protocol::LogLevel;
use crate::engine::protocol::fences::FenceTracker;

use crate::text::lines::{Join, LineMeta};
use crate::text::markdown::render_markdown_meta;
use crate::text::theme::Theme;

/// Something drawn in the chat's column: an entry or the "trimmed" marker, each followed by a
/// blank line.
#[derive(Clone, Copy)]
enum Item {
    Entry(usize),
    Marker,
    /// "older messages — scroll up to load" above the first loaded entry (`app::paging`).
    Older,
    /// "N newer messages not loaded" above the first entry after a gap (`app::paging`).
    Gap,
}

/// Draw the chat, bottom-anchored, scrolled up by `state.scroll_from_bottom` lines (clamped).
///
/// Walks entries from the newest until the viewport plus the scroll offset is covered, refreshing
/// each one's cache, then copies only the visible rows into the buffer. Returns what each row
/// shows as `(entry, line of the entry)` — the blank line after an entry is its line `height` —
/// for selecting (`app::selection`); the trimmed marker and empty rows are `None`.
pub fn render_chat(
    area: Rect,
    buf: &mut Buffer,
    state: &mut ChatState,
    theme: &Theme,
) -> Vec<Option<LineKey>> {
    let mut rows = vec![None; area.height as usize];
    if area.width == 0 || area.height == 0 {
        return rows;
    }
    let width = area.width;
    let marker_before = trimmed_marker_index(state);
    state.paging.gap_at = crate::app::paging::gap_index(state);
    super::chat_scroll::keep_view(state, area, marker_before, theme);
    if let Some((entry, byte, query)) = state.reveal.take() {
        super::chat_scroll::reveal(state, entry, byte, &query, area, marker_before, theme);
    }
    let needed = area.height as usize + state.scroll_from_bottom;
    let mut items: Vec<(Item, usize)> = Vec::new();
    let mut height = 0;
    let first = state.shown_from.min(state.entries.len());
    let mut reached_first = true;
    for index in (first..state.entries.len()).rev() {
        let entry_height = refresh(&mut state.entries[index], width, theme) + 1;
        items.push((Item::Entry(index), entry_height));
        height += entry_height;
        if marker_before == Some(index) {
            items.push((Item::Marker, 2));
            height += 2;
        }
        if state.paging.gap_at == Some(index) {
            items.push((Item::Gap, 2));
            height += 2;
        }
        if height >= needed {
            reached_first = index == first;
            break;
        }
    }
    let older = state.paging.older.messages;
    if reached_first && first == 0 && older > 0 {
        items.push((Item::Older, 2));
        height += 2;
    }
    if height < needed {
        state.scroll_from_bottom = state.scroll_from_bottom.min(height.saturating_sub(area.height as usize));
    }
    let end = height.saturating_sub(state.scroll_from_bottom);
    let start = end.saturating_sub(area.height as usize);
    let marker = marker_line(state.trimmed, theme);
    let older_line = Line::styled(format!("── {older} older messages — scroll up to load ──"), theme.dim);
    let gap = state.paging.gap.map_or(0, |g| g.to - g.from);
    let gap_line = Line::styled(format!("── {gap} messages not loaded here — scroll to load ──"), theme.dim);
    let mut offset = 0;
    for (item, item_height) in items.into_iter().rev() {
        let (from, to) = (start.max(offset), end.min(offset + item_height));
        if let Item::Entry(index) = item
            && (from..to).contains(&start)
        {
            state.view.top = Some((index, start - offset, item_height));
        }
        for global in from..to {
            let row = area.y + (global - start) as u16;
            let local = global - offset;
            let line = match item {
                Item::Entry(index) => {
                    rows[global - start] = Some((index, local));
                    state.entries[index].cache.line(local)
                }
                Item::Marker => (local == 0).then_some(&marker),
                Item::Older => {
                    // In view: the pane asks for the page before (`app::paging::after_draw`).
                    state.paging.at_top = true;
                    (local == 0).then_some(&older_line)
                }
                Item::Gap => {
                    // In view: filled from the side the view shows more of.
                    let upper = ((global - start) as u16) < area.height / 2;
                    state.paging.at_gap = Some(if upper { Side::Below } else { Side::Above });
                    (local == 0).then_some(&gap_line)
                }
            };
            if let Some(line) = line {
                buf.set_line(area.x, row, line, width);
            }
        }
        offset += item_height;
    }
    super::chat_scroll::mark_tail(state, width, theme);
    rows
}

/// An entry's lines as the `--inline` transcript prints them: header, text, footer and the blank
/// line after it, wrapped to `width`.
pub fn entry_lines(entry: &mut ChatEntry, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let height = refresh(entry, width, theme);
    let mut lines: Vec<Line<'static>> = (0..height).filter_map(|i| entry.cache.line(i).cloned()).collect();
    lines.push(Line::default());
    lines
}

fn trimmed_marker_index(state: &ChatState) -> Option<usize> {
    if state.trimmed == 0 {
        return None;
    }
    let mut seen = 0;
    for (i, entry) in state.entries.iter().enumerate() {
        if matches!(entry.kind, EntryKind::User | EntryKind::Assistant) {
            if seen == state.trimmed {
                return Some(i);
            }
            seen += 1;
        }
    }
    None
}

fn marker_line(trimmed: usize, theme: &Theme) -> Line<'static> {
    Line::styled(
        format!("── {trimmed} earlier messages no longer fit the context window and were not sent ──"),
        theme.dim,
    )
}

/// Bring the entry's cached lines up to date for `width`; returns its height in lines.
pub(super) fn refresh(entry: &mut ChatEntry, width: u16, theme: &Theme) -> usize {
    let header = header(entry, theme);
    let cache = &mut entry.cache;
    if cache.width != width || cache.theme != theme.name || entry.text.len() < cache.text_len {
        *cache = RenderCache { width, theme: theme.name.clone(), ..RenderCache::default() };
    }
    cache.header = header;
    let stale = cache.text_len != entry.text.len() || cache.blocks.is_empty();
    match &entry.kind {
        EntryKind::Assistant if stale => refresh_blocks(cache, &entry.text, width, theme),
        EntryKind::User if stale => {
            cache.blocks = vec![plain_block(&entry.text, entry.text.len(), width, theme.base)];
            cache.text_len = entry.text.len();
        }
        EntryKind::Thinking { collapsed: true } if stale => {
            let lines = entry.text.lines().count();
            let words = entry.text.split_whitespace().count();
            let line = format!("▸ {words} words over {lines} lines — Ctrl+T shows them");
            cache.blocks = vec![plain_block(&line, entry.text.len(), width, theme.dim)];
            cache.text_len = entry.text.len();
        }
        EntryKind::Thinking { collapsed: false } if stale => {
            let style = theme.dim.add_modifier(Modifier::ITALIC);
            cache.blocks = vec![plain_block(&entry.text, entry.text.len(), width, style)];
            cache.text_len = entry.text.len();
        }
        EntryKind::Notice(_) | EntryKind::Tool { .. } if stale => {
            let style = match &entry.kind {
                EntryKind::Notice(LogLevel::Warn) => theme.warning,
                EntryKind::Notice(LogLevel::Error) => theme.error,
                _ => theme.dim,
            };
            cache.blocks = vec![plain_block(&entry.text, entry.text.len(), width, style)];
            cache.text_len = entry.text.len();
        }
        _ => {}
    }
    // A prompt's images: a placeholder line each (no terminal graphics protocol is used).
    let images = entry.images.iter().flat_map(|label| {
        let (lines, metas) = wrap_plain_meta(label, width, theme.accent);
        lines.into_iter().zip(metas)
    });
    cache.footer = images.collect();
    cache.footer.extend(match &entry.status {
        EntryStatus::Streaming => vec![(Line::styled("▍", theme.accent), LineMeta::decor(usize::MAX))],
        EntryStatus::Incomplete(reason) => {
            let style = theme.warning.add_modifier(Modifier::ITALIC);
            let (lines, metas) = wrap_plain_meta(&format!("⚠ incomplete: {reason}"), width, style);
            lines.into_iter().zip(metas).collect()
        }
        EntryStatus::Complete => Vec::new(),
    });
    cache.height = 1 + cache.blocks.iter().map(|(_, _, l, _)| l.len()).sum::<usize>() + cache.footer.len();
    cache.height
}

fn header(entry: &ChatEntry, theme: &Theme) -> Line<'static> {
    let (label, style) = match &entry.kind {
        EntryKind::User => ("You", theme.user_label),
        EntryKind::Assistant => ("kv1nt", theme.assistant_label),
        EntryKind::Notice(LogLevel::Error) => ("Error", theme.error.add_modifier(Modifier::BOLD)),
        EntryKind::Notice(LogLevel::Warn) => ("Warning", theme.warning.add_modifier(Modifier::BOLD)),
        EntryKind::Notice(LogLevel::Info) => ("Note", theme.dim.add_modifier(Modifier::BOLD)),
        EntryKind::Tool { .. } => ("Tool", theme.accent),
        EntryKind::Thinking { .. } => ("Thinking", theme.dim),
    };
    let mut spans = vec![Span::styled("▌", style), Span::styled(label, style.add_modifier(Modifier::BOLD))];
    if let Some(n) = entry.prompt {
        // What `/fork N` names.
        spans.push(Span::styled(format!("  #{n}"), theme.dim));
    }
    Line::from(spans)
}

/// Re-render only the blocks of `text` that changed since the cache was made. Unchanged blocks
/// are moved over, not copied: a long reply streaming in costs its newest block per refresh.
fn refresh_blocks(cache: &mut RenderCache, text: &str, width: u16, theme: &Theme) {
    let bounds = block_bounds(text);
    let mut old: Vec<Option<_>> = std::mem::take(&mut cache.blocks).into_iter().map(Some).collect();
    let old_len = cache.text_len;
    let mut from = 0;
    for (start, end) in bounds {
        // A block that ended the old text was drawn as the text's end: reusable only if it had
        // no open fence then (an open one is drawn plain until it closes).
        let settled = |e: usize| e < old_len || without_open_fence_language(&text[start..e]).is_none();
        let found = old[from..]
            .iter()
            .position(|b| b.as_ref().is_some_and(|(s, e, _, _)| *s == start && *e == end && settled(*e)));
        let reused = found.and_then(|i| {
            from += i + 1;
            old[from - 1].take()
        });
        let block = match reused {
            Some(block) => block,
            None => {
                // A code block still streaming in is drawn plain until its fence closes:
                // highlighting it again on every frame would dominate the cost of streaming
                // (Code shows it highlighted meanwhile, incrementally).
                let open =
                    if end == text.len() { without_open_fence_language(&text[start..end]) } else { None };
                let (lines, metas) =
                    render_markdown_meta(open.as_deref().unwrap_or(&text[start..end]), width, theme);
                (start, end, lines, metas)
            }
        };
        cache.blocks.push(block);
    }
    cache.text_len = text.len();
}

/// If `block` ends inside an open code fence, the block with that fence's language removed.
fn without_open_fence_language(block: &str) -> Option<String> {
    let mut fences = FenceTracker::default();
    let mut opened_at = None;
    let mut offset = 0;
    for line in block.split_inclusive('\n') {
        if fences.line(line) && fences.open() {
            opened_at = Some(offset);
        }
        offset += line.len();
    }
    let start = opened_at.filter(|_| fences.open())?;
    let line_end = block[start..].find('\n').map_or(block.len(), |i| start + i);
    let line = &block[start..line_end];
    let indent = line.len() - line.trim_start().len();
    let run: String = line[indent..].chars().take_while(|c| *c == '`' || *c == '~').collect();
    Some(format!("{}{run}{}", &block[..start + indent], &block[line_end..]))
}

/// Byte ranges of markdown blocks: split at blank lines that are outside fenced code.
pub fn block_bounds(text: &str) -> Vec<(usize, usize)> {
    let mut bounds = Vec::new();
    let mut start = 0;
    let mut fences = FenceTracker::default();
    let mut offset = 0;
    let mut previous_blank = false;
    for line in text.split_inclusive('\n') {
        fences.line(line);
        let blank = line.trim().is_empty();
        if blank && !fences.open() && !previous_blank && offset > start {
            bounds.push((start, offset));
            start = offset;
        }
        previous_blank = blank && !fences.open();
        offset += line.len();
    }
    if offset > start {
        bounds.push((start, offset));
    }
    bounds
}

/// One cached block of plain text wrapped to `width`.
type CachedBlock = (usize, usize, Vec<Line<'static>>, Vec<LineMeta>);

fn plain_block(text: &str, len: usize, width: u16, style: Style) -> CachedBlock {
    let (lines, metas) = wrap_plain_meta(text, width, style);
    (0, len, lines, metas)
}

/// Wrap plain text to `width` columns (hard breaks for long words; tabs as four spaces).
pub fn wrap_plain(text: &str, width: u16, style: Style) -> Vec<Line<'static>> {
    wrap_plain_meta(text, width, style).0
}

/// [`wrap_plain`] with how to copy each line: a break inside a line joins back with nothing.
pub fn wrap_plain_meta(text: &str, width: u16, style: Style) -> (Vec<Line<'static>>, Vec<LineMeta>) {
    let width = width.max(1) as usize;
    let mut out = Vec::new();
    let mut metas = Vec::new();
    for raw in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        metas.push(LineMeta::default());
        for ch in raw.chars() {
            let (ch, w) = match ch {
                '\t' => (' ', 4),
                c if c.is_control() => ('�', 1),
                c => (c, c.width().unwrap_or(0)),
            };
            if used + w > width && used > 0 {
                out.push(Line::styled(std::mem::take(&mut line), style));
                metas.push(LineMeta { join: Join::Hard, ..LineMeta::default() });
                used = 0;
            }
            for _ in 0..if w == 4 && ch == ' ' { 4 } else { 1 } {
                line.push(ch);
            }
            used += w;
        }
        out.push(Line::styled(line, style));
    }
    (out, metas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_split_at_blank_lines_but_not_inside_fences() {
        let text = "para one\n\npara two\n```rust\nfn a() {}\n\nfn b() {}\n```\n\ntail";
        let bounds = block_bounds(text);
        let pieces: Vec<&str> = bounds.iter().map(|(s, e)| &text[*s..*e]).collect();
        assert_eq!(pieces.len(), 3, "{pieces:?}");
        assert!(pieces[1].contains("fn a() {}\n\nfn b() {}"));
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn an_open_fence_loses_its_language_until_it_closes() {
        assert_eq!(without_open_fence_language("text\n```rust\nfn a"), Some("text\n```\nfn a".into()));
        assert_eq!(without_open_fence_language("  ~~~~py x\n"), Some("  ~~~~\n".into()));
        assert_eq!(without_open_fence_language("```rust\nfn a() {}\n```\n"), None);
        assert_eq!(without_open_fence_language("no code"), None);
    }

    #[test]
    fn plain_wrap_breaks_long_words_and_keeps_every_char() {
        let lines = wrap_plain(&"x".repeat(25), 10, Style::default());
        assert_eq!(lines.len(), 3);
        let wide = wrap_plain("日本語テキスト", 4, Style::default());
        assert!(wide.iter().all(|l| l.width() <= 4));
    }
}
