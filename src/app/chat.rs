//! The Chat pane's state: the conversation's entries (prompts, replies, notices, tool lines)
//! and each entry's render cache, filled by `widgets::chat` while drawing.
//!
//! Invariant: a cache is valid for one width and theme; `widgets::chat` rebuilds it when either
//! changes and re-renders only the blocks of a streaming reply that grew.

use ratatui::text::Line;

use crate::engine::protocol::LogLevel;

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    User,
    Assistant,
    Notice(LogLevel),
    /// A tool call and, once finished, its result line.
    Tool {
        call_id: String,
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
    pub cache: RenderCache,
}

impl ChatEntry {
    pub fn new(kind: EntryKind, text: String, status: EntryStatus) -> Self {
        Self { kind, text, status, cache: RenderCache::default() }
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
}

impl ChatState {
    pub fn streaming_entry(&mut self) -> Option<&mut ChatEntry> {
        self.entries.last_mut().filter(|e| e.status == EntryStatus::Streaming)
    }
}

/// Wrapped lines of one entry, valid for one width and theme.
#[derive(Debug, Default)]
pub struct RenderCache {
    pub(crate) width: u16,
    pub(crate) theme: String,
    pub(crate) header: Line<'static>,
    /// Rendered blocks: byte range of the text and its lines.
    pub(crate) blocks: Vec<(usize, usize, Vec<Line<'static>>)>,
    /// Status lines under the text (streaming cursor, "incomplete: …").
    pub(crate) footer: Vec<Line<'static>>,
    pub(crate) text_len: usize,
    pub(crate) height: usize,
}

impl RenderCache {
    /// Line `i` of the entry (header, then blocks, then footer), without copying.
    pub(crate) fn line(&self, mut i: usize) -> Option<&Line<'static>> {
        if i == 0 {
            return Some(&self.header);
        }
        i -= 1;
        for (_, _, lines) in &self.blocks {
            if i < lines.len() {
                return lines.get(i);
            }
            i -= lines.len();
        }
        self.footer.get(i)
    }
}
