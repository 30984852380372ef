//! The engine: everything that talks to models, disks and processes. No terminal code lives here
//! (a test in the suite fails when a file under `src/engine/` names ratatui or crossterm).
//!
//! Layout: [`protocol`] is the one boundary with the UI (it imports no other engine module);
//! [`agent`] is the engine task and everything it does (turns, tool calls, the gate, runs, undo,
//! git flows, graph use); the rest are libraries it drives — [`tools`] (what the model can call),
//! [`llm`] (providers), [`approval`] (pure risk/policy), [`sandbox`], [`git`] (libgit2), [`graph`]
//! (the knowledge graph), [`learning`] (figures learnt from the user's verdicts), [`store`] (SQLite), [`undo`] (restores from the change ledger, shared with
//! the `kv1nt undo` command) — and [`config`], read at start-up.

pub mod agent;
pub mod approval;
pub mod checks;
pub mod config;
pub mod custom_commands;
pub mod git;
pub mod grammars;
pub mod graph;
pub mod hooks;
pub mod learning;
pub mod llm;
pub mod mcp;
pub mod models;
pub mod pricing;
pub mod project;
pub mod protocol;
pub mod sandbox;
pub mod skills;
pub mod store;
pub mod templates;
pub mod tools;
pub mod undo;
