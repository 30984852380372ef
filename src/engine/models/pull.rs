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

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, ETAG};
use sha2::{Digest, Sha256};

use super::{Entry, ModelStore, gguf, ollama, registry, transfer};
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
    let target = transfer::Target { url: &plan.url, total: plan.total, part: &part, reference };
    transfer::download(client, &target, options, progress).await?;
    progress(PullProgress::Verifying { known: plan.sha256.is_some() });
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
        let hex = "A".repeat(64);
        assert_eq!(sha256_hex(&format!("W/\"{hex}\"")), Some("a".repeat(64)));
        assert_eq!(sha256_hex("\"abc\""), None);
    }
}
