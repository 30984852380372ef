//! The MCP servers of one engine: starting each in the background ([`super::lifetime`]), their
//! tools as the model sees them (`NAME__tool`), their prompts and resources, calls with a time
//! limit, and what `/mcp` shows (including servers held back until the repository is trusted).
//!
//! Invariants:
//! - Nothing here blocks a turn: servers start on their own tasks; a call waits at most the
//!   server's `timeout_secs`, and a server that did not answer in time is killed and restarted.
//! - A server that exits or is killed is restarted after 1, 2, 4… up to 30 s; after
//!   [`MAX_FAILURES`] failures in a row (a failure resets once a server stayed up
//!   [`STABLE_AFTER`]) it stays `failed` and says why. Every failure is kept in its recent
//!   errors for `/mcp`.
//! - Its tools stay offered while it restarts (a call then says it is restarting), so the
//!   model's tool list does not flicker.
//! - Each process lifetime has a generation number; a stale lifetime never changes the slot.
//! - Every change of a server's state is sent as an [`Event::Mcp`] with the count up.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResult, GetPromptRequestParams, JsonObject, Prompt, Resource,
};
use rmcp::service::ServiceError;
use tokio::sync::{mpsc, oneshot};

use super::server::Service;
use super::settings::{McpSettings, ServerSettings};
use super::tools::{McpTool, hint_name};
use crate::engine::llm::types::ToolSpec;
use crate::engine::protocol::{Event, McpActivity, McpHint, McpServerReport};

/// Failed starts (or early crashes) in a row before a server is left `failed`.
pub const MAX_FAILURES: u32 = 5;
/// Up this long, a server's next crash counts as its first.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Recent errors and stderr lines kept per server.
const RECENT: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum State {
    Starting,
    Ready,
    Restarting { attempt: u32, delay: Duration },
    Failed(String),
}

pub(super) struct Slot {
    pub settings: ServerSettings,
    pub state: State,
    pub service: Option<Arc<Service>>,
    pub tools: Vec<McpTool>,
    pub prompts: Vec<Prompt>,
    pub resources: Vec<Resource>,
    pub errors: VecDeque<String>,
    pub failures: u32,
    pub restarts: u32,
    pub generation: u64,
    pub up_since: Option<Instant>,
    pub stop: Option<oneshot::Sender<()>>,
}

impl Slot {
    pub fn error(&mut self, text: String) {
        tracing::warn!("{text}");
        self.note(text);
    }

    /// Keeps `text` in the recent errors without logging it (a server's stderr).
    pub fn note(&mut self, text: String) {
        if self.errors.len() == RECENT {
            self.errors.pop_front();
        }
        self.errors.push_back(text);
    }
}

pub type EnvFn = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The engine's MCP servers (cheap to clone: one shared state).
#[derive(Clone)]
pub struct McpManager {
    pub(super) slots: Arc<Mutex<BTreeMap<String, Slot>>>,
    pub(super) workspace: PathBuf,
    pub(super) env: EnvFn,
    /// Servers the repository sets that do not start, and why ([`McpSettings::held`]).
    held: Arc<Vec<(String, String)>>,
    events: Option<mpsc::UnboundedSender<Event>>,
}

impl McpManager {
    /// No servers.
    pub fn empty() -> McpManager {
        McpManager {
            slots: Default::default(),
            workspace: PathBuf::new(),
            env: Arc::new(|_| None),
            held: Default::default(),
            events: None,
        }
    }

    /// Starts every enabled server of `settings` in the background (within a tokio runtime);
    /// `env` is kv1nt's environment, of which a server sees only `PATH`, `HOME` and its `pass_env`.
    pub fn start(settings: &McpSettings, workspace: &Path, env: EnvFn) -> McpManager {
        McpManager::start_observed(settings, workspace, env, None)
    }

    /// [`McpManager::start`], sending every change of a server's state to `events`.
    pub fn start_observed(
        settings: &McpSettings,
        workspace: &Path,
        env: EnvFn,
        events: Option<mpsc::UnboundedSender<Event>>,
    ) -> McpManager {
        let slots = settings
            .servers
            .iter()
            .filter(|(_, s)| s.enabled)
            .map(|(name, s)| {
                let slot = Slot {
                    settings: s.clone(),
                    state: State::Starting,
                    service: None,
                    tools: Vec::new(),
                    prompts: Vec::new(),
                    resources: Vec::new(),
                    errors: VecDeque::new(),
                    failures: 0,
                    restarts: 0,
                    generation: 0,
                    up_since: None,
                    stop: None,
                };
                (name.clone(), slot)
            })
            .collect::<BTreeMap<_, _>>();
        let names: Vec<String> = slots.keys().cloned().collect();
        let manager = McpManager {
            slots: Arc::new(Mutex::new(slots)),
            workspace: workspace.to_path_buf(),
            env,
            held: Arc::new(settings.held.clone()),
            events,
        };
        for name in names {
            manager.announce(&name, "starting".into());
            tokio::spawn(manager.clone().run(name));
        }
        for (name, why) in manager.held.iter() {
            manager.announce(name, why.clone());
        }
        manager
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Servers ready now, and all started ones.
    pub fn up_total(&self) -> (usize, usize) {
        let slots = self.lock();
        (slots.values().filter(|s| s.state == State::Ready).count(), slots.len())
    }

    /// Tells the observer what happened to `server` (with the count up after it).
    pub(super) fn announce(&self, server: &str, what: String) {
        if let Some(events) = &self.events {
            let (up, total) = self.up_total();
            let _ = events.send(Event::Mcp(McpActivity { server: server.to_string(), what, up, total }));
        }
    }

    /// The specs of every tool offered now (servers ready or restarting), in name order.
    pub fn tool_specs(&self) -> Vec<(ToolSpec, McpHint)> {
        let slots = self.lock();
        slots.values().flat_map(|s| s.tools.iter().map(|t| (t.spec.clone(), t.hint))).collect()
    }

    /// The tool the model calls `full_name`, if a server offers it.
    pub fn tool(&self, full_name: &str) -> Option<McpTool> {
        let (server, _) = full_name.split_once("__")?;
        let slots = self.lock();
        slots.get(server)?.tools.iter().find(|t| t.full_name() == full_name).cloned()
    }

    /// Whether `name` is a configured server (started or not) or one held back.
    pub fn knows(&self, name: &str) -> bool {
        self.lock().contains_key(name) || self.held.iter().any(|(h, _)| h == name)
    }

    /// Every prompt of every ready server: (server, prompt).
    pub fn prompts(&self) -> Vec<(String, Prompt)> {
        let slots = self.lock();
        slots.iter().flat_map(|(name, s)| s.prompts.iter().map(move |p| (name.clone(), p.clone()))).collect()
    }

    /// Whether some server is starting now.
    pub fn starting(&self) -> bool {
        self.lock().values().any(|s| s.state == State::Starting)
    }

    /// Waits until no server is starting (or `limit` passed); for the CLI and tests.
    pub async fn settled(&self, limit: Duration) {
        let until = Instant::now() + limit;
        while Instant::now() < until && self.starting() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every server's state, tools, prompts, resources and recent errors, then the held-back ones.
    pub fn report(&self) -> Vec<McpServerReport> {
        let slots = self.lock();
        let mut out: Vec<McpServerReport> = slots
            .iter()
            .map(|(name, s)| McpServerReport {
                name: name.clone(),
                state: match &s.state {
                    State::Starting => "starting".into(),
                    State::Ready => "ready".into(),
                    State::Restarting { attempt, delay } => {
                        format!("restarting (attempt {attempt}, after {} s)", delay.as_secs())
                    }
                    State::Failed(why) => format!("failed: {why}"),
                },
                transport: s.settings.transport(),
                tools: s.tools.iter().map(|t| format!("{} ({})", t.full_name(), hint_name(t.hint))).collect(),
                prompts: s.prompts.iter().map(|p| super::prompts::usage(name, p)).collect(),
                resources: s.resources.iter().map(|r| format!("{} ({})", r.uri, r.name)).collect(),
                errors: s.errors.iter().cloned().collect(),
                restarts: s.restarts,
            })
            .collect();
        out.extend(self.held.iter().map(|(name, why)| McpServerReport {
            name: name.clone(),
            state: why.clone(),
            transport: String::new(),
            tools: Vec::new(),
            prompts: Vec::new(),
            resources: Vec::new(),
            errors: Vec::new(),
            restarts: 0,
        }));
        out
    }

    /// The running service of `server`, and its call time limit, or why there is none.
    fn service(&self, server: &str) -> Result<(Arc<Service>, Duration), String> {
        let slots = self.lock();
        let Some(slot) = slots.get(server) else {
            if let Some((_, why)) = self.held.iter().find(|(h, _)| h == server) {
                return Err(format!("the MCP server `{server}` is not running: {why}"));
            }
            return Err(format!("no MCP server `{server}`"));
        };
        let timeout = Duration::from_secs(slot.settings.timeout_secs.max(1));
        match (&slot.state, &slot.service) {
            (State::Ready, Some(service)) => Ok((service.clone(), timeout)),
            (State::Restarting { .. } | State::Starting, _) => {
                Err(format!("the MCP server `{server}` is restarting; try again shortly"))
            }
            (State::Failed(why), _) => Err(format!("the MCP server `{server}` is not running ({why})")),
            _ => Err(format!("the MCP server `{server}` is not running")),
        }
    }

    /// Calls `tool` of `server` with `arguments`, waiting at most its `timeout_secs`. An error
    /// is a sentence for the model; a server that did not answer in time is restarted.
    pub async fn call(
        &self,
        server: &str,
        tool: &str,
        arguments: JsonObject,
    ) -> Result<CallToolResult, String> {
        let (service, timeout) = self.service(server)?;
        self.announce(server, format!("called {tool}"));
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        let answer = tokio::time::timeout(timeout, service.call_tool(params)).await;
        self.answered(server, tool, timeout, answer)
    }

    /// The messages of `prompt` of `server` with `arguments` (checked against the prompt's
    /// declared arguments first), as the text of a turn.
    pub async fn prompt(
        &self,
        server: &str,
        prompt: &str,
        arguments: BTreeMap<String, String>,
    ) -> Result<String, String> {
        let declared = {
            let slots = self.lock();
            slots.get(server).and_then(|s| s.prompts.iter().find(|p| p.name == prompt).cloned())
        };
        let (service, timeout) = self.service(server)?;
        let Some(declared) = declared else {
            let names: Vec<String> =
                self.prompts().into_iter().filter(|(s, _)| s == server).map(|(_, p)| p.name).collect();
            let names = if names.is_empty() { "none".into() } else { names.join(", ") };
            return Err(format!("the MCP server `{server}` has no prompt `{prompt}` (its prompts: {names})"));
        };
        super::prompts::check_arguments(server, &declared, &arguments)?;
        self.announce(server, format!("prompt {prompt}"));
        let object: JsonObject =
            arguments.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
        let params = GetPromptRequestParams::new(prompt).with_arguments(object);
        let answer = tokio::time::timeout(timeout, service.get_prompt(params)).await;
        let result = self.answered(server, prompt, timeout, answer)?;
        Ok(super::prompts::as_turn(&result))
    }

    /// A call's answer, or the sentence for its failure (a hung server is restarted).
    fn answered<T>(
        &self,
        server: &str,
        what: &str,
        timeout: Duration,
        answer: Result<Result<T, ServiceError>, tokio::time::error::Elapsed>,
    ) -> Result<T, String> {
        match answer {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(ServiceError::TransportClosed | ServiceError::TransportSend(_))) => {
                let http = self.lock().get(server).is_some_and(|s| s.settings.url.is_some());
                if http {
                    self.restart(server, format!("lost its connection during `{what}`"));
                }
                Err(format!("the MCP server `{server}` stopped during the call; it is being restarted"))
            }
            Ok(Err(e)) => Err(format!("the MCP server `{server}` refused the call: {e}")),
            Err(_) => {
                let why = format!("did not answer `{what}` within {} s", timeout.as_secs());
                self.restart(server, why.clone());
                Err(format!("the MCP server `{server}` {why}; it is being restarted"))
            }
        }
    }

    /// Stops every server (kills their process groups, closes HTTP sessions).
    pub fn shutdown(&self) {
        let mut slots = self.lock();
        for slot in slots.values_mut() {
            slot.generation += 1;
            slot.service = None;
            if let Some(stop) = slot.stop.take() {
                let _ = stop.send(());
            }
        }
    }
}
