//! The composer: a multi-line ratatui-textarea with prompt history and completion of slash
//! commands (built-in, then the custom ones the engine announced), after `/template ` of
//! template names (as the engine last listed them), and of `@path` mentions: the repository's
//! files (`Event::WorkspaceFiles`) matched fuzzily (nucleo), the word under the cursor replaced.
//!
//! Invariant: the fuzzy match runs once per typed word (cached), never once per frame.

use ratatui_textarea::{CursorMove, TextArea};

use super::commands::{self, SlashCommand};

pub struct ComposerState {
    pub textarea: TextArea<'static>,
    /// Sent prompts, oldest first.
    pub history: Vec<String>,
    /// Position while browsing history; `None` when editing a fresh draft.
    history_pos: Option<usize>,
    /// The draft put aside while browsing history.
    draft: String,
    /// Slash-command completion popup: the selected candidate.
    pub completion_selected: usize,
    /// The code templates' names and descriptions, for completing `/template NAME`.
    pub template_names: Vec<(String, String)>,
    /// The custom slash commands the engine announced (`Event::CustomCommands`).
    pub custom_commands: Vec<crate::engine::protocol::CustomCommandInfo>,
    /// The repository's files, for `@` completion (`Event::WorkspaceFiles`).
    pub workspace_files: Vec<String>,
    /// The last `@` query and its matches.
    mention_cache: std::cell::RefCell<Option<(String, Vec<Completion>)>>,
}

/// Most `@path` candidates the popup lists.
const MAX_MENTIONS: usize = 8;

/// One line of the completion popup: what accepting it puts in the composer, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub label: String,
    pub description: String,
    /// `Some(n)`: `text` replaces the `n` characters before the cursor (an `@path` word);
    /// `None`: it replaces the whole composer (a slash command).
    pub replaces: Option<usize>,
}

impl Default for ComposerState {
    fn default() -> Self {
        Self::new()
    }
}

impl ComposerState {
    pub fn new() -> Self {
        let mut textarea = TextArea::default();
        textarea.set_placeholder_text(
            "Ask anything — Enter sends, Shift+Enter or Ctrl+J for a newline, / for commands",
        );
        Self {
            textarea,
            history: Vec::new(),
            history_pos: None,
            draft: String::new(),
            completion_selected: 0,
            template_names: Vec::new(),
            custom_commands: Vec::new(),
            workspace_files: Vec::new(),
            mention_cache: Default::default(),
        }
    }

    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }

    pub fn is_empty(&self) -> bool {
        self.textarea.is_empty()
    }

    pub fn set_text(&mut self, text: &str) {
        let style = self.textarea.style();
        let cursor_line = self.textarea.cursor_line_style();
        let placeholder = self.textarea.placeholder_text().to_string();
        let placeholder_style = self.textarea.placeholder_style();
        self.textarea = TextArea::new(text.split('\n').map(String::from).collect());
        self.textarea.set_style(style);
        self.textarea.set_cursor_line_style(cursor_line);
        self.textarea.set_placeholder_text(placeholder);
        if let Some(s) = placeholder_style {
            self.textarea.set_placeholder_style(s);
        }
        self.textarea.move_cursor(CursorMove::Bottom);
        self.textarea.move_cursor(CursorMove::End);
        self.completion_selected = 0;
    }

    /// Take the text for sending, remembering it in history.
    pub fn take(&mut self) -> String {
        let text = self.text();
        if !text.trim().is_empty() && self.history.last() != Some(&text) {
            self.history.push(text.clone());
        }
        self.history_pos = None;
        self.draft.clear();
        self.set_text("");
        text
    }

    /// Whether Up/Down should browse history (cursor on the first/last line).
    pub fn at_edge(&self, up: bool) -> bool {
        let row = self.textarea.cursor().0;
        if up { row == 0 } else { row + 1 >= self.textarea.lines().len() }
    }

    pub fn history_prev(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let pos = match self.history_pos {
            None => {
                self.draft = self.text();
                self.history.len() - 1
            }
            Some(0) => 0,
            Some(p) => p - 1,
        };
        self.history_pos = Some(pos);
        let entry = self.history[pos].clone();
        self.set_text(&entry);
    }

    pub fn history_next(&mut self) {
        let Some(pos) = self.history_pos else { return };
        if pos + 1 < self.history.len() {
            self.history_pos = Some(pos + 1);
            let entry = self.history[pos + 1].clone();
            self.set_text(&entry);
        } else {
            self.history_pos = None;
            let draft = std::mem::take(&mut self.draft);
            self.set_text(&draft);
        }
    }

    /// Insert pasted text as-is (newlines kept, nothing sent).
    pub fn paste(&mut self, text: &str) {
        let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        self.textarea.insert_str(normalised);
    }

    /// Slash commands matching what is typed, while the first word is being typed; template
    /// names while the word after `/template ` is.
    pub fn completions(&self) -> Vec<Completion> {
        let lines = self.textarea.lines();
        if lines.len() != 1 || !lines[0].starts_with('/') || lines[0].contains(" @") {
            return self.mention_completions();
        }
        let line = &lines[0];
        if let Some(typed) = line.strip_prefix("/template ") {
            if typed.contains(char::is_whitespace) || typed.contains('=') {
                return Vec::new();
            }
            return self
                .template_names
                .iter()
                .filter(|(name, _)| name.starts_with(typed) && name != typed)
                .map(|(name, description)| Completion {
                    text: format!("/template {name} "),
                    label: name.clone(),
                    description: description.clone(),
                    replaces: None,
                })
                .collect();
        }
        if line.contains(char::is_whitespace) {
            return Vec::new();
        }
        let custom = commands::custom::visible(&self.custom_commands)
            .filter(|c| c.name.starts_with(&line[1..]))
            .map(|c| Completion {
                text: format!("/{} ", c.name),
                label: commands::custom::synopsis(c),
                description: commands::custom::description(c),
                replaces: None,
            });
        commands::matching(&line[1..])
            .into_iter()
            .map(|c: &SlashCommand| Completion {
                text: format!("/{} ", c.name),
                label: format!("/{}", c.name),
                description: c.description.to_string(),
                replaces: None,
            })
            .chain(custom)
            .collect()
    }

    pub fn move_completion(&mut self, down: bool) {
        let n = self.completions().len();
        if n > 0 {
            self.completion_selected = if down {
                (self.completion_selected + 1) % n
            } else {
                (self.completion_selected + n - 1) % n
            };
        }
    }

    /// Replace the typed prefix with the selected command; true if something was completed.
    pub fn accept_completion(&mut self) -> bool {
        let candidates = self.completions();
        let Some(chosen) = candidates.get(self.completion_selected.min(candidates.len().saturating_sub(1)))
        else {
            return false;
        };
        let text = chosen.text.clone();
        match chosen.replaces {
            Some(n) => {
                for _ in 0..n {
                    self.textarea.delete_char();
                }
                self.textarea.insert_str(text);
            }
            None => self.set_text(&text),
        }
        true
    }

    /// `Event::WorkspaceFiles`: the files `@` completes (sorted).
    pub fn set_workspace_files(&mut self, mut files: Vec<String>) {
        files.sort();
        self.workspace_files = files;
        *self.mention_cache.borrow_mut() = None;
    }

    /// The `@word` the cursor ends (without the `@`), if any.
    fn mention_at_cursor(&self) -> Option<String> {
        let ratatui_textarea::DataCursor(row, col) = self.textarea.cursor();
        let line = self.textarea.lines().get(row)?;
        let before: String = line.chars().take(col).collect();
        let start = before.rfind(|c: char| c.is_whitespace()).map_or(0, |i| i + 1);
        let word = before[start..].strip_prefix('@')?;
        (!word.contains('@')).then(|| word.to_string())
    }

    /// The repository's files matching the `@word` under the cursor, best first.
    fn mention_completions(&self) -> Vec<Completion> {
        let Some(typed) = self.mention_at_cursor() else { return Vec::new() };
        if self.workspace_files.is_empty() || self.workspace_files.binary_search(&typed).is_ok() {
            return Vec::new(); // nothing to offer, or the word already names a file
        }
        if let Some((query, hits)) = self.mention_cache.borrow().as_ref()
            && *query == typed
        {
            return hits.clone();
        }
        use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
        let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT.match_paths());
        let hits: Vec<Completion> = if typed.is_empty() {
            self.workspace_files.iter().take(MAX_MENTIONS).map(|p| mention(p, 0)).collect()
        } else {
            let mut found = Pattern::parse(&typed, CaseMatching::Smart, Normalization::Smart)
                .match_list(self.workspace_files.iter(), &mut matcher);
            // Best score first; shorter paths first among equals.
            found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.len().cmp(&b.0.len())));
            found.into_iter().take(MAX_MENTIONS).map(|(p, _)| mention(p, typed.chars().count())).collect()
        };
        *self.mention_cache.borrow_mut() = Some((typed, hits.clone()));
        hits
    }
}

/// The completion of an `@word` of `typed` characters by `path`.
fn mention(path: &str, typed: usize) -> Completion {
    Completion {
        text: format!("{path} "),
        label: format!("@{path}"),
        description: String::new(),
        replaces: Some(typed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> ComposerState {
        let mut c = ComposerState::new();
        c.set_workspace_files(vec!["src/app/composer.rs".into(), "src/lib.rs".into(), "README.md".into()]);
        c.textarea.insert_str(text);
        c
    }

    #[test]
    fn at_completes_repository_files_fuzzily_and_replaces_only_the_word() {
        let mut c = typed("explain @cmpsr");
        let offered = c.completions();
        assert_eq!(offered.first().map(|o| o.label.as_str()), Some("@src/app/composer.rs"));
        assert!(c.accept_completion());
        assert_eq!(c.text(), "explain @src/app/composer.rs ");
        assert!(c.completions().is_empty(), "the word is complete");
    }

    #[test]
    fn no_popup_for_a_whole_path_an_email_or_without_files() {
        assert!(typed("see @src/lib.rs").completions().is_empty());
        assert!(typed("mail a@b").completions().is_empty());
        let mut bare = ComposerState::new();
        bare.textarea.insert_str("@src");
        assert!(bare.completions().is_empty());
        assert!(!typed("/review @li").completions().is_empty(), "inside a command's arguments too");
    }
}
