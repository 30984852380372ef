//! Local GGUF models as the UI sees them: the model store's entries (`/models`, the first-run
//! modal), the default model offered for download, and a download's progress.
//!
//! Invariant: plain data; the model store (`engine::models`) builds these, the app only shows
//! them and answers with `Op::UseLocalModel` / `Op::PullModel`.

use std::path::PathBuf;

/// Where a local model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelOrigin {
    /// Registered with `kv1nt model add`: the user's file, never deleted by kv1nt.
    Added,
    /// Downloaded by `kv1nt model pull` into kv1nt's models directory.
    Downloaded,
    /// Found in Ollama's store (`$OLLAMA_MODELS` or `~/.ollama/models`), used in place.
    Ollama,
}

impl ModelOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelOrigin::Added => "added",
            ModelOrigin::Downloaded => "downloaded",
            ModelOrigin::Ollama => "ollama",
        }
    }
}

/// One GGUF file kv1nt can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalModel {
    pub name: String,
    /// Absolute path of the GGUF file.
    pub path: PathBuf,
    pub size: u64,
    pub origin: ModelOrigin,
}

/// The model the first-run modal offers to download (`assets/models.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadOffer {
    /// What the user reads: "Qwen2.5-Coder 1.5B Instruct (Q4_K_M)".
    pub title: String,
    /// What `Op::PullModel` takes: `hf:OWNER/REPO/FILE.gguf`.
    pub reference: String,
    /// Approximate size in bytes (the exact one is shown when the download starts).
    pub size: u64,
}

/// No provider could answer at start: what would work instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstRunOffer {
    /// Why each provider could not answer.
    pub errors: Vec<String>,
    /// GGUF files already on disk (kv1nt's store, then Ollama's).
    pub local: Vec<LocalModel>,
    pub download: Option<DownloadOffer>,
    /// The environment variables and commands for the other providers.
    pub help: String,
}

/// How far a download is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullProgress {
    /// The download starts: the whole size when known, and how much a `.part` file already has.
    Started {
        total: Option<u64>,
        resumed_from: u64,
    },
    Bytes {
        done: u64,
        total: Option<u64>,
    },
    /// The connection dropped; retrying from where it stopped.
    Retrying {
        attempt: u32,
        done: u64,
        reason: String,
    },
    /// Downloaded; hashing it. `known`: against a published sha256 (else it is only recorded:
    /// the server sent none and none was given).
    Verifying {
        known: bool,
    },
}
