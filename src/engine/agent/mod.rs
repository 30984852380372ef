//! The engine task: one home for every `impl Engine`. [`runtime`] owns the task's state and op
//! loop; each other file adds one kind of work to it — a turn's step loop (`turn`), streaming a
//! reply (`reply`), the model's tool calls (`tool_calls`), the approval gate as the engine runs it
//! (`gate`) and the syntax gate before it (`syntax_gate`), the bounded fix loop after checks
//! fail (`fix_loop`), sandboxed runs (`runs`), the project checks and opening their locations
//! (`checks`), undo and rewind (`undo`), git flows through the gate
//! (`git`, `pull_request`), the repository commit hooks a commit may run (`commit_hooks`), one-shot requests
//! and their fallback question (`one_shot`), the graph's tools and prompt sections
//! (`graph_tools`, `graph_context`), MCP tool calls (`mcp_tools`), the system prompt (`prompt`),
//! what a step sends (`request`), compaction of long histories into a summary the user reviews
//! (`compaction`), the `recall` tool and `/pin` (`memory`), the model's task list (`todo`), plan mode and `propose_plan` (`plan`), `/fork` (`fork`), the files a prompt names with `@path` and Code shows
//! (`in_view`), which provider and model answer, `/models` and the start-up preflight (`providers`), the start-up question about an untrusted repository config (`trust`), code templates
//! (`templates`), few-shot examples (`examples`), `/context` with each part against its budget (`context_report`), conventions for `KV1NT.md`
//! (`learn`), hooks in Claude Code's protocol around tool calls, prompts and stops
//! (`user_hooks`), custom slash commands and skills (`custom_commands`), intents and the text tool protocol,
//! tool calls written as text by weak models and the one repair request for malformed arguments (`repair`), the small-model profile (`profile`), real token counts and the real window (`window`).
//!
//! Invariant: only this module mutates the conversation; the libraries it drives (`tools`,
//! `llm`, `approval`, `sandbox`, `git`, `graph`, `store`) know nothing of `Engine`.

mod checks;
mod commit_hooks;
mod compaction;
mod context_report;
mod custom_commands;
mod docs;
mod examples;
mod explain;
mod fix_loop;
mod fork;
mod gate;
mod git;
mod graph_context;
mod graph_tools;
mod history;
mod images;
mod in_view;
mod intent_context;
pub mod intents;
mod learn;
mod local_models;
mod mcp_tools;
mod memory;
mod one_shot;
pub mod paging;
mod plan;
pub mod profile;
mod project;
pub mod prompt;
mod providers;
mod pull_request;
mod repair;
mod reply;
mod request;
mod run_changes;
mod runs;
pub mod runtime;
mod syntax_gate;
mod templates;
pub mod text_protocol;
mod todo;
mod tool_calls;
mod trust;
mod turn;
mod undo;
mod user_hooks;
mod window;

pub use runtime::{EngineHandle, EngineSetup, spawn};
