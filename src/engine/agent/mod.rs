//! The agent: tools the model calls, and the loop that runs them through the approval gate.

pub mod intents;
pub mod text_protocol;
pub mod tools;
