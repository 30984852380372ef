//! The Chat pane's state: the conversation's entries (prompts, replies, notices, tool lines)
//! and each entry's render cache, filled by `widgets::chat` while drawing.
//!
//! Invariant: a cache is valid for one width and theme; `widgets::chat` rebuilds it when either
//! changes and re-renders only the blocks of a streaming reply that grew.

use ratatui::text::Line;

use crate::engine::protocol::LogLevel;
use crate::text::lines::{Join, LineMeta};

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    User,
    Assistant,
    Notice(LogLevel),
    /// A tool call and, once finished, its result line.
    Tool {
        call_id: String,
    },
    /// The model's reasoning before a reply: shown dimmed while it streams, collapsed to one
    /// line once the answer starts (`toggle_thinking` opens it again).
    Thinking {
        collapsed: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryStatus {
    Complete,
    Streaming,
    Incomplete(String),
}

/// One message in the Chat pane.
#[derive(Debug)]
pub struct ChatEntry {
    pub kind: EntryKind,
    pub text: String,
    pub status: EntryStatus,
    /// A prompt's number in the session (`#N` on its header; what `/fork N` names), once the
    /// engine stored it (`Event::PromptRecorded`, or a resumed history).
    pub prompt: Option<usize>,
    /// A prompt's images, one placeholder line each (`[image: shot.png 1280×720, 312 kB]`),
    /// drawn below its text.
    pub images: Vec<String>,
    /// The stored message it shows (its position in the session, 0-based), for an entry of a
    /// resumed page (`app::paging`).
    pub seq: Option<usize>,
    pub cache: RenderCache,
}

impl ChatEntry {
    pub fn new(kind: EntryKind, text: String, status: EntryStatus) -> Self {
        Self {
            kind,
            text,
            status,
            prompt: None,
            images: Vec::new(),
            seq: None,
            cache: RenderCache::default(),
        }
    }
}

#[derive(Debug, Default)]
pub struct ChatState {
    pub entries: Vec<ChatEntry>,
    /// Lines scrolled up from the bottom; 0 follows the tail.
    pub scroll_from_bottom: usize,
    /// Oldest entries the last request left out (a marker is drawn above the first kept one).
    pub trimmed: usize,
    /// Index into `entries` of the first user/assistant entry sent in the last request.
    pub first_sent_entry: Option<usize>,
    /// Entries before this one were printed to the terminal's scrollback (`--inline`) and are
    /// not drawn in the pane.
    pub shown_from: usize,
    /// How the view was last drawn, to keep it still when scrolled up (`widgets::chat_scroll`).
    pub view: ChatView,
    /// A search match to bring into view: entry, byte offset in its text, and the query
    /// (`app::search`); the widget, which knows the layout, scrolls to it and clears it.
    pub reveal: Option<(usize, usize, String)>,
    /// The model's task list (`Event::Todo`), drawn at the top of the pane (`widgets::todo`).
    pub todo: Vec<crate::engine::protocol::TodoItem>,
    /// Entries put in between (a gap filled, `app::paging`): where, how many, and whether the
    /// view keeps the lines above them still (`widgets::chat_scroll`).
    pub inserted: Option<(usize, usize, bool)>,
    /// Where the loaded entries stand in the stored session (`app::paging`).
    pub paging: super::paging::Paging,
}

impl ChatState {
    /// The engine stored the latest prompt as the session's `number`-th, with these images: the
    /// newest prompt shown without a number gets them (one the engine refused never does).
    pub fn number_prompt(&mut self, number: usize, images: Vec<String>) {
        if let Some(entry) =
            self.entries.iter_mut().rev().find(|e| e.kind == EntryKind::User && e.prompt.is_none())
        {
            entry.prompt = Some(number);
            entry.images = images;
        }
    }

    pub fn streaming_entry(&mut self) -> Option<&mut ChatEntry> {
        self.entries.last_mut().filter(|e| e.status == EntryStatus::Streaming)
    }

    /// Adds reasoning to the streaming reply's Thinking entry, made just above the reply's own
    /// entry on the first piece.
    pub fn thinking_delta(&mut self, text: &str) {
        let reply = self
            .entries
            .iter()
            .rposition(|e| e.kind == EntryKind::Assistant && e.status == EntryStatus::Streaming)
            .unwrap_or(self.entries.len());
        let open = reply
            .checked_sub(1)
            .filter(|&i| matches!(self.entries[i].kind, EntryKind::Thinking { .. }))
            .filter(|&i| self.entries[i].status == EntryStatus::Streaming);
        match open {
            Some(i) => self.entries[i].text.push_str(text),
            None => self.entries.insert(
                reply,
                ChatEntry::new(
                    EntryKind::Thinking { collapsed: false },
                    text.to_string(),
                    EntryStatus::Streaming,
                ),
            ),
        }
    }

    /// The reasoning is over (the answer started, a tool ran, the turn ended): collapse it.
    pub fn close_thinking(&mut self) {
        for entry in &mut self.entries {
            if matches!(entry.kind, EntryKind::Thinking { .. }) && entry.status == EntryStatus::Streaming {
                entry.kind = EntryKind::Thinking { collapsed: true };
                entry.status = EntryStatus::Complete;
                entry.cache = RenderCache::default();
            }
        }
    }

    /// Opens every Thinking block when the newest is collapsed, else collapses them all.
    pub fn toggle_thinking(&mut self) -> bool {
        let newest = self.entries.iter().rev().find_map(|e| match e.kind {
            EntryKind::Thinking { collapsed } => Some(collapsed),
            _ => None,
        });
        let Some(collapsed) = newest else { return false };
        for entry in &mut self.entries {
            if let EntryKind::Thinking { .. } = entry.kind {
                entry.kind = EntryKind::Thinking { collapsed: !collapsed };
                entry.cache = RenderCache::default();
            }
        }
        true
    }
}

/// The Chat view as last drawn (`widgets::chat_scroll`).
#[derive(Debug, Default, Clone, Copy)]
pub struct ChatView {
    /// The number of entries and the last one's height in lines (with its blank line).
    pub tail: (usize, usize),
    /// The width it was drawn at.
    pub width: u16,
    /// The entry at the top of the view, the line of it there, and its height.
    pub top: Option<(usize, usize, usize)>,
    /// Lines arrived below while scrolled up ("↓ new output" in the caption).
    pub new_below: bool,
}

/// Wrapped lines of one entry, valid for one width and theme.
#[derive(Debug, Default)]
pub struct RenderCache {
    pub(crate) width: u16,
    pub(crate) theme: String,
    pub(crate) header: Line<'static>,
    /// Rendered blocks: byte range of the text, its lines and how to copy each (`text::lines`).
    pub(crate) blocks: Vec<(usize, usize, Vec<Line<'static>>, Vec<LineMeta>)>,
    /// Status lines under the text (streaming cursor, "incomplete: …") and how to copy them.
    pub(crate) footer: Vec<(Line<'static>, LineMeta)>,
    pub(crate) text_len: usize,
    pub(crate) height: usize,
}

impl RenderCache {
    /// Line `i` of the entry (header, then blocks, then footer), without copying.
    pub(crate) fn line(&self, i: usize) -> Option<&Line<'static>> {
        self.line_meta(i).map(|(line, _)| line)
    }

    /// Line `i` and how to copy it (the header's bar is decoration).
    pub(crate) fn line_meta(&self, mut i: usize) -> Option<(&Line<'static>, LineMeta)> {
        if i == 0 {
            return Some((&self.header, LineMeta::decor(1)));
        }
        i -= 1;
        for (n, (_, _, lines, metas)) in self.blocks.iter().enumerate() {
            if i < lines.len() {
                let mut meta = metas.get(i).cloned().unwrap_or_default();
                if n > 0 && i == 0 && meta.join == Join::New {
                    meta.join = Join::Blank; // blocks were split at a blank line
                }
                return lines.get(i).map(|l| (l, meta));
            }
            i -= lines.len();
        }
        self.footer.get(i).map(|(line, meta)| (line, meta.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_streams_above_the_reply_then_collapses_and_toggles() {
        let mut chat = ChatState::default();
        chat.entries.push(ChatEntry::new(EntryKind::Assistant, String::new(), EntryStatus::Streaming));
        chat.thinking_delta("Weigh ");
        chat.thinking_delta("the options.");
        assert_eq!(chat.entries[0].kind, EntryKind::Thinking { collapsed: false });
        assert_eq!(chat.entries[0].text, "Weigh the options.");
        assert_eq!(chat.entries[1].kind, EntryKind::Assistant, "the reply stays last, streaming");
        chat.close_thinking();
        assert_eq!(chat.entries[0].kind, EntryKind::Thinking { collapsed: true });
        assert_eq!(chat.entries[0].status, EntryStatus::Complete);
        assert!(chat.toggle_thinking());
        assert_eq!(chat.entries[0].kind, EntryKind::Thinking { collapsed: false });
        assert!(chat.toggle_thinking());
        assert_eq!(chat.entries[0].kind, EntryKind::Thinking { collapsed: true });
    }
}
