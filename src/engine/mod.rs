//! The engine: providers, sessions, configuration. No terminal code lives here.

pub mod agent;
pub mod approval;
pub mod config;
pub mod llm;
pub mod prompt;
pub mod protocol;
pub mod providers;
pub mod runtime;
pub mod store;
pub mod synth;
mod turn;
