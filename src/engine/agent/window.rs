//! Real token counts and the real window, as the engine uses them: the per-model
//! [`Calibration`] of the raw estimate (loaded from the store on first use, updated after every
//! reply from the input tokens the provider reported for that request), the servers' own word on
//! their window before a step (Ollama's `/api/show`, llama.cpp's `/props`: `llm::ollama`,
//! `llm::window`), and a refused request's window learned, the history refitted to it and the
//! step retried once (`turn.rs`).
//!
//! With `anthropic.count_tokens`, a step whose estimate nears the compaction threshold is first
//! counted exactly by Anthropic's `count_tokens` endpoint (`llm::count_tokens`), and the count
//! calibrates the estimate like a reply's usage does, so compaction and the status bar go by the
//! provider's own figure.
//!
//! Invariants:
//! - Every estimate the engine fits, compacts or reports with goes through [`Engine::calibration`]
//!   of the provider it is for (`request.rs`, `compaction.rs`); `estimate_tokens` stays raw.
//! - A refusal is acted on once per step: a second one ends the step with the server's message.

use std::collections::HashMap;

use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::llm::context::Calibration;
use crate::engine::llm::{ProviderKind, count_tokens, ollama, window};
use crate::engine::protocol::LogLevel;

/// The calibrations of the models used in this process, by provider and model.
pub(super) type Calibrations = std::cell::RefCell<HashMap<(ProviderKind, String), Calibration>>;

impl Engine {
    /// How `kind`'s current model counts tokens against the raw estimate.
    pub(super) fn calibration(&self, kind: ProviderKind) -> Calibration {
        let key = (kind, self.config.model_of(kind).to_string());
        if let Some(known) = self.calibrations.borrow().get(&key) {
            return *known;
        }
        let stored = match &self.store {
            Some(store) => store.calibration(kind.as_str(), &key.1).unwrap_or_else(|e| {
                self.log(LogLevel::Warn, format!("could not read the token calibration: {e}"));
                None
            }),
            None => None,
        };
        let calibration = stored.unwrap_or(Calibration::RAW);
        self.calibrations.borrow_mut().insert(key, calibration);
        calibration
    }

    /// A request estimated at `estimated` raw tokens was counted `reported` input tokens by
    /// `kind`: fold that into the model's calibration (and store it).
    pub(super) fn calibrate(&self, kind: ProviderKind, estimated: usize, reported: u64) {
        let before = self.calibration(kind);
        let after = before.observe(reported, estimated);
        if after == before {
            return;
        }
        let model = self.config.model_of(kind).to_string();
        if let Some(store) = &self.store
            && let Err(e) = store.set_calibration(kind.as_str(), &model, after)
        {
            self.log(LogLevel::Warn, format!("could not save the token calibration: {e}"));
        }
        self.calibrations.borrow_mut().insert((kind, model), after);
    }

    /// Before a step on Anthropic with `anthropic.count_tokens`: when the request's calibrated
    /// estimate is past four fifths of the compaction threshold (of the whole input space when
    /// automatic compaction is off), its exact size from the count endpoint calibrates the
    /// estimate. A failed count is logged and the estimate stands.
    pub(super) async fn count_near_threshold(&mut self, kind: ProviderKind) -> Result<(), Interrupt> {
        if kind != ProviderKind::Anthropic || !self.config.anthropic.count_tokens {
            return Ok(());
        }
        let (used, space) = self.input_pressure(kind);
        let percent = match self.config.context.compact_at.min(100) {
            0 => 100,
            p => p as usize,
        };
        if used * 100 * 5 < space * percent * 4 {
            return Ok(());
        }
        let model = self.config.model_of(kind).to_string();
        let request = self.fitted_request(kind, &model, false);
        let sent = self.raw_estimate(kind, &request);
        let (client, base) = (self.client.clone(), self.config.anthropic.base_url.clone());
        let key = self.secrets.anthropic_api_key.clone();
        let cache = self.config.anthropic.prompt_cache;
        let counted = self
            .unless_interrupted(async move {
                count_tokens::count(&client, &base, key.as_deref(), &request, cache).await
            })
            .await?;
        match counted {
            Ok(tokens) => {
                self.log(LogLevel::Info, format!("{kind} counts the next request at {tokens} tokens"));
                self.calibrate(kind, sent, tokens);
            }
            Err(e) => self.log(LogLevel::Warn, format!("could not count the request's tokens: {e}")),
        }
        Ok(())
    }

    /// Before a step on `kind`: the server's own window, asked once per model (Ollama's
    /// `/api/show`, a llama.cpp server's `/props`).
    pub(super) async fn probe_window(&mut self, kind: ProviderKind) -> Result<(), Interrupt> {
        let client = self.client.clone();
        let model = self.config.model_of(kind).to_string();
        let before = self.config.context_window(kind);
        match kind {
            ProviderKind::Ollama => {
                let host = self.config.ollama.host.clone();
                self.unless_interrupted(async move { ollama::probe(&client, &host, &model).await }).await?;
            }
            ProviderKind::OpenAi => {
                let base = self.config.openai.base_url.clone();
                self.unless_interrupted(async move { window::probe_props(&client, &base, &model).await })
                    .await?;
                let after = self.config.context_window(kind);
                if after != before {
                    self.log(
                        LogLevel::Info,
                        format!("{kind}: the server's context window is {after} tokens (/props)"),
                    );
                    if kind == self.config.llm.primary {
                        self.announce_model();
                    }
                }
            }
            ProviderKind::Anthropic | ProviderKind::Local => {}
        }
        Ok(())
    }

    /// `kind` refused a request estimated at `sent` raw tokens as larger than its window (which
    /// it may have named, with the request's size in its tokens): remember the window for this
    /// process, calibrate from the size, and compact if that applies — the next request is
    /// fitted to the window.
    pub(super) async fn refit_after_refusal(
        &mut self,
        kind: ProviderKind,
        named: Option<usize>,
        prompt_tokens: Option<usize>,
        sent: usize,
    ) -> Result<(), Interrupt> {
        if let Some(counted) = prompt_tokens {
            self.calibrate(kind, sent, counted as u64);
        }
        let sent_tokens = prompt_tokens.unwrap_or_else(|| self.calibration(kind).tokens(sent));
        let current = self.config.context_window(kind);
        // A server that did not say: what was sent, less a quarter, is over the window.
        let learned = named.unwrap_or(sent_tokens.min(current) * 3 / 4);
        let model = self.config.model_of(kind).to_string();
        window::learn(kind, window::endpoint(&self.config, kind), &model, learned);
        let window = self.config.context_window(kind);
        self.notice(
            LogLevel::Warn,
            format!(
                "{kind} refused a request of about {sent_tokens} tokens: {model}'s context window is {window} tokens. \
                 The history is fitted to it from now on, and the request is sent again."
            ),
        );
        if kind == self.config.llm.primary {
            self.announce_model();
        }
        self.compact_if_full().await
    }
}
