//! The built-in `local` provider: a GGUF model run in-process by llama.cpp (`llama-cpp-2`,
//! behind the default-on `local-model` cargo feature), and the offline embedder the graph uses
//! when no embedding server answers.
//!
//! - [`settings`]: the `[local]` section (model paths, threads, context cap, GPU layers).
//! - [`gguf`]: the GGUF header read in Rust (training context, chat template present).
//! - [`prompt`]: the chat sent to the model, stop sequences, the forced-tool-call grammar.
//! - `engine` / `embed` (feature `local-model`): the inference threads.
//!
//! Invariants: the provider declares no native tool calling ([`ProviderKind::native_tools`]):
//! the turn teaches the text protocol and parses `<tool_call>` blocks out of the reply; a forced
//! tool choice arrives with the tool list and becomes a GBNF grammar. Built without the feature,
//! every request fails with "built without the local-model feature" (and may fall back).

#[cfg(feature = "local-model")]
pub mod embed;
#[cfg(feature = "local-model")]
mod engine;
pub mod prompt;
pub mod settings;

use futures_util::future::BoxFuture;

use super::types::{ChatRequest, ToolChoice};
use super::{EventStream, LlmError, Provider, ProviderKind};
use settings::LocalConfig;

const KIND: ProviderKind = ProviderKind::Local;

/// The built-in provider. Cheap to build per request: the loaded model lives on the process's
/// inference thread, not here.
pub struct LocalProvider {
    settings: LocalConfig,
}

impl LocalProvider {
    pub fn new(settings: &LocalConfig) -> Self {
        Self { settings: settings.clone() }
    }
}

/// Whether this build can run models in-process.
pub const fn available() -> bool {
    cfg!(feature = "local-model")
}

impl Provider for LocalProvider {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn model(&self) -> &str {
        &self.settings.model
    }

    fn check_configured(&self) -> Result<(), LlmError> {
        if !available() {
            return Err(LlmError::NotConfigured {
                provider: KIND,
                hint: "kv1nt was built without the local-model feature".into(),
            });
        }
        match self.settings.model_path() {
            None => Err(LlmError::NotConfigured { provider: KIND, hint: KIND.setup_hint().into() }),
            Some(path) if !path.is_file() => Err(LlmError::NotConfigured {
                provider: KIND,
                hint: format!("{} does not exist ([local] model)", path.display()),
            }),
            Some(_) => Ok(()),
        }
    }

    fn start(&self, req: ChatRequest) -> BoxFuture<'_, Result<EventStream, LlmError>> {
        Box::pin(async move {
            self.check_configured()?;
            start(&self.settings, req).await
        })
    }

    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(async move {
            self.check_configured()?;
            Ok(vec![self.settings.model.clone()])
        })
    }
}

/// The grammar of a forced call: each tool's arguments held to its schema when llama.cpp can
/// convert the schemas, else any JSON object as arguments (the call is then checked and, if
/// malformed, repaired by the turn like any other).
#[cfg(feature = "local-model")]
fn forced_call_grammar(tools: &[crate::engine::llm::types::ToolSpec]) -> Option<String> {
    let schema = prompt::forced_call_schema(tools)?;
    match llama_cpp_2::json_schema_to_grammar(&schema) {
        Ok(rules) => Some(prompt::wrap_call_grammar(&rules)),
        Err(e) => {
            tracing::warn!("tool schemas not usable as a grammar ({e}); any JSON arguments allowed");
            prompt::tool_call_grammar(tools.iter().map(|t| t.name.as_str()))
        }
    }
}

#[cfg(feature = "local-model")]
async fn start(settings: &LocalConfig, request: ChatRequest) -> Result<EventStream, LlmError> {
    let path = settings
        .model_path()
        .ok_or_else(|| LlmError::NotConfigured { provider: KIND, hint: KIND.setup_hint().into() })?;
    let grammar = match request.tool_choice {
        ToolChoice::Required => forced_call_grammar(&request.tools),
        ToolChoice::Auto => None,
    };
    let (events, rx) = tokio::sync::mpsc::channel(256);
    let (started, ready) = tokio::sync::oneshot::channel();
    engine::submit(engine::Job { path, settings: settings.clone(), request, grammar, started, events });
    match ready.await {
        Ok(Ok(())) => Ok(EventStream::from_receiver(rx)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(LlmError::StreamError {
            provider: KIND,
            kind: "local".into(),
            message: "the inference thread stopped".into(),
        }),
    }
}

#[cfg(not(feature = "local-model"))]
async fn start(_: &LocalConfig, _: ChatRequest) -> Result<EventStream, LlmError> {
    let _ = ToolChoice::Auto;
    Err(LlmError::NotConfigured {
        provider: KIND,
        hint: "kv1nt was built without the local-model feature".into(),
    })
}
