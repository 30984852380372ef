//! The `[local]` configuration section: which GGUF files the built-in provider and the offline
//! embedder load, and how.
//!
//! ```toml
//! [local]
//! model = "~/models/qwen2.5-coder-1.5b-q4_k_m.gguf"   # the chat model (a GGUF path)
//! embed_model = "~/models/all-minilm-l6-v2-f16.gguf"  # optional: offline graph embeddings
//! threads = 0        # 0 = every available core
//! max_ctx = 8192     # the context is the GGUF's training context, capped by this
//! gpu_layers = 0     # layers offloaded to a GPU when the build supports one
//! max_tokens = 2048  # output tokens per reply
//! ```
//!
//! Invariant: none of these keys is on the untrusted-repository allow-list (`config/trust.rs`):
//! a repository must never make kv1nt load a file of its choosing.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalConfig {
    /// Path to the chat model's GGUF file (`~` expanded). Empty: not configured.
    pub model: String,
    /// Path to an embedding GGUF (e.g. all-MiniLM-L6-v2, 384 dims) for the graph's vector
    /// search when no embedding server answers.
    pub embed_model: Option<String>,
    /// Threads for inference; 0 uses every available core.
    pub threads: usize,
    /// Upper bound on the context window (tokens); the GGUF's training context is used below it.
    pub max_ctx: usize,
    /// Layers offloaded to a GPU (0 = CPU only; only builds with a GPU backend use it).
    pub gpu_layers: u32,
    /// Output tokens per reply.
    pub max_tokens: u32,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            model: String::new(),
            embed_model: None,
            threads: 0,
            max_ctx: 8_192,
            gpu_layers: 0,
            max_tokens: 2_048,
        }
    }
}

impl LocalConfig {
    /// The chat model's path with `~` expanded, None when unset.
    pub fn model_path(&self) -> Option<PathBuf> {
        (!self.model.trim().is_empty()).then(|| expand_home(self.model.trim()))
    }

    /// The embedding model's path with `~` expanded, None when unset.
    pub fn embed_model_path(&self) -> Option<PathBuf> {
        self.embed_model.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(expand_home)
    }

    /// Inference threads: the configured number, else the available cores.
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }

    /// The context window in tokens: the GGUF's training context (`n_ctx_train`) capped by
    /// `max_ctx`; `max_ctx` when the file cannot be read (the provider reports why at start).
    pub fn context_window(&self) -> usize {
        let cap = self.max_ctx.max(256);
        match self.model_path().and_then(|p| crate::engine::models::gguf::info(&p).ok()?.context_length) {
            Some(train) if train > 0 => (train as usize).min(cap),
            _ => cap,
        }
    }
}

/// `~` and `~/…` resolved against the home directory; anything else as given.
pub fn expand_home(path: &str) -> PathBuf {
    let home = || directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    if path == "~" {
        return home().unwrap_or_else(|| PathBuf::from(path));
    }
    match (path.strip_prefix("~/"), home()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_section_and_rejects_unknown_keys() {
        let c: LocalConfig = toml::from_str("model = \"~/m.gguf\"\nthreads = 3").unwrap();
        assert_eq!((c.threads, c.max_ctx, c.gpu_layers), (3, 8_192, 0));
        assert!(c.model_path().unwrap().ends_with("m.gguf"));
        assert!(!c.model_path().unwrap().starts_with("~"));
        assert!(toml::from_str::<LocalConfig>("modle = \"x\"").is_err());
        assert_eq!(LocalConfig::default().model_path(), None);
        assert!(LocalConfig::default().thread_count() >= 1);
    }

    #[test]
    fn an_untrusted_repository_cannot_choose_the_files() {
        let table: toml::Table =
            toml::from_str("[local]\nmodel = \"/tmp/evil.gguf\"\nembed_model = \"/tmp/e.gguf\"\nthreads = 1\n[graph]\nembed = \"local\"")
                .unwrap();
        let (harmless, held) = crate::engine::config::trust::split(&table);
        let held: Vec<&str> = held.iter().map(|(k, _)| k.as_str()).collect();
        for key in ["local.model", "local.embed_model", "local.threads", "graph.embed"] {
            assert!(held.contains(&key), "{key} must be held back: {held:?}");
        }
        assert!(
            harmless.get("local").is_none_or(|t| t.as_table().is_some_and(|t| t.is_empty())),
            "{harmless:?}"
        );
    }

    #[test]
    fn an_unreadable_model_leaves_the_cap_as_the_window() {
        let c = LocalConfig { model: "/nonexistent/x.gguf".into(), max_ctx: 4_096, ..Default::default() };
        assert_eq!(c.context_window(), 4_096);
        assert_eq!(expand_home("/abs/p"), PathBuf::from("/abs/p"));
    }
}
