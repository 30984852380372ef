//! The real local model server (`scripts/local-model/serve.py`: llama.cpp via
//! xllamacpp serving Gemma 3 270M or a MiniLM embedding model) for end-to-end tests.
//!
//! `scripts/test` runs `scripts/local-model/setup.sh` and exports `KV1NT_MODEL_PYTHON`, `KV1NT_CHAT_MODEL`
//! (and `KV1NT_EMBED_MODEL` when embeddings were set up). [`LocalModelServer::start`]
//! serves one model on a free loopback port and waits until `GET /v1/models` answers
//! 200. With `KV1NT_SKIP_REAL_MODEL=1` it returns `Ok(None)` and tests skip; without
//! the variables it fails loudly, so a bare `cargo test` never skips silently.
//!
//! kv1nt's reqwest is async only (no `blocking` feature), so [`http_request`] speaks just
//! enough HTTP/1.0 over a `TcpStream` for readiness checks and small requests.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to load (generous: the machine may be compiling).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Which model to serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalModel {
    /// Gemma 3 270M: `/v1/messages` (Anthropic), `/v1/chat/completions` (OpenAI).
    Chat,
    /// all-MiniLM-L6-v2 (384 dims): `/v1/embeddings`.
    Embed,
}

impl LocalModel {
    /// The model name the server answers to (pass it as `--model`).
    pub fn name(self) -> &'static str {
        match self {
            LocalModel::Chat => "gemma3:270m",
            LocalModel::Embed => "all-minilm",
        }
    }
}

/// A running `serve.py`. Dropping it stops the server (SIGTERM, then kill).
pub struct LocalModelServer {
    /// `http://127.0.0.1:PORT` (no trailing slash, no `/v1`).
    pub base_url: String,
    /// The model name to request (see [`LocalModel::name`]).
    pub model: String,
    pub port: u16,
    child: Child,
    log_path: PathBuf,
    _log_dir: tempfile::TempDir,
}

fn env_var(name: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(format!(
            "{name} is not set. The real-model tests need the local model server: run the \
             tests with `scripts/test` (it installs the model with scripts/local-model/setup.sh \
             and exports KV1NT_MODEL_PYTHON/KV1NT_CHAT_MODEL), or set KV1NT_SKIP_REAL_MODEL=1 \
             to skip them."
        )),
    }
}

/// Whether real-model tests are switched off (prints why to stderr).
pub fn skip_real_model() -> bool {
    let skip = std::env::var("KV1NT_SKIP_REAL_MODEL").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("skipping real-model test: KV1NT_SKIP_REAL_MODEL=1");
    }
    skip
}

impl LocalModelServer {
    /// Start serving `kind` with serve.py's default window (4,096 tokens). `Ok(None)` only when
    /// `KV1NT_SKIP_REAL_MODEL=1`.
    pub fn start(kind: LocalModel) -> Result<Option<LocalModelServer>, String> {
        Self::start_with_ctx(kind, None)
    }

    /// [`start`](Self::start) with a context window of `ctx` tokens (llama.cpp's `n_ctx`).
    pub fn start_with_ctx(kind: LocalModel, ctx: Option<u32>) -> Result<Option<LocalModelServer>, String> {
        if skip_real_model() {
            return Ok(None);
        }
        let python = env_var("KV1NT_MODEL_PYTHON")?;
        let model_file = match kind {
            LocalModel::Chat => env_var("KV1NT_CHAT_MODEL")?,
            LocalModel::Embed => env_var("KV1NT_EMBED_MODEL")?,
        };
        let serve = serve_script();
        if !Path::new(&model_file).is_file() {
            return Err(format!("model file {model_file} is missing: run scripts/test again"));
        }

        // Another process may grab the port between probing and binding: retry.
        let mut last_err = String::new();
        for _ in 0..3 {
            match Self::try_start(kind, &python, &serve, &model_file, ctx) {
                Ok(server) => return Ok(Some(server)),
                Err((err, retry)) => {
                    last_err = err;
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last_err)
    }

    /// `Err((message, worth retrying on another port))`.
    fn try_start(
        kind: LocalModel,
        python: &str,
        serve: &Path,
        model_file: &str,
        ctx: Option<u32>,
    ) -> Result<LocalModelServer, (String, bool)> {
        let port = free_port().map_err(|e| (format!("no free port: {e}"), false))?;
        let log_dir = tempfile::tempdir().map_err(|e| (format!("temp dir: {e}"), false))?;
        let log_path = log_dir.path().join("serve.log");
        let log = File::create(&log_path).map_err(|e| (format!("log file: {e}"), false))?;
        let log_err = log.try_clone().map_err(|e| (format!("log file: {e}"), false))?;

        let mut cmd = Command::new(python);
        cmd.arg(serve)
            .args(["--model", model_file, "--port", &port.to_string(), "--alias", kind.name()])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        if kind == LocalModel::Embed {
            cmd.arg("--embed");
        }
        if let Some(ctx) = ctx {
            cmd.args(["--ctx", &ctx.to_string()]);
        }
        let child =
            cmd.spawn().map_err(|e| (format!("spawning {python} {}: {e}", serve.display()), false))?;
        let mut server = LocalModelServer {
            base_url: format!("http://127.0.0.1:{port}"),
            model: kind.name().to_string(),
            port,
            child,
            log_path,
            _log_dir: log_dir,
        };

        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let tail = server.log_tail(40);
                let retry = tail.contains("bind") || tail.contains("in use");
                return Err((
                    format!("local model server exited early ({status}) on port {port}; log tail:\n{tail}"),
                    retry,
                ));
            }
            if let Ok((200, _)) = http_request(port, "GET", "/v1/models", None) {
                return Ok(server);
            }
            if started.elapsed() > START_TIMEOUT {
                return Err((
                    format!(
                        "local model server on port {port} did not answer GET /v1/models \
                         within {START_TIMEOUT:?}; log tail:\n{}",
                        server.log_tail(40)
                    ),
                    false,
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last `lines` lines of the server's log (stdout + stderr).
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// `(status, body)` of a request to this server.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> Result<(u16, String), String> {
        http_request(self.port, method, path, body)
    }
}

impl Drop for LocalModelServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM: serve.py exits cleanly on it.
            let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
            // SAFETY: kill(2) on our own child, not yet reaped (try_wait saw it running), so
            // the pid cannot have been reused.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The in-repository `scripts/local-model/serve.py`.
pub fn serve_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/local-model/serve.py")
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A minimal HTTP/1.0 request to `127.0.0.1:port` (JSON body if given);
/// `(status, body)`. Meant for readiness checks and small requests only.
pub fn http_request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let timeout = Some(Duration::from_secs(if body.is_some() { 120 } else { 10 }));
    stream.set_read_timeout(timeout).map_err(|e| e.to_string())?;
    stream.set_write_timeout(timeout).map_err(|e| e.to_string())?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n").ok_or_else(|| format!("bad response: {text:?}"))?;
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    Ok((status, rest.to_string()))
}
