//! A stored session read a page at a time: on resume (and on a fork) the engine holds only the
//! messages a request can still carry (`history.rs`) and sends the Chat pane the newest
//! [`PAGE`] messages; older pages are read when the pane scrolls up (`Op::LoadOlder` →
//! `Event::OlderMessages`), and Chat search reaches messages not loaded yet
//! (`Op::SearchSession` → `Event::SessionSearch` with the newest match's position, whose
//! messages the pane then asks for).
//!
//! Invariants:
//! - Pages are runs of consecutive messages ending where the pane's loaded ones begin, so what
//!   the pane holds is always one run reaching the newest message.
//! - A store that cannot be read is a notice; the session goes on with what is held, and an
//!   unanswered page request is answered empty so the pane stops asking.
//! - A session search with a newer one already sent is skipped (the pane reads only the answer
//!   to its latest query).
//! - What the engine holds after a turn is bounded (`History::forget_before` with
//!   [`held_budget`]) whatever the session's length.

use super::history::{History, held_budget};
use super::runtime::Engine;
use crate::engine::llm::Message;
use crate::engine::protocol::{Event, Forked, HistoryEntry, LogLevel, Older, Op};
use crate::engine::store::{PagedMessage, Store, StoreError};

/// Messages in a page sent to the Chat pane.
pub const PAGE: usize = 200;

/// Messages read at a time while looking for where the held part begins.
const HELD_PAGE: usize = 256;

fn entries(page: Vec<PagedMessage>) -> Vec<HistoryEntry> {
    page.into_iter()
        .map(|p| HistoryEntry { message: p.stored.message, status: p.stored.status, note: p.stored.note })
        .collect()
}

impl Engine {
    /// The session in `self.session` becomes the one held, announced by `SessionReady`
    /// carrying its newest page (`forked`: it is a fork just made).
    pub(super) fn load_session(&mut self, forked: Option<Forked>) {
        self.history = History::default();
        let mut page = Vec::new();
        let mut older = Older::default();
        if let (Some(store), Some(session)) = (&self.store, &self.session) {
            let budget = held_budget(self.config.context_window(self.config.llm.primary));
            match read_session(store, &session.id, budget) {
                Ok((history, newest, before)) => (self.history, page, older) = (history, newest, before),
                Err(e) => self.notice(LogLevel::Error, format!("could not load the session: {e}")),
            }
        }
        let resumed = self.session.is_some();
        self.emit(Event::SessionReady {
            session_id: self.session.as_ref().map(|s| s.id.clone()),
            resumed,
            history: page,
            older,
            forked,
        });
    }

    /// `Op::LoadOlder`: the messages at positions `from..before` (`None`: the [`PAGE`] before).
    pub(super) fn load_older(&mut self, before: usize, from: Option<usize>) {
        let from = from.unwrap_or(before.saturating_sub(PAGE)).min(before);
        let page = match (&self.store, &self.session) {
            (Some(store), Some(session)) => store
                .load_messages_range(&session.id, from as i64 + 1, before as i64 + 1)
                .and_then(|page| Ok((page, store.prompts_before(&session.id, from as i64 + 1)?))),
            _ => Ok((Vec::new(), 0)),
        };
        match page {
            Ok((page, prompts)) => {
                self.emit(Event::OlderMessages { history: entries(page), older: from, prompts })
            }
            Err(e) => {
                self.notice(LogLevel::Error, format!("could not read older messages: {e}"));
                self.emit(Event::OlderMessages { history: Vec::new(), older: before, prompts: 0 });
            }
        }
    }

    /// `Op::SearchSession`: where the newest message before position `before` containing
    /// `query` is (the pane then asks for the messages down to it, `Op::LoadOlder`).
    pub(super) fn search_session(&mut self, query: String, before: usize, ignore_case: bool) {
        // The pane asks again as the query grows and reads only the latest answer: a newer
        // search already sent makes this one stale (ops read meanwhile keep their order).
        while let Ok(op) = self.ops.try_recv() {
            self.queued.push_back(op);
        }
        if self.queued.iter().any(|op| matches!(op, Op::SearchSession { .. })) {
            return;
        }
        let found = match (&self.store, &self.session) {
            (Some(store), Some(session)) => {
                store.search_messages(&session.id, &query, before as i64 + 1, ignore_case)
            }
            _ => Ok(None),
        };
        let found = match found {
            Ok(found) => found.map(|seq| (seq.max(1) - 1) as usize),
            Err(e) => {
                self.notice(LogLevel::Error, format!("could not search the session: {e}"));
                None
            }
        };
        self.emit(Event::SessionSearch { query, found });
    }

    /// After a turn: let go of the held messages past the budget (they stay in the store).
    pub(super) fn trim_held(&mut self) {
        let budget = held_budget(self.config.context_window(self.config.llm.primary));
        let start = self.history.budget_start(budget);
        if start > self.history.base() {
            self.history.forget_before(start, &self.pins);
        }
    }

    /// On resume: the pinned messages before the held part, read back for the summary.
    pub(super) fn read_early_pins(&mut self) {
        let (Some(store), Some(session)) = (&self.store, &self.session) else { return };
        let base = self.history.base();
        for &index in self.pins.iter().filter(|&&i| i < base) {
            match store.load_messages_range(&session.id, index as i64 + 1, index as i64 + 2) {
                Ok(mut page) if !page.is_empty() => {
                    self.history.keep_pinned(index, page.remove(0).stored.message)
                }
                Ok(_) => {}
                Err(e) => {
                    self.log(LogLevel::Error, format!("could not read pinned message {}: {e}", index + 1))
                }
            }
        }
    }
}

/// What the engine holds of session `id` (the messages after its summary, at most `budget`
/// raw tokens of the newest), its newest page and what comes before that page.
fn read_session(
    store: &Store,
    id: &str,
    budget: usize,
) -> Result<(History, Vec<HistoryEntry>, Older), StoreError> {
    let total = store.message_count(id)?;
    let through = store.latest_compaction(id)?.map_or(0, |c| c.through.min(total));
    let mut held: Vec<Message> = Vec::new();
    let mut tokens = 0;
    let mut before = None;
    'pages: while let Some(first) =
        Some(store.load_messages_page(id, before, HELD_PAGE)?).filter(|p| !p.is_empty())
    {
        before = first.first().map(|p| p.seq);
        for p in first.into_iter().rev() {
            if p.seq as usize <= through || tokens > budget {
                break 'pages;
            }
            tokens += crate::engine::llm::context::estimate_message(&p.stored.message);
            held.push(p.stored.message);
        }
    }
    held.reverse();
    let base = total - held.len();
    let prompts_before = store.prompts_before(id, base as i64 + 1)?;
    let page = store.load_messages_page(id, None, PAGE)?;
    let first = page.first().map_or(total, |p| (p.seq.max(1) - 1) as usize);
    // Prompts before the page, from those before the held part: counted over what is in hand.
    let prompts = if first >= base {
        prompts_before + held[..first - base].iter().filter(|m| m.is_prompt()).count()
    } else {
        let between = page[..(base - first).min(page.len())].iter().filter(|p| p.stored.message.is_prompt());
        prompts_before.saturating_sub(between.count())
    };
    let history = History::new(base, prompts_before, held);
    Ok((history, entries(page), Older { messages: first, prompts }))
}
