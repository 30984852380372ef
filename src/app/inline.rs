//! `--inline`: kv1nt in the normal screen buffer. The terminal's bottom rows are a ratatui
//! inline viewport showing the Chat pane's unprinted tail (the reply being written), the
//! composer, the status bar and any dialog; every finished message is printed above the viewport
//! (`Terminal::insert_before`), so it goes into the terminal's own scrollback, where the user's
//! terminal search, selection and copy work on it.
//!
//! Invariants: messages are printed once, in order, and only when they can no longer change — a
//! message that is streaming stays in the viewport, and the newest one waits until a later one
//! exists or the turn has ended (a tool line gets its result, a prompt its number); on quit
//! everything left is printed. The Chat pane draws only from `ChatState::shown_from` on.

use super::EntryLines;
use super::state::AppState;
use super::terminal::Tui;
use crate::app::chat::EntryStatus;

/// Rows of the inline viewport for a terminal of `rows`: two fifths of it, at least 12 (or the
/// whole terminal when smaller).
pub fn viewport_rows(rows: u16) -> u16 {
    (rows * 2 / 5).max(12).min(rows)
}

/// Print every message that is finished and not printed yet above the viewport; `all` prints
/// the rest too (quitting).
pub fn print_finished(
    state: &mut AppState,
    terminal: &mut Tui,
    entry_lines: EntryLines,
    all: bool,
) -> std::io::Result<()> {
    if state.chat.shown_from >= state.chat.entries.len() {
        return Ok(()); // nothing new: no terminal query on every loop turn
    }
    let width = terminal.size()?.width;
    let busy = state.busy();
    loop {
        let next = state.chat.shown_from;
        let len = state.chat.entries.len();
        let Some(entry) = state.chat.entries.get_mut(next) else { break };
        let settled = entry.status != EntryStatus::Streaming && (next + 1 < len || !busy);
        if !settled && !all {
            break;
        }
        let lines = entry_lines(entry, width, &state.theme);
        let height = u16::try_from(lines.len()).unwrap_or(u16::MAX);
        terminal.insert_before(height, |buf| {
            for (row, line) in lines.iter().enumerate().take(usize::from(height)) {
                buf.set_line(buf.area.x, buf.area.y + row as u16, line, buf.area.width);
            }
        })?;
        state.chat.shown_from += 1;
        state.dirty = true;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_viewport_takes_two_fifths_of_the_terminal_within_bounds() {
        assert_eq!(viewport_rows(50), 20);
        assert_eq!(viewport_rows(24), 12);
        assert_eq!(viewport_rows(8), 8);
    }
}
