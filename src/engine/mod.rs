//! The engine: providers, the agent's tool loop and approval gate, sessions, configuration.
//! No terminal code lives here.

pub mod agent;
pub mod approval;
pub mod codebase;
pub mod config;
mod gate;
pub mod git;
pub mod graph;
pub mod llm;
pub mod prompt;
pub mod protocol;
pub mod providers;
mod reply;
mod runs;
pub mod runtime;
pub mod sandbox;
pub mod store;
pub mod synth;
mod tool_calls;
mod turn;
mod undo;
pub mod vcs;
