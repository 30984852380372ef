//! Project knowledge in the engine: `Op::Project` (`/deps`, `/deps add NAME`, `/config-check`,
//! `/env-example`) and the model's read-only `dependencies` tool, over `engine::project`.
//!
//! Invariants: reports are computed off the op loop (`spawn_blocking`; the graph is asked for
//! its imports within [`GRAPH_WAIT`], else the files are parsed); a manifest or `.env.example`
//! is never written without a verdict of the gate — the edit is a `write_file`-like proposal
//! through `pass_gate` and `apply`, exactly as `/learn`'s accepted rule, so it is shown, audited
//! and undoable; nothing is installed (that needs the network and is the user's own command).

use std::path::PathBuf;

use super::gate::{Ask, GateWords, Gated};
use super::graph_context::GRAPH_WAIT;
use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use crate::engine::approval::GateAction;
use crate::engine::approval::risk::assess;
use crate::engine::graph::GraphWorker;
use crate::engine::project::config_check::{self, ConfigReport};
use crate::engine::project::deps::{self, Declarations, DepsReport, Usage};
use crate::engine::project::schema::ProjectConfigSettings;
use crate::engine::project::{render, walk};
use crate::engine::protocol::{Event, LogLevel, ProjectOp, ProjectReply};
use crate::engine::tools::{self, ReadLedger, WriteArgs};

/// The dependency report of `root`, imports from the graph when it answers in time.
pub(super) async fn deps_report(
    root: PathBuf,
    graph: Option<GraphWorker>,
) -> Result<(DepsReport, Declarations), String> {
    let from_graph = match graph {
        Some(g) if g.has_entities() => {
            tokio::time::timeout(GRAPH_WAIT, g.ask(Usage::from_graph)).await.ok().flatten().flatten()
        }
        _ => None,
    };
    tokio::task::spawn_blocking(move || {
        let files = walk::files(&root);
        let mut usage = from_graph.unwrap_or_else(|| Usage::from_parse(&files));
        usage.add_rust_paths(&files);
        let decl = Declarations::read(&files);
        let report = deps::analyse(&decl, &usage, &deps::usage::local_names(&root, &files));
        (report, decl)
    })
    .await
    .map_err(|e| format!("the dependency analysis failed: {e}"))
}

async fn config_report(root: PathBuf, settings: ProjectConfigSettings) -> Result<ConfigReport, String> {
    tokio::task::spawn_blocking(move || config_check::check(&root, &walk::files(&root), &settings))
        .await
        .map_err(|e| format!("the configuration check failed: {e}"))
}

impl Engine {
    fn project_reply(&self, text: impl Into<String>, ok: bool) {
        self.emit(Event::Project(ProjectReply { text: text.into(), ok }));
    }

    pub(super) async fn project_op(&mut self, op: ProjectOp) -> LoopControl {
        let root = self.workspace.clone();
        match op {
            ProjectOp::Deps => match deps_report(root, self.graph.clone()).await {
                Ok((report, _)) => self.project_reply(render::deps_text(&report), true),
                Err(e) => self.project_reply(e, false),
            },
            ProjectOp::ConfigCheck => match config_report(root, self.config.project_config.clone()).await {
                Ok(report) => self.project_reply(render::config_text(&report), report.schema_errors() == 0),
                Err(e) => self.project_reply(e, false),
            },
            ProjectOp::AddDependency { name } => return self.add_dependency(&name).await,
            ProjectOp::EnvExample => return self.env_example().await,
        }
        LoopControl::Continue
    }

    /// `/deps add NAME`: the manifest edit through the gate.
    async fn add_dependency(&mut self, name: &str) -> LoopControl {
        let (report, decl) = match deps_report(self.workspace.clone(), self.graph.clone()).await {
            Ok(r) => r,
            Err(e) => {
                self.project_reply(e, false);
                return LoopControl::Continue;
            }
        };
        let root = self.workspace.clone();
        let current = move |rel: &str| walk::read(&root.join(rel));
        let addition = match deps::add::plan(&decl, &report, name, &current) {
            Ok(a) => a,
            Err(e) => {
                self.project_reply(format!("Not added: {}", render::printable(&e)), false);
                return LoopControl::Continue;
            }
        };
        let what = format!("declare {} in {}", addition.declaration, addition.manifest);
        let done = format!(
            "Declared {} in {} (/undo takes it back). Installing it is your own command, with the network.",
            addition.declaration, addition.manifest
        );
        self.propose_file(&addition.manifest, addition.content, &what, &done).await
    }

    /// `/env-example`: `.env.example` with every variable the code reads, through the gate.
    async fn env_example(&mut self) -> LoopControl {
        let report = match config_report(self.workspace.clone(), self.config.project_config.clone()).await {
            Ok(r) => r,
            Err(e) => {
                self.project_reply(e, false);
                return LoopControl::Continue;
            }
        };
        let path = report.examples.first().cloned().unwrap_or_else(|| ".env.example".into());
        let existing = walk::read(&self.workspace.join(&path));
        let Some(content) = config_check::env_example(&report, existing.as_deref()) else {
            self.project_reply(format!("{path} already lists every variable the code reads."), true);
            return LoopControl::Continue;
        };
        let what = format!("add {} variable(s) the code reads to {path}", report.missing.len());
        let done = format!("Wrote {path}: {} (/undo takes it back).", report.missing.join(", "));
        self.propose_file(&path, content, &what, &done).await
    }

    /// A whole-file write of `rel` proposed through the gate, applied only on approval.
    async fn propose_file(&mut self, rel: &str, content: String, what: &str, done: &str) -> LoopControl {
        let Some(workspace) = self.tools_workspace.clone() else {
            self.project_reply("Not written: the workspace directory cannot be opened.", false);
            return LoopControl::Continue;
        };
        // A fresh ledger: the content was built from the file as read just now.
        let args = WriteArgs { path: rel.to_string(), content };
        let mut proposal = match tools::propose_write(&workspace, &ReadLedger::default(), &args) {
            Ok(p) => p,
            Err(e) => {
                self.project_reply(format!("Not written: {e}"), false);
                return LoopControl::Continue;
            }
        };
        self.ensure_session();
        let action = GateAction::Edit { changes: vec![proposal.change.clone()] };
        let assessment = assess(&action, &self.workspace);
        let ask = Ask::new(what.to_string(), GateWords::CHANGE).editable();
        let edited = match self.pass_gate(&action, assessment, ask).await {
            Ok(Gated::Proceed { edited }) => edited,
            Ok(Gated::Stop(_) | Gated::Picked(_)) | Err(Interrupt::Cancel) => {
                self.project_reply(format!("{rel} was not changed."), false);
                return LoopControl::Continue;
            }
            Err(Interrupt::Shutdown) => return LoopControl::Shutdown,
        };
        if let Some(content) = edited {
            proposal.change.after = Some(content);
        }
        let outcome = self.apply(&proposal);
        if outcome.is_error {
            self.project_reply(outcome.content, false);
        } else {
            self.log(LogLevel::Info, done.to_string());
            self.project_reply(done, true);
        }
        LoopControl::Continue
    }

    /// The model's `dependencies` tool: the same report as `/deps`.
    pub(super) async fn dependencies_tool(&mut self) -> Result<(String, bool), Interrupt> {
        let answer = deps_report(self.workspace.clone(), self.graph.clone());
        match self.unless_interrupted(answer).await? {
            Ok((report, _)) => {
                let mut text = render::deps_text(&report);
                if !report.missing.is_empty() {
                    text.push_str(
                        "To declare a missing package, edit its manifest (edit_file; the user approves it). \
                         Do not run an install: it needs the network and the user's own approval.\n",
                    );
                }
                Ok((text, false))
            }
            Err(e) => Ok((e, true)),
        }
    }
}
