//! Ollama's on-disk store, read in place: `$OLLAMA_MODELS` (else `~/.ollama/models`) holds
//! `manifests/registry.ollama.ai/NAMESPACE/NAME/TAG` (JSON) whose layer of media type
//! `application/vnd.ollama.image.model` names the GGUF blob `blobs/sha256-HEX`. Also the
//! manifest format of Ollama's registry, which `pull ollama:NAME[:TAG]` downloads.
//!
//! Invariants: the store is someone else's — only read, never written or deleted; manifests
//! are bounded in size and count, a digest must be `sha256:` and 64 hex digits before it
//! becomes a path, and a manifest that does not parse is skipped (it is Ollama's business).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::protocol::{LocalModel, ModelOrigin};

pub const MODEL_MEDIA_TYPE: &str = "application/vnd.ollama.image.model";
const REGISTRY_HOST: &str = "registry.ollama.ai";
const MAX_MANIFEST: u64 = 1024 * 1024;
/// Manifests looked at in one listing.
const MAX_MANIFESTS: usize = 10_000;

#[derive(Debug, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub layers: Vec<Layer>,
}

#[derive(Debug, Deserialize)]
pub struct Layer {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
}

impl Manifest {
    /// The model layer's sha256 (hex) and size.
    pub fn model_layer(&self) -> Option<(String, u64)> {
        let layer = self.layers.iter().find(|l| l.media_type == MODEL_MEDIA_TYPE)?;
        Some((digest_hex(&layer.digest)?.to_string(), layer.size))
    }
}

/// `sha256:HEX` → `HEX`, when HEX is 64 lowercase hex digits.
pub fn digest_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then_some(hex)
}

/// Where Ollama keeps its models here.
pub fn store_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = env("OLLAMA_MODELS").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    env("HOME").filter(|h| !h.is_empty()).map(|home| Path::new(&home).join(".ollama/models"))
}

/// The models in the store at `dir`: `NAME:TAG` for the library, `NAMESPACE/NAME:TAG` otherwise.
pub fn list(dir: &Path) -> Vec<LocalModel> {
    let root = dir.join("manifests").join(REGISTRY_HOST);
    let mut found = Vec::new();
    let mut seen = 0usize;
    for namespace in read_dirs(&root) {
        for model in read_dirs(&namespace) {
            let Ok(entries) = std::fs::read_dir(&model) else { continue };
            for tag in entries.flatten() {
                seen += 1;
                if seen > MAX_MANIFESTS {
                    return found;
                }
                if let Some(found_model) = one(dir, &namespace, &model, &tag.path()) {
                    found.push(found_model);
                }
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

fn file_name(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()
}

fn one(store: &Path, namespace: &Path, model: &Path, manifest: &Path) -> Option<LocalModel> {
    let meta = std::fs::metadata(manifest).ok()?;
    if !meta.is_file() || meta.len() > MAX_MANIFEST {
        return None;
    }
    let manifest_data: Manifest = serde_json::from_slice(&std::fs::read(manifest).ok()?).ok()?;
    let (hex, _) = manifest_data.model_layer()?;
    let blob = store.join("blobs").join(format!("sha256-{hex}"));
    let size = std::fs::metadata(&blob).ok().filter(|m| m.is_file())?.len();
    let (ns, name, tag) = (file_name(namespace)?, file_name(model)?, file_name(manifest)?);
    let name = if ns == "library" { format!("{name}:{tag}") } else { format!("{ns}/{name}:{tag}") };
    Some(LocalModel { name, path: blob, size, origin: ModelOrigin::Ollama })
}

/// `NAME[:TAG]` (TAG defaults to `latest`), both checked to be plain names.
pub fn parse_name(reference: &str) -> Option<(String, String)> {
    let (name, tag) = reference.split_once(':').unwrap_or((reference, "latest"));
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && !s.starts_with('.')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    (plain(name) && plain(tag)).then(|| (name.to_string(), tag.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_digests_are_checked() {
        assert_eq!(parse_name("qwen2.5-coder:1.5b"), Some(("qwen2.5-coder".into(), "1.5b".into())));
        assert_eq!(parse_name("gemma3"), Some(("gemma3".into(), "latest".into())));
        assert_eq!(parse_name("../x"), None);
        assert_eq!(parse_name("a:b/c"), None);
        assert!(digest_hex(&format!("sha256:{}", "a".repeat(64))).is_some());
        assert!(digest_hex("sha256:../../etc/passwd").is_none());
    }
}
