//! One lifetime of one MCP server: start (a child process over stdio, or a streamable HTTP
//! session), handshake, list what it offers, then wait until it exits, its connection closes or
//! it is stopped; a failure schedules the restart with backoff (or leaves it `failed`).
//!
//! Invariant: only the lifetime whose generation is the slot's changes the slot; every change
//! of state is announced ([`McpManager::announce`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::sync::oneshot;

use super::manager::{MAX_BACKOFF, MAX_FAILURES, McpManager, STABLE_AFTER, State};
use super::server::{self, Service};
use super::tools::offered_tools;

/// How often an HTTP server's session is checked for having closed.
const HTTP_POLL: Duration = Duration::from_millis(500);

impl McpManager {
    /// One lifetime of `name`: start, handshake, list, then wait for it to end.
    pub(super) async fn run(self, name: String) {
        let (settings, generation) = {
            let mut slots = self.lock();
            let Some(slot) = slots.get_mut(&name) else { return };
            slot.generation += 1;
            slot.state = State::Starting;
            (slot.settings.clone(), slot.generation)
        };
        let timeout = Duration::from_secs(settings.start_timeout_secs.max(1));
        let started = Instant::now();
        let (service, mut child): (Service, Option<Child>) = if settings.url.is_some() {
            let headers = settings.http_headers(&*self.env);
            match super::http::connect(&settings, headers, timeout).await {
                Ok(service) => (service, None),
                Err(e) => return self.failed(&name, generation, e),
            }
        } else {
            let mut spawned = match server::spawn(&settings, &self.workspace, &*self.env) {
                Ok(spawned) => spawned,
                Err(e) => return self.failed(&name, generation, e),
            };
            if let Some(stderr) = spawned.stderr.take() {
                tokio::spawn(self.clone().read_stderr(name.clone(), stderr));
            }
            match server::connect(&mut spawned.child, timeout).await {
                Ok(service) => (service, Some(spawned.child)),
                Err(e) => {
                    server::kill(&mut spawned.child).await;
                    return self.failed(&name, generation, e);
                }
            }
        };
        let left = timeout.saturating_sub(started.elapsed()).max(Duration::from_secs(1));
        let listing = match server::listing(&service, left).await {
            Ok(listing) => listing,
            Err(e) => {
                stop(&service, child.as_mut()).await;
                return self.failed(&name, generation, e);
            }
        };
        let service = Arc::new(service);
        let (stop_tx, stop_rx) = oneshot::channel();
        let current = {
            let mut slots = self.lock();
            match slots.get_mut(&name) {
                Some(slot) if slot.generation == generation => {
                    let (offered, refused) = offered_tools(&name, &settings, listing.tools);
                    for why in refused.into_iter().chain(listing.problems) {
                        slot.error(why);
                    }
                    slot.tools = offered;
                    slot.prompts = listing.prompts;
                    slot.resources = listing.resources;
                    slot.service = Some(service.clone());
                    slot.state = State::Ready;
                    slot.up_since = Some(Instant::now());
                    slot.stop = Some(stop_tx);
                    true
                }
                _ => false,
            }
        };
        if !current {
            return stop(&service, child.as_mut()).await;
        }
        self.announce(&name, "ready".into());
        match child.as_mut() {
            Some(process) => tokio::select! {
                status = process.wait() => {
                    let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                    self.failed(&name, generation, format!("exited ({status})"));
                }
                _ = stop_rx => stop(&service, Some(process)).await,
            },
            None => {
                let closed = async {
                    while !service.is_closed() {
                        tokio::time::sleep(HTTP_POLL).await;
                    }
                };
                tokio::select! {
                    _ = closed => self.failed(&name, generation, "closed its connection".into()),
                    _ = stop_rx => stop(&service, None).await,
                }
            }
        }
    }

    /// Ends the lifetime of `server` now (a hung call) and starts it again after the backoff.
    pub(super) fn restart(&self, server: &str, why: String) {
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

    /// Lifetime `generation` of `name` failed: record why and schedule the restart (or give up).
    pub(super) fn failed(&self, name: &str, generation: u64, why: String) {
        let scheduled = {
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
                None
            } else {
                let delay = (Duration::from_secs(1) * 2u32.pow(slot.failures - 1)).min(MAX_BACKOFF);
                slot.state = State::Restarting { attempt: slot.failures, delay };
                slot.restarts += 1;
                Some((delay, slot.generation))
            }
        };
        let Some((delay, next)) = scheduled else {
            return self.announce(name, format!("failed: {why}"));
        };
        self.announce(name, format!("restarting: {why}"));
        let this = self.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let current = this.lock().get(&name).map(|s| s.generation);
            if current == Some(next) {
                this.run(name).await;
            }
        });
    }

    async fn read_stderr(self, name: String, stderr: tokio::process::ChildStderr) {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::debug!("mcp {name} stderr: {line}");
            if !line.trim().is_empty() {
                let mut slots = self.lock();
                if let Some(slot) = slots.get_mut(&name) {
                    let line: String = line.chars().take(300).collect();
                    slot.note(format!("stderr: {line}"));
                }
            }
        }
    }
}

/// Ends a session: kills the process group of a stdio server; cancels an HTTP one (rmcp then
/// deletes its session).
async fn stop(service: &Service, child: Option<&mut Child>) {
    service.cancellation_token().cancel();
    if let Some(child) = child {
        server::kill(child).await;
    }
}
