//! The knowledge graph: code entities and their relations, per repository, in SQLite.
//!
//! Layout:
//! - [`model`]: entity/relation kinds and rows.
//! - [`parse`]: tree-sitter extraction per language (Rust, Python, TypeScript/TSX, JavaScript, Go)
//!   into entities and *unresolved* references.
//! - [`resolve`]: references → relations with a strength (scope/imports 1.0, unique name 0.6,
//!   ambiguous name 0.3 to at most [`resolve::MAX_CANDIDATES`] targets).
//! - [`store`]: the per-repository database (`files`, `entities`, `refs`, `relations`, FTS5,
//!   lazily created `vec0` tables — float32 and sign-bit — embedding cache; schema in `schema`, writes and re-resolution in
//!   `ingest`), the index lock, corruption recovery.
//! - [`index`]: incremental indexing of a repository or one file.
//! - [`query`]: related entities, callers/callees, dependencies, lexical and hybrid search,
//!   architectural context for prompts, stats.
//! - [`embed`]: the [`embed::Embedder`] trait, Ollama and OpenAI-compatible embedders, and
//!   resumable embedding of pending entities.
//!
//! Invariants:
//! - One database file per repository ([`store::graph_db_path`]); nothing here touches the
//!   session database.
//! - Unresolved references (calls to external names) never become relations; they stay in the
//!   `refs` table (relation `ref_id` points back to the reference it came from), so resolution
//!   can be redone when symbols appear.
//! - No function here panics on any input; every failure is a [`GraphError`].

pub mod embed;
pub mod index;
mod ingest;
pub mod model;
pub mod packages;
mod panel;
pub mod parse;
pub mod query;
pub mod resolve;
mod schema;
pub mod search;
pub mod settings;
pub mod store;
pub mod vector;
mod watch;
mod worker;

use std::path::PathBuf;

pub use embed::{
    EmbedReport, Embedder, OllamaEmbedder, OpenAiEmbedder, embed_pending, embed_pending_between,
};
pub use index::{IndexOptions, IndexProgress, IndexReport, index_repository, reindex_file};
pub use model::{Entity, EntityKind, Relation, RelationKind};
pub use query::{EntityKey, GraphStats, Related, SearchHit};
pub use settings::{AnyEmbedder, EmbedEndpoints, EmbedProvider, GraphSettings, embedder_for};
pub use store::{GraphDb, graph_db_path};
pub use watch::watch;
pub use worker::GraphWorker;

/// Everything that can go wrong in the graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("graph database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(#[from] crate::engine::store::StoreError),
    #[error("I/O error on {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("another index run is in progress for this repository (waited {waited_secs} s for {})", lock.display())]
    Locked { lock: PathBuf, waited_secs: u64 },
    #[error(
        "the graph database has schema version {found} but this kv1nt only knows up to {known}; \
         it was written by a newer kv1nt"
    )]
    TooNew { found: i64, known: i64 },
    #[error("{} is not inside the repository {}", path.display(), root.display())]
    OutsideRoot { path: PathBuf, root: PathBuf },
    #[error("no entity named `{0}` in the graph")]
    NoSuchEntity(String),
    #[error("the embedding model changed dimension: expected {expected}, got {got}")]
    EmbeddingDim { expected: usize, got: usize },
    #[error("embedding request failed: {0}")]
    Embed(String),
}

impl GraphError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> GraphError {
        GraphError::Io { path: path.into(), source }
    }
}

/// Graph result.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;
