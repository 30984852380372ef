//! Configuration: defaults, then `$XDG_CONFIG_HOME/kv1nt/config.toml`, then `.kv1nt/config.toml`
//! in the repository, then environment variables, then command-line flags.
//!
//! The repository's file is someone else's until the user trusts it: its keys that route
//! credentials, loosen safety or run programs are held back until then ([`trust`]).
//!
//! Each file is validated on its own before merging, so an unknown key or a bad value is reported
//! with the file it is in, the line, the key and what is allowed. API keys are never part of
//! [`Config`]: they are read from the environment into [`Secrets`], so a config dump, a log line
//! or the database can never contain one.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

mod load;
pub mod notify;
pub mod trust;

pub use load::{
    Loaded, Overrides, Paths, RepoLayer, data_dir, load, own_dirs, parse_fallback, parse_layer, repo_layer,
};
pub use trust::{HeldBack, TrustMode};

use super::approval::Policy;
use super::checks::ChecksSettings;
use super::git::GitSettings;
use super::graph::settings::{EmbedProvider, GraphSettings};
use super::hooks::HookSettings;
use super::llm::ProviderKind;
use super::llm::context::Budgets;
use super::llm::local::settings::LocalConfig;
use super::mcp::McpSettings;
use super::sandbox::SandboxSettings;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub llm: LlmConfig,
    pub anthropic: AnthropicConfig,
    pub ollama: OllamaConfig,
    pub openai: OpenAiConfig,
    /// The built-in provider and offline embedder (`[local]`); never from an untrusted repository.
    pub local: LocalConfig,
    pub context: Budgets,
    pub ui: UiConfig,
    pub notify: notify::NotifyConfig,
    pub session: SessionConfig,
    pub agent: AgentConfig,
    pub sandbox: SandboxSettings,
    pub git: GitSettings,
    pub graph: GraphSettings,
    pub checks: ChecksSettings,
    /// Whether proposal outcomes and token counts are recorded (`[learning]`).
    pub learning: crate::engine::learning::LearningSettings,
    /// MCP servers whose tools the model may call (`[mcp.servers.NAME]`).
    pub mcp: McpSettings,
    /// Hooks (Claude Code's protocol) from the user's config: `[[hooks.PreToolUse]]` …. A
    /// repository's `[hooks]` never lands here: see [`Config::repo_hooks`].
    pub hooks: HookSettings,
    /// `[project_config]`: JSON Schemas for the repository's config files (`kv1nt config-check`).
    pub project_config: crate::engine::project::schema::ProjectConfigSettings,
    /// Key overrides: action name → one key ("ctrl+q") or several. Checked by the app's keymap.
    pub keymap: BTreeMap<String, KeyList>,
    /// The repository's `.kv1nt/config.toml` is trusted (recorded by `kv1nt trust` or the
    /// start-up question for these very bytes, or `exec --trust`): code the repository ships
    /// may run as a check (`checks::project`). Set by `load`, never by a file.
    #[serde(skip)]
    pub repo_trusted: bool,
    /// The user's code templates, `<config dir>/kv1nt/templates/` (None without a home
    /// directory); set by [`load`], never read from a file.
    #[serde(skip)]
    pub templates_dir: Option<PathBuf>,
    /// The repository config's `[hooks]`, kept apart from the user's (they run sandboxed and
    /// their `allow` never skips the dialog); set by [`load`] only when that file is trusted.
    #[serde(skip)]
    pub repo_hooks: Option<HookSettings>,
    /// The user's directories holding their own `commands/` and `skills/`: `<config dir>/kv1nt`
    /// and `~/.claude` (Claude Code's); set by [`load`], never read from a file.
    #[serde(skip)]
    pub user_dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    pub fn keys(&self) -> Vec<String> {
        match self {
            KeyList::One(k) => vec![k.clone()],
            KeyList::Many(ks) => ks.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    None,
    Anthropic,
    Ollama,
    #[serde(rename = "openai")]
    OpenAi,
    Local,
}

impl Fallback {
    pub fn provider(self) -> Option<ProviderKind> {
        match self {
            Fallback::None => None,
            Fallback::Anthropic => Some(ProviderKind::Anthropic),
            Fallback::Ollama => Some(ProviderKind::Ollama),
            Fallback::OpenAi => Some(ProviderKind::OpenAi),
            Fallback::Local => Some(ProviderKind::Local),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    pub primary: ProviderKind,
    pub fallback: Fallback,
    /// Ask before a turn moves to the fallback provider.
    pub fallback_confirm: bool,
    pub max_retries: u32,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Give up on a stream that sends nothing for this long.
    pub idle_timeout_secs: u64,
    pub connect_timeout_secs: u64,
    pub temperature: Option<f32>,
    /// Extended thinking: `off`, `low` (Anthropic budget 4,096 tokens) or `high` (16,384);
    /// Ollama's `think` for either. `/think` changes it for the session.
    pub thinking: crate::engine::protocol::ThinkingLevel,
    /// Which prompt and tool set the model gets (`agent/profile.rs`).
    pub profile: Profile,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            primary: ProviderKind::Anthropic,
            fallback: Fallback::Ollama,
            fallback_confirm: false,
            max_retries: 3,
            retry_base_ms: 500,
            retry_max_ms: 8_000,
            idle_timeout_secs: 60,
            connect_timeout_secs: 10,
            temperature: None,
            thinking: crate::engine::protocol::ThinkingLevel::Off,
            profile: Profile::Auto,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnthropicConfig {
    pub base_url: String,
    pub model: String,
    pub max_tokens: u32,
    pub context_window: usize,
    /// Mark the system prompt, tools and history for prompt caching (`cache_control`): later
    /// requests of a session read that prefix at a tenth of the input price.
    pub prompt_cache: bool,
    /// Before a step whose estimate nears the compaction threshold, ask Anthropic's
    /// `count_tokens` endpoint for the request's exact size and calibrate from it (off by
    /// default; never from an untrusted repository's config).
    pub count_tokens: bool,
}

impl Default for AnthropicConfig {
    fn default() -> Self {
        Self {
            base_url: super::llm::anthropic::DEFAULT_BASE_URL.into(),
            model: "claude-opus-4-5".into(),
            max_tokens: 8_192,
            context_window: 200_000,
            prompt_cache: true,
            count_tokens: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OllamaConfig {
    pub host: String,
    pub model: String,
    /// Sent as `options.num_ctx` on every request: Ollama's own default (2048–4096) silently
    /// truncates long prompts. Also the context window used for trimming. 0 (the default): the
    /// model's own context length from `/api/show`, at most `max_ctx`.
    pub num_ctx: u64,
    /// The largest `num_ctx` taken from a model's context length (memory grows with it).
    pub max_ctx: u64,
    /// How long Ollama keeps the model loaded after a request (`"5m"`, `"1h"`, `"-1"` for
    /// always, `"0"` to unload at once); Ollama's default when unset.
    pub keep_alive: Option<String>,
    pub max_tokens: u32,
}

impl Default for OllamaConfig {
    fn default() -> Self {
        Self {
            host: super::llm::ollama::DEFAULT_HOST.into(),
            model: "qwen2.5-coder:7b".into(),
            num_ctx: 0,
            max_ctx: 32_768,
            keep_alive: None,
            max_tokens: 4_096,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenAiConfig {
    pub base_url: String,
    pub model: String,
    pub max_tokens: u32,
    /// 0 (the default): the server's window where it says it (llama.cpp's `/props`), else
    /// 128,000; a value set here is never exceeded (`llm::window`).
    pub context_window: usize,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: super::llm::openai::DEFAULT_BASE_URL.into(),
            model: "gpt-4o-mini".into(),
            max_tokens: 4_096,
            context_window: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// A built-in theme (`dark`, `light`) or a file `<config dir>/themes/NAME.toml`.
    pub theme: String,
    pub mouse: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self { theme: "dark".into(), mouse: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// How often streamed text is written to the database while a reply streams.
    pub checkpoint_ms: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { checkpoint_ms: 1_000 }
    }
}

/// How the model works on the repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    /// What runs without asking: read-only | ask | auto-edit | auto. Critical always asks.
    pub approval: Policy,
    /// Tool calls per turn before the loop stops and says so.
    pub max_steps: usize,
    /// native: the provider's tool calling; text: a protocol taught in the system prompt (for
    /// models without tool support); auto: native, switching to text when the server refuses.
    pub tool_mode: ToolMode,
    /// `required` makes the first step of each turn call a tool (small local models otherwise
    /// tend to answer without looking). Only the OpenAI-compatible protocol supports it.
    pub tool_choice: ToolChoiceConfig,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            approval: Policy::Ask,
            max_steps: 25,
            tool_mode: ToolMode::Auto,
            tool_choice: ToolChoiceConfig::Auto,
        }
    }
}

/// `llm.profile`: `small` gives a model a short system prompt and only the core tools, so a
/// small context window is not spent on instructions and schemas; `auto` picks it for a context
/// window of at most [`SMALL_CONTEXT_WINDOW`] tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Auto,
    Small,
    Full,
}

/// The largest context window `llm.profile = "auto"` treats as a small model's.
pub const SMALL_CONTEXT_WINDOW: usize = 8_192;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolMode {
    Auto,
    Native,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolChoiceConfig {
    Auto,
    Required,
}

/// API keys, from the environment only.
#[derive(Clone, Default)]
pub struct Secrets {
    pub anthropic_api_key: Option<String>,
    pub openai_api_key: Option<String>,
    /// For opening pull requests (`GITHUB_TOKEN`).
    pub github_token: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |k: &Option<String>| if k.is_some() { "set" } else { "unset" };
        f.debug_struct("Secrets")
            .field("anthropic_api_key", &shown(&self.anthropic_api_key))
            .field("openai_api_key", &shown(&self.openai_api_key))
            .field("github_token", &shown(&self.github_token))
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// Where the graph's embedder may find a server: the chat providers' endpoints.
    pub fn embed_endpoints(&self, secrets: &Secrets) -> crate::engine::graph::EmbedEndpoints {
        crate::engine::graph::EmbedEndpoints {
            ollama_host: self.ollama.host.clone(),
            openai_base_url: self.openai.base_url.clone(),
            openai_api_key: secrets.openai_api_key.clone(),
            local_embed_model: self.local.embed_model_path(),
            local_threads: self.local.thread_count(),
        }
    }

    pub fn model_of(&self, kind: ProviderKind) -> &str {
        match kind {
            ProviderKind::Anthropic => &self.anthropic.model,
            ProviderKind::Ollama => &self.ollama.model,
            ProviderKind::OpenAi => &self.openai.model,
            ProviderKind::Local => &self.local.model,
        }
    }

    pub fn set_model(&mut self, kind: ProviderKind, model: String) {
        match kind {
            ProviderKind::Anthropic => self.anthropic.model = model,
            ProviderKind::Ollama => self.ollama.model = model,
            ProviderKind::OpenAi => self.openai.model = model,
            ProviderKind::Local => self.local.model = model,
        }
    }

    /// The model's context window in tokens: configured, or as the server said it
    /// (`llm::window`: llama.cpp's `/props`, a refusal naming the window), never more than one
    /// the user set.
    pub fn context_window(&self, kind: ProviderKind) -> usize {
        super::llm::window::of(self, kind)
    }

    /// The `num_ctx` Ollama gets: `ollama.num_ctx` when set, else the model's context length
    /// once probed (`llm::ollama::probed`), at most `ollama.max_ctx`.
    pub fn ollama_num_ctx(&self) -> u64 {
        if self.ollama.num_ctx > 0 {
            return self.ollama.num_ctx;
        }
        let probed = super::llm::ollama::probed(&self.ollama.host, &self.ollama.model);
        let max = self.ollama.max_ctx.max(1);
        probed.and_then(|info| info.context_length).map_or(max, |n| n.clamp(1, max))
    }

    /// Whether `kind`'s model gets the small-model profile (`llm.profile`, or its context window).
    pub fn small_profile(&self, kind: ProviderKind) -> bool {
        match self.llm.profile {
            Profile::Small => true,
            Profile::Full => false,
            Profile::Auto => self.context_window(kind) <= SMALL_CONTEXT_WINDOW,
        }
    }

    /// The tokens kept free for the reply when the history is fitted to `kind`'s window: its
    /// `max_tokens`, but at most a quarter of the window (a 4k Ollama model asked for 4,096
    /// tokens would otherwise leave no room for any input).
    pub fn reply_reserve(&self, kind: ProviderKind) -> usize {
        (self.max_tokens(kind) as usize).min(self.context_window(kind) / 4)
    }

    /// Output tokens requested: the provider's max, within the generation budget.
    pub fn max_tokens(&self, kind: ProviderKind) -> u32 {
        let configured = match kind {
            ProviderKind::Anthropic => self.anthropic.max_tokens,
            ProviderKind::Ollama => self.ollama.max_tokens,
            ProviderKind::OpenAi => self.openai.max_tokens,
            ProviderKind::Local => self.local.max_tokens,
        };
        configured.min(self.context.generation as u32).max(1)
    }
}
