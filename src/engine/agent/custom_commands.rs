//! Custom slash commands and skills as the engine runs them: at start, announce the commands
//! (for completion and `/help`) and load the skills into the system prompt; `Op::Command`
//! expands a command (arguments, `@file` through the workspace guard, size-capped and screened
//! for prompt injection like `read_file`) and runs it as an ordinary turn, its `allowed-tools`
//! narrowing the tools offered and accepted during that turn; the `skill` tool.
//!
//! Invariants: a command runs only from a fresh read of the catalogue (an edited file is picked
//! up) and never when held back (an untrusted repository's); `Op::Command` answers either
//! `Event::CommandRefused` or a turn, never neither. `allowed-tools` only removes tools: every
//! call of a remaining tool still passes the gate.

use super::runtime::{Engine, LoopControl};
use super::tool_calls::Outcome;
use crate::engine::custom_commands::{Catalog, expand, tool_names};
use crate::engine::llm::ProviderKind;
use crate::engine::protocol::{Event, LogLevel};
use crate::engine::tools::{ToolError, Workspace};

/// An `@file` larger than this is refused (the model can read a big file itself).
const MAX_INCLUDE_BYTES: u64 = 64 * 1024;

/// What a running custom command changes for its turn.
#[derive(Debug, Default)]
pub(super) struct CommandTurn {
    /// The tools its `allowed-tools` leaves (kv1nt names); `None` when it does not restrict.
    pub tools: Option<Vec<String>>,
    /// An included file was flagged as a possible prompt injection.
    pub flagged: bool,
}

impl Engine {
    fn custom_commands(&self) -> Catalog {
        Catalog::load(&self.config.user_dirs, &self.workspace, self.config.repo_trusted)
    }

    /// At start (after the trust question): the commands for completion and `/help`, and the
    /// skills' names and descriptions into the system prompt.
    pub(super) fn load_extensions(&mut self) {
        let commands = self.custom_commands();
        for problem in &commands.problems {
            self.log(LogLevel::Warn, format!("custom command not loaded: {problem}"));
        }
        self.emit(Event::CustomCommands(commands.infos()));
        let skills = crate::engine::skills::Catalog::load(
            &self.config.user_dirs,
            &self.workspace,
            self.config.repo_trusted,
        );
        for problem in &skills.problems {
            self.log(LogLevel::Warn, format!("skill not loaded: {problem}"));
        }
        if skills.held > 0 {
            self.log(
                LogLevel::Info,
                format!(
                    "{} repository skills held back: the repository is not trusted (`kv1nt trust`)",
                    skills.held
                ),
            );
        }
        self.system_prompt.push_str(&skills.prompt_section());
        self.skills = skills;
    }

    pub(super) async fn command_op(&mut self, name: String, args: String) -> LoopControl {
        let catalog = self.custom_commands();
        let refuse = |engine: &Engine, reason: String| {
            engine.emit(Event::CommandRefused { name: name.clone(), reason });
            LoopControl::Continue
        };
        let Some(command) = catalog.get(&name) else {
            let names: Vec<String> = catalog.commands.iter().map(|c| format!("/{}", c.info.name)).collect();
            let available = if names.is_empty() { "none are defined".to_string() } else { names.join(", ") };
            return refuse(self, format!("no custom command `/{name}` (available: {available})"));
        };
        if command.info.held {
            return refuse(
                self,
                format!(
                    "/{name} is the repository's ({}) and the repository is not trusted: read its \
                     commands, then run `kv1nt trust` (or `kv1nt exec --trust` for one run)",
                    command.file.display()
                ),
            );
        }
        let Some(workspace) = self.tools_workspace.clone() else {
            return refuse(self, "the workspace directory cannot be opened".into());
        };
        let mut flagged = false;
        let expanded = expand(&command.body, &args, &mut |path| {
            let Some(text) = include(&workspace, path)? else { return Ok(None) };
            let (text, flags) = self.screen(&format!("@{path}"), text);
            flagged |= !flags.is_empty();
            Ok(Some(text))
        });
        let text = match expanded {
            Ok(text) => text,
            Err(reason) => return refuse(self, reason),
        };
        let tools = command.allowed_tools.as_ref().map(|list| {
            list.iter()
                .flat_map(|entry| tool_names(entry))
                .chain(["ask_user".to_string()])
                .collect::<Vec<_>>()
        });
        self.log(LogLevel::Info, format!("custom command /{name} ({})", command.file.display()));
        let primary = self.config.llm.primary;
        let previous_model = self.config.model_of(primary).to_string();
        let switched = match &command.model {
            Some(model) if primary == ProviderKind::Anthropic && model.starts_with("claude-") => {
                self.config.set_model(primary, model.clone());
                true
            }
            Some(model) => {
                self.log(
                    LogLevel::Info,
                    format!("/{name}: `model: {model}` ignored (only a claude-… model, with the anthropic provider)"),
                );
                false
            }
            None => false,
        };
        self.command_turn = Some(CommandTurn { tools, flagged });
        let flow = self.run_turn_for(text, None, None, Vec::new()).await;
        self.command_turn = None;
        if switched {
            self.config.set_model(primary, previous_model);
        }
        flow
    }

    /// Whether the running command's `allowed-tools` lets `tool` be offered and called.
    pub(super) fn command_allows(&self, tool: &str) -> bool {
        match self.command_turn.as_ref().and_then(|c| c.tools.as_ref()) {
            Some(tools) => tools.iter().any(|t| t == tool),
            None => true,
        }
    }

    /// The `skill` tool: a skill's instructions or one of its files, screened like `read_file`.
    pub(super) fn skill_tool(&mut self, name: &str, file: Option<&str>) -> Outcome {
        let Some(skill) = self.skills.get(name) else {
            let names: Vec<&str> = self.skills.skills.iter().map(|s| s.name.as_str()).collect();
            return Outcome::error(format!(
                "skill: no skill named `{name}` (available: {})",
                names.join(", ")
            ));
        };
        match skill.read(file) {
            Ok(text) => {
                let (content, flags) = self.screen(&format!("skill {name}"), text);
                Outcome { content, is_error: false, flags }
            }
            Err(e) => Outcome::error(e),
        }
    }
}

/// An `@path`'s text: `None` when it names nothing (the `@word` stays as text), `Err` when it
/// is refused (outside the workspace, a symlink out, too large, not text).
fn include(workspace: &Workspace, path: &str) -> Result<Option<String>, String> {
    let (abs, rel) = match workspace.resolve(path, false) {
        Ok(resolved) => resolved,
        Err(ToolError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(format!("@{path} refused: {e}")),
    };
    let meta = match std::fs::metadata(&abs) {
        Ok(meta) if meta.is_file() => meta,
        _ => return Ok(None),
    };
    if meta.len() > MAX_INCLUDE_BYTES {
        return Err(format!(
            "@{rel} is {} bytes, over the {} KiB limit for @ includes (ask the model to read it instead)",
            meta.len(),
            MAX_INCLUDE_BYTES / 1024
        ));
    }
    let bytes = std::fs::read(&abs).map_err(|e| format!("@{rel}: cannot read: {e}"))?;
    if bytes.contains(&0) {
        return Err(format!("@{rel} is a binary file; only text files can be included"));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| format!("@{rel} is not UTF-8 text; only text files can be included"))
}
