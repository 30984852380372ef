//! The local model store (no UI): GGUF files kv1nt can run in-process, by name.
//!
//! Two sources are listed together: kv1nt's registry (`<data dir>/models/registry.toml`, see
//! [`registry`]) of files the user added or kv1nt downloaded into `<data dir>/models/`, and
//! Ollama's store ([`ollama`]), used in place without copying. [`pull`] downloads new ones,
//! [`transfer`] moves its bytes, [`gguf`] reads a file's header, [`catalog`] is the default model offered to new users and
//! [`config_edit`] saves the chosen model in the user's config file.
//!
//! Invariants: `rm` deletes a file only when kv1nt downloaded it into its own models directory —
//! an added file or Ollama's blob is only ever unregistered or left alone; a file is registered
//! only after its GGUF header was read; names in the registry win over Ollama's when they clash.

pub mod catalog;
pub mod config_edit;
pub mod gguf;
pub mod ollama;
pub mod pull;
pub mod registry;
pub mod transfer;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::engine::protocol::{LocalModel, ModelOrigin};
pub use gguf::{GgufError, GgufInfo};
pub use registry::{Entry, Registry};

/// Where kv1nt keeps models, and where Ollama does.
#[derive(Debug, Clone)]
pub struct ModelStore {
    /// `<data dir>/models`: downloads and `registry.toml`.
    pub dir: PathBuf,
    /// Ollama's store (`$OLLAMA_MODELS` or `~/.ollama/models`), when there is a home.
    pub ollama: Option<PathBuf>,
}

/// What `info` shows.
#[derive(Debug, Clone)]
pub struct ModelDetails {
    pub model: LocalModel,
    pub entry: Option<Entry>,
    pub gguf: GgufInfo,
}

impl ModelStore {
    /// The store of the data directory `data_dir`, with Ollama's from the environment.
    pub fn new(data_dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> ModelStore {
        ModelStore { dir: data_dir.join("models"), ollama: ollama::store_dir(env) }
    }

    /// kv1nt's store from the process environment (`KV1NT_HOME` or the platform data dir).
    pub fn from_env() -> ModelStore {
        let env = |name: &str| std::env::var(name).ok();
        ModelStore::new(&crate::engine::config::data_dir(&env), &env)
    }

    pub fn registry_path(&self) -> PathBuf {
        self.dir.join("registry.toml")
    }

    pub fn registry(&self) -> Result<Registry> {
        Registry::load(&self.registry_path())
    }

    /// Registered models (sorted by name), then Ollama's.
    pub fn list(&self) -> Result<Vec<LocalModel>> {
        let mut models: Vec<LocalModel> = self
            .registry()?
            .models
            .into_iter()
            .map(|(name, e)| LocalModel {
                name,
                size: std::fs::metadata(&e.path).map(|m| m.len()).unwrap_or(e.size),
                path: e.path,
                origin: if e.downloaded { ModelOrigin::Downloaded } else { ModelOrigin::Added },
            })
            .collect();
        models.extend(self.ollama_models());
        Ok(models)
    }

    pub fn ollama_models(&self) -> Vec<LocalModel> {
        self.ollama.as_deref().map(ollama::list).unwrap_or_default()
    }

    /// Registers the GGUF at `path` (checked by reading its header) as `name` (default: the file
    /// stem); the file stays where it is.
    pub fn add(&self, path: &Path, name: Option<&str>) -> Result<(String, GgufInfo)> {
        let path = std::fs::canonicalize(path).with_context(|| format!("cannot open {}", path.display()))?;
        let meta = std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if !meta.is_file() {
            bail!("{} is not a file", path.display());
        }
        let info = gguf::read(&path)?;
        let name = match name {
            Some(name) => name.to_string(),
            None => path.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string(),
        };
        registry::check_name(&name)?;
        let mut registry = self.registry()?;
        if let Some(existing) = registry.models.get(&name) {
            bail!(
                "a model `{name}` is already registered ({}); choose another with --name",
                existing.path.display()
            );
        }
        let entry = Entry { path, size: meta.len(), sha256: None, source: "file".into(), downloaded: false };
        registry.models.insert(name.clone(), entry);
        registry.save(&self.registry_path())?;
        Ok((name, info))
    }

    /// Unregisters `name`; deletes its file only if kv1nt downloaded it into [`Self::dir`].
    /// The sentence to print.
    pub fn rm(&self, name: &str) -> Result<String> {
        let mut registry = self.registry()?;
        let Some(entry) = registry.models.remove(name) else {
            if self.ollama_models().iter().any(|m| m.name == name) {
                bail!(
                    "`{name}` is in Ollama's store; kv1nt leaves it alone (remove it with `ollama rm {name}`)"
                );
            }
            bail!("no model `{name}` is registered (see `kv1nt model list`)");
        };
        // A hand-edited registry cannot point `rm` at anything but a model file of kv1nt's own.
        let ours = entry.downloaded
            && entry.path.parent() == Some(self.dir.as_path())
            && entry.path.extension().is_some_and(|e| e == "gguf");
        registry.save(&self.registry_path())?;
        if !ours {
            return Ok(format!(
                "unregistered `{name}`; {} was not deleted (kv1nt did not download it)",
                entry.path.display()
            ));
        }
        match std::fs::remove_file(&entry.path) {
            Ok(()) => Ok(format!("removed `{name}` and deleted {}", entry.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(format!("removed `{name}` (its file was already gone)"))
            }
            Err(e) => bail!("unregistered `{name}` but cannot delete {}: {e}", entry.path.display()),
        }
    }

    /// The model `name` with its registry entry and GGUF header.
    pub fn info(&self, name: &str) -> Result<ModelDetails> {
        let model = self.find(name)?;
        let entry =
            self.registry()?.models.remove(&model.name).filter(|_| model.origin != ModelOrigin::Ollama);
        let gguf = gguf::read(&model.path)?;
        Ok(ModelDetails { model, entry, gguf })
    }

    /// A registered or Ollama model by name (`ollama:NAME[:TAG]` or `NAME` means `NAME:latest`
    /// in Ollama's store).
    pub fn find(&self, name: &str) -> Result<LocalModel> {
        let models = self.list()?;
        let wanted = name.strip_prefix("ollama:");
        let registered =
            models.iter().find(|m| wanted.is_none() && m.origin != ModelOrigin::Ollama && m.name == name);
        let ollama_name = wanted.unwrap_or(name);
        let latest = format!("{ollama_name}:latest");
        let in_ollama = || {
            models
                .iter()
                .filter(|m| m.origin == ModelOrigin::Ollama)
                .find(|m| m.name == ollama_name || m.name == latest)
        };
        if let Some(found) = registered.or_else(in_ollama) {
            return Ok(found.clone());
        }
        let known: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
        let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
        bail!("no local model `{name}` (known: {known}); `kv1nt model add PATH` registers a GGUF file")
    }

    /// The GGUF file the provider should load for `name_or_path`: a model's name, or a path
    /// to a GGUF file (checked by its header).
    pub fn resolve(&self, name_or_path: &str) -> Result<PathBuf> {
        match self.find(name_or_path) {
            Ok(model) => Ok(model.path),
            Err(not_found) => {
                let path = Path::new(name_or_path);
                if !path.is_file() {
                    return Err(not_found);
                }
                gguf::read(path)?;
                // Absolute but not canonical: a path into Ollama's store (a symlink, perhaps) stays
                // the path the user and the listing know.
                std::path::absolute(path).with_context(|| format!("cannot open {}", path.display()))
            }
        }
    }
}

/// `1.1 GB`, `253 MB`, `12 KB`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        n if n >= 1_000_000_000 => format!("{:.1} GB", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{} MB", n / 1_000_000),
        n if n >= 1_000 => format!("{} KB", n / 1_000),
        n => format!("{n} B"),
    }
}
