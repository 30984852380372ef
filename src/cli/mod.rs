//! The command line: flags and subcommands (clap), and the set-up shared by the TUI and the
//! headless commands (configuration layers, data directory, session store, `--resume`, the log
//! file in [`logging`]).

pub mod audit;
pub mod commit;
pub mod config_check;
pub mod deps;
pub mod exec;
pub mod exec_template;
pub mod forget;
pub mod graph;
pub mod learn;
pub mod logging;
pub mod mcp;
pub mod mcp_edit;
pub mod model;
pub mod run;
pub mod sessions;
pub mod stats;
pub mod trust;
pub mod undo;

use std::path::Path;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::engine::agent::runtime::{EngineHandle, EngineSetup, spawn};
use crate::engine::approval::Policy;
use crate::engine::config::{self, Config, HeldBack, Overrides, Paths, Secrets, TrustMode};
use crate::engine::llm::ProviderKind;
use crate::engine::store::{SessionInfo, Store};

#[derive(Debug, Parser)]
#[command(
    name = "kv1nt",
    version,
    about = "A terminal coding playground over Claude, Ollama or any OpenAI-compatible server"
)]
pub struct Cli {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Reopen a session with its history: an id (or unique prefix), or `last` (the default).
    #[arg(long, value_name = "ID|last", num_args = 0..=1, default_missing_value = "last", global = false)]
    pub resume: Option<String>,
    /// Colour theme: dark, light, or a file in <config dir>/kv1nt/themes/.
    #[arg(long)]
    pub theme: Option<String>,
    /// Draw in the normal screen below your shell's output instead of full screen: finished
    /// messages go to the terminal's own scrollback, the reply being written, the prompt and
    /// the status stay in a region at the bottom.
    #[arg(long)]
    pub inline: bool,
    /// Draw one frame and exit (start-up benchmarks).
    #[arg(long, hide = true)]
    pub exit_after_first_frame: bool,
    /// Print the path of the log file (filter with KV1NT_LOG, e.g. `debug`) and exit.
    #[arg(long)]
    pub log_file: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Provider for replies: anthropic, ollama or openai.
    #[arg(long, value_parser = parse_provider, global = true)]
    pub provider: Option<ProviderKind>,
    /// Model name for that provider.
    #[arg(long, global = true)]
    pub model: Option<String>,
    /// Provider to use when the first cannot answer: none, anthropic, ollama or openai.
    #[arg(long, value_parser = parse_fallback, global = true)]
    pub fallback: Option<config::Fallback>,
    /// What runs without asking: read-only, plan (read, then propose a plan), ask, auto-edit or
    /// auto (critical always asks).
    #[arg(long, value_parser = parse_policy, global = true)]
    pub approval: Option<Policy>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send one prompt and stream the answer to stdout.
    Exec(exec::ExecArgs),
    /// List saved sessions, newest first.
    Sessions(sessions::SessionsArgs),
    /// Show the approval decisions recorded by the gate, oldest first.
    Audit(audit::AuditArgs),
    /// How often you accept what kv1nt proposes: acceptance, first-pass syntax and checks,
    /// edits, denials, undos and tokens per accepted change — per model, intent and language.
    Stats(stats::StatsArgs),
    /// Delete what `stats` reads — each proposal's outcome and each turn's tokens — for this
    /// workspace's sessions (--all: every session). Sessions, audit and undo are kept.
    Forget(forget::ForgetArgs),
    /// The conventions kv1nt noticed — naming, tests, errors, imports, tooling, commit style and
    /// your recurring corrections — each with its evidence (add one to KV1NT.md with /learn).
    Learn(learn::LearnArgs),
    /// The dependencies the code imports against those its manifests declare (Cargo, Python,
    /// npm, Go): missing, unused, duplicated in a lockfile, conflicting between manifests.
    Deps(deps::DepsArgs),
    /// The environment variables the code reads against .env.example (missing, unused), and the
    /// config files that declare a JSON Schema validated against it.
    ConfigCheck(config_check::ConfigCheckArgs),
    /// Propose a commit of what is staged (message, files, diffstat, risk) and commit it after
    /// approval on the terminal.
    Commit(commit::CommitArgs),
    /// Run a file or a snippet in the sandbox.
    Run(run::RunArgs),
    /// Show what the repository's .kv1nt/config.toml sets and trust it (its keys that route API
    /// keys, loosen safety or run programs are ignored until then), or --revoke the trust.
    Trust(trust::TrustArgs),
    /// Restore the files of the session's last applied change (as /undo does), after showing
    /// them and asking; without a terminal only with --yes.
    Undo(undo::UndoArgs),
    /// Restore the workspace to how it was right after change N of the session (0: before its
    /// first change), as /rewind N does; asks like undo. Without N: list the changes.
    Rewind(undo::RewindArgs),
    /// The MCP servers: `list` what is configured, `test NAME` starts one and lists its tools.
    Mcp(mcp::McpArgs),
    /// Local GGUF models: `list`, `pull hf:…|ollama:…|default`, `add PATH`, `rm NAME`, `info NAME`.
    Model(model::ModelArgs),
    /// Build or update the repository's knowledge graph (code entities and their relations).
    Index(graph::IndexArgs),
    /// Search the knowledge graph: hybrid (BM25 + vectors) with embeddings, else lexical.
    Search(graph::SearchArgs),
    /// Query the knowledge graph: callers, callees, deps, related, stats.
    Graph(graph::GraphArgs),
    /// The sandbox helper (internal): applies the layers, then execs the program.
    #[command(hide = true)]
    SandboxExec(run::SandboxExecArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn parse_provider(name: &str) -> Result<ProviderKind, String> {
    ProviderKind::parse(name)
        .ok_or_else(|| format!("`{name}` is not a provider; use anthropic, ollama, openai or local"))
}

fn parse_policy(name: &str) -> Result<Policy, String> {
    Policy::parse(name)
        .ok_or_else(|| format!("`{name}` is not a policy; use read-only, plan, ask, auto-edit or auto"))
}

fn parse_fallback(name: &str) -> Result<config::Fallback, String> {
    config::parse_fallback(name)
        .ok_or_else(|| format!("`{name}` is not a fallback; use none, anthropic, ollama, openai or local"))
}

/// Configuration, secrets and paths for this run.
pub struct Setup {
    pub config: Config,
    pub secrets: Secrets,
    pub paths: Paths,
    /// What of the repository's `.kv1nt/config.toml` was not applied (not trusted).
    pub held: Option<HeldBack>,
}

pub fn load_setup(model: &ModelArgs, theme: Option<String>) -> Result<Setup> {
    load_setup_at(model, theme, None, TrustMode::Recorded)
}

/// The repository containing `at` (a directory or file, relative to the current directory),
/// else the current directory's.
pub fn paths_at(at: Option<&Path>) -> Result<Paths> {
    let mut cwd = std::env::current_dir().context("cannot read the current directory")?;
    if let Some(at) = at {
        let dir =
            std::fs::canonicalize(cwd.join(at)).with_context(|| format!("cannot open {}", at.display()))?;
        cwd = if dir.is_dir() { dir } else { dir.parent().map(Path::to_path_buf).unwrap_or(dir) };
    }
    Ok(Paths::from_env(&cwd, &|name: &str| std::env::var(name).ok()))
}

/// [`load_setup`] for the repository containing `at` (see [`paths_at`]), with the repository
/// file's held-back keys applied as `trust` says.
pub fn load_setup_at(
    model: &ModelArgs,
    theme: Option<String>,
    at: Option<&Path>,
    trust: TrustMode,
) -> Result<Setup> {
    let env = |name: &str| std::env::var(name).ok();
    let paths = paths_at(at)?;
    let overrides = Overrides {
        provider: model.provider,
        model: model.model.clone(),
        theme,
        fallback: model.fallback,
        approval: model.approval,
    };
    let loaded = config::load(&paths, &env, &overrides, trust)?;
    Ok(Setup { config: loaded.config, secrets: loaded.secrets, paths, held: loaded.held })
}

/// Open the session store; on failure the caller runs without persistence and says why.
pub fn open_store(data_dir: &Path) -> Result<Store, String> {
    Store::open(data_dir)
        .map_err(|e| format!("cannot open the session database in {}: {e}", data_dir.display()))
}

/// Open the store (or say why not: the second value), resolve `--resume`, start the engine.
pub fn start_engine(
    setup: Setup,
    resume: Option<&str>,
    preflight: bool,
) -> Result<(EngineHandle, Option<String>)> {
    let (store, store_error) = match open_store(&setup.paths.data_dir) {
        Ok(store) => (Some(store), None),
        Err(e) => (None, Some(e)),
    };
    let resume = resolve_resume(store.as_ref(), resume)?;
    let engine = spawn(EngineSetup {
        config: setup.config,
        secrets: setup.secrets,
        workspace: setup.paths.workspace,
        store,
        resume,
        preflight,
        // exec never asks: `--trust` is how it applies the file.
        trust: setup.held.filter(|held| !held.exec),
    });
    Ok((engine, store_error))
}

/// Resolve `--resume KEY` against the store; a bad key is an error before anything starts.
pub fn resolve_resume(store: Option<&Store>, key: Option<&str>) -> Result<Option<SessionInfo>> {
    let Some(key) = key else { return Ok(None) };
    let store = store.context("cannot resume: the session database is unavailable")?;
    let session = store
        .resolve_session(key)
        .with_context(|| format!("cannot resume `{key}` (see `kv1nt sessions`)"))?;
    Ok(Some(session))
}
