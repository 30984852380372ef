//! Local models in the TUI: the first-run modal (`Event::FirstRun`: no provider answered at
//! start) and the events around choosing and downloading a local model.
//!
//! The modal lists what would work — each GGUF already on disk, downloading the default model,
//! and the other providers' settings — one selected; ↑/↓ move, Enter chooses, Esc closes. A local
//! model is sent as `Op::UseLocalModel { save: true }` (the engine writes the user's config);
//! a download as `Op::PullModel`, and the model is used when `Event::ModelPulled` says it is on
//! disk. Invariant: closing the modal any way leaves the setup help in the chat, so nothing the
//! old notice said is lost.

use crossterm::event::{KeyCode, KeyEvent};
use tokio::sync::mpsc::UnboundedSender;

use super::modals::Modal;
use super::state::AppState;
use super::update::notice;
use crate::engine::protocol::{DownloadOffer, FirstRunOffer, LocalModel, LogLevel, Op, PullProgress};

#[derive(Debug, Clone, PartialEq)]
pub struct FirstRunView {
    pub offer: FirstRunOffer,
    pub selected: usize,
}

/// One line of the modal that can be chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Choice<'a> {
    Local(&'a LocalModel),
    Download(&'a DownloadOffer),
    /// Claude, Ollama's server or an OpenAI-compatible one: the settings are shown.
    Elsewhere,
}

impl FirstRunView {
    pub fn choices(&self) -> Vec<Choice<'_>> {
        let mut out: Vec<Choice<'_>> = self.offer.local.iter().map(Choice::Local).collect();
        out.extend(self.offer.download.as_ref().map(Choice::Download));
        out.push(Choice::Elsewhere);
        out
    }
}

/// What the UI remembers between asking for a download and the model being on disk.
#[derive(Debug, Default)]
pub struct LocalModelsState {
    /// The reference being downloaded to be used when it arrives.
    pub use_when_pulled: Option<String>,
}

/// `Event::FirstRun`: open the modal (replacing one already open).
pub fn open(state: &mut AppState, offer: FirstRunOffer) {
    state.modals.retain(|m| !matches!(m, Modal::FirstRun(_)));
    state.modals.push(Modal::FirstRun(Box::new(FirstRunView { offer, selected: 0 })));
}

pub fn on_key(state: &mut AppState, key: KeyEvent, ops: &UnboundedSender<Op>) {
    let Some(Modal::FirstRun(view)) = state.modals.last_mut() else { return };
    let last = view.choices().len().saturating_sub(1);
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => view.selected = view.selected.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => view.selected = (view.selected + 1).min(last),
        KeyCode::Home => view.selected = 0,
        KeyCode::End => view.selected = last,
        KeyCode::Esc | KeyCode::Char('q') => close_with_help(state),
        KeyCode::Enter => choose(state, ops),
        _ => {}
    }
}

fn choose(state: &mut AppState, ops: &UnboundedSender<Op>) {
    let Some(Modal::FirstRun(view)) = state.modals.last() else { return };
    let op = match view.choices().get(view.selected) {
        Some(Choice::Local(model)) => {
            let text = format!("Using the local model {} — saving it to your config.", model.name);
            Some((Op::UseLocalModel { model: model.path.to_string_lossy().into_owned(), save: true }, text))
        }
        Some(Choice::Download(offer)) => {
            let text = format!(
                "Downloading {} ({}); it is used once it is on disk.",
                offer.title,
                size_label(offer.size)
            );
            Some((Op::PullModel { reference: offer.reference.clone() }, text))
        }
        Some(Choice::Elsewhere) | None => None,
    };
    let Some((op, text)) = op else { return close_with_help(state) };
    if let Op::PullModel { reference } = &op {
        state.local_models.use_when_pulled = Some(reference.clone());
    }
    state.modals.pop();
    let _ = ops.send(op);
    notice(state, LogLevel::Info, text);
}

fn close_with_help(state: &mut AppState) {
    let Some(Modal::FirstRun(view)) = state.modals.pop() else { return };
    let mut text = String::from("No model provider could answer.\n");
    for error in &view.offer.errors {
        text.push_str(&format!("- {error}\n"));
    }
    text.push_str("To fix it, do one of:\n");
    text.push_str("- Local: `kv1nt model pull default`, or `kv1nt model add PATH` for a GGUF you have\n");
    text.push_str(&view.offer.help);
    notice(state, LogLevel::Error, text);
}

/// `Event::LocalModels`: the answer to `/models`, beside the provider's own list.
pub fn on_local_models(state: &mut AppState, models: Vec<LocalModel>) {
    if models.is_empty() {
        let text = "No local models (`kv1nt model pull default` downloads one, `kv1nt model add PATH` registers a GGUF).";
        return notice(state, LogLevel::Info, text.to_string());
    }
    let lines: Vec<String> = models
        .iter()
        .map(|m| {
            format!("local:{} ({}, {}) {}", m.name, size_label(m.size), m.origin.as_str(), m.path.display())
        })
        .collect();
    state.push_log(LogLevel::Info, format!("local models:\n{}", lines.join("\n")));
    let names: Vec<String> =
        models.iter().map(|m| format!("local:{} ({})", m.name, size_label(m.size))).collect();
    notice(
        state,
        LogLevel::Info,
        format!("local models: {} — `/model local:NAME` uses one", names.join(", ")),
    );
}

pub fn on_chosen(
    state: &mut AppState,
    name: String,
    path: std::path::PathBuf,
    saved_to: Option<std::path::PathBuf>,
) {
    let saved = saved_to.map(|f| format!("; saved to {}", f.display())).unwrap_or_default();
    notice(state, LogLevel::Info, format!("Local model {name} chosen ({}){saved}.", path.display()));
    state.status.flash = Some((format!("local model {name}"), LogLevel::Info));
}

pub fn on_progress(state: &mut AppState, reference: &str, progress: PullProgress) {
    match progress {
        PullProgress::Started { total, resumed_from } => {
            let size = total.map(size_label).unwrap_or_else(|| "size unknown".into());
            let resume = if resumed_from > 0 {
                format!(", resuming at {}", size_label(resumed_from))
            } else {
                String::new()
            };
            notice(state, LogLevel::Info, format!("Downloading {reference}: {size}{resume}."));
        }
        PullProgress::Bytes { done, total } => {
            let text = match total {
                Some(t) if t > 0 => format!("downloading {}%", done.saturating_mul(100) / t),
                _ => format!("downloading {}", size_label(done)),
            };
            state.status.flash = Some((text, LogLevel::Info));
        }
        PullProgress::Retrying { attempt, done, reason } => state.push_log(
            LogLevel::Warn,
            format!(
                "download of {reference} interrupted ({reason}); resuming at {} (retry {attempt})",
                size_label(done)
            ),
        ),
        PullProgress::Verifying { known: true } => {
            state.status.flash = Some(("checking the sha256".into(), LogLevel::Info))
        }
        PullProgress::Verifying { known: false } => state.push_log(
            LogLevel::Warn,
            format!("{reference}: no sha256 was published; the download is not verified"),
        ),
    }
}

pub fn on_pulled(state: &mut AppState, reference: String, result: Result<LocalModel, String>) {
    let wanted = state.local_models.use_when_pulled.take_if(|r| *r == reference).is_some();
    match result {
        Ok(model) => {
            notice(state, LogLevel::Info, format!("Downloaded {} ({}).", model.name, size_label(model.size)));
            if wanted {
                state
                    .outbox
                    .push(Op::UseLocalModel { model: model.path.to_string_lossy().into_owned(), save: true });
            }
        }
        Err(e) => notice(state, LogLevel::Error, format!("The download of {reference} failed: {e}")),
    }
}

/// `1.1 GB`, `253 MB`.
pub fn size_label(bytes: u64) -> String {
    match bytes {
        n if n >= 1_000_000_000 => format!("{:.1} GB", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{} MB", n / 1_000_000),
        n if n >= 1_000 => format!("{} KB", n / 1_000),
        n => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crossterm::event::{KeyEvent, KeyModifiers};
    use tokio::sync::mpsc::unbounded_channel;

    use super::*;
    use crate::app::keymap::Keymap;
    use crate::engine::protocol::{ModelOrigin, ProviderKind};
    use crate::text::theme::Theme;

    fn state() -> AppState {
        let keymap = Keymap::load(&BTreeMap::new()).unwrap();
        AppState::new(keymap, Theme::builtin("dark").unwrap(), ProviderKind::Ollama, "m".into())
    }

    fn model(name: &str) -> LocalModel {
        LocalModel {
            name: name.into(),
            path: format!("/m/{name}.gguf").into(),
            size: 2_000_000,
            origin: ModelOrigin::Added,
        }
    }

    fn offer() -> FirstRunOffer {
        FirstRunOffer {
            errors: vec!["Ollama is not running".into()],
            local: vec![model("a"), model("b")],
            download: Some(DownloadOffer {
                title: "Default".into(),
                reference: "hf:o/r/d.gguf".into(),
                size: 9,
            }),
            help: "- Claude: set ANTHROPIC_API_KEY".into(),
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn enter_on_a_local_model_saves_it_and_closes() {
        let mut state = state();
        let (tx, mut rx) = unbounded_channel();
        open(&mut state, offer());
        on_key(&mut state, key(KeyCode::Down), &tx);
        on_key(&mut state, key(KeyCode::Enter), &tx);
        assert_eq!(rx.try_recv().unwrap(), Op::UseLocalModel { model: "/m/b.gguf".into(), save: true });
        assert!(state.modals.is_empty());
    }

    #[test]
    fn a_download_is_used_when_it_arrives_and_only_then() {
        let mut state = state();
        let (tx, mut rx) = unbounded_channel();
        open(&mut state, offer());
        on_key(&mut state, key(KeyCode::End), &tx);
        on_key(&mut state, key(KeyCode::Up), &tx);
        on_key(&mut state, key(KeyCode::Enter), &tx);
        assert_eq!(rx.try_recv().unwrap(), Op::PullModel { reference: "hf:o/r/d.gguf".into() });
        on_pulled(&mut state, "hf:o/r/other.gguf".into(), Ok(model("other")));
        assert!(state.outbox.is_empty(), "another download is not used");
        on_pulled(&mut state, "hf:o/r/d.gguf".into(), Ok(model("d")));
        assert_eq!(state.outbox, [Op::UseLocalModel { model: "/m/d.gguf".into(), save: true }]);
        on_pulled(&mut state, "hf:o/r/d.gguf".into(), Ok(model("d")));
        assert_eq!(state.outbox.len(), 1, "used once");
    }

    #[test]
    fn leaving_shows_the_help_and_sends_nothing() {
        let mut state = state();
        let (tx, mut rx) = unbounded_channel();
        open(&mut state, offer());
        on_key(&mut state, key(KeyCode::End), &tx);
        on_key(&mut state, key(KeyCode::Enter), &tx);
        assert!(rx.try_recv().is_err() && state.modals.is_empty());
        let text = &state.chat.entries.last().unwrap().text;
        assert!(text.contains("Ollama is not running") && text.contains("ANTHROPIC_API_KEY"), "{text}");
        on_local_models(&mut state, vec![model("a")]);
        let text = &state.chat.entries.last().unwrap().text;
        assert!(text.contains("local:a (2 MB)") && text.contains("/model local:NAME"), "{text}");
    }
}
