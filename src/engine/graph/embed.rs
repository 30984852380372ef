//! Embeddings: the [`Embedder`] trait, Ollama (`POST /api/embed`) and OpenAI-compatible
//! (`POST /v1/embeddings`) implementations, and [`embed_pending`], which gives every entity
//! without a vector one.
//!
//! Invariants:
//! - The embedded text of an entity is `kind qualified_name\nsignature\ndoc`; its xxh3-128 is
//!   the cache key in `embeddings_cache` (per model), so re-indexing an unchanged entity (new
//!   id) costs no request.
//! - Work is committed per batch: an interrupted run keeps what it did and the next run
//!   continues with the entities still lacking vectors.
//! - A response with the wrong number of vectors or a wrong dimension is an error; nothing of
//!   that batch is stored.

use std::future::Future;
use std::time::Duration;

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::{Value, json};

use super::store::{GraphDb, blob_vector, put_vector_in, vector_blob};
use super::{GraphError, Result};

/// Something that turns texts into vectors of a fixed dimension.
pub trait Embedder {
    /// The model name recorded with the vectors (a different name means re-embedding).
    fn model(&self) -> &str;
    fn dim(&self) -> usize;
    /// One vector per text, in order.
    fn embed(&self, texts: &[String]) -> impl Future<Output = Result<Vec<Vec<f32>>>> + Send;
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_default()
}

async fn post_json(client: &reqwest::Client, url: &str, key: Option<&str>, body: &Value) -> Result<Value> {
    let mut req = client.post(url).json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.map_err(|e| GraphError::Embed(format!("{url}: {e}")))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| GraphError::Embed(format!("{url}: {e}")))?;
    if !status.is_success() {
        let snippet: String = text.chars().take(200).collect();
        return Err(GraphError::Embed(format!("{url} answered {status}: {snippet}")));
    }
    serde_json::from_str(&text).map_err(|e| GraphError::Embed(format!("{url}: invalid JSON: {e}")))
}

fn floats(v: &Value) -> Option<Vec<f32>> {
    v.as_array()?.iter().map(|x| x.as_f64().map(|f| f as f32)).collect()
}

/// Ollama's `/api/embed`.
pub struct OllamaEmbedder {
    base_url: String,
    model: String,
    dim: usize,
    client: reqwest::Client,
}

impl OllamaEmbedder {
    /// `base_url` like `http://127.0.0.1:11434`; `dim` must match the model.
    pub fn new(base_url: &str, model: &str, dim: usize) -> OllamaEmbedder {
        OllamaEmbedder {
            base_url: base_url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            dim,
            client: client(),
        }
    }

    /// Asks the server once to learn the model's dimension.
    pub async fn detect(base_url: &str, model: &str) -> Result<OllamaEmbedder> {
        let mut e = OllamaEmbedder::new(base_url, model, 0);
        let v = e.request(&["dimension probe".to_string()]).await?;
        e.dim = v.first().map_or(0, Vec::len);
        Ok(e)
    }

    async fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let url = format!("{}/api/embed", self.base_url);
        let body =
            post_json(&self.client, &url, None, &json!({ "model": self.model, "input": texts })).await?;
        body.get("embeddings")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(floats).collect::<Option<Vec<_>>>())
            .ok_or_else(|| GraphError::Embed(format!("{url}: no `embeddings` array in the answer")))
    }
}

impl Embedder for OllamaEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn dim(&self) -> usize {
        self.dim
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.request(texts).await
    }
}

/// An OpenAI-compatible `/v1/embeddings` (OpenAI, llama.cpp, vLLM, LM Studio).
pub struct OpenAiEmbedder {
    url: String,
    model: String,
    api_key: Option<String>,
    dim: usize,
    client: reqwest::Client,
}

impl OpenAiEmbedder {
    /// `base_url` with or without a trailing `/v1`.
    pub fn new(base_url: &str, model: &str, api_key: Option<&str>, dim: usize) -> OpenAiEmbedder {
        let base = base_url.trim_end_matches('/');
        let url = if base.ends_with("/v1") {
            format!("{base}/embeddings")
        } else {
            format!("{base}/v1/embeddings")
        };
        OpenAiEmbedder {
            url,
            model: model.to_string(),
            api_key: api_key.map(str::to_string),
            dim,
            client: client(),
        }
    }

    /// Asks the server once to learn the model's dimension.
    pub async fn detect(base_url: &str, model: &str, api_key: Option<&str>) -> Result<OpenAiEmbedder> {
        let mut e = OpenAiEmbedder::new(base_url, model, api_key, 0);
        let v = e.request(&["dimension probe".to_string()]).await?;
        e.dim = v.first().map_or(0, Vec::len);
        Ok(e)
    }

    async fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let body = json!({ "model": self.model, "input": texts });
        let answer = post_json(&self.client, &self.url, self.api_key.as_deref(), &body).await?;
        let data = answer
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| GraphError::Embed(format!("{}: no `data` array in the answer", self.url)))?;
        let mut out: Vec<(usize, Vec<f32>)> = Vec::with_capacity(data.len());
        for (i, d) in data.iter().enumerate() {
            let index = d.get("index").and_then(Value::as_u64).map_or(i, |x| x as usize);
            let v = d
                .get("embedding")
                .and_then(floats)
                .ok_or_else(|| GraphError::Embed(format!("{}: item {i} has no `embedding`", self.url)))?;
            out.push((index, v));
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }
}

impl Embedder for OpenAiEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn dim(&self) -> usize {
        self.dim
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.request(texts).await
    }
}

/// What [`embed_pending`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EmbedReport {
    /// Entities that got a vector.
    pub embedded: usize,
    /// Of those, how many came from the cache (no request).
    pub from_cache: usize,
    pub requests: usize,
}

/// The text embedded for an entity.
pub fn entity_text(kind: &str, qualified_name: &str, signature: &str, doc: Option<&str>) -> String {
    format!("{kind} {qualified_name}\n{signature}\n{}", doc.unwrap_or(""))
}

/// Embeds every entity that has no vector yet, `batch` texts per request, committing each batch.
pub async fn embed_pending(db: &GraphDb, embedder: &impl Embedder, batch: usize) -> Result<EmbedReport> {
    embed_pending_between(db, embedder, batch, || {}).await
}

/// [`embed_pending`], calling `between` after each committed batch (the graph worker answers
/// queries there, so embedding a large index never holds them up for more than one batch).
pub async fn embed_pending_between(
    db: &GraphDb,
    embedder: &impl Embedder,
    batch: usize,
    between: impl Fn(),
) -> Result<EmbedReport> {
    let dim = embedder.dim();
    if dim == 0 {
        return Err(GraphError::Embed("the embedder reports dimension 0".into()));
    }
    db.ensure_vectors(embedder.model(), dim)?;
    let binary = db.has_binary_vectors()?;
    let batch = batch.max(1);
    let mut report = EmbedReport::default();
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, String)> = {
            let mut st = db.conn.prepare_cached(
                "SELECT id, kind, qualified_name, signature, doc FROM entities e
                 WHERE id > ?1 AND NOT EXISTS (SELECT 1 FROM entity_vectors v WHERE v.rowid = e.id)
                 ORDER BY id LIMIT ?2",
            )?;
            st.query_map(params![after, batch as i64], |r| {
                let doc: Option<String> = r.get(4)?;
                Ok((
                    r.get(0)?,
                    entity_text(
                        &r.get::<_, String>(1)?,
                        &r.get::<_, String>(2)?,
                        &r.get::<_, String>(3)?,
                        doc.as_deref(),
                    ),
                ))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let Some(&(last, _)) = rows.last() else { break };
        after = last;
        let hashes: Vec<String> =
            rows.iter().map(|(_, t)| super::index::content_hash(t.as_bytes())).collect();
        let mut vectors: Vec<Option<Vec<f32>>> = Vec::with_capacity(rows.len());
        {
            let mut st = db.conn.prepare_cached(
                "SELECT vector FROM embeddings_cache WHERE content_hash = ?1 AND model = ?2",
            )?;
            for h in &hashes {
                let v: Option<Vec<u8>> =
                    st.query_row(params![h, embedder.model()], |r| r.get(0)).optional()?;
                vectors.push(v.map(|b| blob_vector(&b)).filter(|v| v.len() == dim));
            }
        }
        let missing: Vec<usize> = (0..rows.len()).filter(|&i| vectors[i].is_none()).collect();
        report.from_cache += rows.len() - missing.len();
        if !missing.is_empty() {
            let texts: Vec<String> = missing.iter().map(|&i| rows[i].1.clone()).collect();
            let got = embedder.embed(&texts).await?;
            report.requests += 1;
            if got.len() != texts.len() {
                return Err(GraphError::Embed(format!(
                    "asked for {} vectors, got {}",
                    texts.len(),
                    got.len()
                )));
            }
            for (&i, v) in missing.iter().zip(got) {
                if v.len() != dim {
                    return Err(GraphError::EmbeddingDim { expected: dim, got: v.len() });
                }
                vectors[i] = Some(v);
            }
        }
        let tx = Transaction::new_unchecked(&db.conn, TransactionBehavior::Immediate)?;
        {
            let mut cache = tx.prepare_cached(
                "INSERT OR REPLACE INTO embeddings_cache(content_hash, model, vector) VALUES (?1, ?2, ?3)",
            )?;
            for (i, v) in vectors.iter().enumerate() {
                let Some(v) = v else { continue };
                if missing.contains(&i) {
                    cache.execute(params![hashes[i], embedder.model(), vector_blob(v)])?;
                }
                put_vector_in(&tx, rows[i].0, v, binary)?;
                report.embedded += 1;
            }
        }
        tx.commit()?;
        between();
    }
    Ok(report)
}
