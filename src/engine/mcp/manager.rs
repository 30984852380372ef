//! The MCP servers of one engine: starting each in the background, their tools as the model
//! sees them (`NAME__tool`), calls with a time limit, and restarts with backoff.
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

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use rmcp::service::ServiceError;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::oneshot;

use super::server::{self, Service};
use super::settings::{McpSettings, ServerSettings};
use super::tools::{McpTool, hint_name, offered_tools};
use crate::engine::llm::types::ToolSpec;
use crate::engine::protocol::{McpHint, McpServerReport};

/// Failed starts (or early crashes) in a row before a server is left `failed`.
pub const MAX_FAILURES: u32 = 5;
/// Up this long, a server's next crash counts as its first.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Recent errors and stderr lines kept per server.
const RECENT: usize = 10;

#[derive(Debug, Clone, PartialEq)]
enum State {
    Starting,
    Ready,
    Restarting { attempt: u32, delay: Duration },
    Failed(String),
}

struct Slot {
    settings: ServerSettings,
    state: State,
    service: Option<Arc<Service>>,
    tools: Vec<McpTool>,
    errors: VecDeque<String>,
    failures: u32,
    restarts: u32,
    generation: u64,
    up_since: Option<Instant>,
    stop: Option<oneshot::Sender<()>>,
}

impl Slot {
    fn error(&mut self, text: String) {
        tracing::warn!("{text}");
        if self.errors.len() == RECENT {
            self.errors.pop_front();
        }
        self.errors.push_back(text);
    }
}

type EnvFn = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The engine's MCP servers (cheap to clone: one shared state).
#[derive(Clone)]
pub struct McpManager {
    slots: Arc<Mutex<BTreeMap<String, Slot>>>,
    workspace: PathBuf,
    env: EnvFn,
}

impl McpManager {
    /// No servers.
    pub fn empty() -> McpManager {
        McpManager { slots: Default::default(), workspace: PathBuf::new(), env: Arc::new(|_| None) }
    }

    /// Starts every enabled server of `settings` in the background (within a tokio runtime);
    /// `env` is kv1nt's environment, of which a server sees only `PATH`, `HOME` and its `pass_env`.
    pub fn start(settings: &McpSettings, workspace: &Path, env: EnvFn) -> McpManager {
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
        let manager =
            McpManager { slots: Arc::new(Mutex::new(slots)), workspace: workspace.to_path_buf(), env };
        for name in names {
            tokio::spawn(manager.clone().run(name));
        }
        manager
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Every server's state, tools and recent errors.
    pub fn report(&self) -> Vec<McpServerReport> {
        let slots = self.lock();
        slots
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
                tools: s.tools.iter().map(|t| format!("{} ({})", t.full_name(), hint_name(t.hint))).collect(),
                errors: s.errors.iter().cloned().collect(),
                restarts: s.restarts,
            })
            .collect()
    }

    /// Calls `tool` of `server` with `arguments`, waiting at most its `timeout_secs`. An error
    /// is a sentence for the model; a server that did not answer in time is restarted.
    pub async fn call(
        &self,
        server: &str,
        tool: &str,
        arguments: JsonObject,
    ) -> Result<CallToolResult, String> {
        let (service, timeout) = {
            let slots = self.lock();
            let Some(slot) = slots.get(server) else { return Err(format!("no MCP server `{server}`")) };
            let timeout = Duration::from_secs(slot.settings.timeout_secs.max(1));
            match (&slot.state, &slot.service) {
                (State::Ready, Some(service)) => (service.clone(), timeout),
                (State::Restarting { .. } | State::Starting, _) => {
                    return Err(format!("the MCP server `{server}` is restarting; try again shortly"));
                }
                (State::Failed(why), _) => {
                    return Err(format!("the MCP server `{server}` is not running ({why})"));
                }
                _ => return Err(format!("the MCP server `{server}` is not running")),
            }
        };
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        match tokio::time::timeout(timeout, service.call_tool(params)).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(ServiceError::TransportClosed | ServiceError::TransportSend(_))) => {
                Err(format!("the MCP server `{server}` stopped during the call; it is being restarted"))
            }
            Ok(Err(e)) => Err(format!("the MCP server `{server}` refused the call: {e}")),
            Err(_) => {
                let why = format!("did not answer `{tool}` within {} s", timeout.as_secs());
                self.restart(server, why.clone());
                Err(format!("the MCP server `{server}` {why}; it is being restarted"))
            }
        }
    }

    /// Kills the running process of `server` and starts it again after the backoff.
    fn restart(&self, server: &str, why: String) {
        let generation = {
            let mut slots = self.lock();
            let Some(slot) = slots.get_mut(server) else { return };
            if let Some(stop) = slot.stop.take() {
                let _ = stop.send(());
            }
            slot.generation
        };
        self.failed(server, generation, why);
    }

    /// Stops every server (kills their process groups).
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

    /// One lifetime of `name`'s process: start, handshake, then wait for it to exit or be
    /// stopped; an exit schedules the restart.
    async fn run(self, name: String) {
        let (settings, generation) = {
            let mut slots = self.lock();
            let Some(slot) = slots.get_mut(&name) else { return };
            slot.generation += 1;
            slot.state = State::Starting;
            (slot.settings.clone(), slot.generation)
        };
        let mut spawned = match server::spawn(&settings, &self.workspace, &*self.env) {
            Ok(spawned) => spawned,
            Err(e) => return self.failed(&name, generation, e),
        };
        if let Some(stderr) = spawned.stderr.take() {
            tokio::spawn(self.clone().read_stderr(name.clone(), stderr));
        }
        let timeout = Duration::from_secs(settings.start_timeout_secs.max(1));
        let (service, tools) = match server::connect(&mut spawned.child, timeout).await {
            Ok(connected) => connected,
            Err(e) => {
                server::kill(&mut spawned.child).await;
                return self.failed(&name, generation, e);
            }
        };
        let (stop_tx, stop_rx) = oneshot::channel();
        let current = {
            let mut slots = self.lock();
            match slots.get_mut(&name) {
                Some(slot) if slot.generation == generation => {
                    let (offered, refused) = offered_tools(&name, &settings, tools);
                    for why in refused {
                        slot.error(why);
                    }
                    slot.tools = offered;
                    slot.service = Some(Arc::new(service));
                    slot.state = State::Ready;
                    slot.up_since = Some(Instant::now());
                    slot.stop = Some(stop_tx);
                    true
                }
                _ => false,
            }
        };
        if !current {
            return server::kill(&mut spawned.child).await;
        }
        tokio::select! {
            status = spawned.child.wait() => {
                let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                self.failed(&name, generation, format!("exited ({status})"));
            }
            _ = stop_rx => server::kill(&mut spawned.child).await,
        }
    }

    /// Lifetime `generation` of `name` failed: record why and schedule the restart (or give up).
    fn failed(&self, name: &str, generation: u64, why: String) {
        let delay = {
            let mut slots = self.lock();
            let Some(slot) = slots.get_mut(name) else { return };
            if slot.generation != generation {
                return;
            }
            slot.generation += 1;
            slot.service = None;
            slot.stop = None;
            if slot.up_since.take().is_some_and(|t| t.elapsed() >= STABLE_AFTER) {
                slot.failures = 0;
            }
            slot.failures += 1;
            slot.error(format!("MCP server `{name}` {why}"));
            if slot.failures >= MAX_FAILURES {
                slot.state = State::Failed(format!("{why}; gave up after {} attempts", slot.failures));
                return;
            }
            let delay = (Duration::from_secs(1) * 2u32.pow(slot.failures - 1)).min(MAX_BACKOFF);
            slot.state = State::Restarting { attempt: slot.failures, delay };
            slot.restarts += 1;
            (delay, slot.generation)
        };
        let this = self.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(delay.0).await;
            let current = this.lock().get(&name).map(|s| s.generation);
            if current == Some(delay.1) {
                this.run(name).await;
            }
        });
    }

    async fn read_stderr(self, name: String, stderr: tokio::process::ChildStderr) {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::debug!("mcp {name} stderr: {line}");
            if !line.trim().is_empty() {
                self.note_stderr(&name, &line);
            }
        }
    }
}

impl McpManager {
    fn note_stderr(&self, name: &str, line: &str) {
        let mut slots = self.lock();
        if let Some(slot) = slots.get_mut(name) {
            if slot.errors.len() == RECENT {
                slot.errors.pop_front();
            }
            slot.errors.push_back(format!("stderr: {}", line.chars().take(300).collect::<String>()));
        }
    }
}
