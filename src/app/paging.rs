//! The Chat pane's window on a long session: a resumed session shows its newest page
//! (`Event::SessionReady`), and a line "older messages — scroll up to load" at the top while
//! more are stored; when the view reaches that line the previous page is asked for
//! (`Op::LoadOlder`) and put in front without moving the view (the view counts from the bottom).
//! Chat search asks the engine for matches in messages not loaded (`Op::SearchSession`), then
//! for the messages down to the match, and shows it when they arrive. Back at the tail, pages loaded beyond
//! [`KEEP_PREPENDED`] entries are let go again, so however far the user scrolled back the pane
//! settles at a bounded size.
//!
//! Invariants:
//! - What the pane holds of the stored session is one run of consecutive messages reaching the
//!   newest: a page is taken only if it ends exactly where the loaded ones begin.
//! - Every index into `ChatState::entries` kept elsewhere (the view, the reveal, code blocks,
//!   the last request's first entry, a Chat selection, the search's current match) moves with
//!   the entries put in front or let go.
//! - At most one page request and one session search are in flight.

use super::chat::{ChatEntry, EntryKind, EntryStatus};
use super::state::{AppState, Pane};
use crate::engine::protocol::{HistoryEntry, MessageStatus, Older, Op, Role};

/// Entries loaded by scrolling up that stay once the view follows the tail again.
pub const KEEP_PREPENDED: usize = 200;

/// The pane's place in the stored session.
#[derive(Debug, Default)]
pub struct Paging {
    /// Stored messages before the first loaded one, and how many of them are prompts.
    pub older: Older,
    /// Entries at the front that came from older pages (those that are let go again).
    pub prepended: usize,
    /// A page was asked for and has not arrived.
    pub waiting: bool,
    /// The "older messages" line was drawn in view (set by the widget).
    pub at_top: bool,
    /// A session search in flight: its query, and whether it was `N` past the oldest match.
    pub searching: Option<(String, bool)>,
    /// A match the engine found in a message not loaded yet: the query and the message's
    /// position, shown once the messages down to it are loaded.
    pub reveal: Option<(String, usize)>,
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

/// `Event::OlderMessages`: put the page in front of the loaded entries.
pub fn on_older(state: &mut AppState, history: Vec<HistoryEntry>, older: usize) {
    let paging = &mut state.chat.paging;
    paging.waiting = false;
    if history.is_empty() {
        // Nothing could be read: stop asking.
        (paging.older, paging.reveal) = (Older::default(), None);
    } else if older + history.len() == paging.older.messages {
        prepend(state, history, older);
    } // else: a page asked for before another one arrived, or for a session since replaced
    let Some((query, position)) = state.chat.paging.reveal.clone() else { return };
    if position >= state.chat.paging.older.messages {
        state.chat.paging.reveal = None;
        show_found(state, &query, Some(position), false);
    } else {
        request(state, Some(position));
    }
}

/// Ask for the messages from position `from` (`None`: a page) down to the loaded ones.
fn request(state: &mut AppState, from: Option<usize>) {
    let paging = &mut state.chat.paging;
    if !paging.waiting {
        paging.waiting = true;
        state.outbox.push(Op::LoadOlder { before: paging.older.messages, from });
    }
}

fn prepend(state: &mut AppState, history: Vec<HistoryEntry>, older: usize) {
    let paging = &mut state.chat.paging;
    let page_prompts = history.iter().filter(|h| h.message.is_prompt()).count();
    let prompts = paging.older.prompts.saturating_sub(page_prompts);
    let (entries, _) = entries_of(history, older, prompts);
    paging.older = Older { messages: older, prompts };
    let n = entries.len();
    paging.prepended += n;
    state.chat.entries.splice(0..0, entries);
    shift(state, n as isize);
    // The match shown keeps its place among the matches: count the new ones in front of it.
    if let Some(search) = state.search.as_mut().filter(|s| s.pane == Pane::Chat) {
        let added = super::search::matches_in(&state.chat.entries[..n], search).len();
        search.current = search.current.map(|c| c + added);
        search.count += added;
    }
    state.dirty = true;
}

/// Move every kept entry index by `by` (entries put in front: positive; let go: negative).
fn shift(state: &mut AppState, by: isize) {
    let moved = |i: usize| i.checked_add_signed(by);
    let chat = &mut state.chat;
    chat.first_sent_entry = chat.first_sent_entry.and_then(moved);
    chat.view.tail.0 = moved(chat.view.tail.0).unwrap_or(0);
    chat.view.top = chat.view.top.and_then(|(e, l, h)| Some((moved(e)?, l, h)));
    chat.reveal = chat.reveal.take().and_then(|(e, b, q)| Some((moved(e)?, b, q)));
    for block in &mut state.code.blocks {
        block.entry = moved(block.entry).unwrap_or(0);
    }
    if let Some(sel) = state.selection.as_mut().filter(|s| s.pane == Pane::Chat) {
        match (moved(sel.anchor.line.0), moved(sel.cursor.line.0)) {
            (Some(a), Some(c)) => (sel.anchor.line.0, sel.cursor.line.0) = (a, c),
            _ => state.selection = None,
        }
    }
}

/// After drawing: ask for the previous page when the view reached the top, or let go of pages
/// loaded earlier once the view follows the tail again.
pub fn after_draw(state: &mut AppState) {
    let paging = &mut state.chat.paging;
    if std::mem::take(&mut paging.at_top) && !paging.waiting && paging.older.messages > 0 && !state.inline {
        request(state, None);
    } else if state.chat.scroll_from_bottom == 0
        && paging.prepended > 2 * KEEP_PREPENDED
        && !paging.waiting
        && paging.reveal.is_none()
    {
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
    let prompts = entries[..cut].iter().filter(|e| e.prompt.is_some()).count();
    if let Some(search) = state.search.as_mut().filter(|s| s.pane == Pane::Chat) {
        let dropped = super::search::matches_in(&state.chat.entries[..cut], search).len();
        search.current = search.current.and_then(|c| c.checked_sub(dropped));
        search.count = search.count.saturating_sub(dropped);
    }
    state.chat.entries.drain(..cut);
    let paging = &mut state.chat.paging;
    paging.older = Older { messages: first, prompts: paging.older.prompts + prompts };
    paging.prepended -= cut;
    shift(state, -(cut as isize));
    give_back_freed_memory();
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

/// Chat search found nothing among the loaded entries (or `N` went past the oldest match):
/// ask the engine for the newest older match. Returns whether it was asked.
pub fn search_older(state: &mut AppState, query: &str, ignore_case: bool, previous: bool) -> bool {
    let paging = &mut state.chat.paging;
    if paging.older.messages == 0 || state.inline {
        return false;
    }
    if paging.searching.as_ref().is_some_and(|(q, _)| q == query) {
        return true;
    }
    paging.searching = Some((query.to_string(), previous));
    paging.reveal = None;
    let before = paging.older.messages;
    state.outbox.push(Op::SearchSession { query: query.to_string(), before, ignore_case });
    true
}

/// `Event::SessionSearch`: show the match, once the messages down to it are loaded (or, with
/// none, go round to the newest match as `N` does).
pub fn on_search(state: &mut AppState, query: String, found: Option<usize>) {
    // Only the answer to the search in flight counts (an earlier query's is stale).
    let previous = match &state.chat.paging.searching {
        Some((asked, previous)) if *asked == query => *previous,
        _ => return,
    };
    state.chat.paging.searching = None;
    match found {
        Some(position) if position < state.chat.paging.older.messages => {
            state.chat.paging.reveal = Some((query, position));
            request(state, Some(position));
        }
        found => show_found(state, &query, found, previous),
    }
}

fn show_found(state: &mut AppState, query: &str, found: Option<usize>, previous: bool) {
    let Some(search) = state.search.clone().filter(|s| s.pane == Pane::Chat && s.query == query) else {
        return;
    };
    let hits = super::search::matches(state, &search);
    let at = match found {
        Some(position) => hits.iter().rposition(|h| state.chat.entries[h.item].seq == Some(position)),
        None if previous && !hits.is_empty() => Some(hits.len() - 1),
        None => {
            state.status.flash = Some((
                format!("\"{query}\" is not in this session"),
                crate::engine::protocol::LogLevel::Info,
            ));
            None
        }
    };
    super::search::show(state, hits, at);
}
