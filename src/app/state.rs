//! UI state as plain data. Widgets borrow it to draw; `update` (engine events) and `input`
//! (keys, mouse, paste) are the only writers.

use std::time::Instant;

use ratatui::layout::Rect;

use crate::engine::approval::Policy;
use crate::engine::llm::{ProviderKind, Usage};
use crate::engine::protocol::LogLevel;
use crate::engine::protocol::fences::CodeBlock;
use crate::widgets::chat::RenderCache;
use crate::widgets::code_view::CodeDoc;
use crate::widgets::diff_view::{DiffHighlights, DiffModel};
use crate::widgets::theme::Theme;

use super::composer::ComposerState;
use super::keymap::Keymap;
use super::modals::Modal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Chat,
    Code,
    Diff,
    Output,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Chat, Pane::Code, Pane::Diff, Pane::Output];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Chat => "Chat",
            Pane::Code => "Code",
            Pane::Diff => "Diff",
            Pane::Output => "Output",
        }
    }
}

/// Where keys go when no modal is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Composer,
    Pane(Pane),
}

impl Focus {
    const ORDER: [Focus; 5] = [
        Focus::Composer,
        Focus::Pane(Pane::Chat),
        Focus::Pane(Pane::Code),
        Focus::Pane(Pane::Diff),
        Focus::Pane(Pane::Output),
    ];

    pub fn cycle(self, forward: bool) -> Focus {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        let n = Self::ORDER.len();
        Self::ORDER[if forward { (i + 1) % n } else { (i + n - 1) % n }]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    User,
    Assistant,
    Notice(LogLevel),
    /// A tool call and, once finished, its result line.
    Tool {
        call_id: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryStatus {
    Complete,
    Streaming,
    Incomplete(String),
}

/// One message in the Chat pane.
#[derive(Debug)]
pub struct ChatEntry {
    pub kind: EntryKind,
    pub text: String,
    pub status: EntryStatus,
    pub cache: RenderCache,
}

impl ChatEntry {
    pub fn new(kind: EntryKind, text: String, status: EntryStatus) -> Self {
        Self { kind, text, status, cache: RenderCache::default() }
    }
}

#[derive(Debug, Default)]
pub struct ChatState {
    pub entries: Vec<ChatEntry>,
    /// Lines scrolled up from the bottom; 0 follows the tail.
    pub scroll_from_bottom: usize,
    /// Oldest entries the last request left out (a marker is drawn above the first kept one).
    pub trimmed: usize,
    /// Index into `entries` of the first user/assistant entry sent in the last request.
    pub first_sent_entry: Option<usize>,
}

impl ChatState {
    pub fn streaming_entry(&mut self) -> Option<&mut ChatEntry> {
        self.entries.last_mut().filter(|e| e.status == EntryStatus::Streaming)
    }
}

/// A code block of the conversation, located by its chat entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeBlockRef {
    pub entry: usize,
    pub block: CodeBlock,
}

#[derive(Default)]
pub struct CodeState {
    pub blocks: Vec<CodeBlockRef>,
    /// Index into `blocks` of the block shown; `None` before the first block.
    pub selected: Option<usize>,
    /// Show each new block as it arrives (off once the user steps back through blocks).
    pub follow_latest: bool,
    pub doc: Option<CodeDoc>,
    /// Byte length of the block `doc` was made from (a streaming block grows).
    pub doc_source_len: usize,
    pub scroll_y: usize,
    pub scroll_x: usize,
}

#[derive(Debug, Default)]
pub struct DiffState {
    pub model: Option<DiffModel>,
    /// Highlighted lines of `model` (reset whenever `model` changes).
    pub highlights: DiffHighlights,
    pub lang: Option<String>,
    /// What is compared, e.g. "block 2 → block 5 (rust)".
    pub caption: String,
    pub scroll_y: usize,
}

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

#[derive(Debug)]
pub struct StatusState {
    pub provider: ProviderKind,
    pub model: String,
    pub session_id: Option<String>,
    /// Tokens over the whole session, as reported by providers.
    pub total: Usage,
    /// The running turn's usage (added to `total` when the turn ends).
    pub turn: Usage,
    pub context_used: usize,
    pub context_window: usize,
    pub busy_since: Option<Instant>,
    /// A sandboxed run in progress: its title and start (Ctrl+C or Esc cancels it).
    pub run: Option<(String, Instant)>,
    /// A short transient message ("retrying…", "fell back to ollama").
    pub flash: Option<(String, LogLevel)>,
    pub policy: Policy,
}

/// The areas drawn in the last frame, for mouse hit-testing.
#[derive(Debug, Default, Clone)]
pub struct HitAreas {
    pub panes: Vec<(Pane, Rect)>,
    pub composer: Rect,
    pub buttons: Vec<(bool, Rect)>,
}

pub struct AppState {
    pub chat: ChatState,
    pub code: CodeState,
    pub diff: DiffState,
    pub output: OutputState,
    pub status: StatusState,
    pub composer: ComposerState,
    pub focus: Focus,
    pub zoom: Option<Pane>,
    /// Narrow layouts show one pane at a time: this one.
    pub tab: Pane,
    pub modals: Vec<Modal>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub hit: HitAreas,
    pub git: super::git_view::GitView,
    pub graph: super::graph_panel::GraphPanel,
    /// Requests for the engine queued by code without the channel (view answers, panels);
    /// the event loop sends them after each input or batch of events.
    pub outbox: Vec<crate::engine::protocol::Op>,
    pub should_quit: bool,
    /// A fresh frame is needed.
    pub dirty: bool,
    /// Code blocks need re-extracting from the streaming reply.
    pub blocks_stale: bool,
    /// Follow-ups offered under the last answer (Alt+1..4).
    pub suggestions: Vec<String>,
    /// The model's open `ask_user` question: the next prompt answers it.
    pub question: Option<u64>,
    /// Approval requests waiting behind the one on screen.
    pub approvals: std::collections::VecDeque<crate::engine::protocol::ApprovalRequest>,
}

impl AppState {
    pub fn new(keymap: Keymap, theme: Theme, provider: ProviderKind, model: String) -> Self {
        Self {
            chat: ChatState::default(),
            code: CodeState { follow_latest: true, ..CodeState::default() },
            diff: DiffState::default(),
            output: OutputState::default(),
            status: StatusState {
                provider,
                model,
                session_id: None,
                total: Usage::default(),
                turn: Usage::default(),
                context_used: 0,
                context_window: 0,
                busy_since: None,
                run: None,
                flash: None,
                policy: Policy::Ask,
            },
            suggestions: Vec::new(),
            question: None,
            approvals: std::collections::VecDeque::new(),
            composer: ComposerState::new(),
            focus: Focus::Composer,
            zoom: None,
            tab: Pane::Chat,
            modals: Vec::new(),
            keymap,
            theme,
            hit: HitAreas::default(),
            git: Default::default(),
            graph: Default::default(),
            outbox: Vec::new(),
            should_quit: false,
            dirty: true,
            blocks_stale: false,
        }
    }

    pub fn busy(&self) -> bool {
        self.status.busy_since.is_some() || self.status.run.is_some()
    }

    pub fn push_log(&mut self, level: LogLevel, text: impl Into<String>) {
        let time = time::OffsetDateTime::now_utc();
        let time = format!("{:02}:{:02}:{:02}", time.hour(), time.minute(), time.second());
        for line in text.into().lines() {
            self.output.lines.push(LogLine {
                time: time.clone(),
                level,
                text: line.to_string(),
                source: LineSource::Log,
            });
        }
        self.dirty = true;
    }
}
