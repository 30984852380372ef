//! Drive a real program inside a pseudo-terminal and read its screen.
//!
//! [`PtySession::spawn`] starts a program under a fresh pty (portable-pty) with a
//! cleared, predictable environment. A reader thread feeds everything the program
//! writes into a shared `vt100` parser (no scrollback), so tests can look at the
//! screen exactly as a user would see it: text, cell colours, cursor.
//!
//! The reader thread also answers the two terminal queries full-screen apps make at
//! start-up — cursor position (`CSI 6 n`) and primary device attributes (`CSI c`) —
//! so crossterm never stalls waiting for a reply that a real terminal would send.
//!
//! Waiting is always by polling the screen (every 20 ms) against a deadline; never
//! use fixed sleeps as test logic. The child is killed when the session is dropped.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub use super::pty_replies::Replies;

/// How often the `wait_*` helpers look at the screen.
const POLL: Duration = Duration::from_millis(20);

/// A key press, encoded the way xterm sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Enter,
    Up,
    Down,
    Backspace,
    CtrlC,
    Ctrl(char),
}

impl Key {
    /// The bytes xterm sends for this key. `app_cursor` is DECCKM (application
    /// cursor keys), in which arrows use `ESC O` instead of `ESC [`.
    pub fn bytes(self, app_cursor: bool) -> Vec<u8> {
        let cursor = |c: char| {
            let lead = if app_cursor { "\x1bO" } else { "\x1b[" };
            format!("{lead}{c}").into_bytes()
        };
        match self {
            Key::Enter => b"\r".to_vec(),
            Key::Up => cursor('A'),
            Key::Down => cursor('B'),
            Key::Backspace => b"\x7f".to_vec(),
            Key::CtrlC => vec![0x03],
            Key::Ctrl(c) => vec![ctrl_byte(c)],
        }
    }
}

/// The control byte for Ctrl+`c` (Ctrl+A = 0x01 … Ctrl+Z = 0x1a, Ctrl+[ = ESC, …).
fn ctrl_byte(c: char) -> u8 {
    match c.to_ascii_lowercase() {
        ch @ 'a'..='z' => ch as u8 - b'a' + 1,
        ch @ ('@' | '[' | '\\' | ']' | '^' | '_') => ch as u8 & 0x1f,
        ' ' => 0x00,
        '?' => 0x7f,
        other => panic!("no control code for Ctrl+{other:?}"),
    }
}

/// The parser shared between the reader thread and the test.
pub type Parser = vt100::Parser<Replies>;

/// A program running in a pseudo-terminal. Dropping it kills the program.
pub struct PtySession {
    parser: Arc<Mutex<Parser>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
    /// Set once the reader thread saw EOF/EIO: no more output will arrive.
    closed: Arc<AtomicBool>,
    program: String,
    exit_code: Option<u32>,
}

impl PtySession {
    /// Start `program` (looked up in `PATH`) with `args` in `cwd` on a `cols`×`rows` pty.
    ///
    /// The environment is cleared, then `PATH` (inherited), `HOME` (= `cwd`),
    /// `TERM=xterm-256color`, `COLORTERM=truecolor`, `LANG=C.UTF-8` are set, then
    /// `env` in order (later entries override earlier ones and the defaults).
    pub fn spawn(
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
        cwd: &Path,
        cols: u16,
        rows: u16,
    ) -> PtySession {
        assert!(cwd.is_dir(), "pty cwd {} is not a directory", cwd.display());
        let pair = native_pty_system()
            .openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 })
            .expect("openpty");

        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env_clear();
        cmd.env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()));
        cmd.env("HOME", cwd);
        cmd.env("TERM", "xterm-256color");
        cmd.env("COLORTERM", "truecolor");
        cmd.env("LANG", "C.UTF-8");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.cwd(cwd);

        let child = pair
            .slave
            .spawn_command(cmd)
            .unwrap_or_else(|e| panic!("spawning {program} {args:?} in a pty: {e:#}"));
        // Only the child may hold the slave side, or the reader never sees EOF.
        drop(pair.slave);

        let reader = pair.master.try_clone_reader().expect("pty reader");
        let writer: Arc<Mutex<Box<dyn Write + Send>>> =
            Arc::new(Mutex::new(pair.master.take_writer().expect("pty writer")));
        let parser = Arc::new(Mutex::new(vt100::Parser::new_with_callbacks(
            rows,
            cols,
            SCROLLBACK,
            Replies::default(),
        )));
        let closed = Arc::new(AtomicBool::new(false));
        {
            let (parser, writer, closed) = (parser.clone(), writer.clone(), closed.clone());
            thread::Builder::new()
                .name(format!("pty-reader-{program}"))
                .spawn(move || pump(reader, parser, writer, closed))
                .expect("spawn pty reader thread");
        }

        PtySession {
            parser,
            writer,
            master: pair.master,
            child,
            closed,
            program: program.to_string(),
            exit_code: None,
        }
    }

    /// Type `text`: its UTF-8 bytes go to the program's terminal input unchanged.
    pub fn send(&mut self, text: &str) {
        self.send_bytes(text.as_bytes());
    }

    /// Write raw bytes to the program's terminal input.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let mut w = self.writer.lock().unwrap();
        w.write_all(bytes).expect("write to pty");
        w.flush().expect("flush pty");
    }

    /// Press a key (xterm encoding; honours application-cursor mode).
    pub fn send_key(&mut self, key: Key) {
        let app_cursor = self.parser.lock().unwrap().screen().application_cursor();
        self.send_bytes(&key.bytes(app_cursor));
    }

    /// Paste `text` as a terminal does with bracketed paste on.
    pub fn paste(&mut self, text: &str) {
        self.send(&format!("\x1b[200~{text}\x1b[201~"));
    }

    /// Everything the terminal holds: the scrollback (up to [`SCROLLBACK`] lines) then the screen,
    /// one line per row (trailing blanks trimmed), joined by `\n`.
    pub fn scrollback_text(&self) -> String {
        let mut parser = self.parser.lock().unwrap_or_else(|e| e.into_inner());
        let rows = usize::from(parser.screen().size().0);
        parser.screen_mut().set_scrollback(usize::MAX);
        let mut pages = Vec::new();
        loop {
            let offset = parser.screen().scrollback();
            pages.push(
                screen_text(parser.screen())
                    .lines()
                    .take(offset.min(rows))
                    .map(String::from)
                    .collect::<Vec<_>>(),
            );
            if offset == 0 {
                break;
            }
            parser.screen_mut().set_scrollback(offset.saturating_sub(rows));
        }
        let mut text: Vec<String> = pages.into_iter().flatten().collect();
        text.extend(screen_text(parser.screen()).lines().map(String::from));
        text.join("\n")
    }

    /// The visible screen: one line per row (trailing blanks trimmed), joined by `\n`.
    pub fn screen_text(&self) -> String {
        screen_text(self.parser.lock().unwrap().screen())
    }

    /// Run `f` on the current screen (colours, cursor, modes…).
    /// The OSC sequences the program wrote that vt100 left unhandled (see [`Replies`]).
    pub fn oscs(&self) -> Vec<String> {
        self.parser.lock().unwrap_or_else(|e| e.into_inner()).callbacks().oscs.clone()
    }

    /// What the program put on the clipboard with OSC 52: `(selector, base64 data)`.
    pub fn clipboard(&self) -> Vec<(String, String)> {
        self.parser.lock().unwrap_or_else(|e| e.into_inner()).callbacks().clipboard.clone()
    }

    /// The window titles the program set.
    pub fn titles(&self) -> Vec<String> {
        self.parser.lock().unwrap_or_else(|e| e.into_inner()).callbacks().titles.clone()
    }

    pub fn with_screen<T>(&self, f: impl FnOnce(&vt100::Screen) -> T) -> T {
        f(self.parser.lock().unwrap().screen())
    }

    /// Wait until `needle` is on screen; `Ok(screen text)`, or `Err` with a dump.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<String, String> {
        let mut text = String::new();
        self.wait_for_fn(&format!("{needle:?} on screen"), timeout, |s| {
            text = screen_text(s);
            text.contains(needle)
        })
        .map(|()| text)
    }

    /// Wait until `pred(screen)` holds. `what` describes it for the error message.
    /// Fails early (without waiting out the timeout) once the program's output has
    /// ended and the predicate still does not hold.
    pub fn wait_for_fn(
        &mut self,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&vt100::Screen) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            // Read `closed` before looking, so output that arrived first is seen.
            let closed = self.closed.load(Ordering::SeqCst);
            if pred(self.parser.lock().unwrap().screen()) {
                return Ok(());
            }
            if closed {
                return Err(self.failure(what, "the program's output ended (pty closed)"));
            }
            if Instant::now() >= deadline {
                return Err(self.failure(what, &format!("timed out after {timeout:?}")));
            }
            thread::sleep(POLL);
        }
    }

    fn failure(&mut self, what: &str, why: &str) -> String {
        let state = match self.poll_exit() {
            Some(code) => format!("exited with code {code}"),
            None => "still running".to_string(),
        };
        let (rows, cols, cursor) = self.with_screen(|s| {
            let (r, c) = s.size();
            (r, c, s.cursor_position())
        });
        format!(
            "waiting for {what}: {why}; `{}` {state}; screen {cols}x{rows}, cursor {cursor:?}:\n\
             ----- screen -----\n{}\n------------------",
            self.program,
            self.screen_text()
        )
    }

    /// `(row, col)` of the first occurrence of `needle` (cell columns, so wide
    /// characters before it count as two). Matches do not span rows.
    pub fn find(&self, needle: &str) -> Option<(u16, u16)> {
        let parser = self.parser.lock().unwrap();
        let screen = parser.screen();
        let (rows, _) = screen.size();
        (0..rows).find_map(|row| {
            let (text, cols) = row_text(screen, row);
            let at = text.find(needle)?;
            let idx = cols.partition_point(|&(byte, _)| byte < at);
            Some((row, cols.get(idx).map_or(0, |&(_, col)| col)))
        })
    }

    /// Foreground colour of a cell (`None` outside the screen).
    pub fn cell_fg(&self, row: u16, col: u16) -> Option<vt100::Color> {
        self.with_screen(|s| s.cell(row, col).map(|c| c.fgcolor()))
    }

    /// Resize both the pty (the program gets SIGWINCH) and the emulated screen.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        // Resize the parser first and hold its lock while resizing the pty, so the
        // program's redraw is parsed at the new size.
        let mut parser = self.parser.lock().unwrap();
        parser.screen_mut().set_size(rows, cols);
        self.master.resize(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 }).expect("resize pty");
    }

    /// Wait for the program to exit; its exit code (1 if killed by a signal), or
    /// `None` if it is still running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<u32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(code) = self.poll_exit() {
                return Some(code);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(POLL);
        }
    }

    fn poll_exit(&mut self) -> Option<u32> {
        if self.exit_code.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exit_code = Some(status.exit_code());
        }
        self.exit_code
    }

    /// Whether the program is still running.
    pub fn is_alive(&mut self) -> bool {
        self.poll_exit().is_none()
    }

    /// The program's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        if self.poll_exit().is_none() {
            // SIGHUP, a short grace period, then SIGKILL; then reap.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reader thread: pty output → parser; terminal replies → pty input.
fn pump(
    mut reader: Box<dyn Read + Send>,
    parser: Arc<Mutex<Parser>>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    closed: Arc<AtomicBool>,
) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let replies = {
                    let mut p = parser.lock().unwrap();
                    p.process(&buf[..n]);
                    std::mem::take(&mut p.callbacks_mut().pending)
                };
                if !replies.is_empty() {
                    let mut w = writer.lock().unwrap();
                    let _ = w.write_all(&replies).and_then(|()| w.flush());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break, // EIO once every slave fd is closed
        }
    }
    closed.store(true, Ordering::SeqCst);
}

/// The text of one row plus, for each character, `(byte offset, cell column)`.
fn row_text(screen: &vt100::Screen, row: u16) -> (String, Vec<(usize, u16)>) {
    let (_, cols) = screen.size();
    let mut text = String::new();
    let mut map = Vec::new();
    for col in 0..cols {
        let Some(cell) = screen.cell(row, col) else { break };
        if cell.is_wide_continuation() {
            continue;
        }
        map.push((text.len(), col));
        if cell.has_contents() {
            text.push_str(cell.contents());
        } else {
            text.push(' ');
        }
    }
    (text, map)
}

/// Rows (trailing blanks trimmed) joined by `\n`.
/// Lines a session's terminal keeps above its screen (for `--inline`).
pub const SCROLLBACK: usize = 2_000;

pub fn screen_text(screen: &vt100::Screen) -> String {
    let (rows, _) = screen.size();
    (0..rows).map(|r| row_text(screen, r).0.trim_end().to_string()).collect::<Vec<_>>().join("\n")
}
