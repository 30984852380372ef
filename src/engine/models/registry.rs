//! `<data dir>/models/registry.toml`: the models kv1nt knows by name — path, size, sha256,
//! where it came from, and whether kv1nt downloaded the file (only those are ever deleted).
//!
//! Invariants: the file is read whole (bounded) and written atomically (a temp file renamed
//! over it), so a crash or a full disk never leaves half a registry; a file that does not parse
//! is an error naming it, never silently replaced by an empty one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// A registry larger than this is refused (it holds a few lines per model).
const MAX_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: PathBuf,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `hf:…`, `ollama:…` for a pull; `file` for `add`.
    pub source: String,
    /// kv1nt downloaded the file into its models directory, so `rm` deletes it.
    #[serde(default)]
    pub downloaded: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Registry {
    #[serde(default)]
    pub models: BTreeMap<String, Entry>,
}

impl Registry {
    pub fn load(path: &Path) -> Result<Registry> {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Registry::default()),
            Err(e) => bail!("cannot read {}: {e}", path.display()),
            Ok(meta) if meta.len() > MAX_BYTES => {
                bail!("{} is {} bytes, too large for a model registry", path.display(), meta.len())
            }
            Ok(_) => {}
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid model registry; fix or remove it", path.display()))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self).context("cannot encode the model registry")?;
        let dir = path.parent().context("the registry has no directory")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        std::io::Write::write_all(&mut tmp, text.as_bytes())
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        tmp.as_file().sync_all()?;
        tmp.persist(path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(())
    }
}

/// A model name: 1–100 characters of letters, digits and `._:-` (not starting with `.` or `-`).
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with(['.', '-'])
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c));
    if !ok {
        bail!("`{name}` is not a model name: use 1-100 letters, digits, `.`, `_`, `:` or `-`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models/registry.toml");
        assert!(Registry::load(&path).unwrap().models.is_empty());
        let mut registry = Registry::default();
        let entry = Entry {
            path: "/m/a.gguf".into(),
            size: 3,
            sha256: None,
            source: "file".into(),
            downloaded: false,
        };
        registry.models.insert("a".into(), entry.clone());
        registry.save(&path).unwrap();
        assert_eq!(Registry::load(&path).unwrap().models["a"], entry);
        std::fs::write(&path, "models = 3").unwrap();
        let err = format!("{:#}", Registry::load(&path).unwrap_err());
        assert!(err.contains("not a valid model registry"), "{err}");
        assert!(check_name("qwen2.5-coder:1.5b").is_ok());
        for bad in ["", "../x", "a/b", "-x", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
