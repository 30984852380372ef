//! PLACEHOLDER until the helper's version lands (same names).
use serde::{Deserialize, Serialize};

use super::embed::Embedder;
use super::{OllamaEmbedder, OpenAiEmbedder, Result};
use crate::engine::config::{Config, Secrets};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EmbedProvider {
    #[default]
    Auto,
    Ollama,
    #[serde(rename = "openai")]
    OpenAi,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphSettings {
    pub embed: EmbedProvider,
    pub embed_model: String,
    pub max_file_kb: u64,
    pub watch: bool,
    pub batch: usize,
}

impl Default for GraphSettings {
    fn default() -> Self {
        Self {
            embed: EmbedProvider::None,
            embed_model: "nomic-embed-text".into(),
            max_file_kb: 1024,
            watch: true,
            batch: 64,
        }
    }
}

pub enum AnyEmbedder {
    Ollama(OllamaEmbedder),
    OpenAi(OpenAiEmbedder),
}

impl Embedder for AnyEmbedder {
    fn model(&self) -> &str {
        match self {
            AnyEmbedder::Ollama(e) => e.model(),
            AnyEmbedder::OpenAi(e) => e.model(),
        }
    }
    fn dim(&self) -> usize {
        match self {
            AnyEmbedder::Ollama(e) => e.dim(),
            AnyEmbedder::OpenAi(e) => e.dim(),
        }
    }
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        match self {
            AnyEmbedder::Ollama(e) => e.embed(texts).await,
            AnyEmbedder::OpenAi(e) => e.embed(texts).await,
        }
    }
}

pub async fn embedder_for(
    _config: &Config,
    _secrets: &Secrets,
) -> std::result::Result<Option<AnyEmbedder>, String> {
    Ok(None)
}
