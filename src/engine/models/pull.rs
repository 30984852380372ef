//! `pull REF`: download a GGUF into kv1nt's models directory and register it.
//!
//! `hf:OWNER/REPO/FILE.gguf[@REV]` is fetched from `{KV1NT_HF_ENDPOINT or huggingface.co}/OWNER/
//! REPO/resolve/REV/FILE`; `ollama:NAME[:TAG]` reads the manifest from `{KV1NT_OLLAMA_REGISTRY or
//! registry.ollama.ai}/v2/library/NAME/manifests/TAG` and fetches the model layer's blob by digest.
//!
//! Invariants: bytes go to `FILE.part` and reach `FILE` only after the sha256 matched (Ollama: the
//! layer's digest; Hugging Face: `--sha256`, else the `X-Linked-Etag`/`ETag` when it is a sha256)
//! and the header reads as GGUF — a mismatch deletes the `.part`. A dropped connection resumes
//! with `Range: bytes=N-` (a few times here, and on the next `pull`); a full disk keeps the
//! `.part` and says which directory needs how many bytes. Transfers go through the caller's
//! reqwest client; only the size/ETag probe uses a client that does not follow redirects
//! (Hugging Face sends the checksum on the redirect, not on the CDN's answer).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, RANGE};
use sha2::{Digest, Sha256};

use super::{Entry, ModelStore, gguf, human_size, ollama, registry};
use crate::engine::protocol::{LocalModel, ModelOrigin, PullProgress};

const MAX_MANIFEST: usize = 1024 * 1024;

/// What `pull` downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Hf { owner: String, repo: String, file: String, rev: String },
    Ollama { name: String, tag: String },
}

impl Source {
    pub fn parse(reference: &str) -> Result<Source> {
        if let Some(rest) = reference.strip_prefix("ollama:") {
            let (name, tag) = ollama::parse_name(rest)
                .with_context(|| format!("`{rest}` is not an Ollama model name (NAME or NAME:TAG)"))?;
            return Ok(Source::Ollama { name, tag });
        }
        let usage = || {
            anyhow!(
                "`{reference}` is not a model reference: use hf:OWNER/REPO/FILE.gguf[@REVISION] or ollama:NAME[:TAG]"
            )
        };
        let rest = reference.strip_prefix("hf:").ok_or_else(usage)?;
        let (path, rev) = rest.rsplit_once('@').unwrap_or((rest, "main"));
        let parts: Vec<&str> = path.split('/').collect();
        let plain = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        };
        if parts.len() < 3 || !parts.iter().all(|p| plain(p)) || !plain(rev) || !path.ends_with(".gguf") {
            return Err(usage());
        }
        Ok(Source::Hf {
            owner: parts[0].into(),
            repo: parts[1].into(),
            file: parts[2..].join("/"),
            rev: rev.into(),
        })
    }

    /// The file name in kv1nt's models directory.
    pub fn file_name(&self) -> String {
        match self {
            Source::Hf { file, .. } => file.rsplit('/').next().unwrap_or(file).to_string(),
            Source::Ollama { name, tag } => format!("ollama-{name}-{tag}.gguf"),
        }
    }

    /// The name it is registered under unless `--name` says otherwise.
    pub fn default_name(&self) -> String {
        match self {
            Source::Hf { .. } => self.file_name().trim_end_matches(".gguf").to_string(),
            Source::Ollama { name, tag } => format!("{name}:{tag}"),
        }
    }
}

/// The servers downloads come from.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub hf: String,
    pub ollama: String,
}

impl Endpoints {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Endpoints {
        let get = |name: &str, default: &str| {
            env(name)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_string())
                .trim_end_matches('/')
                .to_string()
        };
        Endpoints {
            hf: get("KV1NT_HF_ENDPOINT", "https://huggingface.co"),
            ollama: get("KV1NT_OLLAMA_REGISTRY", "https://registry.ollama.ai"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Register under this name instead of [`Source::default_name`].
    pub name: Option<String>,
    /// The expected sha256 (hex), overriding what the server says.
    pub sha256: Option<String>,
    pub endpoints: Endpoints,
    /// Tries per `pull` (a dropped connection resumes from where it stopped).
    pub attempts: u32,
    /// A connection that sends nothing for this long is dropped and resumed.
    pub idle: Duration,
}

impl PullOptions {
    pub fn from_env() -> PullOptions {
        let env = |name: &str| std::env::var(name).ok();
        PullOptions {
            name: None,
            sha256: None,
            endpoints: Endpoints::from_env(&env),
            attempts: 5,
            idle: Duration::from_secs(60),
        }
    }
}

/// Where the bytes come from and what they must hash to.
struct Plan {
    url: String,
    sha256: Option<String>,
    total: Option<u64>,
}

/// Downloads `reference` into `store`, registers it and returns it.
pub async fn pull(
    store: &ModelStore,
    client: &reqwest::Client,
    reference: &str,
    options: &PullOptions,
    progress: &mut (dyn FnMut(PullProgress) + Send),
) -> Result<LocalModel> {
    let source = Source::parse(reference)?;
    let name = options.name.clone().unwrap_or_else(|| source.default_name());
    registry::check_name(&name)?;
    if let Some(existing) = store.registry()?.models.get(&name) {
        bail!(
            "a model `{name}` is already registered ({}); `kv1nt model rm {name}` first, or --name",
            existing.path.display()
        );
    }
    let wanted = match &options.sha256 {
        Some(hex) => {
            Some(sha256_hex(hex).with_context(|| format!("`{hex}` is not a sha256 (64 hex digits)"))?)
        }
        None => None,
    };
    let plan = match &source {
        Source::Ollama { name, tag } => ollama_plan(client, &options.endpoints.ollama, name, tag).await?,
        Source::Hf { owner, repo, file, rev } => {
            let url = format!("{}/{owner}/{repo}/resolve/{rev}/{file}", options.endpoints.hf);
            let (total, etag) = probe(&url).await?;
            Plan { url, sha256: None, total }.with_etag(etag)
        }
    };
    let plan = Plan { sha256: wanted.or(plan.sha256), ..plan };
    let dest = store.dir.join(source.file_name());
    let part = store.dir.join(format!("{}.part", source.file_name()));
    if dest.exists() {
        bail!(
            "{} already exists; `kv1nt model add {}` registers it, or remove it first",
            dest.display(),
            dest.display()
        );
    }
    std::fs::create_dir_all(&store.dir).with_context(|| format!("cannot create {}", store.dir.display()))?;
    download(client, &plan, &part, reference, options, progress).await?;
    progress(PullProgress::Verifying);
    let got = hash_file(&part).await?;
    match &plan.sha256 {
        Some(expected) if *expected != got => {
            let _ = std::fs::remove_file(&part);
            bail!(
                "checksum mismatch for {reference}: expected sha256 {expected}, the download has {got}; it was deleted"
            )
        }
        _ => {}
    }
    if let Err(e) = gguf::read(&part) {
        let _ = std::fs::remove_file(&part);
        return Err(
            anyhow!(e).context(format!("{reference} is not a usable GGUF model; the download was deleted"))
        );
    }
    std::fs::rename(&part, &dest)
        .with_context(|| format!("cannot move the download to {}", dest.display()))?;
    let size = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or_default();
    let mut registry = store.registry()?;
    let entry = Entry {
        path: dest.clone(),
        size,
        sha256: Some(got),
        source: reference.to_string(),
        downloaded: true,
    };
    registry.models.insert(name.clone(), entry);
    registry.save(&store.registry_path())?;
    Ok(LocalModel { name, path: dest, size, origin: ModelOrigin::Downloaded })
}

impl Plan {
    fn with_etag(self, etag: Option<String>) -> Plan {
        Plan { sha256: self.sha256.or(etag), ..self }
    }
}

/// `HEX` lowercased when it is a sha256; ETags may be quoted or weak (`W/"…"`).
pub fn sha256_hex(text: &str) -> Option<String> {
    let hex = text.trim().trim_start_matches("W/").trim_matches('"').to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

async fn ollama_plan(client: &reqwest::Client, registry_url: &str, name: &str, tag: &str) -> Result<Plan> {
    let url = format!("{registry_url}/v2/library/{name}/manifests/{tag}");
    let response = client
        .get(&url)
        .header("accept", "application/vnd.docker.distribution.manifest.v2+json")
        .send()
        .await
        .with_context(|| format!("cannot reach Ollama's registry at {url}"))?;
    if !response.status().is_success() {
        bail!("Ollama's registry has no {name}:{tag} ({} from {url})", response.status());
    }
    let body = bounded_body(response, MAX_MANIFEST).await?;
    let manifest: ollama::Manifest =
        serde_json::from_slice(&body).context("Ollama's registry sent a manifest kv1nt cannot read")?;
    let (hex, size) =
        manifest.model_layer().context("the manifest has no model layer with a sha256 digest")?;
    let url = format!("{registry_url}/v2/library/{name}/blobs/sha256:{hex}");
    Ok(Plan { url, sha256: Some(hex), total: (size > 0).then_some(size) })
}

async fn bounded_body(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.context("the connection dropped")? {
        if body.len() + chunk.len() > max {
            bail!("the answer is larger than {max} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The size and the sha256 ETag a `HEAD` tells, without following the redirect to the CDN.
async fn probe(url: &str) -> Result<(Option<u64>, Option<String>)> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("kv1nt/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot build the HTTP client")?;
    let Ok(response) = client.head(url).send().await else { return Ok((None, None)) };
    let status = response.status();
    if matches!(status, StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        bail!("{url} answered {status}: no such file, or the repository is gated or private");
    }
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
    let size = header("x-linked-size")
        .or_else(|| if status.is_success() { header(CONTENT_LENGTH.as_str()) } else { None })
        .and_then(|v| v.trim().parse().ok());
    let etag = header("x-linked-etag").or_else(|| header(ETAG.as_str())).and_then(sha256_hex);
    Ok((size, etag))
}

/// How one request ended.
enum Step {
    Done,
    Retry(String),
}

async fn download(
    client: &reqwest::Client,
    plan: &Plan,
    part: &Path,
    reference: &str,
    options: &PullOptions,
    progress: &mut (dyn FnMut(PullProgress) + Send),
) -> Result<()> {
    let mut total = plan.total;
    let mut announced = false;
    for attempt in 1..=options.attempts.max(1) {
        let step = fetch_once(client, plan, part, &mut total, &mut announced, options.idle, progress).await?;
        let reason = match step {
            Step::Done => return Ok(()),
            Step::Retry(reason) => reason,
        };
        let done = part_len(part);
        if attempt == options.attempts.max(1) {
            bail!(
                "the download stopped ({reason}) after {attempt} tries; {done} bytes are kept in {} and \
                 `kv1nt model pull {reference}` resumes from there",
                part.display()
            );
        }
        progress(PullProgress::Retrying { attempt, done, reason });
        tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
    }
    unreachable!("the loop returns on its last attempt")
}

fn part_len(part: &Path) -> u64 {
    std::fs::metadata(part).map(|m| m.len()).unwrap_or(0)
}

async fn fetch_once(
    client: &reqwest::Client,
    plan: &Plan,
    part: &Path,
    total: &mut Option<u64>,
    announced: &mut bool,
    idle: Duration,
    progress: &mut (dyn FnMut(PullProgress) + Send),
) -> Result<Step> {
    let mut have = part_len(part);
    if total.is_some_and(|t| have > t) {
        truncate(part)?;
        have = 0;
    }
    if total.is_some_and(|t| have == t) && have > 0 {
        return Ok(Step::Done);
    }
    let mut request = client.get(&plan.url);
    if have > 0 {
        request = request.header(RANGE, format!("bytes={have}-"));
    }
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Ok(Step::Retry(crate::engine::llm::http::error_chain(&e))),
    };
    let status = response.status();
    let header =
        |name| response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
    match status {
        StatusCode::PARTIAL_CONTENT => {
            let range = header(CONTENT_RANGE).and_then(parse_content_range);
            match range {
                Some((start, whole)) if start == have => *total = total.or(whole),
                _ => {
                    truncate(part)?;
                    return Ok(Step::Retry("the server resumed at another offset; starting over".into()));
                }
            }
        }
        StatusCode::OK => {
            if have > 0 {
                truncate(part)?;
                have = 0;
            }
            *total = total.or_else(|| header(CONTENT_LENGTH).and_then(|v| v.parse().ok()));
        }
        StatusCode::RANGE_NOT_SATISFIABLE => {
            truncate(part)?;
            return Ok(Step::Retry("the server refused the resume range; starting over".into()));
        }
        s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
            return Ok(Step::Retry(format!("{s} from the server")));
        }
        s => bail!("{} answered {s}", plan.url),
    }
    if !*announced {
        *announced = true;
        progress(PullProgress::Started { total: *total, resumed_from: have });
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(part)
        .with_context(|| format!("cannot write {}", part.display()))?;
    let mut done = have;
    let mut body = response.bytes_stream();
    loop {
        let chunk = match tokio::time::timeout(idle, body.next()).await {
            Err(_) => return Ok(Step::Retry(format!("no data for {} s", idle.as_secs()))),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Ok(Step::Retry(crate::engine::llm::http::error_chain(&e))),
            Ok(Some(Ok(chunk))) => chunk,
        };
        file.write_all(&chunk).map_err(|e| write_error(e, part, done, *total))?;
        done += chunk.len() as u64;
        progress(PullProgress::Bytes { done, total: *total });
    }
    file.sync_all().map_err(|e| write_error(e, part, done, *total))?;
    match *total {
        Some(t) if done < t => Ok(Step::Retry(format!("the connection closed at {done} of {t} bytes"))),
        Some(t) if done > t => {
            truncate(part)?;
            bail!("the server sent {done} bytes for a file of {t}; the download was deleted")
        }
        _ => Ok(Step::Done),
    }
}

/// `bytes START-END/TOTAL` → (START, TOTAL when not `*`).
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, whole) = rest.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, whole.trim().parse().ok()))
}

fn truncate(part: &Path) -> Result<()> {
    match std::fs::OpenOptions::new().write(true).truncate(true).open(part) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow!("cannot reset {}: {e}", part.display())),
    }
}

fn write_error(e: std::io::Error, part: &Path, done: u64, total: Option<u64>) -> anyhow::Error {
    if e.raw_os_error() != Some(libc::ENOSPC) {
        return anyhow!("cannot write {}: {e}", part.display());
    }
    let dir = part.parent().map(PathBuf::from).unwrap_or_default();
    let needed = match total {
        Some(t) => format!("{} more bytes ({})", t.saturating_sub(done), human_size(t.saturating_sub(done))),
        None => "more room (the size is unknown)".to_string(),
    };
    anyhow!(
        "the disk is full: {} needs {needed} for this model. The {done} bytes downloaded so far are kept in {}; \
         free some space and run the same pull again to resume",
        dir.display(),
        part.display()
    )
}

async fn hash_file(path: &Path) -> Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<String> {
        let mut file =
            std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(format!("{:x}", hasher.finalize()))
    })
    .await
    .context("the checksum task failed")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_strictly() {
        let hf = Source::parse("hf:Qwen/Repo-GGUF/sub/m-q4.gguf@abc123").unwrap();
        assert_eq!(
            hf,
            Source::Hf {
                owner: "Qwen".into(),
                repo: "Repo-GGUF".into(),
                file: "sub/m-q4.gguf".into(),
                rev: "abc123".into()
            }
        );
        assert_eq!(hf.file_name(), "m-q4.gguf");
        assert_eq!(hf.default_name(), "m-q4");
        let o = Source::parse("ollama:gemma3:270m").unwrap();
        assert_eq!(
            (o.file_name(), o.default_name()),
            ("ollama-gemma3-270m.gguf".into(), "gemma3:270m".into())
        );
        for bad in ["hf:a/b", "hf:a/b/../x.gguf", "hf:a/b/c.bin", "x:y", "ollama:../x", "hf:a/b/c.gguf@../x"]
        {
            assert!(Source::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        let hex = "A".repeat(64);
        assert_eq!(sha256_hex(&format!("W/\"{hex}\"")), Some("a".repeat(64)));
        assert_eq!(sha256_hex("\"abc\""), None);
    }
}
