//! UI state as plain data. Widgets borrow it to draw; `update` (engine events) and `input`
//! (keys, mouse, paste) are the only writers.

use crate::engine::protocol::FollowUp;
use std::time::Instant;

use ratatui::layout::Rect;

use super::diff::DiffState;
use crate::engine::protocol::LogLevel;
use crate::engine::protocol::Policy;
use crate::engine::protocol::{ProviderKind, Usage};
use crate::text::theme::Theme;

use super::chat::ChatState;
use super::code::CodeState;
use super::composer::ComposerState;
use super::keymap::Keymap;
use super::modals::Modal;
use super::output::{LineSource, LogLine, OutputState};

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

#[derive(Debug)]
pub struct StatusState {
    pub provider: ProviderKind,
    pub model: String,
    pub session_id: Option<String>,
    /// Tokens over the whole session, as reported by providers.
    pub total: Usage,
    /// The running turn's usage (added to `total` when the turn ends).
    pub turn: Usage,
    /// What the session's finished turns cost in USD; `None` once a model had no price.
    pub total_cost: Option<f64>,
    /// What the running turn cost so far (added to `total_cost` when it ends).
    pub turn_cost: Option<f64>,
    pub context_used: usize,
    pub context_window: usize,
    pub busy_since: Option<Instant>,
    /// A sandboxed run in progress: its title and start (Ctrl+C or Esc cancels it).
    pub run: Option<(String, Instant)>,
    /// A short transient message ("retrying…", "fell back to ollama").
    pub flash: Option<(String, LogLevel)>,
    pub policy: Policy,
    /// The last project checks: `✗ 2 errors · 1 warning` / `checks ✓`, and how bad.
    pub checks: Option<(String, LogLevel)>,
    /// MCP servers up, of all started (`MCP 2/3`); None until one reports.
    pub mcp: Option<(usize, usize)>,
    /// The MCP servers named so far (their prompts are `/NAME:prompt`).
    pub mcp_servers: std::collections::BTreeSet<String>,
}

/// The areas drawn in the last frame, for mouse hit-testing.
#[derive(Debug, Default, Clone)]
pub struct HitAreas {
    pub panes: Vec<(Pane, Rect)>,
    pub composer: Rect,
    pub buttons: Vec<(bool, Rect)>,
    /// What each row of each drawn pane shows, for selecting (`app::selection`).
    pub rows: Vec<(Pane, super::selection::PaneRows)>,
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
    /// `--inline`: only Chat's unprinted tail is drawn, finished messages go to the scrollback
    /// (`app::inline`).
    pub inline: bool,
    /// A pane's search (`/`, Ctrl+F; `app::search`).
    pub search: Option<super::search::Search>,
    /// Narrow layouts show one pane at a time: this one.
    pub tab: Pane,
    pub modals: Vec<Modal>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub hit: HitAreas,
    pub git: super::git_view::GitView,
    pub graph: super::graph_panel::GraphPanel,
    /// A download to use when it finishes (`app::first_run`).
    pub local_models: super::first_run::LocalModelsState,
    /// Requests for the engine queued by code without the channel (view answers, panels);
    /// the event loop sends them after each input or batch of events.
    /// Whether the terminal has focus (focus events; true until it reports otherwise).
    pub terminal_focused: bool,
    /// How notifications go out, and those waiting for the event loop (`app::notify`).
    pub notifier: super::notify::Notifier,
    pub notifications: Vec<String>,
    /// The first key of a chord, waiting for the second (`keymap::KeySeq`).
    pub pending_chord: Option<super::keymap::KeyCombo>,
    /// The text selected in a pane, if any (`app::selection`).
    pub selection: Option<super::selection::Selection>,
    /// Text for the clipboard, written by the event loop (`app::clipboard`).
    pub copied: Option<String>,
    /// An external-editor run for the event loop to make (`app::editor`).
    pub external_edit: Option<super::editor::ExternalEdit>,
    pub outbox: Vec<crate::engine::protocol::Op>,
    pub should_quit: bool,
    /// A fresh frame is needed.
    pub dirty: bool,
    /// Code blocks need re-extracting from the streaming reply.
    pub blocks_stale: bool,
    /// Follow-ups offered under the last answer (Alt+1..4).
    pub suggestions: Vec<FollowUp>,
    /// The model's open `ask_user` question: the next prompt answers it.
    pub question: Option<u64>,
    /// Approval requests waiting behind the one on screen.
    pub approvals: std::collections::VecDeque<crate::engine::protocol::ApprovalRequest>,
    /// `/template NAME key=value …` waits for the template's description: its name and values.
    pub template_preset: Option<(String, std::collections::BTreeMap<String, String>)>,
    /// The template a form submitted (`TemplateOp::Run`) until the engine refuses it or the
    /// next form opens: a refusal of that run ends the busy state the submit began.
    pub template_run: Option<String>,
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
                total_cost: Some(0.0),
                turn_cost: Some(0.0),
                turn: Usage::default(),
                context_used: 0,
                context_window: 0,
                busy_since: None,
                run: None,
                flash: None,
                policy: Policy::Ask,
                checks: None,
                mcp: None,
                mcp_servers: Default::default(),
            },
            suggestions: Vec::new(),
            question: None,
            approvals: std::collections::VecDeque::new(),
            template_preset: None,
            template_run: None,
            composer: ComposerState::new(),
            focus: Focus::Composer,
            zoom: None,
            search: None,
            inline: false,
            tab: Pane::Chat,
            modals: Vec::new(),
            keymap,
            theme,
            hit: HitAreas::default(),
            git: Default::default(),
            graph: Default::default(),
            local_models: Default::default(),
            outbox: Vec::new(),
            pending_chord: None,
            terminal_focused: true,
            notifier: Default::default(),
            notifications: Vec::new(),
            external_edit: None,
            selection: None,
            copied: None,
            should_quit: false,
            dirty: true,
            blocks_stale: false,
        }
    }

    /// A state with the default keymap and the dark theme, for unit tests.
    #[cfg(test)]
    pub fn for_tests() -> Self {
        let keymap = Keymap::load(&std::collections::BTreeMap::new()).expect("the default keymap loads");
        Self::new(
            keymap,
            Theme::builtin("dark").expect("the dark theme"),
            ProviderKind::Anthropic,
            "m".into(),
        )
    }

    pub fn busy(&self) -> bool {
        self.status.busy_since.is_some() || self.status.run.is_some()
    }

    pub fn push_log(&mut self, level: LogLevel, text: impl Into<String>) {
        let time = time::OffsetDateTime::now_utc();
        let time = format!("{:02}:{:02}:{:02}", time.hour(), time.minute(), time.second());
        for line in text.into().lines() {
            self.output.push(LogLine {
                time: time.clone(),
                level,
                text: line.to_string(),
                source: LineSource::Log,
                runs: Vec::new(),
            });
        }
        self.dirty = true;
    }
}
