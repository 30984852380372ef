//! The Output pane's state: the session's event log and live run output, bounded; and its
//! second view, the Problems list (`problems.rs`).
//!
//! Invariants:
//! - At most [`MAX_OUTPUT_LINES`] lines are kept; older ones are dropped in chunks and counted.
//! - Run output is parsed as it arrives, one [`AnsiStream`] per stream of the current run: colours
//!   carry across lines and chunks until reset, a chunk may end inside a line or an escape
//!   sequence, and a `\r` rewrites the line. A new run starts with fresh streams.

use ratatui::style::Style;

use crate::engine::protocol::LogLevel;
use crate::text::ansi::{AnsiStream, StyledText};

/// Where an Output line came from: the session's event log, or a sandboxed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineSource {
    Log,
    Stdout,
    Stderr,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub time: String,
    pub level: LogLevel,
    /// The text, escape sequences removed.
    pub text: String,
    pub source: LineSource,
    /// Run output's colours: `(byte offset, style delta over the pane's style)`, ascending;
    /// empty for plain lines.
    pub runs: Vec<(usize, Style)>,
}

/// Lines kept in the Output pane; older ones are dropped in chunks (the pane says how many).
pub const MAX_OUTPUT_LINES: usize = 50_000;

#[derive(Debug, Default)]
pub struct OutputState {
    /// The log, or the Problems list (`p`).
    pub view: super::problems::OutputView,
    /// The last project-check report, listed.
    pub problems: super::problems::ProblemsState,
    pub lines: Vec<LogLine>,
    pub scroll_from_bottom: usize,
    /// The current run's stdout and stderr: escape state and unfinished last lines.
    streams: [AnsiStream; 2],
    /// Lines dropped from the top to keep memory bounded.
    pub dropped: usize,
}

impl OutputState {
    /// A run started: its streams start from the default style.
    pub fn start_run(&mut self) {
        self.streams = Default::default();
    }

    /// Append program output: complete lines become Output lines; a `\r` rewrites the line
    /// (progress bars); the unfinished rest waits for more.
    pub fn push_run_output(&mut self, source: LineSource, text: &str) {
        let slot = if source == LineSource::Stderr { 1 } else { 0 };
        for line in self.streams[slot].feed(text) {
            self.push_line(source, line);
        }
    }

    /// Flush unfinished lines (the run ended).
    pub fn finish_run_output(&mut self) {
        for (slot, source) in [(0, LineSource::Stdout), (1, LineSource::Stderr)] {
            if let Some(rest) = self.streams[slot].finish() {
                self.push_line(source, rest);
            }
        }
    }

    fn push_line(&mut self, source: LineSource, line: StyledText) {
        let level = if source == LineSource::Stderr { LogLevel::Warn } else { LogLevel::Info };
        let StyledText { text, runs } = line;
        self.push(LogLine { time: String::new(), level, text, source, runs });
    }

    /// Append a line; a view scrolled up keeps showing the same lines.
    pub fn push(&mut self, line: LogLine) {
        self.lines.push(line);
        if self.scroll_from_bottom > 0 {
            self.scroll_from_bottom += 1;
        }
        if self.lines.len() > MAX_OUTPUT_LINES {
            let drop = MAX_OUTPUT_LINES / 10;
            self.lines.drain(..drop);
            self.dropped += drop;
        }
    }
}
