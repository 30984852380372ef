//! What crosses the boundary about a stored session: its messages as loaded (`HistoryEntry`,
//! in `Event::SessionReady`) and how a session came from another (`Forked`, `/fork`).
//!
//! Invariant: prompt numbers (`/fork N`, the Chat pane's `#N`) count the session's messages for
//! which [`Message::is_prompt`](super::chat::Message::is_prompt) holds, from 1.

use super::chat::{Message, MessageStatus};

/// A message of a resumed session, as it was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub message: Message,
    pub status: MessageStatus,
    pub note: Option<String>,
}

/// What a page of a session's messages leaves out before it (`Event::SessionReady`): the
/// older messages, read when the Chat pane scrolls up (`Op::LoadOlder`), and how many of them are
/// prompts, so the page's prompts keep their numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Older {
    pub messages: usize,
    pub prompts: usize,
}

/// A session forked from another (`Op::Fork`): carried by the `Event::SessionReady` that
/// switches to it, whose history then replaces what the Chat pane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Forked {
    /// The session it was forked from (unchanged by the fork).
    pub parent_id: String,
    /// The prompt it was forked before (`/fork N`), or `None`: after everything.
    pub before_prompt: Option<usize>,
    /// That prompt's text, for the composer, to edit and send again.
    pub prompt: Option<String>,
}
