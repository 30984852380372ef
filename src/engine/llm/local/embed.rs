//! Offline embeddings: an embedding GGUF (all-MiniLM-L6-v2, 384 dims) run by llama.cpp on its
//! own thread, as the graph's [`Embedder`].
//!
//! Invariants: llama.cpp runs only on the `kv1nt-local-embed` thread (the graph worker and the
//! UI's runtime just wait on a channel); the model is loaded once per path; each text is cut to
//! the model's context (512 tokens for MiniLM) and its vector is L2-normalised, so cosine and dot
//! products agree with what the embedding servers return.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc as std_mpsc};

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use tokio::sync::oneshot;

use super::engine::{backend, load_model, send_to_worker};
use crate::engine::graph::embed::Embedder;
use crate::engine::graph::{GraphError, Result};

type Reply = oneshot::Sender<std::result::Result<Vec<Vec<f32>>, String>>;

struct Job {
    path: PathBuf,
    threads: usize,
    texts: Vec<String>,
    reply: Reply,
}

/// The embedding GGUF at a path, as an [`Embedder`].
pub struct LocalEmbedder {
    path: PathBuf,
    name: String,
    dim: usize,
    threads: usize,
}

impl LocalEmbedder {
    /// Load the model (on the embedding thread) and learn its dimension with one probe.
    pub async fn detect(path: &Path, threads: usize) -> Result<LocalEmbedder> {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut e =
            LocalEmbedder { path: path.to_path_buf(), name: format!("local:{stem}"), dim: 0, threads };
        let probe = e.embed(&["dimension probe".to_string()]).await?;
        e.dim = probe.first().map_or(0, Vec::len);
        Ok(e)
    }

    /// The file the vectors come from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Embedder for LocalEmbedder {
    fn model(&self) -> &str {
        &self.name
    }

    fn dim(&self) -> usize {
        self.dim
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let (reply, answer) = oneshot::channel();
        submit(Job { path: self.path.clone(), threads: self.threads, texts: texts.to_vec(), reply });
        match answer.await {
            Ok(Ok(vectors)) => Ok(vectors),
            Ok(Err(why)) => Err(GraphError::Embed(why)),
            Err(_) => Err(GraphError::Embed("the local embedding thread stopped".into())),
        }
    }
}

fn submit(job: Job) {
    static SENDER: Mutex<Option<std_mpsc::Sender<Job>>> = Mutex::new(None);
    if let Err((job, e)) = send_to_worker(&SENDER, "kv1nt-local-embed", worker, job) {
        let _ = job.reply.send(Err(format!("cannot start the embedding thread: {e}")));
    }
}

fn worker(rx: std_mpsc::Receiver<Job>) {
    let mut loaded: Option<(PathBuf, LlamaModel)> = None;
    while let Ok(job) = rx.recv() {
        if loaded.as_ref().is_none_or(|(p, _)| *p != job.path) {
            loaded = None;
            match load_model(&job.path, 0) {
                Ok(model) => loaded = Some((job.path.clone(), model)),
                Err(why) => {
                    let _ = job.reply.send(Err(why));
                    continue;
                }
            }
        }
        let Some((_, model)) = loaded.as_ref() else { continue };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            embed_texts(model, job.threads, &job.texts)
        }))
        .unwrap_or_else(|_| Err("llama.cpp failed while embedding (see the log file)".into()));
        let _ = job.reply.send(result);
    }
}

fn embed_texts(
    model: &LlamaModel,
    threads: usize,
    texts: &[String],
) -> std::result::Result<Vec<Vec<f32>>, String> {
    let n_ctx = model.n_ctx_train().clamp(16, 8_192);
    // An encoder reads each input in one micro-batch: the batch sizes equal the context.
    let params = LlamaContextParams::default()
        .with_embeddings(true)
        .with_n_ctx(NonZeroU32::new(n_ctx))
        .with_n_batch(n_ctx)
        .with_n_ubatch(n_ctx)
        .with_n_threads(threads as i32)
        .with_n_threads_batch(threads as i32);
    let mut ctx = model.new_context(backend()?, params).map_err(|e| format!("embedding context: {e}"))?;
    let vocab = model.vocab();
    let mut batch = LlamaBatch::new(n_ctx as usize, 1);
    let mut out = Vec::with_capacity(texts.len());
    for text in texts {
        let mut tokens = vocab.tokenize(text.as_bytes(), true, false);
        tokens.truncate(n_ctx as usize);
        if tokens.is_empty() {
            tokens = vocab.tokenize(b" ", true, false);
        }
        ctx.clear_kv_cache();
        batch.clear();
        batch.add_sequence(&tokens, 0, false).map_err(|e| format!("embedding batch: {e}"))?;
        ctx.decode(&mut batch).map_err(|e| format!("embedding: {e}"))?;
        let vector = ctx.embeddings_seq_ith(0).map_err(|e| format!("no pooled embedding: {e}"))?;
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        out.push(vector.iter().map(|x| x / norm).collect());
    }
    Ok(out)
}
