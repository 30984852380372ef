//! Loading the layered configuration: where files live ([`Paths`], [`data_dir`]), parsing and
//! checking each layer on its own so errors name their file ([`parse_layer`]), merging, then
//! environment variables and command-line [`Overrides`]. The repository file passes through
//! [`super::trust`] first: untrusted, only its harmless keys are merged.

use std::path::{Path, PathBuf};

use directories::BaseDirs;

use super::trust::{HeldBack, Status, TrustMode};
use super::*;
use crate::engine::hooks::HookSettings;

/// Values from the command line; `None` leaves the configured value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub provider: Option<ProviderKind>,
    pub model: Option<String>,
    pub theme: Option<String>,
    pub fallback: Option<Fallback>,
    pub approval: Option<Policy>,
}

/// Where configuration and data live.
#[derive(Debug, Clone)]
pub struct Paths {
    pub user_config: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub workspace: PathBuf,
}

impl Paths {
    /// Resolve from the environment: the user config `kv1nt/config.toml` in the user's config
    /// directory (`$XDG_CONFIG_HOME`, else `~/.config` on Linux, via `directories`), the
    /// [`data_dir`], and the repository containing `cwd` (its nearest ancestor with `.git`, else
    /// `cwd`).
    pub fn from_env(cwd: &Path, env: &dyn Fn(&str) -> Option<String>) -> Paths {
        let user_config = BaseDirs::new().map(|b| b.config_dir().join("kv1nt/config.toml"));
        let workspace = cwd.ancestors().find(|d| d.join(".git").exists()).unwrap_or(cwd).to_path_buf();
        Paths { user_config, data_dir: data_dir(env), workspace }
    }

    pub fn repo_config(&self) -> PathBuf {
        self.workspace.join(".kv1nt/config.toml")
    }

    pub fn themes_dir(&self) -> Option<PathBuf> {
        self.user_config.as_ref().and_then(|c| c.parent()).map(|d| d.join("themes"))
    }

    /// The user's code templates: `templates/` beside the user config file.
    pub fn templates_dir(&self) -> Option<PathBuf> {
        self.user_config.as_ref().and_then(|c| c.parent()).map(|d| d.join("templates"))
    }

    /// The user's directories of custom commands and skills: kv1nt's config directory, then
    /// Claude Code's `~/.claude`.
    pub fn user_dirs(&self) -> Vec<PathBuf> {
        let kv1nt = self.user_config.as_ref().and_then(|c| c.parent()).map(Path::to_path_buf);
        let claude = BaseDirs::new().map(|b| b.home_dir().join(".claude"));
        kv1nt.into_iter().chain(claude).collect()
    }
}

/// kv1nt's own directories: the user's config directory (`<config dir>/kv1nt`) and the
/// [`data_dir`] (sessions, `trusted.toml`). The gate treats writing into them as critical.
pub fn own_dirs(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let config = BaseDirs::new().map(|b| b.config_dir().join("kv1nt"));
    config.into_iter().chain([data_dir(env)]).collect()
}

/// Where sessions, graphs and logs live: `$KV1NT_HOME`, else `kv1nt/` in the user's data
/// directory (`$XDG_DATA_HOME`, else `~/.local/share` on Linux, via `directories`), else in the
/// temp directory when there is no home.
pub fn data_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    env("KV1NT_HOME").map(PathBuf::from).unwrap_or_else(|| {
        BaseDirs::new().map(|b| b.data_dir().to_path_buf()).unwrap_or_else(std::env::temp_dir).join("kv1nt")
    })
}

/// The configuration of one run, and what of the repository's file was held back.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub secrets: Secrets,
    /// The repository file's keys that were not applied (it is not trusted), if any.
    pub held: Option<HeldBack>,
}

/// Load the full layered configuration. The repository file's keys that route credentials,
/// loosen safety or run programs apply only as `trust` allows (see [`super::trust`]).
pub fn load(
    paths: &Paths,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
    trust: TrustMode,
) -> Result<Loaded, ConfigError> {
    let mut merged = toml::Table::new();
    if let Some(path) = &paths.user_config
        && let Some(text) = read_optional(path)?
    {
        merge(&mut merged, parse_layer(&path.display().to_string(), &text)?);
    }
    let mut held = None;
    let repo_trusted: bool;
    let mut skipped = Vec::new();
    let mut trusted_hooks = None;
    if let Some(repo_layer) = repo_layer(paths)? {
        let RepoLayer { mut table, sha256, file: repo_file, skipped: not_run } = repo_layer;
        skipped = not_run;
        let (harmless, keys) = super::trust::split(&table);
        // The repository's hooks stay apart from the user's (`Config::repo_hooks`); held back
        // with the rest until trusted (`hooks` is not on the allow-list).
        let repo_hooks = repo_hooks(table.remove("hooks"), &repo_file)?;
        let repo = super::trust::repo_key(&paths.workspace);
        let (status, problem) = match trust {
            _ if keys.is_empty() => (Status::Trusted, None),
            TrustMode::Always => (Status::Trusted, None),
            TrustMode::Never => (Status::Untrusted, None),
            TrustMode::Recorded => match super::trust::status(&paths.data_dir, &repo, &sha256) {
                Ok(status) => (status, None),
                Err(e) => (Status::Untrusted, Some(e.to_string())),
            },
        };
        // Trusted for running its code: a recorded trust of these bytes (or `--trust`), not
        // merely a file with nothing held back.
        repo_trusted = match trust {
            TrustMode::Always => true,
            TrustMode::Never => false,
            TrustMode::Recorded => {
                super::trust::status(&paths.data_dir, &repo, &sha256).is_ok_and(|s| s == Status::Trusted)
            }
        };
        if status == Status::Trusted {
            merge(&mut merged, table);
            trusted_hooks = repo_hooks;
        } else {
            let mut full = merged.clone();
            merge(&mut full, table);
            merge(&mut merged, harmless);
            let mut trusted = Config {
                repo_trusted: true,
                repo_hooks,
                templates_dir: paths.templates_dir(),
                user_dirs: paths.user_dirs(),
                ..finish(full, env, overrides)?
            };
            trusted.mcp.held = skipped.clone();
            held = Some(HeldBack {
                file: repo_file,
                repo,
                data_dir: paths.data_dir.clone(),
                sha256,
                keys,
                changed: status == Status::Changed,
                problem,
                exec: trust == TrustMode::Never,
                trusted: Box::new(trusted),
            });
        }
    } else {
        // No config file: the repository may still be trusted (`kv1nt trust` records the
        // absent file as empty), for its commands and skills.
        repo_trusted = match trust {
            TrustMode::Always => true,
            TrustMode::Never => false,
            TrustMode::Recorded => super::trust::status(
                &paths.data_dir,
                &super::trust::repo_key(&paths.workspace),
                &crate::engine::store::sha256_hex(b""),
            )
            .is_ok_and(|s| s == Status::Trusted),
        };
    }
    let mut config = Config {
        repo_trusted,
        repo_hooks: trusted_hooks,
        templates_dir: paths.templates_dir(),
        user_dirs: paths.user_dirs(),
        ..finish(merged, env, overrides)?
    };
    config.mcp.held = held_mcp_servers(&config, held.as_ref(), skipped);
    let secrets = Secrets {
        anthropic_api_key: env("ANTHROPIC_API_KEY").filter(|k| !k.is_empty()),
        openai_api_key: env("OPENAI_API_KEY").filter(|k| !k.is_empty()),
        github_token: env("GITHUB_TOKEN").filter(|k| !k.trim().is_empty()),
    };
    Ok(Loaded { config, secrets, held })
}

/// The repository's layer: `.kv1nt/config.toml` over the servers of `.mcp.json`, and the
/// SHA-256 a trust records (of the config file's bytes, then `.mcp.json`'s when there is one).
pub struct RepoLayer {
    pub table: toml::Table,
    pub sha256: String,
    /// The file the user is told about: the config file, else `.mcp.json`.
    pub file: PathBuf,
    /// `.mcp.json` servers kv1nt cannot run, and why.
    pub skipped: Vec<(String, String)>,
}

/// The repository's configuration layer, None when it has neither file.
pub fn repo_layer(paths: &Paths) -> Result<Option<RepoLayer>, ConfigError> {
    let repo_file = paths.repo_config();
    const FILE_NAME: &str = crate::engine::mcp::project::FILE;
    let json_file = paths.workspace.join(FILE_NAME);
    let text = read_optional(&repo_file)?;
    let json = read_optional(&json_file)?;
    if text.is_none() && json.is_none() {
        return Ok(None);
    }
    let mut table = toml::Table::new();
    let mut skipped = Vec::new();
    let mut hashed = text.clone().unwrap_or_default().into_bytes();
    if let Some(json) = &json {
        // Another tool's file: one kv1nt cannot read is reported in `/mcp`, never fatal.
        match crate::engine::mcp::project::to_layer(json) {
            Ok((layer, not_run)) => {
                table = layer;
                skipped = not_run
                    .into_iter()
                    .map(|(name, why)| (name, format!("not started: {why} ({})", json_file.display())))
                    .collect();
            }
            Err(why) => {
                skipped.push((FILE_NAME.to_string(), format!("not read: {why} ({})", json_file.display())))
            }
        }
        hashed.extend_from_slice(b"\n\0.mcp.json\0\n");
        hashed.extend_from_slice(json.as_bytes());
    }
    if let Some(text) = &text {
        merge(&mut table, parse_layer(&repo_file.display().to_string(), text)?);
    }
    let sha256 = crate::engine::store::sha256_hex(&hashed);
    let file = if text.is_some() { repo_file } else { json_file };
    Ok(Some(RepoLayer { table, sha256, file, skipped }))
}

/// The repository's servers that do not start: held back (untrusted) or skipped.
fn held_mcp_servers(
    config: &Config,
    held: Option<&HeldBack>,
    skipped: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (key, _) in held.map(|h| h.keys.as_slice()).unwrap_or_default() {
        let Some(name) = key.strip_prefix("mcp.servers.").and_then(|k| k.split('.').next()) else { continue };
        if !config.mcp.servers.contains_key(name) && !out.iter().any(|(n, _)| n == name) {
            let how = if held.is_some_and(|h| h.exec) {
                "`kv1nt exec --trust`"
            } else {
                "review it, then `kv1nt trust`"
            };
            out.push((name.to_string(), format!("held back: the repository is not trusted ({how})")));
        }
    }
    out.extend(skipped);
    out
}

/// The repository file's `[hooks]` table as settings (already checked by `parse_layer`).
fn repo_hooks(table: Option<toml::Value>, file: &Path) -> Result<Option<HookSettings>, ConfigError> {
    let Some(table) = table else { return Ok(None) };
    table.try_into().map(Some).map_err(|e: toml::de::Error| ConfigError::Invalid {
        path: file.display().to_string(),
        message: format!("[hooks]: {e}"),
    })
}

/// A file's text, or None when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read { path: path.to_path_buf(), source }),
    }
}

/// The merged files as a [`Config`], then the environment and the command line on top.
fn finish(
    merged: toml::Table,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let mut config: Config = toml::Value::Table(merged).try_into().map_err(|e: toml::de::Error| {
        ConfigError::Invalid { path: "merged config".into(), message: e.to_string() }
    })?;
    apply_env(&mut config, env)?;
    apply_overrides(&mut config, overrides);
    for (name, server) in &config.mcp.servers {
        crate::engine::mcp::settings::check_name(name)
            .map_err(|message| ConfigError::Invalid { path: "merged config".into(), message })?;
        crate::engine::mcp::settings::check_server(name, server)
            .map_err(|message| ConfigError::Invalid { path: "merged config".into(), message })?;
    }
    Ok(config)
}

/// Parse one file and check it against the schema, so errors name this file.
pub fn parse_layer(name: &str, text: &str) -> Result<toml::Table, ConfigError> {
    let invalid =
        |e: toml::de::Error| ConfigError::Invalid { path: name.to_string(), message: describe(text, &e) };
    let table: toml::Table = toml::from_str(text).map_err(invalid)?;
    toml::from_str::<Config>(text).map_err(invalid)?;
    Ok(table)
}

/// "line 2: `llm.primery`: unknown field `primery`, expected one of `primary`, …" — the line,
/// the dotted key and serde's account of what is allowed, on one line.
fn describe(text: &str, error: &toml::de::Error) -> String {
    let message = error
        .message()
        .replace("expected u64", "expected a whole number")
        .replace("expected u32", "expected a whole number")
        .replace("expected usize", "expected a whole number")
        .replace("expected f32", "expected a number")
        .replace("expected a boolean", "expected true or false");
    let Some(span) = error.span() else { return message };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or_default();
    let section = text
        .lines()
        .take(line_no)
        .filter_map(|l| l.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')))
        .last()
        .map(|s| s.trim().trim_matches('[').trim_matches(']').to_string());
    let key = line.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_string());
    let dotted = match (section, key) {
        (Some(s), Some(k)) => format!("`{s}.{k}`: "),
        (None, Some(k)) => format!("`{k}`: "),
        (Some(s), None) => format!("[{s}]: "),
        (None, None) => String::new(),
    };
    format!("line {line_no}: {dotted}{message}")
}

fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming)) => merge(existing, incoming),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn apply_env(config: &mut Config, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if let Some(url) = set("ANTHROPIC_BASE_URL") {
        config.anthropic.base_url = url;
    }
    if let Some(host) = set("OLLAMA_HOST") {
        config.ollama.host = host;
    }
    if let Some(url) = set("OPENAI_BASE_URL") {
        config.openai.base_url = url;
    }
    if let Some(name) = set("KV1NT_PROVIDER") {
        config.llm.primary = ProviderKind::parse(&name).ok_or_else(|| ConfigError::Invalid {
            path: "environment".into(),
            message: format!("KV1NT_PROVIDER=`{name}` is not one of anthropic, ollama, openai, local"),
        })?;
    }
    if let Some(name) = set("KV1NT_FALLBACK") {
        config.llm.fallback = parse_fallback(&name).ok_or_else(|| ConfigError::Invalid {
            path: "environment".into(),
            message: format!("KV1NT_FALLBACK=`{name}` is not one of none, anthropic, ollama, openai, local"),
        })?;
    }
    if let Some(name) = set("KV1NT_GRAPH_EMBED") {
        config.graph.embed = EmbedProvider::parse(&name).ok_or_else(|| ConfigError::Invalid {
            path: "environment".into(),
            message: format!("KV1NT_GRAPH_EMBED=`{name}` is not one of auto, ollama, openai, local, none"),
        })?;
    }
    Ok(())
}

pub fn parse_fallback(name: &str) -> Option<Fallback> {
    match name {
        "none" => Some(Fallback::None),
        other => ProviderKind::parse(other).map(|k| match k {
            ProviderKind::Anthropic => Fallback::Anthropic,
            ProviderKind::Ollama => Fallback::Ollama,
            ProviderKind::OpenAi => Fallback::OpenAi,
            ProviderKind::Local => Fallback::Local,
        }),
    }
}

fn apply_overrides(config: &mut Config, overrides: &Overrides) {
    if let Some(provider) = overrides.provider {
        config.llm.primary = provider;
    }
    if let Some(fallback) = overrides.fallback {
        config.llm.fallback = fallback;
    }
    if let Some(model) = &overrides.model {
        config.set_model(config.llm.primary, model.clone());
    }
    if let Some(policy) = overrides.approval {
        config.agent.approval = policy;
    }
    if let Some(theme) = &overrides.theme {
        config.ui.theme = theme.clone();
    }
}
