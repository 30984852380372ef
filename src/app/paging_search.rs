//! Chat search past the loaded messages (`app::paging`): when the query matches none of them,
//! or `N` goes past the oldest match, the engine is asked for the newest older match
//! (`Op::SearchSession`); its answer (`Event::SessionSearch`) brings that message in
//! (`paging::toward`) and the match is shown once it is loaded.
//!
//! Invariants: only the answer to the latest query counts; one search is in flight per query;
//! a match the engine found is shown only while the search that asked for it is still open.

use super::state::{AppState, Pane};
use crate::engine::protocol::Op;

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
        Some(position) if !state.chat.paging.loaded(position) => {
            state.chat.paging.reveal = Some((query, position));
            super::paging::toward(state, position);
        }
        found => show_found(state, &query, found, previous),
    }
}

pub(super) fn show_found(state: &mut AppState, query: &str, found: Option<usize>, previous: bool) {
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
