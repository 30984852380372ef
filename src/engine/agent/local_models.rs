//! The engine's side of local models (`engine::models`): the first-run offer when no provider
//! answers, the local models beside a provider's in `/models`, choosing one (`Op::UseLocalModel`:
//! the built-in provider becomes the primary with it, saved to the user's config when asked) and downloading one (`Op::PullModel`) off the task.
//!
//! Invariants: listing and downloading never block the op loop (files are read on a blocking
//! thread, downloads run on their own task and report `Event::PullProgress`); the config file is
//! edited only through `models::config_edit` (comments kept, atomic).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::runtime::Engine;
use crate::engine::config::Paths;
use crate::engine::llm::{LlmError, providers};
use crate::engine::models::pull::{self, PullOptions};
use crate::engine::models::{ModelStore, catalog, config_edit};
use crate::engine::protocol::{Event, FirstRunOffer, LogLevel, ProviderKind, PullProgress};

/// Progress events are sent at most this often (the final byte count always goes out).
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// What the first-run modal offers when the providers failed with `errors`.
pub(super) fn first_run_offer(store: &ModelStore, errors: &[LlmError]) -> FirstRunOffer {
    let local = store.list().unwrap_or_else(|e| {
        tracing::warn!("cannot list local models: {e:#}");
        store.ollama_models()
    });
    FirstRunOffer {
        errors: errors.iter().map(|e| e.to_string()).collect(),
        local,
        download: catalog::default_offer(),
        help: providers::provider_env_help().to_string(),
    }
}

/// The user's config file (`$XDG_CONFIG_HOME/kv1nt/config.toml`), resolved as at start.
fn user_config_file(workspace: &std::path::Path) -> Option<PathBuf> {
    Paths::from_env(workspace, &|name: &str| std::env::var(name).ok()).user_config
}

impl Engine {
    /// The model store of this engine's data directory (the session database's, else the
    /// environment's), with Ollama's store from the environment.
    pub(super) fn model_store(&self) -> ModelStore {
        let env = |name: &str| std::env::var(name).ok();
        let data = self
            .store
            .as_ref()
            .and_then(|s| s.data_dir())
            .unwrap_or_else(|| crate::engine::config::data_dir(&env));
        ModelStore::new(&data, &env)
    }

    /// `Op::ListModels`' local half: `Event::LocalModels`.
    pub(super) fn spawn_list_local_models(&self) {
        let events = self.events.clone();
        let store = self.model_store();
        tokio::task::spawn_blocking(move || match store.list() {
            Ok(models) => {
                let _ = events.send(Event::LocalModels(models));
            }
            Err(e) => {
                let text = format!("cannot list local models: {e:#}");
                let _ = events.send(Event::Notice { level: LogLevel::Warn, text });
            }
        });
    }

    /// `Op::UseLocalModel`: resolve the name or path, save it when asked, report it.
    pub(super) fn use_local_model(&mut self, model: &str, save: bool) {
        let store = self.model_store();
        let path = match store.resolve(model) {
            Ok(path) => path,
            Err(e) => return self.notice(LogLevel::Error, format!("{e:#}")),
        };
        // A path the store knows gets its name; any other GGUF is named by its file.
        let listed = store.list().unwrap_or_default().into_iter().find(|m| m.path == path);
        let file_stem = || {
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| model.to_string())
        };
        let name = listed.map(|m| m.name).unwrap_or_else(file_stem);
        let mut saved_to = None;
        if save {
            let Some(file) = user_config_file(&self.workspace) else {
                return self
                    .notice(LogLevel::Error, "cannot save the model: there is no user config directory");
            };
            if let Err(e) = config_edit::save_local_model(&file, &path) {
                return self
                    .notice(LogLevel::Error, format!("cannot save the model in {}: {e:#}", file.display()));
            }
            saved_to = Some(file);
        }
        self.log(LogLevel::Info, format!("local model {name}: {}", path.display()));
        self.emit(Event::LocalModelChosen { name, path: path.clone(), saved_to });
        self.switch_model(ProviderKind::Local, Some(path.to_string_lossy().into_owned()));
    }

    /// `kind`'s model as the status bar and exec show it: the built-in provider's by
    /// [`Self::local_model_name`], any other's as configured.
    pub(super) fn model_label(&self, kind: ProviderKind) -> String {
        match kind {
            ProviderKind::Local => self.local_model_name(),
            _ => self.config.model_of(kind).to_string(),
        }
    }

    /// The built-in provider's model as the user knows it: its name in the model store, else the
    /// file's name (the configured path is what the provider loads, not what to show).
    fn local_model_name(&self) -> String {
        let configured = &self.config.local.model;
        let path = std::path::Path::new(configured);
        let listed = self.model_store().list().unwrap_or_default();
        if let Some(model) = listed.into_iter().find(|m| m.path == path) {
            return model.name;
        }
        path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| configured.clone())
    }

    /// `Op::PullModel`: download on its own task, progress as events. A plain model name while
    /// Ollama is the primary provider is pulled by the Ollama server (`/api/pull`, into its own
    /// store); `hf:…`, `ollama:…` and the catalog's names go into kv1nt's store.
    pub(super) fn spawn_pull(&self, reference: String) {
        let plain = !reference.starts_with("hf:")
            && !reference.starts_with("ollama:")
            && !reference.starts_with(['/', '.', '~'])
            && catalog::default_model().is_none_or(|m| m.reference != reference);
        if plain && self.config.llm.primary == ProviderKind::Ollama {
            return self.spawn_ollama_pull(reference);
        }
        let events = self.events.clone();
        let client = self.client.clone();
        let store = self.model_store();
        tokio::spawn(async move {
            let mut options = PullOptions::from_env();
            if let Some(pinned) =
                catalog::default_model().filter(|m| m.reference == reference && !m.sha256.is_empty())
            {
                options.sha256 = Some(pinned.sha256);
            }
            let mut last = Instant::now() - PROGRESS_EVERY;
            let progress_events = events.clone();
            let shown = reference.clone();
            let mut on_progress = |progress: PullProgress| {
                let due = match &progress {
                    PullProgress::Bytes { done, total } => {
                        last.elapsed() >= PROGRESS_EVERY || Some(*done) == *total
                    }
                    _ => true,
                };
                if due {
                    last = Instant::now();
                    let _ = progress_events.send(Event::PullProgress { reference: shown.clone(), progress });
                }
            };
            let result = pull::pull(&store, &client, &reference, &options, &mut on_progress).await;
            let result = result.map_err(|e| format!("{e:#}"));
            let _ = events.send(Event::ModelPulled { reference, result });
        });
    }

    /// `/pull NAME` with Ollama: the server downloads it; its progress as `Event::PullProgress`,
    /// the end as a notice.
    fn spawn_ollama_pull(&self, model: String) {
        let events = self.events.clone();
        let client = self.client.clone();
        let host = self.config.ollama.host.clone();
        tokio::spawn(async move {
            let mut last = Instant::now() - PROGRESS_EVERY;
            let mut started = false;
            let mut verifying = false;
            let result = crate::engine::llm::ollama_pull::pull(&client, &host, &model, |state| {
                let send = |progress| {
                    let _ = events.send(Event::PullProgress { reference: model.clone(), progress });
                };
                if state.total > 0 && !started {
                    started = true;
                    send(PullProgress::Started { total: Some(state.total), resumed_from: 0 });
                }
                if state.status.starts_with("verifying") && !verifying {
                    verifying = true;
                    send(PullProgress::Verifying { known: true });
                } else if state.total > 0 && (last.elapsed() >= PROGRESS_EVERY || state.done == state.total) {
                    last = Instant::now();
                    send(PullProgress::Bytes { done: state.done, total: Some(state.total) });
                }
            })
            .await;
            let (level, text) = match result {
                Ok(state) => (
                    LogLevel::Info,
                    format!(
                        "Ollama pulled {model} ({:.1} GB); `/model {model}` uses it.",
                        state.total as f64 / 1e9
                    ),
                ),
                Err(e) => (LogLevel::Error, format!("Ollama could not pull {model}: {e}")),
            };
            let _ = events.send(Event::Notice { level, text });
        });
    }
}
