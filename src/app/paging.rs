//! The Chat pane's window on a long session: a resumed session shows its newest page
//! (`Event::SessionReady`), and a line "older messages — scroll up to load" at the top while
//! more are stored; when the view reaches that line the previous page is asked for
//! (`Op::LoadOlder`) and put in front without moving the view (the view counts from the bottom).
//! Chat search past the loaded messages goes through the engine (`paging_search.rs`): a match
//! near them brings the messages down to it; one far back replaces the loaded run by a page
//! around it, leaving a gap (a line "N newer messages not loaded") that fills a page at a time
//! from whichever side the view comes. Back at the tail, pages loaded beyond [`KEEP_PREPENDED`]
//! entries (and a run with a gap, whole) are let go again, so however far the user went the pane
//! settles at a bounded size.
//!
//! Invariants:
//! - The pane's entries are the stored run (entries with a `seq`) then the live ones (`seq`
//!   `None`: notices and what happened since the resume); the run is consecutive messages but
//!   for at most one gap, and ends at [`Paging::end`]. A page is taken only where it fits.
//! - Every index into `ChatState::entries` kept elsewhere (the view, the reveal, code blocks,
//!   the last request's first entry, a Chat selection, the search's current match) moves with
//!   the entries put in or let go ([`remap`]).
//! - At most one page request and one session search are in flight.

use super::chat::{ChatEntry, EntryKind, EntryStatus};
use super::state::{AppState, Pane};
use crate::engine::protocol::{HistoryEntry, MessageStatus, Older, Op, Role};

/// Entries loaded by scrolling up that stay once the view follows the tail again.
pub const KEEP_PREPENDED: usize = 200;
/// Messages in a page (as the engine's `agent::paging::PAGE`).
pub const PAGE: usize = 200;

/// The pane's place in the stored session.
#[derive(Debug, Default)]
pub struct Paging {
    /// Stored messages before the first loaded one, and how many of them are prompts.
    pub older: Older,
    /// The same before the first live entry: where the stored run ends.
    pub end: Older,
    /// Stored messages not loaded between loaded ones (after a search jumped far back).
    pub gap: Option<Gap>,
    /// Entries of pages loaded since the resume (those that are let go again).
    pub prepended: usize,
    /// A page was asked for and has not arrived; a jump's range when it was one.
    pub waiting: bool,
    pub jump: Option<(usize, usize)>,
    /// The "older messages" line was drawn in view (set by the widget).
    pub at_top: bool,
    /// The gap's line was drawn in view, and from which side the view comes (the widget).
    pub at_gap: Option<Side>,
    /// The entry the gap's line is drawn above (the widget, each frame).
    pub gap_at: Option<usize>,
    /// A session search in flight: its query, and whether it was `N` past the oldest match.
    pub searching: Option<(String, bool)>,
    /// A match the engine found in a message not loaded yet: the query and the message's
    /// position, shown once it is loaded.
    pub reveal: Option<(String, usize)>,
}

/// Messages at positions `from..to` not loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    pub from: usize,
    pub to: usize,
}

/// Which side of a gap to fill: right after the loaded messages above it, or right before
/// those below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Above,
    Below,
}

impl Paging {
    /// Whether the message at `position` is loaded.
    pub fn loaded(&self, position: usize) -> bool {
        position >= self.older.messages
            && position < self.end.messages
            && !self.gap.is_some_and(|g| (g.from..g.to).contains(&position))
    }
}

/// The entry the gap's line goes above: the first after the gap.
pub fn gap_index(state: &super::chat::ChatState) -> Option<usize> {
    let gap = state.paging.gap?;
    Some(state.entries.iter().position(|e| e.seq.is_none_or(|s| s >= gap.to)).unwrap_or(state.entries.len()))
}

/// Chat entries for `history`, the session's messages from position `first` on, `prompts`
/// prompts coming before; also returns how many of them are prompts.
pub fn entries_of(history: Vec<HistoryEntry>, first: usize, prompts: usize) -> (Vec<ChatEntry>, usize) {
    let mut out = Vec::new();
    let mut seen = 0;
    for (i, entry) in history.into_iter().enumerate() {
        let prompt = entry.message.is_prompt().then(|| {
            seen += 1;
            prompts + seen
        });
        let seq = Some(first + i);
        if entry.message.role == Role::Assistant {
            for thinking in entry.message.thinking.iter().filter(|t| !t.text.trim().is_empty()) {
                let kind = EntryKind::Thinking { collapsed: true };
                let mut shown = ChatEntry::new(kind, thinking.text.clone(), EntryStatus::Complete);
                shown.seq = seq;
                out.push(shown);
            }
        }
        let kind = match entry.message.role {
            Role::User if entry.message.tool_results.is_empty() => EntryKind::User,
            Role::Assistant if !entry.message.text.trim().is_empty() => EntryKind::Assistant,
            _ => continue,
        };
        let status = match entry.status {
            MessageStatus::Complete => EntryStatus::Complete,
            _ => EntryStatus::Incomplete(entry.note.unwrap_or_else(|| "incomplete".into())),
        };
        let mut shown = ChatEntry::new(kind, entry.message.text, status);
        shown.prompt = prompt;
        shown.seq = seq;
        shown.images = entry.message.images.iter().map(|i| i.placeholder()).collect();
        out.push(shown);
    }
    (out, seen)
}

/// `Event::OlderMessages`: put the page where it belongs — in front, as the jump asked, or in
/// the gap — and go on towards a match waiting to be shown.
pub fn on_older(state: &mut AppState, history: Vec<HistoryEntry>, older: usize, prompts: usize) {
    let paging = &mut state.chat.paging;
    paging.waiting = false;
    let jump = paging.jump.take();
    let end = older + history.len();
    let in_gap = paging.gap.filter(|g| older >= g.from && end <= g.to && (older == g.from || end == g.to));
    if history.is_empty() {
        // Nothing could be read: stop asking.
        (paging.older, paging.gap, paging.reveal) = (Older::default(), None, None);
    } else if jump == Some((older, end)) {
        replace_run(state, history, older, prompts);
    } else if end == paging.older.messages {
        put(state, 0, history, older, prompts);
        state.chat.paging.older = Older { messages: older, prompts };
    } else if let Some(gap) = in_gap {
        let at = gap_index(&state.chat).unwrap_or(0);
        let above = older == gap.from;
        let n = put(state, at, history, older, prompts);
        state.chat.inserted = Some((at, n, above));
        let gap = if above { Gap { from: end, ..gap } } else { Gap { to: older, ..gap } };
        state.chat.paging.gap = (gap.from < gap.to).then_some(gap);
    } // else: an answer to a request made before another page arrived
    let Some((query, position)) = state.chat.paging.reveal.clone() else { return };
    if state.chat.paging.loaded(position) {
        state.chat.paging.reveal = None;
        super::paging_search::show_found(state, &query, Some(position), false);
    } else {
        toward(state, position);
    }
}

/// Ask for what brings the message at `position` (before the loaded ones) in: the messages
/// down to it when it is near, else a page around it in place of the run.
pub(super) fn toward(state: &mut AppState, position: usize) {
    let first = state.chat.paging.older.messages;
    if first - position <= 2 * PAGE {
        request(state, first, Some(position));
    } else {
        let range = (position.saturating_sub(PAGE / 2), position + PAGE / 2);
        if request(state, range.1, Some(range.0)) {
            state.chat.paging.jump = Some(range);
        }
    }
}

/// Ask for the messages at `from..before` (`None`: the page before `before`), unless a request
/// is in flight; returns whether it was asked.
fn request(state: &mut AppState, before: usize, from: Option<usize>) -> bool {
    let paging = &mut state.chat.paging;
    if paging.waiting {
        return false;
    }
    paging.waiting = true;
    state.outbox.push(Op::LoadOlder { before, from });
    true
}

/// Insert the page's entries at index `at`; returns how many.
fn put(state: &mut AppState, at: usize, history: Vec<HistoryEntry>, older: usize, prompts: usize) -> usize {
    let (entries, _) = entries_of(history, older, prompts);
    let n = entries.len();
    state.chat.paging.prepended += n;
    let hits_before = current_hits_before(state, at);
    state.chat.entries.splice(at..at, entries);
    remap(state, |i| Some(if i >= at { i + n } else { i }));
    // The match shown keeps its place among the matches: count the new ones in front of it.
    if let Some(search) = state.search.as_mut().filter(|s| s.pane == Pane::Chat) {
        let added = super::search::matches_in(&state.chat.entries[at..at + n], search).len();
        search.count += added;
        if hits_before.is_some_and(|before| search.current.is_some_and(|c| c >= before)) {
            search.current = search.current.map(|c| c + added);
        }
    }
    state.dirty = true;
    n
}

/// The matches of a Chat search in the entries before `at`.
fn current_hits_before(state: &AppState, at: usize) -> Option<usize> {
    let search = state.search.as_ref().filter(|s| s.pane == Pane::Chat)?;
    Some(super::search::matches_in(&state.chat.entries[..at], search).len())
}

/// A jump: the page around a match far back replaces the stored run, a gap after it.
fn replace_run(state: &mut AppState, history: Vec<HistoryEntry>, older: usize, prompts: usize) {
    let run = run_len(state);
    let after = older + history.len();
    let (entries, _) = entries_of(history, older, prompts);
    let n = entries.len();
    state.chat.entries.splice(0..run, entries);
    remap(state, |i| (i >= run).then(|| i - run + n));
    let paging = &mut state.chat.paging;
    paging.older = Older { messages: older, prompts };
    paging.prepended = n;
    paging.gap = (after < paging.end.messages).then_some(Gap { from: after, to: paging.end.messages });
    if let Some(search) = state.search.as_mut() {
        search.current = None; // the match is shown once the page is in (`on_older`)
    }
    give_back_freed_memory();
    state.dirty = true;
}

/// How many entries the stored run has (the first live entry's index).
fn run_len(state: &AppState) -> usize {
    state.chat.entries.iter().position(|e| e.seq.is_none()).unwrap_or(state.chat.entries.len())
}

/// Every kept entry index through `to` (`None`: its entry is gone).
fn remap(state: &mut AppState, to: impl Fn(usize) -> Option<usize>) {
    let chat = &mut state.chat;
    chat.first_sent_entry = chat.first_sent_entry.and_then(&to);
    chat.view.tail.0 = to(chat.view.tail.0).unwrap_or(0);
    chat.view.top = chat.view.top.and_then(|(e, l, h)| Some((to(e)?, l, h)));
    chat.reveal = chat.reveal.take().and_then(|(e, b, q)| Some((to(e)?, b, q)));
    let code = &mut state.code;
    let selected = code.selected.and_then(|i| code.blocks.get(i)).and_then(|b| to(b.entry));
    code.blocks.retain_mut(|b| match to(b.entry) {
        Some(e) => {
            b.entry = e;
            true
        }
        None => false,
    });
    code.selected = selected.and_then(|e| code.blocks.iter().position(|b| b.entry == e));
    if let Some(sel) = state.selection.as_mut().filter(|s| s.pane == Pane::Chat) {
        match (to(sel.anchor.line.0), to(sel.cursor.line.0)) {
            (Some(a), Some(c)) => (sel.anchor.line.0, sel.cursor.line.0) = (a, c),
            _ => state.selection = None,
        }
    }
}

/// After drawing: ask for the page the view reached (the older messages' or the gap's line),
/// or let go of pages loaded earlier once the view follows the tail again.
pub fn after_draw(state: &mut AppState) {
    let paging = &mut state.chat.paging;
    let (at_top, at_gap) = (std::mem::take(&mut paging.at_top), paging.at_gap.take());
    if state.inline || paging.waiting {
        return;
    }
    let at_tail = state.chat.scroll_from_bottom == 0 && paging.reveal.is_none();
    if at_tail && paging.gap.is_some() {
        // Following the tail again after a jump: the run with its gap goes; the newest page
        // comes back as the "older messages" line asks for it.
        let (run, end) = (run_len(state), state.chat.paging.end);
        let_go(state, run, end);
    } else if at_top && paging.older.messages > 0 {
        let before = paging.older.messages;
        request(state, before, None);
    } else if let (Some(side), Some(gap)) = (at_gap, paging.gap) {
        match side {
            Side::Above => request(state, (gap.from + PAGE).min(gap.to), Some(gap.from)),
            Side::Below => request(state, gap.to, Some(gap.to.saturating_sub(PAGE).max(gap.from))),
        };
    } else if at_tail && paging.prepended > 2 * KEEP_PREPENDED {
        release(state);
    }
}

/// Let go of the oldest pages loaded, keeping [`KEEP_PREPENDED`] entries of them (cut where a
/// message begins).
fn release(state: &mut AppState) {
    let entries = &state.chat.entries;
    let mut cut = state.chat.paging.prepended - KEEP_PREPENDED;
    while cut > 0 && (entries[cut].seq.is_none() || entries[cut].seq == entries[cut - 1].seq) {
        cut -= 1;
    }
    let Some(first) = entries.get(cut).and_then(|e| e.seq).filter(|_| cut > 0) else { return };
    let prompts =
        state.chat.paging.older.prompts + entries[..cut].iter().filter(|e| e.prompt.is_some()).count();
    let_go(state, cut, Older { messages: first, prompts });
}

/// Drop the first `cut` entries; `older` is then what comes before the first one kept.
fn let_go(state: &mut AppState, cut: usize, older: Older) {
    if let Some(search) = state.search.as_mut().filter(|s| s.pane == Pane::Chat) {
        let dropped = super::search::matches_in(&state.chat.entries[..cut], search).len();
        search.current = search.current.and_then(|c| c.checked_sub(dropped));
        search.count = search.count.saturating_sub(dropped);
    }
    state.chat.entries.drain(..cut);
    let paging = &mut state.chat.paging;
    paging.older = older;
    paging.prepended = paging.prepended.saturating_sub(cut);
    if older.messages >= paging.gap.map_or(0, |g| g.from) {
        paging.gap = None;
    }
    remap(state, |i| i.checked_sub(cut));
    give_back_freed_memory();
    state.dirty = true; // what is drawn changed after the frame: draw again
}

/// The entries let go were many small allocations: hand the freed heap back to the system, so
/// the process's resident size settles again (glibc keeps freed memory otherwise).
fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the top of glibc's heaps and arenas; it
    // touches no live allocation and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
