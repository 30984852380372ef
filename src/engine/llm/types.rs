//! Provider-neutral conversation types: messages, tool specs and calls, stream events, usage.
//!
//! Every provider translates these to and from its own wire format; nothing here knows about HTTP.

use serde::{Deserialize, Serialize};

/// The conversation crosses to the UI, so its types are defined in the protocol.
pub use crate::engine::protocol::chat::{
    Message, Role, Thinking, ThinkingLevel, ToolCall, ToolResult, Usage,
};

/// A tool the model may call, described by a JSON schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON schema of the arguments object.
    pub input_schema: serde_json::Value,
}

/// What a provider is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    pub system: String,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    pub max_tokens: u32,
    pub temperature: Option<f32>,
    /// Whether the model must call a tool (ignored without tools, and by Ollama).
    pub tool_choice: ToolChoice,
    /// Extended thinking: Anthropic's `thinking` budget, Ollama's `think`; OpenAI-compatible
    /// servers decide themselves (their `reasoning_content` is shown either way); the built-in
    /// `local` provider ignores it.
    pub thinking: ThinkingLevel,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ToolChoice {
    #[default]
    Auto,
    /// The reply must be a tool call.
    Required,
}

/// One decoded piece of a streamed reply.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    TextDelta(String),
    /// A piece of the model's reasoning, for display.
    ThinkingDelta(String),
    /// A finished reasoning block, kept in the history (signature and all).
    Thinking(Thinking),
    /// A complete tool call (arguments fully received and parsed).
    ToolCall(ToolCall),
    Usage(Usage),
    /// The reply ended normally; `stop_reason` as the provider named it.
    Done {
        stop_reason: Option<String>,
    },
}
