//! The one boundary between the UI (or a headless driver, or a test) and the engine.
//!
//! The UI sends [`Op`]s and receives [`Event`]s, both plain data. A confirmation is a
//! request/response pair with an id (`Event::ConfirmRequest` → `Op::Answer`), so the TUI, `exec`
//! and tests answer it the same way.

use std::time::Duration;

use crate::engine::llm::{Message, ProviderKind, ToolCall, Usage};
use crate::engine::store::MessageStatus;

/// What the UI asks of the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A user prompt: starts a turn.
    Submit { text: String },
    /// Stop the running turn now (closes the HTTP stream).
    Cancel,
    /// The answer to a `ConfirmRequest`.
    Answer { id: u64, approved: bool },
    /// Use another provider and/or model for the next turns.
    SwitchModel { provider: ProviderKind, model: Option<String> },
    /// Ask for the models the current provider offers (`Event::Models`).
    ListModels,
    /// Finish: cancel what runs, write what is pending, stop the engine.
    Shutdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

/// A message of a resumed session, as it was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub message: Message,
    pub status: MessageStatus,
    pub note: Option<String>,
}

/// How a turn ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnOutcome {
    Complete {
        stop_reason: Option<String>,
    },
    /// Some text arrived, then the stream failed; the partial reply is kept, marked incomplete.
    Incomplete {
        reason: String,
    },
    Cancelled,
    /// Nothing arrived: no provider could start a reply.
    Failed {
        reason: String,
    },
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The engine is ready; for a resumed session, its stored history.
    SessionReady {
        session_id: Option<String>,
        resumed: bool,
        history: Vec<HistoryEntry>,
    },
    /// A session row was created (on the first prompt of a new session).
    SessionCreated {
        session_id: String,
    },
    /// The provider and model that will answer next, and its context window.
    ModelChanged {
        provider: ProviderKind,
        model: String,
        context_window: usize,
    },
    TurnStarted {
        provider: ProviderKind,
        model: String,
    },
    TextDelta(String),
    ToolCall(ToolCall),
    /// Token usage reported by the provider for the current turn (cumulative within the turn).
    Usage(Usage),
    TurnEnded(TurnOutcome),
    /// Estimated prompt size; `trimmed` oldest messages were left out to fit.
    Context {
        used_tokens: usize,
        window: usize,
        trimmed: usize,
    },
    Retrying {
        provider: ProviderKind,
        attempt: u32,
        max_retries: u32,
        delay: Duration,
        reason: String,
    },
    FallingBack {
        from: ProviderKind,
        to: ProviderKind,
        reason: String,
    },
    /// A yes/no question for the user (answer with `Op::Answer`).
    ConfirmRequest {
        id: u64,
        title: String,
        body: String,
    },
    /// Something for the user to read in the chat (setup hints, errors).
    Notice {
        level: LogLevel,
        text: String,
    },
    /// A line for the session's event log (the Output pane).
    Log {
        level: LogLevel,
        text: String,
    },
    Models {
        provider: ProviderKind,
        models: Result<Vec<String>, String>,
    },
    /// The engine stopped (after `Op::Shutdown` or when the UI went away).
    Stopped,
}
