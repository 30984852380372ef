//! `kv1nt model list|pull|add|rm|info`: the local GGUF models (`engine::models`) from the shell.
//!
//! Runs before the configuration is loaded (it needs only the data directory and the
//! environment), so a config file kv1nt cannot read never stops the user from managing models.
//! `pull` shows the size up front and a progress bar on a terminal (a line per step otherwise).

use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::models::pull::{self, PullOptions};
use crate::engine::models::{ModelStore, catalog, gguf, human_size};
use crate::engine::protocol::{LocalModel, PullProgress};

#[derive(Debug, Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// The models kv1nt can run: registered ones, then those in Ollama's store.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Download a GGUF: hf:OWNER/REPO/FILE.gguf[@REVISION], ollama:NAME[:TAG], or `default`.
    /// Resumes an interrupted download; the sha256 is checked before the file is kept.
    Pull {
        reference: String,
        /// Register it under this name.
        #[arg(long)]
        name: Option<String>,
        /// The expected sha256 (otherwise the registry's digest or Hugging Face's ETag).
        #[arg(long)]
        sha256: Option<String>,
    },
    /// Register a GGUF file where it is (nothing is copied; `rm` never deletes it).
    Add {
        path: std::path::PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
    /// Unregister a model; its file is deleted only if kv1nt downloaded it.
    Rm { name: String },
    /// A model's file, size, origin and GGUF metadata (architecture, context, parameters, type).
    Info {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: ModelArgs) -> Result<i32> {
    let store = ModelStore::from_env();
    match args.command {
        ModelCommand::List { json } => list(&store, json),
        ModelCommand::Pull { reference, name, sha256 } => {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            runtime.block_on(pull(&store, reference, name, sha256))
        }
        ModelCommand::Add { path, name } => {
            let (name, info) = store.add(&path, name.as_deref())?;
            println!("registered `{name}`: {}", summary(&info));
            Ok(0)
        }
        ModelCommand::Rm { name } => {
            println!("{}", store.rm(&name)?);
            Ok(0)
        }
        ModelCommand::Info { name, json } => info(&store, &name, json),
    }
}

fn list(store: &ModelStore, json: bool) -> Result<i32> {
    let models = store.list()?;
    if json {
        let rows: Vec<_> = models.iter().map(model_json).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    if models.is_empty() {
        println!(
            "no local models; `kv1nt model pull default` downloads one, `kv1nt model add PATH` registers a GGUF"
        );
        return Ok(0);
    }
    let width = models.iter().map(|m| m.name.len()).max().unwrap_or(4).max(4);
    println!("{:width$}  {:>8}  {:10}  PATH", "NAME", "SIZE", "ORIGIN");
    for m in &models {
        println!(
            "{:width$}  {:>8}  {:10}  {}",
            m.name,
            human_size(m.size),
            m.origin.as_str(),
            m.path.display()
        );
    }
    Ok(0)
}

fn model_json(m: &LocalModel) -> serde_json::Value {
    serde_json::json!({ "name": m.name, "path": m.path, "size": m.size, "origin": m.origin.as_str() })
}

fn summary(info: &gguf::GgufInfo) -> String {
    let mut parts = vec![info.architecture.clone().unwrap_or_else(|| "unknown architecture".into())];
    parts.push(format!("{} parameters", gguf::parameters_label(info.parameters)));
    if let Some(ctx) = info.context_length {
        parts.push(format!("{ctx}-token context"));
    }
    if let Some(t) = &info.file_type {
        parts.push(t.clone());
    }
    parts.join(", ")
}

fn info(store: &ModelStore, name: &str, json: bool) -> Result<i32> {
    let details = store.info(name)?;
    let (m, g) = (&details.model, &details.gguf);
    let sha256 = details.entry.as_ref().and_then(|e| e.sha256.clone());
    let source = details.entry.as_ref().map(|e| e.source.clone());
    if json {
        let mut value = model_json(m);
        let extra = serde_json::json!({
            "sha256": sha256, "source": source, "gguf_version": g.version, "architecture": g.architecture,
            "model_name": g.name, "context_length": g.context_length, "parameters": g.parameters,
            "file_type": g.file_type, "tensors": g.tensors,
        });
        if let (Some(obj), serde_json::Value::Object(extra)) = (value.as_object_mut(), extra) {
            obj.extend(extra);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(0);
    }
    println!("name          {}", m.name);
    println!("path          {}", m.path.display());
    println!("size          {} ({} bytes)", human_size(m.size), m.size);
    println!("origin        {}", m.origin.as_str());
    if let Some(source) = source {
        println!("source        {source}");
    }
    if let Some(sha) = sha256 {
        println!("sha256        {sha}");
    }
    println!("architecture  {}", g.architecture.as_deref().unwrap_or("unknown"));
    println!("parameters    {} ({})", gguf::parameters_label(g.parameters), g.parameters);
    println!(
        "context       {}",
        g.context_length.map(|c| format!("{c} tokens")).unwrap_or_else(|| "unknown".into())
    );
    println!("file type     {}", g.file_type.as_deref().unwrap_or("unknown"));
    println!("gguf          version {}, {} tensors", g.version, g.tensors);
    Ok(0)
}

async fn pull(
    store: &ModelStore,
    reference: String,
    name: Option<String>,
    sha256: Option<String>,
) -> Result<i32> {
    let (reference, sha256) = if reference == "default" {
        let model = catalog::default_model().context("assets/models.toml has no default model")?;
        let pinned = Some(model.sha256).filter(|s| !s.is_empty());
        (model.reference, sha256.or(pinned))
    } else {
        (reference, sha256)
    };
    let options = PullOptions { name, sha256, ..PullOptions::from_env() };
    let client = crate::engine::llm::http::build_client(Duration::from_secs(10));
    let bar = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let shown = reference.clone();
    let mut on_progress = |p: PullProgress| {
        match p {
        PullProgress::Started { total, resumed_from } => {
            let size = total
                .map(|t| format!("{} ({t} bytes)", human_size(t)))
                .unwrap_or_else(|| "size unknown".into());
            let resume = if resumed_from > 0 {
                format!(", resuming at {}", human_size(resumed_from))
            } else {
                String::new()
            };
            bar.suspend(|| eprintln!("downloading {shown}: {size}{resume}"));
            if let Some(t) = total {
                bar.set_length(t);
            }
            bar.set_position(resumed_from);
        }
        PullProgress::Bytes { done, .. } => bar.set_position(done),
        PullProgress::Retrying { attempt, done, reason } => bar.suspend(|| {
            eprintln!("connection lost ({reason}); resuming at {} (retry {attempt})", human_size(done))
        }),
        PullProgress::Verifying { known: true } => bar.suspend(|| eprintln!("checking the sha256…")),
        PullProgress::Verifying { known: false } => bar.suspend(|| {
            eprintln!("no sha256 was published for this file: it is recorded, not verified (pass --sha256 to check one)")
        }),
    }
    };
    let result = pull::pull(store, &client, &reference, &options, &mut on_progress).await;
    bar.finish_and_clear();
    let model = result?;
    println!("pulled `{}` ({}) to {}", model.name, human_size(model.size), model.path.display());
    Ok(0)
}
