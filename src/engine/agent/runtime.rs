//! The engine task: owns the conversation, the session store and the providers; turns `Op`s
//! into work and reports `Event`s.
//!
//! Invariants: exactly one turn runs at a time (prompts sent meanwhile are queued); every
//! message that reached the user is, when a store is open, in the database, and in `history`
//! while a request can still carry it (`history.rs`); nothing here blocks on the UI — events go
//! out on an unbounded channel.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::reply::Interrupt;
use crate::engine::approval::Policy;
use crate::engine::approval::grants::Grants;
use crate::engine::config::{Config, Secrets, ToolMode};
use crate::engine::git::hooks::TrustedHooks;
use crate::engine::learning;
use crate::engine::llm::ProviderKind;
use crate::engine::protocol::{Event, LogLevel, Op};
use crate::engine::store::{SessionInfo, Store};
use crate::engine::tools::{ReadLedger, Workspace};

/// Everything the engine starts from.
pub struct EngineSetup {
    pub config: Config,
    pub secrets: Secrets,
    pub workspace: PathBuf,
    /// `None` when the database could not be opened: the session then lives in memory only.
    pub store: Option<Store>,
    /// A session to continue (already resolved from `--resume`).
    pub resume: Option<SessionInfo>,
    /// Check at start that some provider can answer, and say what to set if none can.
    pub preflight: bool,
    /// The repository's config file sets keys held back until the user trusts it: asked at
    /// start, before the graph's embedder or any provider is contacted.
    pub trust: Option<crate::engine::config::HeldBack>,
}

pub struct EngineHandle {
    pub ops: mpsc::UnboundedSender<Op>,
    pub events: mpsc::UnboundedReceiver<Event>,
    pub task: JoinHandle<()>,
}

pub fn spawn(setup: EngineSetup) -> EngineHandle {
    let (op_tx, op_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    // Taken before spawn returns, so a hook planted after the engine started is never trusted.
    let hooks = super::commit_hooks::present_at_start(&setup.workspace);
    // Built on the task: the HTTP client's TLS set-up stays off the caller's start-up path.
    let task = tokio::spawn(async move { Engine::new(setup, hooks, op_rx, event_tx).run().await });
    EngineHandle { ops: op_tx, events: event_rx, task }
}

/// Whether the engine keeps going after handling something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LoopControl {
    Continue,
    Shutdown,
}

pub(super) struct Engine {
    pub(super) config: Config,
    pub(super) secrets: Secrets,
    pub(super) client: reqwest::Client,
    pub(super) system_prompt: String,
    pub(super) store: Option<Store>,
    pub(super) session: Option<SessionInfo>,
    /// The session's messages the engine holds: the newest part only (`history.rs`).
    pub(super) history: super::history::History,
    /// The summary in force: it stands for the first messages of `history` in requests
    /// (`compaction.rs`).
    pub(super) summary: Option<crate::engine::llm::compact::Summary>,
    /// The workspace file Code shows and the line at its top (`Op::InView`, `in_view.rs`).
    pub(super) in_view: Option<(String, usize)>,
    /// The indexes in `history` of the messages the user pinned (`memory.rs`).
    pub(super) pins: std::collections::BTreeSet<usize>,
    /// The policy in force when plan mode began: an approved plan switches back to it
    /// (`plan.rs`), unless it changes nothing.
    pub(super) policy_before_plan: Policy,
    /// The model's plan for the session, as the `todo` tool last set it (`todo.rs`).
    pub(super) todo: Vec<crate::engine::protocol::TodoItem>,
    /// How each model counts tokens against the raw estimate (`window.rs`).
    pub(super) calibrations: super::window::Calibrations,
    /// The history's length when the user last declined a summary.
    pub(super) compaction_declined: Option<usize>,
    pub(super) ops: mpsc::UnboundedReceiver<Op>,
    pub(super) events: mpsc::UnboundedSender<Event>,
    /// Prompts (and model switches) that arrived while a turn was running.
    pub(super) queued: VecDeque<Op>,
    pub(super) next_confirm_id: u64,
    pub(super) workspace: PathBuf,
    /// The tools' view of the workspace (`None` if the directory cannot be opened).
    pub(super) tools_workspace: Option<Workspace>,
    /// What the model has read, so stale files are not overwritten.
    pub(super) ledger: Arc<Mutex<ReadLedger>>,
    pub(super) policy: Policy,
    /// "Approve for this session" scopes granted so far.
    pub(super) grants: Grants,
    /// The commit hooks allowed to run: those present when the engine started, plus the ones
    /// the user approved since (by content hash).
    pub(super) trusted_hooks: TrustedHooks,
    /// Tool calls go through the text protocol (configured, or the server refused native ones).
    pub(super) text_tools: bool,
    /// Extended thinking for the session's requests (`llm.thinking`, `/think`).
    pub(super) thinking: crate::engine::protocol::ThinkingLevel,
    pub(super) turn: super::turn::TurnState,
    /// The repository's knowledge graph (its own thread); None when it cannot be opened.
    pub(super) graph: Option<crate::engine::graph::GraphWorker>,
    /// Re-indexes files the user saves (`graph.watch`); dropped with the engine.
    _watcher: Option<notify::RecommendedWatcher>,
    /// The Git view's background jobs (status, diffs, staging), in order, off this task.
    pub(super) git: crate::engine::git::GitWorker,
    next_request: u64,
    preflight: bool,
    /// The trust question still to ask at start.
    trust: Option<crate::engine::config::HeldBack>,
    /// The last failed run of the session (command, summary, output tails): what `/fix` fixes.
    pub(super) last_failure: Option<String>,
    /// The last project-check report and whether it is still current (`checks.rs`).
    pub(super) checks: super::checks::ChecksMemory,
    /// The MCP servers (started after the trust question, so an untrusted repository's never are).
    pub(super) mcp: crate::engine::mcp::McpManager,
    /// The session's hooks (`user_hooks.rs`), built after the trust question.
    pub(super) hooks: crate::engine::hooks::HookSet,
    /// The skills the model may load (`custom_commands`); loaded after the trust question.
    pub(super) skills: crate::engine::skills::Catalog,
    /// Set while a custom command's turn runs (its `allowed-tools`).
    pub(super) command_turn: Option<super::custom_commands::CommandTurn>,
}

impl Engine {
    fn new(
        setup: EngineSetup,
        trusted_hooks: TrustedHooks,
        ops: mpsc::UnboundedReceiver<Op>,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let client = crate::engine::llm::http::build_client(Duration::from_secs(
            setup.config.llm.connect_timeout_secs.max(1),
        ));
        let system_prompt = super::prompt::system_prompt(&setup.workspace, &setup.config.context);
        let tools_workspace = Workspace::new(&setup.workspace).ok();
        let policy = setup.config.agent.approval;
        let text_tools = setup.config.agent.tool_mode == ToolMode::Text;
        let git = crate::engine::git::GitWorker::spawn(setup.workspace.clone(), events.clone());
        Self {
            graph: None,
            _watcher: None,
            git,
            tools_workspace,
            ledger: Arc::new(Mutex::new(ReadLedger::default())),
            policy,
            grants: Grants::default(),
            trusted_hooks,
            text_tools,
            thinking: setup.config.llm.thinking,
            turn: Default::default(),
            next_request: 1,
            config: setup.config,
            secrets: setup.secrets,
            client,
            system_prompt,
            store: setup.store,
            session: setup.resume,
            history: Default::default(),
            summary: None,
            pins: Default::default(),
            in_view: None,
            todo: Vec::new(),
            policy_before_plan: Policy::Ask,
            calibrations: Default::default(),
            compaction_declined: None,
            ops,
            events,
            queued: VecDeque::new(),
            next_confirm_id: 1,
            workspace: setup.workspace,
            preflight: setup.preflight,
            trust: setup.trust,
            last_failure: None,
            checks: Default::default(),
            mcp: crate::engine::mcp::McpManager::empty(),
            hooks: Default::default(),
            skills: Default::default(),
            command_turn: None,
        }
    }

    /// Opens the repository's graph and starts indexing it in the background (after the
    /// session is announced, so `SessionReady` stays the first event).
    fn start_graph(&mut self) {
        let data_dir = self.store.as_ref().and_then(|s| s.data_dir());
        let graph = crate::engine::graph::GraphWorker::start(
            &self.workspace,
            data_dir.as_deref(),
            &self.config.graph,
            &self.config.embed_endpoints(&self.secrets),
            self.events.clone(),
        );
        if let (Some(graph), true) = (&graph, self.config.graph.watch) {
            match crate::engine::graph::watch(&self.workspace, graph.clone()) {
                Ok(watcher) => self._watcher = Some(watcher),
                Err(e) => self.log(
                    LogLevel::Warn,
                    format!("graph: saved files are not re-indexed (no file watcher: {e})"),
                ),
            }
        }
        self.graph = graph;
    }

    pub(super) fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    pub(super) fn log(&self, level: LogLevel, text: impl Into<String>) {
        self.emit(Event::Log { level, text: text.into() });
    }

    /// Something the user should see now (the TUI shows it over the panes; exec prints it).
    pub(super) fn notice(&self, level: LogLevel, text: impl Into<String>) {
        self.emit(Event::Notice { level, text: text.into() });
    }

    async fn run(mut self) {
        self.start_session();
        if let Some(held) = self.trust.take()
            && self.offer_trust(held).await.is_err()
        {
            self.emit(Event::Stopped);
            return;
        }
        self.start_graph();
        self.announce_templates();
        self.load_extensions();
        if !self.config.mcp.servers.is_empty() || !self.config.mcp.held.is_empty() {
            let env = std::sync::Arc::new(|name: &str| std::env::var(name).ok());
            let events = Some(self.events.clone());
            self.mcp = crate::engine::mcp::McpManager::start_observed(
                &self.config.mcp,
                &self.workspace,
                env,
                events,
            );
        }
        if self.preflight {
            self.spawn_preflight();
        }
        self.load_hooks();
        if let Err(Interrupt::Shutdown) = self.session_start_hooks().await {
            self.mcp.shutdown();
            self.emit(Event::Stopped);
            return;
        }
        loop {
            let op = match self.queued.pop_front() {
                Some(op) => op,
                None => match self.ops.recv().await {
                    Some(op) => op,
                    None => break,
                },
            };
            if self.handle(op).await == LoopControl::Shutdown {
                break;
            }
        }
        self.mcp.shutdown();
        self.emit(Event::Stopped);
    }

    async fn handle(&mut self, op: Op) -> LoopControl {
        match op {
            Op::Submit { text, intent } => return self.run_turn(text, intent).await,
            // The built-in provider's models are files: a name goes through the model store.
            Op::SwitchModel { provider: ProviderKind::Local, model: Some(model) } => {
                self.use_local_model(&model, false)
            }
            Op::SwitchModel { provider, model } => self.switch_model(provider, model),
            Op::ListModels => {
                self.spawn_list_models();
                self.spawn_list_local_models();
            }
            Op::UseLocalModel { model, save } => self.use_local_model(&model, save),
            Op::PullModel { reference } => self.spawn_pull(reference),
            Op::Check => return self.check_now().await,
            Op::OpenFile { path, line } => self.open_location(&path, line),
            Op::Template(op) => return self.template_op(op).await,
            Op::Stats { query } => self.stats(&query),
            Op::Context => self.context_report(),
            Op::SetThinking(level) => {
                self.thinking = level;
                let text = match level.budget_tokens() {
                    None => "Thinking off.".to_string(),
                    Some(budget) => format!(
                        "Thinking {}: Anthropic gets a {budget}-token budget, Ollama `think`; \
                         OpenAI-compatible servers' reasoning is shown whatever this says.",
                        level.as_str()
                    ),
                };
                self.emit(Event::Notice { level: LogLevel::Info, text });
            }
            Op::Command { name, args } => return self.command_op(name, args).await,
            Op::McpStatus => self.emit(Event::McpStatus(self.mcp.report())),
            Op::Learn => self.learn(),
            Op::Project(op) => return self.project_op(op).await,
            Op::AcceptRule(rule) => return self.accept_rule(rule).await,
            Op::McpPrompt { server, prompt, args } => return self.mcp_prompt(server, prompt, args).await,
            Op::SetPolicy(policy) => self.set_policy(policy),
            Op::Undo => return self.undo().await,
            Op::Rewind { to: None } => self.list_changes(),
            Op::Rewind { to: Some(id) } => return self.rewind(id).await,
            Op::RunCode { language, code } => return self.run_user_code(language, code).await,
            Op::Git(job) if job.is_job() => self.git.submit(job),
            Op::Graph(op) => self.graph_panel(op),
            Op::Git(op) => return self.git_flow(op).await,
            Op::Pin { words, pinned } => self.pin(words, pinned),
            Op::InView { file } => self.set_in_view(file),
            Op::Fork { before_prompt } => self.fork(before_prompt),
            Op::LoadOlder { before, from } => self.load_older(before, from),
            Op::SearchSession { query, before, ignore_case } => {
                self.search_session(query, before, ignore_case)
            }
            Op::Compact { focus } => {
                if let Err(super::reply::Interrupt::Shutdown) = self.compact_now(focus).await {
                    return LoopControl::Shutdown;
                }
            }
            Op::Shutdown => return LoopControl::Shutdown,
            Op::Cancel
            | Op::Answer { .. }
            | Op::Approve { .. }
            | Op::Reply { .. }
            | Op::Compaction { .. }
            | Op::Plan { .. } => {} // nothing waits
        }
        LoopControl::Continue
    }

    fn start_session(&mut self) {
        self.reconcile_pending_changes();
        self.load_session(None);
        self.resume_summary();
        self.resume_pins();
        self.announce_workspace_files();
        self.resume_todo();
        self.announce_model();
        self.emit(Event::PolicyChanged(self.policy));
        self.log(LogLevel::Info, format!("workspace {}", self.workspace.display()));
        if self.store.is_none() {
            self.log(LogLevel::Warn, "session storage is unavailable: this conversation will not be saved");
        }
    }

    pub(super) fn set_policy(&mut self, policy: Policy) {
        if policy == Policy::Plan && self.policy != Policy::Plan {
            self.policy_before_plan = self.policy;
        }
        self.policy = policy;
        self.log(LogLevel::Info, format!("approval policy: {}", policy.as_str()));
        self.emit(Event::PolicyChanged(policy));
    }

    pub(super) fn next_request_id(&mut self) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    /// `/stats`: the figures from the session database (`learning::stats`).
    pub(super) fn stats(&self, query: &[String]) {
        let Some(store) = &self.store else {
            self.emit(Event::Notice {
                level: LogLevel::Warn,
                text: "No statistics: the session database is not open.".into(),
            });
            return;
        };
        let filter = match learning::parse_query(query, time::OffsetDateTime::now_utc()) {
            Ok(filter) => filter,
            Err(e) => return self.emit(Event::Notice { level: LogLevel::Warn, text: e }),
        };
        match learning::report(store, &filter, &crate::engine::pricing::Prices::of(&self.config)) {
            Ok(report) => self.emit(Event::Stats(Box::new(report))),
            Err(e) => self.emit(Event::Notice { level: LogLevel::Warn, text: format!("No statistics: {e}") }),
        }
    }
}
