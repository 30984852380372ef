//! What a step sends: the tools offered, the system prompt with the turn's sections (and the
//! compaction summary in force, the pins and the task list), and the history from the summary on, trimmed to the window as
//! a last resort.
//!
//! Invariant: the system prompt with `AGENTS.md`/`KV1NT.md` goes whole into every request;
//! compaction and trimming only ever shorten the history after it.

use super::runtime::Engine;
use super::{intents, profile, prompt, text_protocol, todo};
use crate::engine::approval::Policy;
use crate::engine::config::ToolChoiceConfig;
use crate::engine::llm::compact;
use crate::engine::llm::context::{
    estimate_message, estimate_request, estimate_tokens, estimate_tools, fit_history_with,
};
use crate::engine::llm::{ChatRequest, Message, ProviderKind, ToolChoice, ToolSpec};
use crate::engine::protocol::{Event, LogLevel, McpHint};

/// The parts of a request that do not come from the history.
pub(super) struct RequestParts {
    pub system: String,
    pub tools: Vec<ToolSpec>,
    pub text_tools: bool,
}

impl RequestParts {
    /// Estimated tokens of the system prompt and the tool definitions.
    pub fn tokens(&self) -> usize {
        estimate_tokens(&self.system) + if self.text_tools { 0 } else { estimate_tools(&self.tools) }
    }
}

impl Engine {
    /// The tools offered this step.
    /// Mutating tools are left out when the intent is read-only (`/explain`) or the policy is
    /// `read-only` (they would only be refused, and a small model does better with fewer tools);
    /// so are MCP tools not declared read-only. MCP tools come last, as `SERVER__TOOL`. `skill`
    /// is offered only when there are skills, `recall` only when a summary stands for the start of
    /// the conversation; a custom command's `allowed-tools` narrows the rest.
    pub(super) fn offered_tools(&self) -> Vec<ToolSpec> {
        let edits = intents::allows_edits(self.turn.intent) && !self.policy.changes_nothing();
        crate::engine::tools::tool_specs()
            .into_iter()
            .chain(match &self.graph {
                Some(graph) if graph.has_entities() => crate::engine::tools::graph_specs(),
                _ => Vec::new(),
            })
            .filter(|t| {
                edits
                    || !matches!(
                        t.name.as_str(),
                        "edit_file" | "write_file" | "run" | "commit" | "create_branch"
                    )
            })
            .chain(
                self.mcp
                    .tool_specs()
                    .into_iter()
                    .filter(|(_, hint)| edits || *hint == McpHint::ReadOnly)
                    .map(|(spec, _)| spec),
            )
            .filter(|t| (t.name != "skill" || !self.skills.skills.is_empty()) && self.command_allows(&t.name))
            .filter(|t| t.name != "recall" || self.summary.is_some())
            .filter(|t| t.name != "propose_plan" || self.policy == Policy::Plan)
            .collect()
    }

    /// The system prompt and tools for `kind`. With the small-model profile (`profile.rs`): the
    /// short system prompt, the core tools, and no graph sections or few-shot examples.
    pub(super) fn request_parts(&self, kind: ProviderKind) -> RequestParts {
        let small = self.config.small_profile(kind);
        let mut tools = self.offered_tools();
        let mut system = if small {
            let request = self.history.get((self.turn.number as usize).saturating_sub(1));
            tools = profile::small_tools(tools, request.map_or("", |m| m.text.as_str()));
            prompt::small_system_prompt(&self.workspace, &self.config.context)
        } else {
            self.system_prompt.clone()
        };
        if let Some(summary) = &self.summary {
            system.push_str(&compact::section(summary));
            system.push_str(&compact::pinned_section(&self.pinned_before(summary.through)));
        }
        system.push_str(&todo::section(&self.todo));
        if self.policy == Policy::Plan {
            system.push_str(super::plan::section());
        }
        if let Some(intent) = self.turn.intent {
            system.push_str("\n\n# This request\n\n");
            system.push_str(intents::template(intent));
        }
        system.push_str(&self.turn.files_in_view);
        if !small {
            system.push_str(&self.turn.graph_context);
            system.push_str(&crate::engine::learning::examples::section(&self.turn.examples));
        }
        let text_tools = self.text_tools_for(kind);
        if text_tools {
            system.push_str(&text_protocol::instructions(&tools));
        }
        RequestParts { system, tools, text_tools }
    }

    /// The messages a request carries: those after the summary in force (and held:
    /// `history.rs` lets go only of what no request would send).
    pub(super) fn live_history(&self) -> &[Message] {
        self.history.from(self.summary.as_ref().map_or(0, |s| s.through))
    }

    /// Estimated input tokens of the next request on `kind` and the space there is for them (the
    /// window minus the reply's reserve, `Config::reply_reserve`).
    pub(super) fn input_pressure(&self, kind: ProviderKind) -> (usize, usize) {
        let parts = self.request_parts(kind);
        let history: usize = self.live_history().iter().map(estimate_message).sum();
        let space = self.config.context_window(kind).saturating_sub(self.config.reply_reserve(kind));
        (self.calibration(kind).tokens(parts.tokens() + history), space)
    }

    /// The raw estimate of `request`'s input as `kind` reads it (tools offered through the text
    /// protocol are in the system prompt, not sent as definitions).
    pub(super) fn raw_estimate(&self, kind: ProviderKind, request: &ChatRequest) -> usize {
        let unsent = if self.text_tools_for(kind) { estimate_tools(&request.tools) } else { 0 };
        estimate_request(request).saturating_sub(unsent)
    }

    /// The request for `kind`, with the history trimmed to its context window (in the model's
    /// tokens as calibrated, `window.rs`).
    pub(super) fn request_for(&self, kind: ProviderKind, model: &str) -> ChatRequest {
        self.fitted_request(kind, model, true)
    }

    /// [`Self::request_for`]; with `report`, the fit is logged and announced (`Event::Context`).
    pub(super) fn fitted_request(&self, kind: ProviderKind, model: &str, report: bool) -> ChatRequest {
        let RequestParts { system, tools, text_tools } = self.request_parts(kind);
        let window = self.config.context_window(kind);
        let max_tokens = self.config.max_tokens(kind);
        let calibration = self.calibration(kind);
        let tool_tokens = calibration
            .tokens(RequestParts { system: String::new(), tools: tools.clone(), text_tools }.tokens());
        let reserve = self.config.reply_reserve(kind) + tool_tokens;
        let fitted = fit_history_with(&system, self.live_history(), window, reserve, calibration);
        if report && fitted.trimmed > 0 {
            self.log(
                LogLevel::Info,
                format!("{} oldest messages left out to fit the context window", fitted.trimmed),
            );
        }
        if report {
            self.emit(Event::Context {
                used_tokens: fitted.used_tokens + tool_tokens,
                window,
                trimmed: fitted.trimmed,
            });
        }
        let mut messages: Vec<Message> = fitted
            .messages
            .into_iter()
            .filter(|m| !m.text.is_empty() || !m.tool_calls.is_empty() || !m.tool_results.is_empty())
            .collect();
        self.images_for(kind, &mut messages);
        let forced = self.config.agent.tool_choice == ToolChoiceConfig::Required && self.turn.step == 0;
        // A server that refused native tools gets none; a provider without native tool calling
        // (the built-in model) still gets the list, to constrain a forced call with a grammar.
        let send_tools = !text_tools || !kind.native_tools();
        ChatRequest {
            model: model.to_string(),
            system,
            messages,
            tools: if send_tools { tools } else { Vec::new() },
            max_tokens,
            temperature: self.config.llm.temperature,
            tool_choice: if forced && send_tools { ToolChoice::Required } else { ToolChoice::Auto },
            thinking: self.thinking,
        }
    }
}
