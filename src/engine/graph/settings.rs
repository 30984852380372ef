//! The `[graph]` configuration section and the choice of embedder it implies.
//!
//! ```toml
//! [graph]
//! embed = "auto"                  # auto | ollama | openai | local | none
//! embed_model = "nomic-embed-text"
//! max_file_kb = 1024
//! watch = true
//! batch = 64
//! ```
//!
//! `embed_model` names the model for whichever provider is used: Ollama's `nomic-embed-text`
//! (768 dims) by default; with `embed = "openai"` set it to what that server serves
//! (`text-embedding-3-small` on OpenAI, `all-minilm` on a local llama.cpp with MiniLM).
//! The Ollama host and the OpenAI-compatible base URL (and `OPENAI_API_KEY`) are the ones the
//! chat providers use (`[ollama] host`, `[openai] base_url`). `embed = "local"` (and `auto` when
//! no server answers) runs `[local] embed_model`, a GGUF such as all-MiniLM-L6-v2, in-process.
//!
//! Invariants:
//! - [`embedder_for`] never waits longer than [`PROBE_TIMEOUT`] per provider it tries.
//! - `embed = "none"` never touches the network; `embed = "local"` never does either.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::embed::{Embedder, OllamaEmbedder, OpenAiEmbedder};
#[cfg(feature = "local-model")]
use crate::engine::llm::local::embed::LocalEmbedder;

/// How long one provider may take to answer the dimension probe (a cold Ollama loads the model).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Which embedding provider the graph uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmbedProvider {
    /// The configured Ollama host, else the OpenAI-compatible base URL, else the built-in
    /// embedder (`[local] embed_model`), else lexical only.
    #[default]
    Auto,
    Ollama,
    #[serde(rename = "openai")]
    OpenAi,
    /// `[local] embed_model` run in-process: no server at all.
    Local,
    /// No embeddings: lexical search only.
    None,
}

impl EmbedProvider {
    pub fn parse(name: &str) -> Option<EmbedProvider> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(EmbedProvider::Auto),
            "ollama" => Some(EmbedProvider::Ollama),
            "openai" => Some(EmbedProvider::OpenAi),
            "local" => Some(EmbedProvider::Local),
            "none" => Some(EmbedProvider::None),
            _ => None,
        }
    }
}

/// `[graph]`: the knowledge graph's indexing and embedding settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphSettings {
    /// auto | ollama | openai | local | none.
    pub embed: EmbedProvider,
    /// The embedding model, for whichever provider is used (see the module docs).
    pub embed_model: String,
    /// Files larger than this (KiB) are skipped and reported.
    pub max_file_kb: u64,
    /// Re-index saved files in the background while the TUI runs.
    pub watch: bool,
    /// Texts per embedding request.
    pub batch: usize,
}

impl Default for GraphSettings {
    fn default() -> Self {
        GraphSettings {
            embed: EmbedProvider::Auto,
            embed_model: "nomic-embed-text".into(),
            max_file_kb: 1024,
            watch: true,
            batch: 64,
        }
    }
}

impl GraphSettings {
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_kb.saturating_mul(1024)
    }
}

/// One of the embedders ([`Embedder`] is not object-safe, so this enum stands in for `dyn`).
pub enum AnyEmbedder {
    Ollama {
        embedder: OllamaEmbedder,
        host: String,
    },
    OpenAi {
        embedder: OpenAiEmbedder,
        base_url: String,
    },
    #[cfg(feature = "local-model")]
    Local(LocalEmbedder),
}

impl AnyEmbedder {
    /// "ollama nomic-embed-text at http://127.0.0.1:11434 (768 dims)".
    pub fn describe(&self) -> String {
        let (provider, at) = match self {
            AnyEmbedder::Ollama { host, .. } => ("ollama", host.clone()),
            AnyEmbedder::OpenAi { base_url, .. } => ("openai-compatible", base_url.clone()),
            #[cfg(feature = "local-model")]
            AnyEmbedder::Local(e) => ("built-in", e.path().display().to_string()),
        };
        format!("{provider} {} at {at} ({} dims)", self.model(), self.dim())
    }
}

impl Embedder for AnyEmbedder {
    fn model(&self) -> &str {
        match self {
            AnyEmbedder::Ollama { embedder, .. } => embedder.model(),
            AnyEmbedder::OpenAi { embedder, .. } => embedder.model(),
            #[cfg(feature = "local-model")]
            AnyEmbedder::Local(embedder) => embedder.model(),
        }
    }

    fn dim(&self) -> usize {
        match self {
            AnyEmbedder::Ollama { embedder, .. } => embedder.dim(),
            AnyEmbedder::OpenAi { embedder, .. } => embedder.dim(),
            #[cfg(feature = "local-model")]
            AnyEmbedder::Local(embedder) => embedder.dim(),
        }
    }

    async fn embed(&self, texts: &[String]) -> super::Result<Vec<Vec<f32>>> {
        match self {
            AnyEmbedder::Ollama { embedder, .. } => embedder.embed(texts).await,
            AnyEmbedder::OpenAi { embedder, .. } => embedder.embed(texts).await,
            #[cfg(feature = "local-model")]
            AnyEmbedder::Local(embedder) => embedder.embed(texts).await,
        }
    }
}

async fn probe<E: Embedder>(what: &str, detect: impl Future<Output = super::Result<E>>) -> Result<E, String> {
    match tokio::time::timeout(PROBE_TIMEOUT, detect).await {
        Ok(Ok(e)) if e.dim() > 0 => Ok(e),
        Ok(Ok(_)) => Err(format!("{what} returned an empty vector")),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what} did not answer within {} s", PROBE_TIMEOUT.as_secs())),
    }
}

/// Where the embedding servers are: the chat providers' endpoints (`[ollama] host`,
/// `[openai] base_url` and its key), taken from the configuration by `Config::embed_endpoints`.
#[derive(Debug, Clone, Default)]
pub struct EmbedEndpoints {
    pub ollama_host: String,
    pub openai_base_url: String,
    pub openai_api_key: Option<String>,
    /// `[local] embed_model` (`~` expanded), for the built-in embedder.
    pub local_embed_model: Option<std::path::PathBuf>,
    pub local_threads: usize,
}

async fn try_ollama(settings: &GraphSettings, at: &EmbedEndpoints) -> Result<AnyEmbedder, String> {
    let host = at.ollama_host.clone();
    let model = &settings.embed_model;
    let embedder = probe(&format!("ollama {model} at {host}"), OllamaEmbedder::detect(&host, model)).await?;
    Ok(AnyEmbedder::Ollama { embedder, host })
}

async fn try_openai(settings: &GraphSettings, at: &EmbedEndpoints) -> Result<AnyEmbedder, String> {
    let base_url = at.openai_base_url.clone();
    let model = &settings.embed_model;
    let key = at.openai_api_key.as_deref();
    let what = format!("openai-compatible {model} at {base_url}");
    let embedder = probe(&what, OpenAiEmbedder::detect(&base_url, model, key)).await?;
    Ok(AnyEmbedder::OpenAi { embedder, base_url })
}

#[cfg(feature = "local-model")]
async fn try_local(at: &EmbedEndpoints) -> Result<AnyEmbedder, String> {
    let Some(path) = at.local_embed_model.clone() else {
        return Err("built-in: [local] embed_model is not set".into());
    };
    let what = format!("built-in {}", path.display());
    let embedder = probe(&what, LocalEmbedder::detect(&path, at.local_threads.max(1))).await?;
    Ok(AnyEmbedder::Local(embedder))
}

#[cfg(not(feature = "local-model"))]
async fn try_local(_: &EmbedEndpoints) -> Result<AnyEmbedder, String> {
    Err("built-in: kv1nt was built without the local-model feature".into())
}

/// The embedder `[graph] embed` asks for, probed once for its dimension: `Ok(None)` when
/// embeddings are off, `Err` with every provider tried and why it did not answer.
pub async fn embedder_for(
    settings: &GraphSettings,
    at: &EmbedEndpoints,
) -> Result<Option<AnyEmbedder>, String> {
    match settings.embed {
        EmbedProvider::None => Ok(None),
        EmbedProvider::Ollama => try_ollama(settings, at).await.map(Some),
        EmbedProvider::OpenAi => try_openai(settings, at).await.map(Some),
        EmbedProvider::Local => try_local(at).await.map(Some),
        EmbedProvider::Auto => {
            let ollama = match try_ollama(settings, at).await {
                Ok(e) => return Ok(Some(e)),
                Err(why) => why,
            };
            let default_openai =
                at.openai_base_url.trim_end_matches('/') == crate::engine::llm::openai::DEFAULT_BASE_URL;
            let openai = if default_openai && at.openai_api_key.is_none() {
                "OpenAI: OPENAI_API_KEY is not set".to_string()
            } else {
                match try_openai(settings, at).await {
                    Ok(e) => return Ok(Some(e)),
                    Err(why) => why,
                }
            };
            // No server answered: the built-in embedder, when a model is configured.
            if at.local_embed_model.is_none() {
                return Err(format!("{ollama}; {openai}"));
            }
            match try_local(at).await {
                Ok(e) => Ok(Some(e)),
                Err(local) => Err(format!("{ollama}; {openai}; {local}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_section_and_rejects_unknown_keys() {
        let s: GraphSettings = toml::from_str("embed = \"openai\"\nembed_model = \"all-minilm\"").unwrap();
        assert_eq!((s.embed, s.embed_model.as_str(), s.batch), (EmbedProvider::OpenAi, "all-minilm", 64));
        assert!(toml::from_str::<GraphSettings>("embedd = \"none\"").is_err());
        assert_eq!(EmbedProvider::parse("NONE"), Some(EmbedProvider::None));
        assert_eq!(GraphSettings::default().max_file_bytes(), 1 << 20);
    }

    #[tokio::test]
    async fn none_never_probes_and_unreachable_auto_says_why() {
        let mut settings = GraphSettings { embed: EmbedProvider::None, ..GraphSettings::default() };
        let mut at = EmbedEndpoints {
            openai_base_url: crate::engine::llm::openai::DEFAULT_BASE_URL.into(),
            ..EmbedEndpoints::default()
        };
        assert!(embedder_for(&settings, &at).await.unwrap().is_none());
        settings.embed = EmbedProvider::Auto;
        at.ollama_host = "http://127.0.0.1:9".into();
        let why = embedder_for(&settings, &at).await.err().unwrap();
        assert!(why.contains("127.0.0.1:9") && why.contains("OPENAI_API_KEY"), "{why}");
    }
}
