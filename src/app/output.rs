//! The Output pane's state: the session's event log and live run output, bounded.

use crate::engine::protocol::LogLevel;

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
    pub text: String,
    pub source: LineSource,
}

/// Lines kept in the Output pane; older ones are dropped in chunks (the pane says how many).
pub const MAX_OUTPUT_LINES: usize = 50_000;

#[derive(Debug, Default)]
pub struct OutputState {
    pub lines: Vec<LogLine>,
    pub scroll_from_bottom: usize,
    /// Unfinished last lines of a run's stdout and stderr.
    pub partial: [String; 2],
    /// Lines dropped from the top to keep memory bounded.
    pub dropped: usize,
}

impl OutputState {
    /// Append program output: complete lines become Output lines; a `\r` rewrites the line
    /// (progress bars); the unfinished rest waits for more.
    pub fn push_run_output(&mut self, source: LineSource, text: &str) {
        let slot = if source == LineSource::Stderr { 1 } else { 0 };
        let mut pending = std::mem::take(&mut self.partial[slot]);
        for c in text.chars() {
            match c {
                '\n' => {
                    let line = std::mem::take(&mut pending);
                    self.push_line(source, line);
                }
                '\r' => pending.clear(),
                c => pending.push(c),
            }
        }
        self.partial[slot] = pending;
    }

    /// Flush unfinished lines (the run ended).
    pub fn finish_run_output(&mut self) {
        for (slot, source) in [(0, LineSource::Stdout), (1, LineSource::Stderr)] {
            let rest = std::mem::take(&mut self.partial[slot]);
            if !rest.is_empty() {
                self.push_line(source, rest);
            }
        }
    }

    fn push_line(&mut self, source: LineSource, text: String) {
        let level = if source == LineSource::Stderr { LogLevel::Warn } else { LogLevel::Info };
        self.lines.push(LogLine { time: String::new(), level, text, source });
        if self.lines.len() > MAX_OUTPUT_LINES {
            let drop = MAX_OUTPUT_LINES / 10;
            self.lines.drain(..drop);
            self.dropped += drop;
        }
    }
}
