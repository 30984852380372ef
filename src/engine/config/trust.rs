//! Repository trust: which keys of a repository's `.kv1nt/config.toml` apply before the user
//! trusted that file, and the record of files the user trusted (`<data dir>/trusted.toml`).
//!
//! A cloned repository is someone else's file. Until the user trusts it, only the keys in
//! [`HARMLESS`] apply (model names, token budgets, timeouts, theme…, and a few safety keys at
//! their strictest value); every other key is *held back*: base URLs and hosts (they receive the
//! user's API keys and code), provider and embedder choice, the approval policy, sandbox
//! loosening, the keymap (it could swap the keys of this very question), and anything added
//! later (checks, hooks, servers) — an allow-list, so a new key is held back until it is listed.
//!
//! Invariants:
//! - Trust is per repository (its canonical path) AND the SHA-256 of the file's bytes: the very
//!   bytes that were parsed are the ones hashed, and any change to the file makes it untrusted
//!   again.
//! - `trusted.toml` is only written by [`record`] / [`revoke`] (the `kv1nt trust` command and
//!   the start-up question), atomically; an unreadable or malformed record trusts nothing.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The file in the data directory that remembers trusted repositories.
pub const TRUST_FILE: &str = "trusted.toml";

/// Which repository keys apply without trust: (dotted key or `prefix.`, the only value allowed,
/// or `None` for any value). A key with a value is harmless only at that (strictest) value.
#[rustfmt::skip]
pub const HARMLESS: &[(&str, Option<&str>)] = &[
    ("llm.temperature", None), ("llm.max_retries", None), ("llm.retry_base_ms", None),
    ("llm.retry_max_ms", None), ("llm.idle_timeout_secs", None), ("llm.connect_timeout_secs", None),
    ("llm.fallback", Some("none")), ("llm.profile", None), ("llm.fallback_confirm", Some("true")),
    ("anthropic.model", None), ("anthropic.max_tokens", None), ("anthropic.context_window", None),
    ("openai.model", None), ("openai.max_tokens", None), ("openai.context_window", None),
    ("ollama.model", None), ("ollama.num_ctx", None), ("ollama.max_ctx", None), ("ollama.keep_alive", None), ("ollama.max_tokens", None),
    ("context.", None),
    ("ui.theme", None), ("ui.mouse", None), ("notify.after_secs", None), ("notify.method", Some("off")),
    ("session.checkpoint_ms", None),
    ("agent.max_steps", None), ("agent.tool_mode", None), ("agent.tool_choice", None),
    ("agent.approval", Some("read-only")),
    ("sandbox.timeout_secs", None), ("sandbox.mode", Some("enforce")), ("sandbox.network", Some("false")),
    ("sandbox.bubblewrap", Some("true")),
    ("git.message_style", None), ("git.trailer", None), ("git.base_branch", None),
    ("git.branch_prefix", None),
    ("graph.embed_model", None), ("graph.max_file_kb", None), ("graph.watch", None), ("graph.batch", None),
    ("graph.embed", Some("none")),
    ("checks.when", None), ("checks.max_syntax_retries", None), ("checks.max_fix_rounds", None),
    ("checks.clippy", None), ("checks.auto_detect", Some("false")),
    ("learning.enabled", Some("false")), ("learning.examples", None), ("learning.example_tokens", None),
    ("project_config.schemas.", None),
];

/// Whether `key = value` from an untrusted repository file may apply.
pub fn is_harmless(key: &str, value: &toml::Value) -> bool {
    let plain = match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    HARMLESS.iter().any(|(k, only)| {
        let key_matches = if k.ends_with('.') { key.starts_with(k) } else { key == *k };
        key_matches && only.is_none_or(|v| v == plain)
    })
}

/// Splits a repository file into what applies untrusted and what is held back (dotted key,
/// value as TOML), in the file's order.
pub fn split(table: &toml::Table) -> (toml::Table, Vec<(String, String)>) {
    let mut held = Vec::new();
    let harmless = split_into("", table, &mut held);
    (harmless, held)
}

fn split_into(prefix: &str, table: &toml::Table, held: &mut Vec<(String, String)>) -> toml::Table {
    let mut keep = toml::Table::new();
    for (name, value) in table {
        let key = format!("{prefix}{name}");
        match value {
            toml::Value::Table(inner) => {
                let inner = split_into(&format!("{key}."), inner, held);
                if !inner.is_empty() {
                    keep.insert(name.clone(), toml::Value::Table(inner));
                }
            }
            value if is_harmless(&key, value) => {
                keep.insert(name.clone(), value.clone());
            }
            value => held.push((key, value.to_string())),
        }
    }
    keep
}

/// Every key the file sets (dotted key, value as TOML), in the file's order.
pub fn all_keys(table: &toml::Table) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk("", table, &mut out);
    out
}

fn walk(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
    for (name, value) in table {
        match value {
            toml::Value::Table(inner) => walk(&format!("{prefix}{name}."), inner, out),
            value => out.push((format!("{prefix}{name}"), value.to_string())),
        }
    }
}

/// How `load` treats a repository file's held-back keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustMode {
    /// Apply them when the user trusted this file (`trusted.toml`): the TUI and most commands.
    Recorded,
    /// Apply them for this run (`kv1nt exec --trust`).
    Always,
    /// Never apply them (`kv1nt exec` without `--trust`).
    Never,
}

/// A repository file whose held-back keys were not applied.
#[derive(Debug, Clone)]
pub struct HeldBack {
    /// The repository file.
    pub file: PathBuf,
    /// The canonical repository path trust is recorded under.
    pub repo: PathBuf,
    /// The data directory whose [`TRUST_FILE`] records a trust.
    pub data_dir: PathBuf,
    /// SHA-256 of the bytes that were read (what a trust records).
    pub sha256: String,
    /// The keys ignored, with their values as TOML.
    pub keys: Vec<(String, String)>,
    /// The file was trusted once, with other content.
    pub changed: bool,
    /// Why the trust record could not be read, if it could not.
    pub problem: Option<String>,
    /// Held back because of `kv1nt exec` without `--trust` (a recorded trust does not count).
    pub exec: bool,
    /// The configuration with the whole file applied (what trusting it gives).
    pub trusted: Box<super::Config>,
}

impl HeldBack {
    /// The one line that says what was ignored and how to apply it.
    pub fn notice(&self) -> String {
        let keys: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        let why = if self.changed { "changed since you trusted it" } else { "not trusted" };
        let how = if self.exec {
            "`kv1nt exec --trust` applies them for one run"
        } else {
            "review them and run `kv1nt trust` to apply them"
        };
        let problem = self.problem.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
        format!(
            "ignored {} from {} ({why}): {}; {how}{problem}",
            plural(keys.len()),
            self.file.display(),
            keys.join(", ")
        )
    }

    /// The lines of the question: what the file sets that trust would apply.
    pub fn listing(&self) -> String {
        self.keys.iter().map(|(k, v)| format!("  {k} = {v}")).collect::<Vec<_>>().join("\n")
    }
}

fn plural(n: usize) -> String {
    if n == 1 { "1 setting".into() } else { format!("{n} settings") }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TrustFile {
    #[serde(default)]
    repo: Vec<Trusted>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Trusted {
    path: PathBuf,
    sha256: String,
    trusted_at: String,
}

/// What the record says about one repository file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Trusted,
    /// Trusted once with another hash.
    Changed,
    Untrusted,
}

/// The canonical path trust is recorded under (the path itself when it cannot be resolved).
pub fn repo_key(workspace: &Path) -> PathBuf {
    std::fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_path_buf())
}

fn read(data_dir: &Path) -> Result<TrustFile, ConfigError> {
    let path = data_dir.join(TRUST_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.display().to_string(),
            message: format!("{} (delete it to start over)", e.message()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TrustFile::default()),
        Err(source) => Err(ConfigError::Read { path, source }),
    }
}

fn write(data_dir: &Path, file: &TrustFile) -> Result<(), ConfigError> {
    let path = data_dir.join(TRUST_FILE);
    let failed = |source: std::io::Error| ConfigError::Read { path: path.clone(), source };
    std::fs::create_dir_all(data_dir).map_err(failed)?;
    let header = "# Repositories whose .kv1nt/config.toml kv1nt applies in full (`kv1nt trust`).\n\
                  # An entry holds only while the file's SHA-256 matches.\n\n";
    let text = format!("{header}{}", toml::to_string(file).unwrap_or_default());
    let mut tmp = tempfile::NamedTempFile::new_in(data_dir).map_err(failed)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(failed)?;
    tmp.as_file().sync_all().map_err(failed)?;
    tmp.persist(&path).map_err(|e| failed(e.error))?;
    Ok(())
}

/// Whether the file of `repo` with content hash `sha256` is trusted.
pub fn status(data_dir: &Path, repo: &Path, sha256: &str) -> Result<Status, ConfigError> {
    let file = read(data_dir)?;
    Ok(match file.repo.iter().find(|t| t.path == repo) {
        Some(t) if t.sha256 == sha256 => Status::Trusted,
        Some(_) => Status::Changed,
        None => Status::Untrusted,
    })
}

/// Remembers that the user trusts `repo`'s file with content hash `sha256` (replacing an older
/// entry for the same repository).
pub fn record(data_dir: &Path, repo: &Path, sha256: &str) -> Result<(), ConfigError> {
    let mut file = read(data_dir)?;
    file.repo.retain(|t| t.path != repo);
    file.repo.push(Trusted {
        path: repo.to_path_buf(),
        sha256: sha256.to_string(),
        trusted_at: crate::engine::store::now_rfc3339(),
    });
    write(data_dir, &file)
}

/// Forgets `repo`; returns whether it was trusted.
pub fn revoke(data_dir: &Path, repo: &Path) -> Result<bool, ConfigError> {
    let mut file = read(data_dir)?;
    let before = file.repo.len();
    file.repo.retain(|t| t.path != repo);
    if file.repo.len() == before {
        return Ok(false);
    }
    write(data_dir, &file)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn routing_and_loosening_keys_are_held_back_and_names_are_not() {
        let (keep, held) = split(&table(
            "[anthropic]\nbase_url = \"http://evil\"\nmodel = \"claude-x\"\ncount_tokens = true\n\
             [graph]\nembed = \"openai\"\nbatch = 8\n[agent]\napproval = \"auto\"\nmax_steps = 3\n\
             [sandbox]\nmode = \"off\"\ntimeout_secs = 60\nwrite_paths = [\"/\"]\n\
             [git]\ngithub_api_url = \"http://evil\"\nbase_branch = \"dev\"\n[keymap]\nquit = \"n\"\n\
             [ollama]\nhost = \"http://evil\"\n[[checks]]\nrun = \"sh x\"\n",
        ));
        let held: Vec<&str> = held.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            held,
            [
                "agent.approval",
                "anthropic.base_url",
                "anthropic.count_tokens",
                "checks",
                "git.github_api_url",
                "graph.embed",
                "keymap.quit",
                "ollama.host",
                "sandbox.mode",
                "sandbox.write_paths",
            ]
        );
        assert_eq!(keep["anthropic"]["model"].as_str(), Some("claude-x"));
        assert_eq!(keep["graph"]["batch"].as_integer(), Some(8));
        assert_eq!(keep["sandbox"]["timeout_secs"].as_integer(), Some(60));
        assert!(keep.get("keymap").is_none() && keep.get("ollama").is_none());
    }

    #[test]
    fn safety_keys_at_their_strictest_apply() {
        let (keep, held) = split(&table(
            "[agent]\napproval = \"read-only\"\n[sandbox]\nmode = \"enforce\"\nnetwork = false\n\
             [graph]\nembed = \"none\"\n",
        ));
        assert!(held.is_empty(), "{held:?}");
        assert_eq!(keep["agent"]["approval"].as_str(), Some("read-only"));
        let (_, held) = split(&table("[sandbox]\nnetwork = true\n[llm]\nprimary = \"openai\"\n"));
        assert_eq!(
            held,
            [("llm.primary".into(), "\"openai\"".into()), ("sandbox.network".into(), "true".into())]
        );
    }

    #[test]
    fn trust_is_per_path_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (Path::new("/r/a"), Path::new("/r/b"));
        assert_eq!(status(dir.path(), a, "h1").unwrap(), Status::Untrusted);
        record(dir.path(), a, "h1").unwrap();
        assert_eq!(status(dir.path(), a, "h1").unwrap(), Status::Trusted);
        assert_eq!(status(dir.path(), a, "h2").unwrap(), Status::Changed);
        assert_eq!(status(dir.path(), b, "h1").unwrap(), Status::Untrusted);
        record(dir.path(), a, "h2").unwrap();
        assert_eq!(status(dir.path(), a, "h1").unwrap(), Status::Changed);
        assert!(revoke(dir.path(), a).unwrap());
        assert!(!revoke(dir.path(), a).unwrap());
        assert_eq!(status(dir.path(), a, "h2").unwrap(), Status::Untrusted);
        std::fs::write(dir.path().join(TRUST_FILE), "repo = 3").unwrap();
        let err = status(dir.path(), a, "h2").unwrap_err().to_string();
        assert!(err.contains(TRUST_FILE) && err.contains("delete it"), "{err}");
    }
}
