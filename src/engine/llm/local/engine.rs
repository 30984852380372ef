//! The inference thread of the built-in provider (llama.cpp through `llama-cpp-2`).
//!
//! One thread per process owns the loaded chat model; requests arrive over a channel and run one
//! at a time. Tokens go back over the request's tokio channel as [`StreamEvent`]s.
//!
//! Invariants:
//! - No llama.cpp call ever runs on a tokio worker: the UI's runtime only waits on channels.
//! - The model is loaded once and kept; it is reloaded only when the path (or GPU layers) change.
//! - Cancel: the request's channel closes when its [`EventStream`](super::super::EventStream) is
//!   dropped; the loop checks that before every token and between prompt chunks sized to take
//!   well under 100 ms, so Esc stops generation within the 200 ms the UI promises.
//! - A panic in llama-cpp-2's wrappers fails that request, not the thread or the process.

use std::num::NonZeroU32;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, mpsc as std_mpsc};
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use tokio::sync::{mpsc, oneshot};

use super::prompt;
use super::settings::LocalConfig;
use crate::engine::llm::types::{ChatRequest, StreamEvent, Usage};
use crate::engine::llm::{LlmError, ProviderKind};

const KIND: ProviderKind = ProviderKind::Local;
/// Tokens per decode call while reading the prompt: bounds how long a cancel can wait.
const MAX_CHUNK: usize = 512;

pub type Events = mpsc::Sender<Result<StreamEvent, LlmError>>;

/// One reply to generate.
pub struct Job {
    pub path: PathBuf,
    pub settings: LocalConfig,
    pub request: ChatRequest,
    /// GBNF grammar the whole reply must match (a forced tool call), if any.
    pub grammar: Option<String>,
    /// Answered once the model is loaded and the prompt fits (or with why not).
    pub started: oneshot::Sender<Result<(), LlmError>>,
    pub events: Events,
}

/// llama.cpp's process-wide backend, initialised once (a second init is an error), with its
/// logs sent to `tracing` (the log file) instead of stderr, which would scribble over the TUI.
pub fn backend() -> Result<&'static LlamaBackend, String> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| format!("llama.cpp did not initialise: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Load the GGUF at `path` (errors say which file and why).
pub fn load_model(path: &std::path::Path, gpu_layers: u32) -> Result<LlamaModel, String> {
    if !path.is_file() {
        return Err(format!("{} does not exist (set [local] model to a GGUF file)", path.display()));
    }
    // Parsed in Rust first: a file that is not GGUF never reaches the C++ loader.
    crate::engine::models::gguf::info(path).map_err(|e| e.to_string())?;
    let params = LlamaModelParams::default().with_n_gpu_layers(gpu_layers);
    LlamaModel::load_from_file(backend()?, path, &params)
        .map_err(|e| format!("llama.cpp could not load {}: {e}", path.display()))
}

/// Hand `job` to the inference thread, starting it (again) when needed.
pub fn submit(job: Job) {
    static SENDER: Mutex<Option<std_mpsc::Sender<Job>>> = Mutex::new(None);
    if let Err((job, e)) = send_to_worker(&SENDER, "kv1nt-local-model", worker, job) {
        let _ = job.started.send(Err(not_ready(format!("cannot start the inference thread: {e}"))));
    }
}

/// Sends `job` to the worker thread whose sender `slot` holds, starting the thread as `name`
/// first when there is none or it died (a dead thread's channel gives the job back). The job
/// comes back with the reason when no thread can be started. Shared with the embedder's thread.
pub fn send_to_worker<J: Send + 'static>(
    slot: &Mutex<Option<std_mpsc::Sender<J>>>,
    name: &str,
    worker: fn(std_mpsc::Receiver<J>),
    job: J,
) -> Result<(), (J, std::io::Error)> {
    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
    let job = match slot.as_ref() {
        Some(tx) => match tx.send(job) {
            Ok(()) => return Ok(()),
            Err(std_mpsc::SendError(job)) => job, // the thread died: start another
        },
        None => job,
    };
    let (tx, rx) = std_mpsc::channel::<J>();
    match std::thread::Builder::new().name(name.into()).spawn(move || worker(rx)) {
        Ok(_) => {
            let _ = tx.send(job);
            *slot = Some(tx);
            Ok(())
        }
        Err(e) => Err((job, e)),
    }
}

fn not_ready(hint: String) -> LlmError {
    LlmError::NotConfigured { provider: KIND, hint }
}

fn worker(rx: std_mpsc::Receiver<Job>) {
    let mut loaded: Option<(PathBuf, u32, LlamaModel)> = None;
    while let Ok(job) = rx.recv() {
        let Job { path, settings, request, grammar, started, events } = job;
        let reuse = loaded.as_ref().is_some_and(|(p, g, _)| *p == path && *g == settings.gpu_layers);
        if !reuse {
            loaded = None; // free the old model before loading the next
            match load_model(&path, settings.gpu_layers) {
                Ok(model) => loaded = Some((path.clone(), settings.gpu_layers, model)),
                Err(why) => {
                    let _ = started.send(Err(not_ready(why)));
                    continue;
                }
            }
        }
        let Some((_, _, model)) = loaded.as_ref() else { continue };
        let mut started = Some(started);
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            generate(model, &settings, &request, grammar.as_deref(), &mut started, &events)
        }));
        let error = match outcome {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(_) => stream_error("llama.cpp failed while generating (see the log file)".into()),
        };
        match started.take() {
            Some(started) => {
                let _ = started.send(Err(error));
            }
            None => {
                let _ = events.blocking_send(Err(error));
            }
        }
    }
}

fn stream_error(message: String) -> LlmError {
    LlmError::StreamError { provider: KIND, kind: "local".into(), message }
}

/// The prompt text: the GGUF's chat template applied by llama.cpp, else the plain format.
fn render_prompt(model: &LlamaModel, request: &ChatRequest) -> String {
    let messages = prompt::chat_messages(request);
    let templated = model.chat_template(None).ok().and_then(|template| {
        let chat: Vec<LlamaChatMessage> = messages
            .iter()
            .filter_map(|(role, content)| LlamaChatMessage::new(role.clone(), content.replace('\0', "")).ok())
            .collect();
        model.apply_chat_template(&template, &chat, true).ok()
    });
    templated.unwrap_or_else(|| prompt::plain_prompt(&messages))
}

fn sampler(
    model: &LlamaModel,
    request: &ChatRequest,
    grammar: Option<&str>,
) -> Result<LlamaSampler, LlmError> {
    let mut chain = Vec::new();
    if let Some(grammar) = grammar {
        chain.push(
            LlamaSampler::grammar(model, grammar, "root")
                .map_err(|e| stream_error(format!("the tool-call grammar was refused: {e}")))?,
        );
    }
    match request.temperature {
        Some(t) if t <= 0.0 => chain.push(LlamaSampler::greedy()),
        t => {
            chain.push(LlamaSampler::penalties(model.n_vocab(), 64, 1.1, 0.0, 0.0));
            chain.push(LlamaSampler::top_k(40));
            chain.push(LlamaSampler::top_p(0.95, 1));
            chain.push(LlamaSampler::min_p(0.05, 1));
            chain.push(LlamaSampler::temp(t.unwrap_or(0.7)));
            chain.push(LlamaSampler::dist(seed()));
        }
    }
    Ok(LlamaSampler::chain_simple(chain))
}

fn seed() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
}

fn generate(
    model: &LlamaModel,
    settings: &LocalConfig,
    request: &ChatRequest,
    grammar: Option<&str>,
    started: &mut Option<oneshot::Sender<Result<(), LlmError>>>,
    events: &Events,
) -> Result<(), LlmError> {
    let vocab = model.vocab();
    let text = render_prompt(model, request);
    let tokens = vocab.tokenize(text.as_bytes(), true, true);
    let window = (model.n_ctx_train() as usize).min(settings.max_ctx.max(256));
    if tokens.is_empty() || tokens.len() >= window {
        return Err(stream_error(format!(
            "the prompt is {} tokens; the model's context is {window} ([local] max_ctx)",
            tokens.len()
        )));
    }
    let max_new = (request.max_tokens.max(1) as usize).min(window - tokens.len());
    // Allocate only what this reply can use: a smaller KV cache is faster to set up and lighter.
    let ctx_size = (tokens.len() + max_new).next_multiple_of(256).min(window);
    let threads = settings.thread_count() as i32;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(ctx_size as u32))
        .with_n_batch(MAX_CHUNK as u32)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = model
        .new_context(backend().map_err(stream_error)?, params)
        .map_err(|e| stream_error(format!("cannot create a context of {ctx_size} tokens: {e}")))?;
    let mut sampler = sampler(model, request, grammar)?;
    if let Some(started) = started.take() {
        let _ = started.send(Ok(()));
    }

    // Read the prompt in chunks whose size adapts so that one takes 20–80 ms.
    let mut batch = LlamaBatch::new(MAX_CHUNK, 1);
    let mut chunk = 32usize;
    let mut done = 0usize;
    while done < tokens.len() {
        if events.is_closed() {
            return Ok(());
        }
        let end = (done + chunk).min(tokens.len());
        batch.clear();
        for (i, token) in tokens[done..end].iter().enumerate() {
            let pos = done + i;
            batch
                .add(*token, pos as i32, &[0], pos + 1 == tokens.len())
                .map_err(|e| stream_error(format!("batch: {e}")))?;
        }
        let t0 = Instant::now();
        ctx.decode(&mut batch).map_err(|e| stream_error(format!("decoding the prompt: {e}")))?;
        let ms = t0.elapsed().as_millis();
        chunk = if ms < 20 {
            (chunk * 2).min(MAX_CHUNK)
        } else if ms > 80 {
            (chunk / 2).max(4)
        } else {
            chunk
        };
        done = end;
    }

    let mut reply = String::new();
    let mut sent = 0usize; // bytes of `reply` already streamed
    let mut bytes: Vec<u8> = Vec::new(); // a token's piece may end inside a UTF-8 character
    let mut produced = 0u64;
    let mut stop_reason = "length";
    for pos in (tokens.len() as i32..).take(max_new) {
        if events.is_closed() {
            return Ok(());
        }
        let token = sampler.sample(&ctx, batch.n_tokens() - 1);
        produced += 1;
        if vocab.is_eog(token) {
            stop_reason = "stop";
            break;
        }
        bytes.extend(vocab.token_to_piece(token, false, None));
        let valid = match std::str::from_utf8(&bytes) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => bytes.len(), // invalid bytes: shown lossily, not held forever
        };
        let checked = reply.len();
        reply.push_str(&String::from_utf8_lossy(&bytes[..valid]));
        bytes.drain(..valid);
        if let Some(end) = prompt::stop_at(&reply, checked) {
            reply.truncate(end);
            stop_reason = "stop";
            break;
        }
        let ready = reply.len() - prompt::pending_prefix(&reply);
        if ready > sent {
            if events.blocking_send(Ok(StreamEvent::TextDelta(reply[sent..ready].to_string()))).is_err() {
                return Ok(());
            }
            sent = ready;
        }
        batch.clear();
        batch.add(token, pos, &[0], true).map_err(|e| stream_error(format!("batch: {e}")))?;
        ctx.decode(&mut batch).map_err(|e| stream_error(format!("decoding: {e}")))?;
    }
    let mut tail: Vec<StreamEvent> = Vec::new();
    if reply.len() > sent {
        tail.push(StreamEvent::TextDelta(reply[sent..].to_string()));
    }
    tail.push(StreamEvent::Usage(Usage {
        input_tokens: tokens.len() as u64,
        output_tokens: produced,
        ..Usage::default()
    }));
    tail.push(StreamEvent::Done { stop_reason: Some(stop_reason.to_string()) });
    for event in tail {
        if events.blocking_send(Ok(event)).is_err() {
            break;
        }
    }
    Ok(())
}
