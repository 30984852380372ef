//! The form `/template NAME` opens: one field per parameter of the template (as the engine
//! described it in `Event::TemplateForm`), Tab/Shift+Tab (or ↓/↑) between fields, ←/→ cycling
//! choices and booleans, Enter to submit, Esc to cancel. Submitting validates with the same
//! `TemplateInfo::validate` the engine uses: errors are shown under their fields and the form
//! stays open; valid values are sent as `TemplateOp::Run`, which starts the turn.
//!
//! Invariant: the form never sends a `Run` the validation rejected, and every key is consumed
//! here while it is up (nothing reaches the composer).

use std::collections::BTreeMap;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc::UnboundedSender;

use crate::engine::protocol::{FieldError, LogLevel, Op, ParamKind, TemplateInfo, TemplateList, TemplateOp};

use super::chat::{ChatEntry, EntryKind, EntryStatus};
use super::modals::Modal;
use super::state::AppState;
use super::update::notice;

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateForm {
    pub info: TemplateInfo,
    /// One value per parameter, in parameter order.
    pub values: Vec<String>,
    /// The focused field.
    pub focus: usize,
    /// The error under each field (None when it is fine), in parameter order.
    pub errors: Vec<Option<String>>,
    /// An error about the template as a whole (from the engine).
    pub general: Option<String>,
}

impl TemplateForm {
    /// A form for `info`, with `preset` values (from `/template NAME key=value …`) or defaults.
    pub fn new(info: TemplateInfo, preset: &BTreeMap<String, String>) -> Self {
        let values = info
            .params
            .iter()
            .map(|p| {
                preset.get(&p.name).or(p.default.as_ref()).cloned().unwrap_or_else(|| match &p.kind {
                    ParamKind::Choice(choices) => choices.first().cloned().unwrap_or_default(),
                    ParamKind::Bool => "false".into(),
                    _ => String::new(),
                })
            })
            .collect();
        let errors = vec![None; info.params.len()];
        TemplateForm { info, values, focus: 0, errors, general: None }
    }

    /// The values by parameter name.
    pub fn values_map(&self) -> BTreeMap<String, String> {
        self.info.params.iter().zip(&self.values).map(|(p, v)| (p.name.clone(), v.clone())).collect()
    }

    /// Put the engine's (or the validation's) errors under their fields.
    pub fn show_errors(&mut self, errors: &[FieldError]) {
        self.errors = vec![None; self.info.params.len()];
        self.general = None;
        for error in errors {
            match self.info.params.iter().position(|p| p.name == error.field) {
                Some(i) => self.errors[i] = Some(error.message.clone()),
                None => self.general = Some(error.to_string()),
            }
        }
        if let Some(first) = self.errors.iter().position(Option::is_some) {
            self.focus = first;
        }
    }

    /// Whether the focused field takes typed text (choices and booleans are cycled instead).
    fn typed_field(&self) -> bool {
        self.info
            .params
            .get(self.focus)
            .is_some_and(|p| !matches!(p.kind, ParamKind::Choice(_) | ParamKind::Bool))
    }

    fn cycle(&mut self, forward: bool) {
        let i = self.focus;
        let choices: Vec<String> = match &self.info.params[i].kind {
            ParamKind::Choice(choices) => choices.clone(),
            ParamKind::Bool => vec!["false".into(), "true".into()],
            _ => return,
        };
        let at = choices.iter().position(|c| *c == self.values[i]).unwrap_or(0);
        let next = if forward { (at + 1) % choices.len() } else { (at + choices.len() - 1) % choices.len() };
        self.values[i] = choices[next].clone();
        self.errors[i] = None;
    }
}

/// The form for a template the engine described: opened with the values `/template` preset.
pub fn open(state: &mut AppState, info: TemplateInfo) {
    state.template_run = None;
    let preset = match state.template_preset.take() {
        Some((name, preset)) if name == info.name => preset,
        _ => BTreeMap::new(),
    };
    let mut form = TemplateForm::new(info, &preset);
    if !preset.is_empty() {
        // Say at once what is wrong with what was typed on the command line.
        if let Err(errors) = form.info.validate(&form.values_map()) {
            let typed: Vec<FieldError> =
                errors.into_iter().filter(|e| preset.contains_key(&e.field)).collect();
            form.show_errors(&typed);
        }
    }
    state.modals.push(Modal::TemplateForm(Box::new(form)));
}

/// `/template`: the catalogue in the chat, then each file that could not be loaded (or was
/// refused a built-in's name).
pub fn on_list(state: &mut AppState, list: TemplateList) {
    state.composer.template_names =
        list.templates.iter().map(|t| (t.name.clone(), t.description.clone())).collect();
    let mut text = String::from("Templates — `/template NAME [key=value …]` opens one:");
    for t in &list.templates {
        let params: Vec<String> = t
            .params
            .iter()
            .map(|p| if p.required { p.name.clone() } else { format!("[{}]", p.name) })
            .collect();
        text.push_str(&format!(
            "\n  {} — {} ({}, {}; {})",
            t.name,
            t.description,
            t.language,
            t.source.name(),
            params.join(" ")
        ));
    }
    notice(state, LogLevel::Info, text);
    for problem in list.problems {
        notice(state, LogLevel::Warn, format!("template not loaded: {problem}"));
    }
}

/// The engine refused to open or run a template: errors go under the form's fields when it is
/// still up, otherwise into the chat (and nothing is running, since no turn started).
pub fn on_invalid(state: &mut AppState, name: &str, errors: Vec<FieldError>) {
    if let Some(Modal::TemplateForm(form)) = state.modals.last_mut()
        && form.info.name == name
    {
        return form.show_errors(&errors);
    }
    state.template_preset = None;
    // Only a refused run ends the busy state (its submit began it); a refused open does not
    // touch a turn that may be running.
    if state.template_run.take().as_deref() == Some(name) {
        state.status.busy_since = None;
    }
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    notice(state, LogLevel::Warn, format!("template `{name}`: {}", lines.join("; ")));
}

pub fn on_key(state: &mut AppState, key: KeyEvent, ops: &UnboundedSender<Op>) {
    let Some(Modal::TemplateForm(form)) = state.modals.last_mut() else { return };
    let fields = form.info.params.len();
    match key.code {
        KeyCode::Esc => {
            state.modals.pop();
        }
        KeyCode::Enter => submit(state, ops),
        KeyCode::Tab | KeyCode::Down if fields > 0 => form.focus = (form.focus + 1) % fields,
        KeyCode::BackTab | KeyCode::Up if fields > 0 => form.focus = (form.focus + fields - 1) % fields,
        KeyCode::Left | KeyCode::Right if fields > 0 => form.cycle(key.code == KeyCode::Right),
        KeyCode::Char(' ') if fields > 0 && form.info.params[form.focus].kind == ParamKind::Bool => {
            form.cycle(true)
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) && fields > 0 => {
            form.values[form.focus].clear();
        }
        KeyCode::Char(c) if form.typed_field() && !key.modifiers.contains(KeyModifiers::CONTROL) => {
            form.values[form.focus].push(c);
            form.errors[form.focus] = None;
        }
        KeyCode::Backspace if form.typed_field() => {
            form.values[form.focus].pop();
            form.errors[form.focus] = None;
        }
        _ => {}
    }
}

/// Enter: validate; errors stay in the form, valid values start the turn.
fn submit(state: &mut AppState, ops: &UnboundedSender<Op>) {
    let busy = state.busy();
    let Some(Modal::TemplateForm(form)) = state.modals.last_mut() else { return };
    let values = form.values_map();
    if let Err(errors) = form.info.validate(&values) {
        return form.show_errors(&errors);
    }
    if busy {
        form.general = Some("a reply or run is in progress: wait for it (or Esc it), then Enter".into());
        return;
    }
    let name = form.info.name.clone();
    state.modals.pop();
    let shown: Vec<String> =
        values.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect();
    let text = format!("/template {name} {}", shown.join(" "));
    state.chat.entries.push(ChatEntry::new(
        EntryKind::User,
        text.trim_end().to_string(),
        EntryStatus::Complete,
    ));
    state.chat.scroll_from_bottom = 0;
    state.status.busy_since = Some(Instant::now());
    state.status.flash = None;
    state.suggestions.clear();
    state.template_run = Some(name.clone());
    let _ = ops.send(Op::Template(TemplateOp::Run { name, values }));
}
