//! Entering and leaving the full-screen terminal. Every exit path restores the terminal: the
//! guard's `Drop`, and a panic hook that restores before the panic message is printed.

use std::io::{Stdout, Write, stdout};

use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste, EnableFocusChange,
    EnableMouseCapture, KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// The terminal in raw, alternate-screen mode; restored when dropped.
pub struct TerminalGuard {
    pub terminal: Tui,
    mouse: bool,
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> std::io::Result<Self> {
        install_panic_hook(mouse);
        enable_raw_mode()?;
        let mut out = stdout();
        // Keyboard enhancement (kitty protocol) lets Shift+Enter be told from Enter; terminals
        // that do not know the sequence ignore it. It is pushed without querying support first,
        // because a terminal that never answers the query would stall start-up.
        let entered = execute!(
            out,
            EnterAlternateScreen,
            EnableBracketedPaste,
            EnableFocusChange,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        )
        .and_then(|_| if mouse { execute!(out, EnableMouseCapture) } else { Ok(()) });
        if let Err(e) = entered {
            restore(mouse);
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(Self { terminal, mouse }),
            Err(e) => {
                restore(mouse);
                Err(e)
            }
        }
    }
}

impl TerminalGuard {
    /// Hand the terminal to another program (the external editor): the normal screen, cooked
    /// mode. [`TerminalGuard::resume`] takes it back.
    pub fn suspend(&mut self) {
        let _ = self.terminal.show_cursor();
        restore(self.mouse);
    }

    /// Take the terminal back after [`TerminalGuard::suspend`]; the next draw repaints it all.
    pub fn resume(&mut self) -> std::io::Result<()> {
        enable_raw_mode()?;
        let mut out = stdout();
        execute!(
            out,
            EnterAlternateScreen,
            EnableBracketedPaste,
            EnableFocusChange,
            PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
        )?;
        if self.mouse {
            execute!(out, EnableMouseCapture)?;
        }
        // A blank frame over the fresh screen, so the next draw repaints every cell. (Not
        // `Terminal::clear`, which asks the terminal for the cursor position and waits for the
        // answer — an answer the editor's exit can leave unread.)
        self.terminal.draw(|_| {}).map(|_| ())
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        restore(self.mouse);
    }
}

/// Put the terminal back the way the shell expects it. Safe to call more than once.
pub fn restore(mouse: bool) {
    let mut out = stdout();
    if mouse {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(
        out,
        PopKeyboardEnhancementFlags,
        DisableFocusChange,
        DisableBracketedPaste,
        LeaveAlternateScreen
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook(mouse: bool) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore(mouse);
        previous(info);
    }));
}
