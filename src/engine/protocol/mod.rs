//! The one boundary between the UI (or a headless driver, or a test) and the engine.
//!
//! The UI sends [`Op`]s and receives [`Event`]s, both plain data. A confirmation is a
//! request/response pair with an id (`Event::ConfirmRequest` → `Op::Answer`), so the TUI, `exec`
//! and tests answer it the same way.
//!
//! Invariant: this module and its children import no other engine module — every type that
//! crosses to the UI is defined here (the engine's libraries import them from here), so
//! `src/app` and `src/widgets` need nothing else from the engine (a test in the suite checks).

use std::time::Duration;

pub mod approval;
pub mod chat;
pub mod checks;
pub mod compaction;
pub mod custom_commands;
pub mod fences;
pub mod gate;
pub mod git;
pub mod graph;
pub mod hooks;
pub mod image;
pub mod intent;
pub mod learn;
pub mod mcp;
pub mod models;
pub mod plan;
pub mod project;
pub mod session;
pub mod stats;
pub mod syntax;
pub mod templates;
pub mod test_report;
pub mod todo;

pub use approval::{ApprovalDecision, ApprovalRequest};
pub use chat::{
    Message, MessageStatus, ProviderKind, Role, Thinking, ThinkingLevel, ToolCall, ToolResult, Usage,
    format_usd,
};
pub use checks::{CheckDelta, CheckOutcome, CheckReport, Diagnostic, Severity};
pub use compaction::{Compacted, CompactionDecision, CompactionProposal};
pub use custom_commands::{CustomCommandInfo, ExtensionSource};
pub use fences::{CodeBlock, extract_code_blocks};
pub use gate::{FileChange, GateAction, GitAction, McpHint, Policy, Risk};
pub use git::{
    Change, DiffLine, FileDiff, FileStatus, GitFileDiff, GitOp, GitPart, GitSnapshot, Hunk, LineOrigin,
};
pub use graph::{Entity, EntityDetails, EntityKind, GraphOp};
pub use hooks::{HookOutcome, HookReport, HookSource};
pub use image::ImageAttachment;
pub use intent::{FollowUp, Intent};
pub use learn::{Evidence, Rule, RuleCategory};
pub use mcp::{McpActivity, McpServerReport};
pub use models::{DownloadOffer, FirstRunOffer, LocalModel, ModelOrigin, PullProgress};
pub use plan::{PlanDecision, PlanProposal};
pub use project::{ProjectOp, ProjectReply};
pub use session::{Forked, HistoryEntry, Older};
pub use syntax::{FileSyntax, SyntaxError, SyntaxErrorKind, SyntaxVerdict, syntax_lines};
pub use templates::{
    FieldError, ParamKind, TemplateInfo, TemplateList, TemplateOp, TemplateParam, TemplateSource,
};
pub use test_report::{TestFailure, TestReport, TestRunner};
pub use todo::{TodoItem, TodoStatus};

/// Which stream of a running program some output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// An applied change of this session, for `/rewind`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSummary {
    pub id: i64,
    pub time: String,
    pub description: String,
    pub state: String,
}

/// What the UI asks of the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// A user prompt: starts a turn (with an intent from `/generate`, `/explain`, …).
    Submit { text: String, intent: Option<Intent> },
    /// The answer to an `ApprovalRequest`.
    Approve { id: u64, decision: ApprovalDecision },
    /// The answer to a model's `ask_user` question.
    Reply { id: u64, text: String },
    /// Change the approval policy.
    SetPolicy(Policy),
    /// Restore the files of the last applied change (asks first, showing the diff).
    Undo,
    /// List the session's changes (`None`), or restore the workspace to how it was right after
    /// change `id` (asks first).
    Rewind { to: Option<i64> },
    /// Git: background jobs of the Git view, or flows that ask for approval.
    Git(GitOp),
    /// The Graph panel: search, details, open in Code.
    Graph(GraphOp),
    /// Run a code block in the sandbox (the user's `/run`; `language` is the fence's tag).
    RunCode { language: Option<String>, code: String },
    /// Stop the running turn or run now (closes the HTTP stream, kills the sandbox).
    Cancel,
    /// The answer to a `ConfirmRequest`.
    Answer { id: u64, approved: bool },
    /// The answer to `Event::CompactionProposed`.
    Compaction { id: u64, decision: CompactionDecision },
    /// The answer to `Event::PlanProposed`.
    Plan { id: u64, decision: PlanDecision },
    /// Summarise the conversation so far now (`/compact [FOCUS]`), whatever the window's fill.
    Compact { focus: Option<String> },
    /// The workspace file Code shows and the line at its top (`None`: a code block, or nothing):
    /// it goes into the next turns' "Files in view" section. Sent with each prompt.
    InView { file: Option<(String, usize)> },
    /// Pin (`pinned`) or unpin the latest prompt or reply containing `words` (any case), or the
    /// latest prompt: a pinned message is never summarised (`/pin`, `/unpin`); answered by a notice.
    Pin { words: Option<String>, pinned: bool },
    /// Continue in a new stored session made of this one's history before the user's
    /// `before_prompt`-th prompt (from 1), or all of it (`/fork [N]`); answered by
    /// `Event::SessionReady` with `forked` set, or a notice when there is nothing to fork.
    Fork { before_prompt: Option<usize> },
    /// Read the stored messages at positions `from..before` (0-based; `None`: the page before
    /// `before`) for the Chat pane scrolling up: answered by `Event::OlderMessages`.
    LoadOlder { before: usize, from: Option<usize> },
    /// Find the newest stored message before position `before` whose text contains `query`
    /// (Chat search past the loaded messages): answered by `Event::SessionSearch`.
    SearchSession { query: String, before: usize, ignore_case: bool },
    /// Use another provider and/or model for the next turns.
    SwitchModel { provider: ProviderKind, model: Option<String> },
    /// Ask for the models the current provider offers (`Event::Models`), and the local GGUF
    /// models (`Event::LocalModels`).
    ListModels,
    /// Use a local GGUF model — a name from `Event::LocalModels` or a path — for this session
    /// (`/model local:NAME`, the first-run modal); `save` also writes it to the user's config
    /// file. Answered by `Event::LocalModelChosen` or a notice.
    UseLocalModel { model: String, save: bool },
    /// Download a model (`hf:…`, `ollama:…`) into kv1nt's store, reporting
    /// `Event::PullProgress`, then `Event::ModelPulled`.
    PullModel { reference: String },
    /// Run the project's checks now (`/check`); answered by `Event::Checks`.
    Check,
    /// Show a workspace file in Code at `line` (a problem's location); answered by
    /// `Event::OpenFile`.
    OpenFile { path: String, line: usize },
    /// Code templates: list them, open one's form, run one (`/template`, in the TUI or `kv1nt exec`).
    Template(TemplateOp),
    /// Run a custom slash command (`engine::custom_commands`): the engine expands it (arguments,
    /// `@file`) and runs the result as a turn, or answers `Event::CommandRefused`.
    Command { name: String, args: String },
    /// Ask for the acceptance figures (`/stats`), narrowed by the words as typed — a span or
    /// date (`7d`, `2026-12-01`), an intent (`fix`, `free-text`), a language (`rust`) — or of
    /// all history; answered by `Event::Stats` (or a notice).
    Stats { query: Vec<String> },
    /// List the parts of the next request with their tokens (`/context`); answered by a notice.
    Context,
    /// How much the model thinks from the next request on (`/think off|low|high`); answered by
    /// a notice.
    SetThinking(ThinkingLevel),
    /// Ask how the MCP servers are doing (`Event::McpStatus`).
    McpStatus,
    /// Mine the repository's conventions and the user's corrections (`/learn`); answered by
    /// `Event::Conventions` (or a notice).
    Learn,
    /// Propose adding this rule (one of `Event::Conventions`) to `KV1NT.md`: an edit through
    /// the gate like any other (`agent::learn`).
    AcceptRule(learn::Rule),
    /// Project knowledge: the dependency or configuration report, or a proposal through the
    /// gate (a manifest edit, `.env.example`); answered by `Event::Project`.
    Project(ProjectOp),
    /// `/SERVER:PROMPT key=value …`: the MCP prompt's messages become a turn's prompt (`args`
    /// as typed; a malformed or undeclared argument ends the turn with the reason).
    McpPrompt { server: String, prompt: String, args: String },
    /// Finish: cancel what runs, write what is pending, stop the engine.
    Shutdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
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
    /// The engine is ready; for a resumed session, its newest stored messages (at most a page,
    /// `agent::paging::PAGE`) and what comes before them. Sent again when the engine switches
    /// to a fork (`forked`): its history replaces the conversation shown.
    SessionReady {
        session_id: Option<String>,
        resumed: bool,
        history: Vec<HistoryEntry>,
        older: Older,
        forked: Option<Forked>,
    },
    /// The stored messages at positions `older..` that `Op::LoadOlder` asked for; empty when
    /// there is nothing to read.
    OlderMessages {
        history: Vec<HistoryEntry>,
        /// The messages still before them, and how many of those are prompts.
        older: usize,
        prompts: usize,
    },
    /// The answer to `Op::SearchSession`: the position (0-based) of the newest message before
    /// the loaded ones containing `query`; `None`: no match.
    SessionSearch {
        query: String,
        found: Option<usize>,
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
    /// The prompt just sent was stored as the session's `number`-th (what `/fork N` names).
    PromptRecorded {
        number: usize,
        /// Its images as the Chat pane shows them (`ImageAttachment::placeholder`).
        images: Vec<String>,
    },
    TextDelta(String),
    /// A piece of the model's reasoning, streamed before its answer (shown dimmed, collapsible).
    ThinkingDelta(String),
    ToolCall(ToolCall),
    /// Token usage reported by the providers for the current turn, summed over its replies so
    /// far, and what it cost in USD (`None` when a model of the turn has no price).
    Usage {
        turn: Usage,
        cost_usd: Option<f64>,
    },
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
    /// A summary to replace the oldest messages, for the user to accept, edit or decline
    /// (answer with `Op::Compaction`).
    CompactionProposed(CompactionProposal),
    /// A summary is now sent in place of the oldest messages.
    Compacted(Compacted),
    /// The repository's files (ignore-aware, `/`-separated, sorted), for the composer's `@`
    /// completion; sent at start and after a turn that changed files.
    WorkspaceFiles(Vec<String>),
    /// The model's plan for the session changed (the `todo` tool), or a resumed session has one.
    Todo(Vec<TodoItem>),
    /// In plan mode the model proposed a plan (answer with `Op::Plan`).
    PlanProposed(PlanProposal),
    /// A yes/no question for the user (answer with `Op::Answer`).
    ConfirmRequest {
        id: u64,
        title: String,
        body: String,
        /// Which answer Enter gives (false for questions that widen what kv1nt may do).
        default_yes: bool,
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
    /// The figures `Op::Stats` asked for.
    Stats(Box<stats::StatsReport>),
    /// The candidate conventions `Op::Learn` asked for, strongest evidence first.
    Conventions(Vec<learn::Rule>),
    /// The answer to `Op::Project`: a report, or what became of a proposal.
    Project(ProjectReply),
    /// The MCP servers: state, tools, recent errors (answer to `Op::McpStatus`).
    McpStatus(Vec<McpServerReport>),
    /// An MCP server started, failed or restarted, or one of its tools or prompts was used.
    Mcp(McpActivity),
    /// A hook ran (denials and errors also come as a `Notice`).
    Hook(HookReport),
    /// A mutation needs the user's decision (answer with `Op::Approve`).
    ApprovalRequest(ApprovalRequest),
    /// A tool started (`call_id` from the model).
    ToolStarted {
        call_id: String,
        name: String,
        summary: String,
    },
    /// A tool finished; `flags` names prompt-injection patterns found in what it read.
    ToolFinished {
        call_id: String,
        name: String,
        ok: bool,
        summary: String,
        flags: Vec<String>,
    },
    /// The model asks the user something (answer with `Op::Reply`).
    Question {
        id: u64,
        text: String,
    },
    PolicyChanged(Policy),
    /// The session's changes, oldest first (answer to `Op::Rewind { to: None }`).
    Changes(Vec<ChangeSummary>),
    /// Up to four follow-ups to offer under the last answer.
    Suggestions(Vec<FollowUp>),
    /// A sandboxed run started (its output streams into the Output pane).
    RunStarted {
        id: u64,
        title: String,
    },
    /// Output of a run, as it arrives (may end mid-line; ANSI colours kept).
    RunOutput {
        id: u64,
        stream: OutputStream,
        text: String,
    },
    /// A run ended: one summary line (exit status, time, peak memory, sandbox layers), and when
    /// its output was a test runner's, the tests' counts and failures.
    RunFinished {
        id: u64,
        ok: bool,
        summary: String,
        tests: Option<TestReport>,
    },
    /// The working tree's status (answer to `GitOp::Refresh` and to staging).
    GitStatus(GitSnapshot),
    /// One file's diff for the Git view.
    GitFileDiff(GitFileDiff),
    /// The whole change as unified diffs (answer to `GitOp::ShowAll`).
    GitWholeDiff {
        seq: u64,
        staged: String,
        unstaged: String,
    },
    /// Graph panel search results (newest `seq` wins); `lexical_only` without an embedding model.
    GraphResults {
        seq: u64,
        hits: Vec<Entity>,
        lexical_only: bool,
    },
    /// An entity with its callers and callees, for the Graph panel.
    GraphDetails {
        seq: u64,
        details: Box<EntityDetails>,
    },
    /// A file to show in Code, scrolled to `line` (1-based).
    OpenFile {
        path: String,
        line: usize,
        text: String,
    },
    /// The project's checks ran (each also streamed as a run into the Output pane).
    Checks(CheckReport),
    /// A git flow changed the repository: the Git view should refresh.
    GitChanged,
    /// The code templates (answer to `TemplateOp::List`).
    Templates(TemplateList),
    /// The templates' names and descriptions, sent at start for completing `/template NAME`.
    TemplateNames(Vec<(String, String)>),
    /// One template's parameters, for its form (answer to `TemplateOp::Open`).
    TemplateForm(TemplateInfo),
    /// A template could not be opened or run: no such template, or values that do not fit
    /// (one error per field); no turn started.
    TemplateInvalid {
        name: String,
        errors: Vec<FieldError>,
    },
    /// The custom slash commands, sent at start for completion and `/help`.
    CustomCommands(Vec<CustomCommandInfo>),
    /// A custom command did not run (unknown, held back, bad arguments, a refused `@file`);
    /// no turn started.
    CommandRefused {
        name: String,
        reason: String,
    },
    /// No provider could answer at start: what would work instead (the first-run modal).
    FirstRun(Box<models::FirstRunOffer>),
    /// The local GGUF models (`Op::ListModels`): kv1nt's registry, then Ollama's store.
    LocalModels(Vec<models::LocalModel>),
    /// A local model was chosen (`Op::UseLocalModel`): its file, and the config file it was
    /// saved to when asked.
    LocalModelChosen {
        name: String,
        path: std::path::PathBuf,
        saved_to: Option<std::path::PathBuf>,
    },
    /// How far `Op::PullModel` is.
    PullProgress {
        reference: String,
        progress: models::PullProgress,
    },
    /// `Op::PullModel` finished: the model registered, or why not.
    ModelPulled {
        reference: String,
        result: Result<models::LocalModel, String>,
    },
    /// The engine stopped (after `Op::Shutdown` or when the UI went away).
    Stopped,
}
