//! `kv1nt run`: run a file or a snippet in the sandbox, with the configuration's `[sandbox]`
//! settings (a repository's held-back keys stay held back) and the flags overriding them.
//!
//! Output streams as it arrives (stdout to stdout, stderr to stderr), then one summary line on
//! stderr: `exit 0 · 0.04 s · peak 12 MB · layers: …`. `--json` prints only the whole
//! `ExecutionResult` as one JSON object. Exit status: the program's exit code; 124 on timeout;
//! 137 when killed (signal, memory, output cap, Ctrl-C); 1 on a sandbox error.
//! `sandbox-exec` (hidden) is the helper's entry; `main.rs` dispatches it before anything else.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use clap::Args;

use crate::engine::sandbox::{
    self, CancellationToken, ExecutionResult, KilledBy, Language, Program, RunDir, SandboxMode,
    SandboxSettings, Stream,
};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// python, node, bash, sh, rust or go (default: from the file's extension).
    #[arg(long)]
    pub lang: Option<String>,
    /// Wall-time limit in seconds (default: `sandbox.timeout_secs`, 30).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Memory limit in MB, RLIMIT_DATA (default: `sandbox.memory_mb`, 512).
    #[arg(long)]
    pub memory: Option<u64>,
    /// Allow network access (default: `sandbox.network`).
    #[arg(long)]
    pub network: bool,
    /// Print the whole result as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Sandbox strictness: enforce, degraded or off (default: `sandbox.mode`, enforce).
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<SandboxMode>,
    /// Run in the current directory (writable) instead of a fresh scratch directory.
    #[arg(long)]
    pub project: bool,
    /// Code to run instead of a file.
    #[arg(short = 'e', value_name = "CODE", conflicts_with = "file")]
    pub code: Option<String>,
    /// The file to run.
    #[arg(required_unless_present = "code")]
    pub file: Option<PathBuf>,
}

/// The hidden helper entry: `kv1nt sandbox-exec --config <json> -- <argv…>`.
#[derive(Debug, Args)]
pub struct SandboxExecArgs {
    #[arg(long)]
    pub config: String,
    #[arg(last = true, allow_hyphen_values = true, required = true)]
    pub argv: Vec<String>,
}

fn parse_mode(name: &str) -> Result<SandboxMode, String> {
    SandboxMode::parse(name).ok_or_else(|| format!("`{name}` is not a mode; use enforce, degraded or off"))
}

/// Runs it with the `[sandbox]` settings of the configuration (`settings`), flags overriding.
pub async fn run(args: RunArgs, settings: &SandboxSettings) -> Result<i32> {
    let language = match (&args.lang, &args.file) {
        (Some(name), _) => Language::detect(name).ok_or_else(|| anyhow!("unknown language `{name}`"))?,
        (None, Some(file)) => Language::from_path(file)
            .ok_or_else(|| anyhow!("cannot tell the language of {}; pass --lang", file.display()))?,
        (None, None) => Language::Sh,
    };
    let program = match (args.code, args.file) {
        (Some(code), _) => Program::Code { language, code },
        (None, Some(path)) => Program::File { language, path },
        (None, None) => unreachable!("clap requires FILE or -e"),
    };
    let workspace = if args.project {
        RunDir::Project(std::env::current_dir().context("cannot read the current directory")?)
    } else {
        RunDir::Scratch
    };
    let stdin = if std::io::stdin().is_terminal() {
        None
    } else {
        let mut data = Vec::new();
        std::io::stdin().read_to_end(&mut data).context("cannot read standard input")?;
        Some(data)
    };
    let mut config = settings.to_config(args.timeout.map(Duration::from_secs));
    config.memory_mb = args.memory.unwrap_or(config.memory_mb);
    config.network |= args.network;
    config.mode = args.mode.unwrap_or(config.mode);
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let json = args.json;
    let stream = move |stream: Stream, bytes: &[u8]| {
        if json {
            return;
        }
        let _ = match stream {
            Stream::Stdout => {
                std::io::stdout().lock().write_all(bytes).and_then(|_| std::io::stdout().flush())
            }
            Stream::Stderr => std::io::stderr().lock().write_all(bytes),
        };
    };
    let result = sandbox::execute(program, workspace, stdin, &config, cancel, stream).await?;
    if json {
        let _ = writeln!(std::io::stdout(), "{}", serde_json::to_string(&result)?);
    } else {
        eprintln!("{}", result.summary());
    }
    Ok(exit_status(&result))
}

fn exit_status(result: &ExecutionResult) -> i32 {
    match (result.killed_by, result.exit_code) {
        (KilledBy::Timeout, _) => 124,
        (KilledBy::None, Some(code)) => code,
        _ => 137,
    }
}
