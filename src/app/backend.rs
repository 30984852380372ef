//! The terminal backend kv1nt draws through: crossterm's, with the cursor position remembered
//! instead of asked. Ratatui asks the terminal where the cursor is (`CSI 6 n`) when an inline
//! viewport is cleared — after every `insert_before` — but while kv1nt's input stream runs, the
//! answer arrives on that stream and the question times out ("The cursor position could not be
//! read"), which ended `--inline` sessions at the first printed message.
//!
//! Invariants: the terminal is asked once, the first time (at start-up, before input is read:
//! ratatui anchors the inline viewport there); afterwards the answer is the last position kv1nt
//! moved the cursor to, which is where ratatui's callers (clear, then restore) need it. Every
//! other call goes to crossterm unchanged.

use std::io::{self, Stdout, Write};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

pub struct TrackedBackend {
    inner: CrosstermBackend<Stdout>,
    cursor: Option<Position>,
}

impl TrackedBackend {
    pub fn new(out: Stdout) -> Self {
        Self { inner: CrosstermBackend::new(out), cursor: None }
    }
}

impl Write for TrackedBackend {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut self.inner)
    }
}

impl Backend for TrackedBackend {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        match self.cursor {
            Some(position) => Ok(position),
            None => {
                let position = self.inner.get_cursor_position()?;
                self.cursor = Some(position);
                Ok(position)
            }
        }
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let position = position.into();
        self.cursor = Some(position);
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}
