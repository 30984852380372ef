//! The session's messages as the engine holds them: only the newest part, what a request can
//! still carry — the messages after the summary in force, at most about [`held_budget`] tokens
//! of them — while the store keeps every message. A resumed 100,000-message session costs the
//! engine what its last window costs.
//!
//! Invariants:
//! - Indexes are positions in the whole session (0 = the first message, as `seq - 1` in the
//!   store): `len()` counts every message, held or not; `get(i)` of a position before the held
//!   part is `None`, unless it is a pinned message kept by [`History::keep_pinned`].
//! - Only the oldest messages are ever let go ([`History::forget_before`]), never ones a request
//!   would send: callers pass a position at or before what the summary in force stands for, or
//!   before the newest [`held_budget`] tokens.
//! - `prompts()` counts every prompt of the session, held or not (the Chat pane's `#N`).

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::llm::Message;
use crate::engine::llm::context::estimate_message;

/// The most raw estimated tokens of messages held beyond what a summary leaves: twice the
/// window (so switching to a model with a larger one still finds history), within
/// 256k..=2M tokens (a few megabytes of text at most).
pub(super) fn held_budget(window: usize) -> usize {
    window.saturating_mul(2).clamp(256_000, 2_000_000)
}

#[derive(Debug, Default)]
pub(crate) struct History {
    /// Messages of the session before `messages[0]`: in the store only.
    base: usize,
    /// How many of those are prompts.
    prompts_before: usize,
    messages: Vec<Message>,
    /// Pinned messages before `base`, by position: a summary sends them word for word.
    pinned: BTreeMap<usize, Message>,
}

impl History {
    /// The session's messages from position `base` on, `prompts_before` prompts coming before.
    pub(super) fn new(base: usize, prompts_before: usize, messages: Vec<Message>) -> Self {
        Self { base, prompts_before, messages, pinned: BTreeMap::new() }
    }

    /// Every message of the session, held or not.
    pub(super) fn len(&self) -> usize {
        self.base + self.messages.len()
    }

    /// The position of the first held message.
    pub(super) fn base(&self) -> usize {
        self.base
    }

    pub(super) fn push(&mut self, message: Message) {
        self.messages.push(message);
    }

    pub(super) fn get(&self, index: usize) -> Option<&Message> {
        match index.checked_sub(self.base) {
            Some(i) => self.messages.get(i),
            None => self.pinned.get(&index),
        }
    }

    pub(super) fn last(&self) -> Option<&Message> {
        self.messages.last()
    }

    /// The held messages (positions `base()..len()`).
    pub(super) fn held(&self) -> &[Message] {
        &self.messages
    }

    /// The held messages from position `from` on (from the first held one if `from` is older).
    pub(super) fn from(&self, from: usize) -> &[Message] {
        let start = from.clamp(self.base, self.len()) - self.base;
        &self.messages[start..]
    }

    /// The held messages with their positions.
    pub(super) fn indexed(&self) -> impl DoubleEndedIterator<Item = (usize, &Message)> {
        self.messages.iter().enumerate().map(move |(i, m)| (self.base + i, m))
    }

    /// Every prompt of the session so far.
    pub(super) fn prompts(&self) -> usize {
        self.prompts_before + self.messages.iter().filter(|m| m.is_prompt()).count()
    }

    /// Keep the pinned message at `index` (before the held part) read back from the store.
    pub(super) fn keep_pinned(&mut self, index: usize, message: Message) {
        if index < self.base {
            self.pinned.insert(index, message);
        }
    }

    /// Let go of the held messages before position `index`; those in `pins` stay reachable.
    pub(super) fn forget_before(&mut self, index: usize, pins: &BTreeSet<usize>) {
        let count = index.saturating_sub(self.base).min(self.messages.len());
        for (i, message) in self.messages.drain(..count).enumerate() {
            self.prompts_before += usize::from(message.is_prompt());
            if pins.contains(&(self.base + i)) {
                self.pinned.insert(self.base + i, message);
            }
        }
        self.base += count;
    }

    /// The position before which the held messages past the newest `budget` raw tokens lie.
    pub(super) fn budget_start(&self, budget: usize) -> usize {
        let mut used = 0;
        for (i, message) in self.indexed().rev() {
            used += estimate_message(message);
            if used > budget {
                return i + 1;
            }
        }
        self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_the_whole_session() {
        let messages = (0..10).map(|i| Message::user(format!("p{i}"))).collect();
        let mut h = History::new(90, 40, messages);
        assert_eq!((h.len(), h.base(), h.prompts()), (100, 90, 50));
        assert_eq!(h.get(95).map(|m| m.text.as_str()), Some("p5"));
        assert_eq!(h.get(89), None);
        assert_eq!(h.from(0).len(), 10);
        assert_eq!(h.from(97).len(), 3);
        h.push(Message::assistant("a"));
        assert_eq!((h.len(), h.prompts()), (101, 50));
        h.forget_before(93, &BTreeSet::from([91]));
        assert_eq!((h.base(), h.len(), h.prompts()), (93, 101, 50));
        assert_eq!(h.get(91).map(|m| m.text.as_str()), Some("p1"), "a pinned message stays");
        assert_eq!(h.get(92), None);
        assert_eq!(h.indexed().next().map(|(i, m)| (i, m.text.clone())), Some((93, "p3".to_string())));
    }

    #[test]
    fn the_budget_keeps_the_newest_messages() {
        let messages: Vec<Message> = (0..100).map(|_| Message::user("word ".repeat(400))).collect();
        let each = estimate_message(&messages[0]);
        let h = History::new(0, 0, messages);
        assert_eq!(h.budget_start(each * 10), 90);
        assert_eq!(h.budget_start(usize::MAX), 0);
        assert_eq!(held_budget(8_000), 256_000);
        assert_eq!(held_budget(200_000), 400_000);
    }
}
