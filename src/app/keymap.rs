//! Key bindings as data: `assets/keymap.toml` plus the user's `[keymap]` overrides, resolved per
//! context. The help overlay is generated from the same table, so it can never disagree.
//!
//! A binding is one key or a chord of two written with a space (`"ctrl+x ctrl+e"`): the first
//! key of a chord is held as pending (`AppState::pending_chord`) and the second decides. A key
//! bound alone wins over a chord it would start (`quit = ["ctrl+x"]` makes Ctrl+X quit).

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::engine::config::KeyList;

const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// Where a key is pressed; searched most specific first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyContext {
    Approval,
    Modal,
    Composer,
    Git,
    Output,
    Pane,
    Global,
}

impl KeyContext {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "approval" => Some(Self::Approval),
            "modal" => Some(Self::Modal),
            "composer" => Some(Self::Composer),
            "git" => Some(Self::Git),
            "output" => Some(Self::Output),
            "pane" => Some(Self::Pane),
            "global" => Some(Self::Global),
            _ => None,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Approval => "Approval requests",
            Self::Modal => "Dialogs",
            Self::Composer => "Composer",
            Self::Git => "Git view (Code lists files, Diff shows hunks)",
            Self::Output => "Output pane (Problems list)",
            Self::Pane => "Panes (Chat, Code, Diff, Output)",
            Self::Global => "Everywhere",
        }
    }
}

macro_rules! actions {
    ($($variant:ident => $name:literal, $desc:literal;)*) => {
        /// Everything a key can do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum KeyAction { $($variant),* }

        impl KeyAction {
            pub const ALL: &'static [KeyAction] = &[$(KeyAction::$variant),*];
            pub fn name(self) -> &'static str { match self { $(KeyAction::$variant => $name),* } }
            pub fn description(self) -> &'static str { match self { $(KeyAction::$variant => $desc),* } }
            pub fn parse(name: &str) -> Option<KeyAction> { Self::ALL.iter().copied().find(|a| a.name() == name) }
        }
    };
}

actions! {
    Quit => "quit", "quit (asks first while a reply streams)";
    Interrupt => "interrupt", "cancel the reply, or quit when idle";
    Cancel => "cancel", "cancel the streaming reply / close the overlay";
    Help => "help", "show this help";
    FocusNext => "focus_next", "focus the next pane";
    FocusPrev => "focus_prev", "focus the previous pane";
    FocusChat => "focus_chat", "focus Chat";
    FocusCode => "focus_code", "focus Code";
    FocusDiff => "focus_diff", "focus Diff";
    FocusOutput => "focus_output", "focus Output";
    FocusComposer => "focus_composer", "back to the composer";
    Zoom => "zoom", "zoom the focused pane to full screen and back";
    NextBlock => "next_block", "show the next code block in Code";
    PrevBlock => "prev_block", "show the previous code block in Code";
    Submit => "submit", "send the prompt";
    Newline => "newline", "insert a newline";
    HistoryPrev => "history_prev", "previous prompt from history";
    HistoryNext => "history_next", "next prompt from history";
    Complete => "complete", "complete the slash command";
    ScrollUp => "scroll_up", "scroll up";
    ScrollDown => "scroll_down", "scroll down";
    PageUp => "page_up", "page up";
    PageDown => "page_down", "page down";
    ScrollTop => "scroll_top", "go to the top";
    ScrollBottom => "scroll_bottom", "go to the end and follow";
    ScrollLeft => "scroll_left", "scroll left";
    ScrollRight => "scroll_right", "scroll right";
    ConfirmYes => "confirm_yes", "answer yes / take the selected choice";
    ConfirmNo => "confirm_no", "answer no";
    ToggleChoice => "toggle_choice", "move between the dialog's buttons";
    ApproveOnce => "approve_once", "approve this change once";
    ApproveSession => "approve_session", "approve this and matching changes for the session (scope shown)";
    Deny => "deny", "deny the change";
    DenyWithMessage => "deny_with_message", "deny and tell the model why";
    EditProposal => "edit_proposal", "edit the proposed content before approving";
    SaveEdit => "save_edit", "approve the edited content";
    CyclePolicy => "cycle_policy", "switch the approval policy (read-only, plan, ask, auto-edit, auto)";
    Suggestion1 => "suggestion_1", "take follow-up suggestion 1";
    Suggestion2 => "suggestion_2", "take follow-up suggestion 2";
    Suggestion3 => "suggestion_3", "take follow-up suggestion 3";
    Suggestion4 => "suggestion_4", "take follow-up suggestion 4";
    GitToggle => "git_toggle", "open or close the Git view";
    GraphToggle => "graph_toggle", "open or close the Graph panel (search the code index)";
    ToggleThinking => "toggle_thinking", "show or collapse the model's Thinking blocks in Chat";
    GitStage => "git_stage", "stage the file (Code) or the hunk under the cursor (Diff)";
    GitUnstage => "git_unstage", "unstage the file (Code) or the hunk under the cursor (Diff)";
    GitStageLine => "git_stage_line", "stage the line under the cursor";
    GitUnstageLine => "git_unstage_line", "unstage the line under the cursor";
    GitSide => "git_side", "show the staged or the unstaged side of the file";
    GitRefresh => "git_refresh", "refresh the Git view";
    ProblemsToggle => "problems_toggle", "switch Output between the log and the Problems list (/check runs the checks)";
    OpenProblem => "open_problem", "open the selected problem's location in Code";
    ExternalEditor => "external_editor", "edit the prompt (or the proposed content) in $VISUAL / $EDITOR";
    Search => "search", "search the pane's content (Chat from the composer); n/N next/previous, Esc clears";
    SelectLines => "select", "select lines in the pane (j/k extend; a mouse drag selects too)";
    Copy => "copy", "copy the selection (in Code without one: the block shown)";
}

/// A key with its modifiers, normalised so `shift+g` and `G` are the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyCombo {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyCombo {
    pub fn from_event(event: &KeyEvent) -> Self {
        Self::normalised(event.code, event.modifiers)
    }

    fn normalised(code: KeyCode, modifiers: KeyModifiers) -> Self {
        let mut modifiers = modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) if modifiers.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() => {
                KeyCode::Char(c.to_ascii_uppercase())
            }
            KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        if matches!(code, KeyCode::Char(_)) {
            modifiers.remove(KeyModifiers::SHIFT); // the character already says it
        }
        Self { code, modifiers }
    }

    /// Parse "ctrl+c", "shift+tab", "G", "f1", "?".
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = if text == "+" { vec!["+"] } else { text.split('+').collect() };
        let (key, mods) = parts.split_last().ok_or_else(|| "empty key".to_string())?;
        let mut modifiers = KeyModifiers::NONE;
        for m in mods {
            modifiers |= match m.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => KeyModifiers::CONTROL,
                "alt" | "meta" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                other => {
                    return Err(format!("unknown modifier `{other}` in `{text}` (use ctrl, alt, shift)"));
                }
            };
        }
        let lower = key.to_ascii_lowercase();
        let code = match lower.as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ if key.chars().count() == 1 => KeyCode::Char(key.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key `{key}` in `{text}`")),
        };
        Ok(Self::normalised(code, modifiers))
    }

    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            parts.push("Ctrl".to_string());
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            parts.push("Alt".to_string());
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            parts.push("Shift".to_string());
        }
        parts.push(match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::BackTab => "Shift+Tab".to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            other => format!("{other:?}"),
        });
        parts.join("+")
    }
}

/// An action and the labels of the keys bound to it.
pub type ActionKeys = (KeyAction, Vec<String>);

/// One key, or a chord of two (`Some` second key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySeq {
    pub first: KeyCombo,
    pub second: Option<KeyCombo>,
}

impl KeySeq {
    /// Parse `"ctrl+c"` or the chord `"ctrl+x ctrl+e"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let keys: Vec<&str> = text.split_whitespace().collect();
        match keys.as_slice() {
            [one] => Ok(Self { first: KeyCombo::parse(one)?, second: None }),
            [one, two] => Ok(Self { first: KeyCombo::parse(one)?, second: Some(KeyCombo::parse(two)?) }),
            _ => Err(format!("`{text}`: a binding is one key or two separated by a space")),
        }
    }

    pub fn label(&self) -> String {
        match self.second {
            Some(second) => format!("{} {}", self.first.label(), second.label()),
            None => self.first.label(),
        }
    }
}

/// The resolved bindings of every context.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<KeyContext, Vec<(KeySeq, KeyAction)>>,
}

impl Keymap {
    /// The built-in bindings with `overrides` applied (an override replaces that action's keys
    /// in every context where the action is bound, or adds it to `global`).
    pub fn load(overrides: &BTreeMap<String, KeyList>) -> Result<Self, String> {
        let table: toml::Table =
            toml::from_str(DEFAULT_KEYMAP).map_err(|e| format!("built-in keymap: {e}"))?;
        let mut bindings: BTreeMap<KeyContext, Vec<(KeySeq, KeyAction)>> = BTreeMap::new();
        for (context_name, entries) in &table {
            let context = KeyContext::parse(context_name)
                .ok_or_else(|| format!("built-in keymap: context {context_name}"))?;
            let entries = entries.as_table().ok_or_else(|| format!("built-in keymap: [{context_name}]"))?;
            for (action_name, keys) in entries {
                let action = KeyAction::parse(action_name)
                    .ok_or_else(|| format!("built-in keymap: action {action_name}"))?;
                for key in keys.as_array().into_iter().flatten().filter_map(|k| k.as_str()) {
                    bindings.entry(context).or_default().push((KeySeq::parse(key)?, action));
                }
            }
        }
        for (action_name, keys) in overrides {
            let action = KeyAction::parse(action_name).ok_or_else(|| {
                let known: Vec<&str> = KeyAction::ALL.iter().map(|a| a.name()).collect();
                format!("config [keymap]: unknown action `{action_name}`; actions are: {}", known.join(", "))
            })?;
            let combos = keys
                .keys()
                .iter()
                .map(|k| KeySeq::parse(k).map_err(|e| format!("config [keymap] {action_name}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            let mut contexts: Vec<KeyContext> = bindings
                .iter()
                .filter(|(_, list)| list.iter().any(|(_, a)| *a == action))
                .map(|(c, _)| *c)
                .collect();
            if contexts.is_empty() {
                contexts.push(KeyContext::Global);
            }
            for context in contexts {
                let list = bindings.entry(context).or_default();
                list.retain(|(_, a)| *a != action);
                list.extend(combos.iter().map(|c| (*c, action)));
            }
        }
        Ok(Self { bindings })
    }

    /// The action bound to `key` alone, searching `contexts` in order.
    pub fn lookup(&self, contexts: &[KeyContext], key: &KeyEvent) -> Option<KeyAction> {
        let seq = KeySeq { first: KeyCombo::from_event(key), second: None };
        self.find(contexts, seq)
    }

    /// Whether `key` begins a chord bound in `contexts` (and is not bound alone there: a key
    /// bound by itself wins over a chord it would start).
    pub fn starts_chord(&self, contexts: &[KeyContext], key: &KeyEvent) -> bool {
        if self.lookup(contexts, key).is_some() {
            return false;
        }
        let combo = KeyCombo::from_event(key);
        contexts
            .iter()
            .filter_map(|c| self.bindings.get(c))
            .flatten()
            .any(|(k, _)| k.first == combo && k.second.is_some())
    }

    /// The action of the chord `first` then `key`, searching `contexts` in order.
    pub fn chord(&self, contexts: &[KeyContext], first: KeyCombo, key: &KeyEvent) -> Option<KeyAction> {
        self.find(contexts, KeySeq { first, second: Some(KeyCombo::from_event(key)) })
    }

    fn find(&self, contexts: &[KeyContext], seq: KeySeq) -> Option<KeyAction> {
        contexts.iter().find_map(|context| {
            self.bindings.get(context)?.iter().find(|(k, _)| *k == seq).map(|(_, action)| *action)
        })
    }

    /// Every context with its actions and their keys, for the help overlay.
    pub fn describe(&self) -> Vec<(KeyContext, Vec<ActionKeys>)> {
        self.bindings
            .iter()
            .map(|(context, list)| {
                let mut actions: Vec<ActionKeys> = Vec::new();
                for (combo, action) in list {
                    match actions.iter_mut().find(|(a, _)| a == action) {
                        Some((_, keys)) => keys.push(combo.label()),
                        None => actions.push((*action, vec![combo.label()])),
                    }
                }
                (*context, actions)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn a_chord_is_two_keys_and_can_be_rebound_to_one() {
        let keymap = Keymap::load(&BTreeMap::new()).unwrap();
        let contexts = [KeyContext::Composer, KeyContext::Global];
        let ctrl_x = key(KeyCode::Char('x'), KeyModifiers::CONTROL);
        let ctrl_e = key(KeyCode::Char('e'), KeyModifiers::CONTROL);
        assert!(keymap.starts_chord(&contexts, &ctrl_x));
        assert_eq!(keymap.lookup(&contexts, &ctrl_x), None, "the first key alone does nothing");
        let first = KeyCombo::from_event(&ctrl_x);
        assert_eq!(keymap.chord(&contexts, first, &ctrl_e), Some(KeyAction::ExternalEditor));
        assert_eq!(keymap.chord(&contexts, first, &key(KeyCode::Char('q'), KeyModifiers::NONE)), None);

        let overrides = BTreeMap::from([("external_editor".to_string(), KeyList::One("ctrl+o".into()))]);
        let keymap = Keymap::load(&overrides).unwrap();
        assert!(!keymap.starts_chord(&contexts, &ctrl_x));
        assert_eq!(
            keymap.lookup(&contexts, &key(KeyCode::Char('o'), KeyModifiers::CONTROL)),
            Some(KeyAction::ExternalEditor)
        );
        let three = BTreeMap::from([("external_editor".to_string(), KeyList::One("a b c".into()))]);
        assert!(Keymap::load(&three).unwrap_err().contains("one key or two"));
        assert_eq!(KeySeq::parse("ctrl+x ctrl+e").unwrap().label(), "Ctrl+x Ctrl+e");
    }
}
