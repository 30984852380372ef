//! The `kv1nt` binary: parses the command line, opens the log file (`cli::logging`; never for the
//! sandbox helper) and runs the TUI or a headless command.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use kv1nt::cli::{self, Cli, Command};
use kv1nt::engine::config::TrustMode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::SandboxExec(args)) = &cli.command {
        // Before any config, runtime, thread or log file: the helper must stay single-threaded.
        return ExitCode::from(
            kv1nt::engine::sandbox::helper_main(&args.config, &args.argv).clamp(0, 255) as u8
        );
    }
    let data_dir = kv1nt::engine::config::data_dir(&|name| std::env::var(name).ok());
    if cli.log_file {
        println!("{}", cli::logging::log_file(&data_dir).display());
        return ExitCode::SUCCESS;
    }
    // Kept until main returns: dropping it flushes the log writer's thread.
    let _log = match &cli.command {
        Some(Command::Completions { .. }) => None,
        command => cli::logging::init(&data_dir)
            .map_err(|why| {
                if command.is_some() {
                    eprintln!("kv1nt: {why}"); // headless only: the TUI owns the terminal
                }
            })
            .ok(),
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(error) => {
            eprintln!("kv1nt: {}", format!("{error:#}").replace('\n', " "));
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    if let Some(Command::Completions { shell }) = &cli.command {
        clap_complete::generate(*shell, &mut Cli::command(), "kv1nt", &mut std::io::stdout());
        return Ok(0);
    }
    if let Some(Command::Run(args)) = cli.command {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let setup = cli::load_setup(&cli.model, None)?;
        if let Some(held) = &setup.held {
            eprintln!("kv1nt: {}", held.notice());
        }
        return runtime.block_on(cli::run::run(args, &setup.config.sandbox));
    }
    // Models need only the data directory: a config file kv1nt cannot read never blocks them.
    if let Some(Command::Model(args)) = cli.command {
        return cli::model::run(args);
    }
    if let Some(Command::Trust(args)) = &cli.command {
        return cli::trust::run(args, &cli::paths_at(args.path.as_deref())?);
    }
    if let Some(Command::Undo(args)) = &cli.command {
        return cli::undo::run_undo(args, &cli::paths_at(None)?);
    }
    if let Some(Command::Rewind(args)) = &cli.command {
        return cli::undo::run_rewind(args, &cli::paths_at(None)?);
    }
    // `kv1nt index PATH` works on (and reads the configuration of) PATH's repository.
    let at = match &cli.command {
        Some(Command::Index(args)) => args.path.clone(),
        _ => None,
    };
    // exec applies a repository's held-back keys only with --trust; the rest as recorded.
    let trust = match &cli.command {
        Some(Command::Exec(args)) if args.trust => TrustMode::Always,
        Some(Command::Exec(_)) => TrustMode::Never,
        _ => TrustMode::Recorded,
    };
    let setup = cli::load_setup_at(&cli.model, cli.theme.clone(), at.as_deref(), trust)?;
    // The TUI asks about held-back keys; exec says itself; the other commands say it here.
    if let (
        Some(held),
        Some(
            Command::Commit(_) | Command::Index(_) | Command::Search(_) | Command::Graph(_) | Command::Mcp(_),
        ),
    ) = (&setup.held, &cli.command)
    {
        eprintln!("kv1nt: {}", held.notice());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    match cli.command {
        Some(Command::Exec(args)) => runtime.block_on(cli::exec::run(args, setup)),
        Some(Command::Commit(args)) => runtime.block_on(cli::commit::run(args, setup)),
        Some(Command::Index(args)) => runtime.block_on(cli::graph::index(args, setup)),
        Some(Command::Search(args)) => runtime.block_on(cli::graph::search(args, setup)),
        Some(Command::Graph(args)) => runtime.block_on(cli::graph::graph(args, setup)),
        Some(Command::Mcp(args)) => runtime.block_on(cli::mcp::run(args, setup)),
        Some(Command::Sessions(args)) => {
            let store = cli::open_store(&setup.paths.data_dir).map_err(anyhow::Error::msg)?;
            cli::sessions::run(&args, &store, &kv1nt::engine::pricing::Prices::of(&setup.config))?;
            Ok(0)
        }
        Some(Command::Audit(args)) => {
            let store = cli::open_store(&setup.paths.data_dir).map_err(anyhow::Error::msg)?;
            cli::audit::run(&args, &store)?;
            Ok(0)
        }
        Some(Command::Forget(args)) => {
            let store = cli::open_store(&setup.paths.data_dir).map_err(anyhow::Error::msg)?;
            cli::forget::run(&args, &setup.paths.workspace, &store)
        }
        Some(Command::Deps(args)) => cli::deps::run(&args, &setup.paths),
        Some(Command::ConfigCheck(args)) => cli::config_check::run(&args, &setup.paths, &setup.config),
        Some(Command::Learn(args)) => {
            let store = cli::open_store(&setup.paths.data_dir).map_err(anyhow::Error::msg)?;
            cli::learn::run(&args, &setup.paths, &store)?;
            Ok(0)
        }
        Some(Command::Stats(args)) => {
            let store = cli::open_store(&setup.paths.data_dir).map_err(anyhow::Error::msg)?;
            cli::stats::run(
                &args,
                cli.model.model.as_deref(),
                &kv1nt::engine::pricing::Prices::of(&setup.config),
                &store,
            )?;
            Ok(0)
        }
        Some(
            Command::Completions { .. }
            | Command::Run(_)
            | Command::Trust(_)
            | Command::Model(_)
            | Command::Undo(_)
            | Command::Rewind(_)
            | Command::SandboxExec(_),
        ) => Ok(0),
        None => runtime.block_on(kv1nt::app::run(
            setup,
            cli.resume,
            cli.exit_after_first_frame,
            cli.inline,
            kv1nt::widgets::RENDER,
        )),
    }
}
