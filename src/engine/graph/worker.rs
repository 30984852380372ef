//! The graph worker: one thread owns the repository's graph database
//! (SQLite connections are not `Sync`) and runs jobs in order — the index at start, re-indexing a
//! file after kv1nt edits it or the watcher sees it saved, embedding in the background, and
//! queries from the agent's tools, the prompt's context sections and the Graph panel.
//!
//! Invariants:
//! - Nothing here blocks the engine task: queries are closures run on the graph thread and
//!   answered through a oneshot channel; a query to a dead or missing graph answers `None`.
//! - Indexing never blocks a turn: queries have their own channel and are answered before the
//!   next job and between the committed batches of a running index or embedding job, so a query
//!   sees the last committed index and waits at most one batch. (A query that needs the embedder
//!   while embedding runs gets no vector: search is lexical until embedding ends.) The engine
//!   bounds every wait on top of that (`agent::graph_context::GRAPH_WAIT`).
//! - With no embedding model the graph is lexical only, and the Output log says so once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc as std_mpsc};

use tokio::sync::{mpsc, oneshot};

use crate::engine::graph::{self, EmbedEndpoints, GraphDb, GraphSettings, IndexOptions, embedder_for};
use crate::engine::protocol::{Event, LogLevel};

type Job = Box<dyn FnOnce(&mut Worker) + Send>;
type Query = Box<dyn FnOnce(&Worker) + Send>;

/// The graph thread's state.
struct Worker {
    db: GraphDb,
    root: PathBuf,
    events: mpsc::UnboundedSender<Event>,
    runtime: tokio::runtime::Runtime,
    embedder: Option<graph::AnyEmbedder>,
    entities: Arc<AtomicUsize>,
    batch: usize,
    max_file_bytes: u64,
    queries: std_mpsc::Receiver<Query>,
    /// An embedding batch is in flight on `runtime` (queries then skip the embedder).
    embedding: std::cell::Cell<bool>,
}

/// Handle to the graph thread; cheap to clone.
#[derive(Clone)]
pub struct GraphWorker {
    jobs: std_mpsc::Sender<Job>,
    queries: std_mpsc::Sender<Query>,
    /// Entities in the index after the last (re-)index; 0 until the first index finishes.
    entities: Arc<AtomicUsize>,
}

impl GraphWorker {
    /// Opens the repository's graph (in `data_dir`, or in memory without one), starts its thread
    /// and queues the initial index (and embedding, when a model answers).
    pub fn start(
        root: &Path,
        data_dir: Option<&Path>,
        settings: &GraphSettings,
        endpoints: &EmbedEndpoints,
        events: mpsc::UnboundedSender<Event>,
    ) -> Option<GraphWorker> {
        let db = match data_dir {
            Some(dir) => GraphDb::open(&graph::graph_db_path(dir, root)),
            None => GraphDb::open_in_memory(),
        };
        let db = match db {
            Ok(db) => db,
            Err(e) => {
                let text = format!("the knowledge graph is unavailable: {e}");
                let _ = events.send(Event::Log { level: LogLevel::Warn, text });
                return None;
            }
        };
        if let Some(notice) = db.notice() {
            let _ = events.send(Event::Notice { level: LogLevel::Warn, text: notice.to_string() });
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        let (jobs, rx) = std_mpsc::channel::<Job>();
        let (queries, query_rx) = std_mpsc::channel::<Query>();
        let (settings, endpoints) = (settings.clone(), endpoints.clone());
        let entities = Arc::new(AtomicUsize::new(0));
        let mut worker = Worker {
            entities: entities.clone(),
            db,
            root: root.to_path_buf(),
            events,
            runtime,
            embedder: None,
            batch: settings.batch.max(1),
            max_file_bytes: settings.max_file_kb.saturating_mul(1024),
            queries: query_rx,
            embedding: std::cell::Cell::new(false),
        };
        let spawned = std::thread::Builder::new().name("kv1nt-graph".into()).spawn(move || {
            worker.index_all();
            worker.embedder = match worker.runtime.block_on(embedder_for(&settings, &endpoints)) {
                Ok(Some(embedder)) => Some(embedder),
                Ok(None) => {
                    worker.log(
                        LogLevel::Info,
                        "graph: no embedding model configured or reachable: lexical search only",
                    );
                    None
                }
                Err(why) => {
                    worker.log(LogLevel::Warn, format!("graph: lexical search only ({why})"));
                    None
                }
            };
            worker.embed_pending();
            while let Ok(job) = rx.recv() {
                worker.answer_queries();
                job(&mut worker);
            }
        });
        spawned.ok().map(|_| GraphWorker { jobs, queries, entities })
    }

    /// Whether the index has anything to offer (the graph tools are offered only then: over an
    /// empty index they would only distract the model).
    pub fn has_entities(&self) -> bool {
        self.entities.load(Ordering::Relaxed) > 0
    }

    fn submit(&self, job: impl FnOnce(&mut Worker) + Send + 'static) {
        let _ = self.jobs.send(Box::new(job));
    }

    /// Queues a query ahead of the jobs, and wakes an idle thread to answer it.
    fn query(&self, query: impl FnOnce(&Worker) + Send + 'static) {
        let _ = self.queries.send(Box::new(query));
        self.submit(|w| w.answer_queries());
    }

    /// Runs `f` on the graph thread against the last committed index; `None` when the thread
    /// is gone.
    pub async fn ask<T: Send + 'static>(&self, f: impl FnOnce(&GraphDb) -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.query(move |w| {
            let _ = tx.send(f(&w.db));
        });
        rx.await.ok()
    }

    /// Re-index one file (changed, created or deleted) now, then embed what is new.
    pub fn reindex(&self, path: PathBuf) {
        self.submit(move |w| {
            match graph::reindex_file(&w.root, &w.db, &path) {
                Ok(report) => w.entities.store(report.entities, Ordering::Relaxed),
                Err(e) => w.log(LogLevel::Warn, format!("graph: re-indexing {} failed: {e}", path.display())),
            }
            w.embed_pending();
        });
    }

    /// The vector for `query` when an embedder answers (for hybrid search).
    pub async fn embed_query(&self, query: String) -> Option<Vec<f32>> {
        let (tx, rx) = oneshot::channel();
        self.query(move |w| {
            if w.embedding.get() {
                let _ = tx.send(None);
                return;
            }
            let vector = w.embedder.as_ref().and_then(|e| {
                use graph::Embedder;
                w.runtime.block_on(e.embed(std::slice::from_ref(&query))).ok()?.into_iter().next()
            });
            let _ = tx.send(vector);
        });
        rx.await.ok().flatten()
    }
}

impl Worker {
    fn log(&self, level: LogLevel, text: impl Into<String>) {
        let _ = self.events.send(Event::Log { level, text: text.into() });
    }

    /// Answers every queued query (between jobs and between batches).
    fn answer_queries(&self) {
        while let Ok(query) = self.queries.try_recv() {
            query(self);
        }
    }

    fn index_all(&self) {
        let options = IndexOptions { max_file_bytes: self.max_file_bytes, ..IndexOptions::default() };
        match graph::index_repository(&self.root, &self.db, &options, &|_| self.answer_queries()) {
            Ok(r) => {
                self.entities.store(r.entities, Ordering::Relaxed);
                let secs = r.elapsed.as_secs_f64();
                self.log(
                    LogLevel::Info,
                    format!(
                        "graph: {} files ({} re-indexed), {} entities, {} relations in {secs:.2} s",
                        r.files_seen, r.files_indexed, r.entities, r.relations
                    ),
                );
                if !r.skipped_too_large.is_empty() {
                    let shown: Vec<String> = r.skipped_too_large.iter().take(5).cloned().collect();
                    self.log(LogLevel::Info, format!("graph: skipped as too large: {}", shown.join(", ")));
                }
            }
            Err(e) => self.log(LogLevel::Warn, format!("graph: indexing failed: {e}")),
        }
    }

    fn embed_pending(&self) {
        let Some(embedder) = &self.embedder else { return };
        self.embedding.set(true);
        let work = graph::embed_pending_between(&self.db, embedder, self.batch, || self.answer_queries());
        let result = self.runtime.block_on(work);
        self.embedding.set(false);
        match result {
            Ok(report) if report.embedded > 0 => {
                self.log(LogLevel::Info, format!("graph: embedded {} entities", report.embedded))
            }
            Ok(_) => {}
            Err(e) => self.log(LogLevel::Warn, format!("graph: embedding stopped: {e}")),
        }
    }
}
