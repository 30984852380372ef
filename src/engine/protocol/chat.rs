//! The conversation as it crosses the boundary: messages with their tool calls and results,
//! images a prompt carries, token usage, which provider answers, and how far a stored message got.

use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    /// A tool result sent back to the model.
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// A tool call the model made, with its arguments parsed into JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned id (Ollama assigns none; we synthesise `call_N`).
    pub id: String,
    pub name: String,
    pub arguments: serde_json::Value,
}

/// The result of running a tool, sent back to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    pub call_id: String,
    pub content: String,
    #[serde(default)]
    pub is_error: bool,
}

/// A reasoning block the model wrote before its answer: Anthropic's `thinking` (with the
/// `signature` the API needs to get it back unchanged) or `redacted_thinking` (only its
/// encrypted `data`), Ollama's `message.thinking`, an OpenAI-compatible `reasoning_content`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thinking {
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// A `redacted_thinking` block's encrypted content (its `text` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
}

/// How much the model may think before answering (`llm.thinking`, `/think`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingLevel {
    #[default]
    Off,
    Low,
    High,
}

impl ThinkingLevel {
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "off" | "none" | "0" => Some(Self::Off),
            "low" | "on" => Some(Self::Low),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Low => "low",
            Self::High => "high",
        }
    }

    /// Anthropic's `budget_tokens` (at least 1,024 by the API's rule).
    pub fn budget_tokens(self) -> Option<u32> {
        match self {
            Self::Off => None,
            Self::Low => Some(4_096),
            Self::High => Some(16_384),
        }
    }
}

/// One message of a conversation. Text, tool calls and tool results cover every provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    /// The model's reasoning before `text` (assistant messages; sent back to Anthropic as is).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thinking: Vec<Thinking>,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_results: Vec<ToolResult>,
    /// Images the user attached to a prompt (`@shot.png`, a pasted path), sent before its text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<super::image::ImageAttachment>,
}

impl Message {
    pub fn user(text: impl Into<String>) -> Self {
        Self::text(Role::User, text)
    }

    pub fn assistant(text: impl Into<String>) -> Self {
        Self::text(Role::Assistant, text)
    }

    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            thinking: Vec::new(),
            text: text.into(),
            tool_calls: Vec::new(),
            tool_results: Vec::new(),
            images: Vec::new(),
        }
    }

    /// Whether this is a prompt the user sent (what starts a turn, what `/fork N` counts and the
    /// Chat pane numbers): a user message that is none of kv1nt's own user-role messages — tool
    /// results (native, or the text protocol's [`TOOL_RESULT_MARK`]), a fix round
    /// ([`FIX_ROUND_MARK`]) or a Stop hook's answer ([`STOP_HOOK_MARK`]).
    pub fn is_prompt(&self) -> bool {
        self.role == Role::User
            && self.tool_results.is_empty()
            && ![TOOL_RESULT_MARK, FIX_ROUND_MARK, STOP_HOOK_MARK].iter().any(|m| self.text.starts_with(m))
    }
}

/// How the text protocol's tool results begin (`<tool_result name="…">`).
pub const TOOL_RESULT_MARK: &str = "<tool_result";
/// How the message of a fix round begins (`[kv1nt fix round 1 of 3] …`).
pub const FIX_ROUND_MARK: &str = "[kv1nt fix round ";
/// How a Stop hook's reason for going on is put to the model.
pub const STOP_HOOK_MARK: &str = "A Stop hook did not let you stop yet: ";

/// Tokens counted by the provider for one request (or summed over several).
///
/// `input_tokens` are the prompt tokens read fresh; prompt-cache writes and reads are counted
/// apart, as Anthropic reports them (an OpenAI-compatible `cached_tokens` is moved out of the
/// input into `cache_read_tokens`), so the prompt's size is [`Usage::prompt_tokens`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_write_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
}

impl Usage {
    /// Field-wise maximum: providers report cumulative counts, sometimes in several events.
    pub fn merge(&mut self, other: Usage) {
        self.input_tokens = self.input_tokens.max(other.input_tokens);
        self.output_tokens = self.output_tokens.max(other.output_tokens);
        self.cache_write_tokens = self.cache_write_tokens.max(other.cache_write_tokens);
        self.cache_read_tokens = self.cache_read_tokens.max(other.cache_read_tokens);
    }

    /// Field-wise sum: the usage of several requests (a turn's replies, a session's turns).
    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
    }

    /// Every prompt token: read fresh, written to the cache or read from it.
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens + self.cache_write_tokens + self.cache_read_tokens
    }

    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }
}

/// A cost for people: `$0.00` when free, four decimals below a cent, two above.
pub fn format_usd(cost: f64) -> String {
    if cost == 0.0 {
        "$0.00".to_string()
    } else if cost < 0.01 {
        format!("${cost:.4}")
    } else {
        format!("${cost:.2}")
    }
}

/// Which provider an error came from, for messages that tell the user what to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Anthropic,
    Ollama,
    #[serde(rename = "openai")]
    OpenAi,
    /// The built-in provider: a GGUF model run in-process (`llm/local`).
    Local,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] =
        [ProviderKind::Anthropic, ProviderKind::Ollama, ProviderKind::OpenAi, ProviderKind::Local];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Ollama => "ollama",
            ProviderKind::OpenAi => "openai",
            ProviderKind::Local => "local",
        }
    }

    /// Whether the provider's wire carries tool calls natively. The built-in model has none: its
    /// turns use the text protocol (`agent/text_protocol.rs`).
    pub fn native_tools(self) -> bool {
        self != ProviderKind::Local
    }

    pub fn parse(name: &str) -> Option<ProviderKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// What a user sets to make this provider reachable.
    pub fn setup_hint(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => {
                "set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a proxy or local server)"
            }
            ProviderKind::Ollama => "start Ollama (`ollama serve`) or set OLLAMA_HOST to where it runs",
            ProviderKind::OpenAi => {
                "set OPENAI_BASE_URL to an OpenAI-compatible server (e.g. llama.cpp at http://127.0.0.1:8080/v1) and OPENAI_API_KEY if it needs one"
            }
            ProviderKind::Local => "set `model` under [local] in the user's config.toml to a GGUF file",
        }
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far a stored message got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    /// Fully received.
    Complete,
    /// Being streamed right now; checkpointed as it grows.
    Streaming,
    /// Cut short (cancelled, error, or crash); see the note.
    Incomplete,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Streaming => "streaming",
            MessageStatus::Incomplete => "incomplete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "complete" => Some(MessageStatus::Complete),
            "streaming" => Some(MessageStatus::Streaming),
            "incomplete" => Some(MessageStatus::Incomplete),
            _ => None,
        }
    }
}
