//! Entering and leaving the terminal: full screen (the alternate screen), or inline (`--inline`:
//! a viewport at the bottom of the normal screen, the transcript printed above it into the
//! terminal's scrollback). Every exit path restores the terminal: the guard's `Drop`, and a
//! panic hook that restores before the panic message is printed.

use std::io::{Stdout, Write, stdout};

use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste, EnableFocusChange,
    EnableMouseCapture, KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::backend::TrackedBackend;

pub type Tui = Terminal<TrackedBackend>;

/// The terminal in raw, alternate-screen mode; restored when dropped.
pub struct TerminalGuard {
    pub terminal: Tui,
    mouse: bool,
    /// Rows of the inline viewport; `None`: full screen.
    inline: Option<u16>,
}

impl TerminalGuard {
    /// Full screen, with mouse capture when `mouse`.
    pub fn enter(mouse: bool) -> std::io::Result<Self> {
        Self::enter_with(mouse, None)
    }

    /// Inline: a viewport of `rows` at the bottom of the normal screen, no mouse capture (the
    /// terminal keeps its own selection and scrollback).
    pub fn enter_inline(rows: u16) -> std::io::Result<Self> {
        Self::enter_with(false, Some(rows))
    }

    fn enter_with(mouse: bool, inline: Option<u16>) -> std::io::Result<Self> {
        let alternate = inline.is_none();
        install_panic_hook(mouse, alternate);
        enable_raw_mode()?;
        let mut out = stdout();
        let entered = set_modes(&mut out, mouse, alternate);
        if let Err(e) = entered {
            restore(mouse, alternate);
            return Err(e);
        }
        let backend = TrackedBackend::new(out);
        let terminal = match inline {
            Some(rows) => {
                Terminal::with_options(backend, TerminalOptions { viewport: Viewport::Inline(rows) })
            }
            None => Terminal::new(backend),
        };
        match terminal {
            Ok(terminal) => Ok(Self { terminal, mouse, inline }),
            Err(e) => {
                restore(mouse, alternate);
                Err(e)
            }
        }
    }

    /// Whether the terminal is inline (`--inline`).
    pub fn is_inline(&self) -> bool {
        self.inline.is_some()
    }
}

/// The modes kv1nt runs in. Keyboard enhancement (kitty protocol) lets Shift+Enter be told from
/// Enter; terminals that do not know the sequence ignore it. It is pushed without querying
/// support first, because a terminal that never answers the query would stall start-up.
fn set_modes(out: &mut Stdout, mouse: bool, alternate: bool) -> std::io::Result<()> {
    if alternate {
        execute!(out, EnterAlternateScreen)?;
    }
    execute!(
        out,
        EnableBracketedPaste,
        EnableFocusChange,
        PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
    )?;
    if mouse {
        execute!(out, EnableMouseCapture)?;
    }
    Ok(())
}

impl TerminalGuard {
    /// Hand the terminal to another program (the external editor): the normal screen, cooked
    /// mode. [`TerminalGuard::resume`] takes it back.
    pub fn suspend(&mut self) {
        let _ = self.terminal.show_cursor();
        restore(self.mouse, self.inline.is_none());
    }

    /// Take the terminal back after [`TerminalGuard::suspend`]; the next draw repaints it all.
    pub fn resume(&mut self) -> std::io::Result<()> {
        enable_raw_mode()?;
        set_modes(&mut stdout(), self.mouse, self.inline.is_none())?;
        // A blank frame over the fresh screen, so the next draw repaints every cell. (Not
        // `Terminal::clear`, which asks the terminal for the cursor position and waits for the
        // answer — an answer the editor's exit can leave unread.)
        self.terminal.draw(|_| {}).map(|_| ())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        restore(self.mouse, self.inline.is_none());
    }
}

/// Put the terminal back the way the shell expects it. Safe to call more than once.
pub fn restore(mouse: bool, alternate: bool) {
    let mut out = stdout();
    if mouse {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, PopKeyboardEnhancementFlags, DisableFocusChange, DisableBracketedPaste);
    if alternate {
        let _ = execute!(out, LeaveAlternateScreen);
    }
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook(mouse: bool, alternate: bool) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore(mouse, alternate);
        previous(info);
    }));
}
