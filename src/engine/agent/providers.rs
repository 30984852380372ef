//! Which provider and model answer: announcing and switching them (`/model`, `/provider`),
//! listing a provider's models (`/models`), and the start-up preflight that, when neither the
//! primary nor the fallback can answer, offers what would work (`Event::FirstRun`).
//!
//! Invariant: nothing here blocks the op loop — listing and probing run on their own tasks
//! and answer with events.

use super::runtime::Engine;
use crate::engine::llm::providers;
use crate::engine::llm::{LlmError, ProviderKind};
use crate::engine::protocol::{Event, LogLevel};

impl Engine {
    pub(super) fn announce_model(&self) {
        let provider = self.config.llm.primary;
        let model = self.model_label(provider);
        let context_window = self.config.context_window(provider);
        self.log(
            LogLevel::Info,
            format!("provider {provider}, model {model}, context window {context_window} tokens"),
        );
        self.emit(Event::ModelChanged { provider, model, context_window });
    }

    pub(super) fn switch_model(&mut self, provider: ProviderKind, model: Option<String>) {
        self.config.llm.primary = provider;
        if let Some(model) = model {
            self.config.set_model(provider, model);
        }
        self.announce_model();
    }

    pub(super) fn spawn_list_models(&self) {
        let kind = self.config.llm.primary;
        let provider = providers::build(kind, &self.config, &self.secrets, &self.client);
        let events = self.events.clone();
        tokio::spawn(async move {
            let models = provider.list_models().await.map_err(|e| e.to_string());
            let _ = events.send(Event::Models { provider: kind, models });
        });
    }

    /// Without touching the network for a configured primary: if the primary lacks what it
    /// needs, probe the fallback; if that cannot answer either, offer what would work
    /// (`Event::FirstRun`: local models, the default download, what to set).
    pub(super) fn spawn_preflight(&self) {
        let primary = providers::build(self.config.llm.primary, &self.config, &self.secrets, &self.client);
        let fallback = self
            .config
            .llm
            .fallback
            .provider()
            .filter(|k| *k != self.config.llm.primary)
            .map(|k| providers::build(k, &self.config, &self.secrets, &self.client));
        let events = self.events.clone();
        let models = self.model_store();
        tokio::spawn(async move {
            let primary_error = match primary.kind() {
                ProviderKind::Ollama => primary.list_models().await.err(),
                _ => match primary.check_configured() {
                    Ok(()) => return,
                    Err(e) => Some(e),
                },
            };
            let Some(primary_error) = primary_error else { return };
            let mut errors: Vec<LlmError> = vec![primary_error];
            if let Some(fallback) = fallback {
                match fallback.list_models().await {
                    Ok(_) => {
                        let text = format!(
                            "{} — replies will come from the fallback, {}.",
                            errors[0],
                            fallback.kind()
                        );
                        let _ = events.send(Event::Notice { level: LogLevel::Warn, text });
                        return;
                    }
                    Err(e) => errors.push(e),
                }
            }
            // The first-run modal: GGUFs on disk, the default download, the other providers
            // (the plain setup help if listing the disk failed outright).
            let help = providers::setup_help(&errors);
            let offer =
                tokio::task::spawn_blocking(move || super::local_models::first_run_offer(&models, &errors))
                    .await;
            let _ = match offer {
                Ok(offer) => events.send(Event::FirstRun(Box::new(offer))),
                Err(_) => events.send(Event::Notice { level: LogLevel::Error, text: help }),
            };
        });
    }
}
