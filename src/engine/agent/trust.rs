//! The start-up question about an untrusted repository's `.kv1nt/config.toml`: the engine lists
//! exactly the held-back keys and values and asks (Enter answers no). Yes records the trust
//! (`config::trust::record`) and applies the whole file at once — policy, providers, sandbox,
//! git and graph settings — before the graph's embedder or any provider is contacted; no keeps
//! the keys ignored for this session and says which.
//!
//! Invariant: asked before `start_graph` and the preflight, so nothing held back has reached
//! the network when the user answers. The UI's keymap is read at start, so held-back `keymap`
//! keys apply from the next start.

use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::config::trust::record;
use crate::engine::config::{HeldBack, ToolMode};
use crate::engine::protocol::{Event, LogLevel};

pub(super) const TITLE: &str = "Trust this repository's settings?";

impl Engine {
    /// Ask whether to trust the repository's config file (`Err` when kv1nt is shutting down).
    pub(super) async fn offer_trust(&mut self, held: HeldBack) -> Result<(), Interrupt> {
        let changed = if held.changed { "It changed since you trusted it. " } else { "" };
        let body = format!(
            "{} sets keys that kv1nt ignores until you trust this file: they can send your API keys \
             or code to another server, loosen the approval gate or the sandbox, or run programs. \
             {changed}It sets:\n\n{}\n\nYes: trust the file as it is now and apply them (asked \
             again if it changes). No: keep them ignored in this session. From a shell: `kv1nt \
             trust` / `kv1nt trust --revoke`.",
            held.file.display(),
            held.listing()
        );
        if !self.confirm_with_default(TITLE, body, false).await? {
            self.emit(Event::Notice { level: LogLevel::Warn, text: held.notice() });
            return Ok(());
        }
        match record(&held.data_dir, &held.repo, &held.sha256) {
            Ok(()) => self.log(LogLevel::Info, format!("trusted {} ({})", held.file.display(), held.sha256)),
            Err(e) => self.emit(Event::Notice {
                level: LogLevel::Error,
                text: format!("could not remember the trust ({e}); the settings apply for this session only"),
            }),
        }
        let keys: Vec<&str> = held.keys.iter().map(|(k, _)| k.as_str()).collect();
        let keymap = if keys.iter().any(|k| k.starts_with("keymap.")) {
            " (key bindings from the next start)"
        } else {
            ""
        };
        let config = *held.trusted;
        self.text_tools = config.agent.tool_mode == ToolMode::Text;
        let policy = config.agent.approval;
        self.config = config;
        self.set_policy(policy);
        self.announce_model();
        self.emit(Event::Notice {
            level: LogLevel::Info,
            text: format!("applied from {}: {}{keymap}", held.file.display(), keys.join(", ")),
        });
        Ok(())
    }
}
