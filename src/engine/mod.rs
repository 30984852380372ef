//! The engine: providers, sessions, configuration. No terminal code lives here.

pub mod llm;
pub mod store;
pub mod synth;
