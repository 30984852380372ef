//! The git flows that change history, each through the approval gate: `/commit` (a proposal with
//! a model-written message the user can edit in the modal), `/branch`, `/merge` (conflicts
//! resolved file by file: the model proposes, the user approves, edits or picks a side; denying
//! aborts and restores the pre-merge state), `/uncommit` (only kv1nt's own last commit); `/pr` is
//! in `pull_request.rs`.
//!
//! Invariants: nothing is committed, merged or undone without a verdict of the gate; every git
//! call runs on a blocking thread; hook output goes to the Output pane; afterwards the UI is told
//! to refresh its Git view (`Event::GitChanged`).

use std::path::PathBuf;

use super::gate::{Ask, GateWords, Gated};
use super::reply::Interrupt;
use super::runtime::{Engine, LoopControl};
use crate::engine::approval::risk::assess;
use crate::engine::approval::{FileChange, GateAction, GitAction};
use crate::engine::git::assist::message::write_commit_message;
use crate::engine::git::{self, CommitOptions, CommitOutcome, MergeOutcome, MessageSource, Repo, VcsError};
use crate::engine::protocol::{Event, LogLevel};

use crate::engine::protocol::GitOp;

/// What a flow ended with, for the chat.
pub(super) type Said = Result<String, String>;

impl Engine {
    /// Run a flow; returns `LoopControl::Shutdown` when the user quit while it waited.
    pub(in crate::engine) async fn git_flow(&mut self, op: GitOp) -> LoopControl {
        self.ensure_session();
        let said = match op {
            GitOp::Commit => self.commit_flow(None).await,
            GitOp::Branch { name } => Ok(self.branch_flow(name).await),
            GitOp::Merge { branch } => self.merge_flow(branch).await,
            GitOp::Uncommit => self.uncommit_flow().await,
            GitOp::PullRequest => self.pull_request_flow().await,
            job => {
                self.git.submit(job);
                return LoopControl::Continue;
            }
        };
        let (level, text) = match said {
            Err(Interrupt::Shutdown) => {
                self.emit(Event::GitChanged);
                return LoopControl::Shutdown;
            }
            Err(Interrupt::Cancel) => (LogLevel::Warn, "Cancelled.".to_string()),
            Ok(Ok(text)) => (LogLevel::Info, text),
            Ok(Err(text)) => (LogLevel::Warn, text),
        };
        self.emit(Event::Notice { level, text });
        self.emit(Event::GitChanged);
        LoopControl::Continue
    }

    fn commit_options(&self) -> CommitOptions {
        CommitOptions {
            trailer: self.config.git.trailer.clone(),
            no_verify: false,
            trusted_hooks: Some(self.trusted_hooks.clone()),
        }
    }

    /// The model's `commit` tool: the same flow; the outcome goes back to the model.
    pub(in crate::engine) async fn commit_tool(
        &mut self,
        message: Option<String>,
    ) -> Result<(String, bool), Interrupt> {
        let said = self.commit_flow(message).await?;
        self.emit(Event::GitChanged);
        Ok(match said {
            Ok(text) => (text, false),
            Err(text) => (text, true),
        })
    }

    /// The model's `create_branch`: asks, then `/branch`.
    pub(in crate::engine) async fn branch_tool(&mut self, name: String) -> Result<(String, bool), Interrupt> {
        let full = self.branch_name(&name);
        let action = git_step(GitAction::Branch, full.clone(), String::new());
        let mut assessment = assess(&action, &self.workspace);
        let base = &self.config.git.base_branch;
        assessment.reasons.insert(0, format!("creates `{full}` from `{base}` and switches to it"));
        let ask = Ask::new(format!("start the branch {full}"), GateWords::STEP);
        let said = match self.pass_gate(&action, assessment, ask).await? {
            Gated::Proceed { .. } => self.branch_flow(name).await,
            Gated::Stop(reason) => Err(reason),
            Gated::Picked(_) => Err("Not created.".into()),
        };
        self.emit(Event::GitChanged);
        Ok(match said {
            Ok(text) => (text, false),
            Err(text) => (text, true),
        })
    }

    fn branch_name(&self, name: &str) -> String {
        if name.contains('/') { name.to_string() } else { format!("{}{name}", self.config.git.branch_prefix) }
    }

    /// Propose a commit of what is staged (`message` from the model's tool call, or written now),
    /// ask, commit.
    async fn commit_flow(&mut self, message: Option<String>) -> Result<Said, Interrupt> {
        let workspace = self.workspace.clone();
        let proposal = match with_repo(self.workspace.clone(), move |repo| {
            git::prepare_commit(repo, &workspace)
        })
        .await
        {
            Ok(p) => p,
            Err(VcsError::NothingStaged) => {
                return Ok(Err(
                    "Nothing is staged to commit: stage files or hunks in the Git view (Ctrl+G, \
                               then s) first."
                        .into(),
                ));
            }
            Err(e) => return Ok(Err(format!("Cannot prepare a commit: {e}"))),
        };
        let (message, source, why) = match message.filter(|m| !m.trim().is_empty()) {
            Some(message) => (message, MessageSource::Model, None),
            None => {
                self.log(LogLevel::Info, "writing a commit message…");
                let (models, questions) = self.one_shot();
                let written = write_commit_message(&models, self.config.git.message_style, &proposal);
                self.one_shot_answer(written, questions, "the staged diff").await?
            }
        };
        let proposal = proposal.with_message(message, source, &self.workspace);
        let stat = &proposal.diffstat;
        let by = match (proposal.message_source, why) {
            (MessageSource::Model, _) => "message by the model".to_string(),
            (MessageSource::Summary, Some(why)) => format!("message summarised from the diff ({why})"),
            (MessageSource::Summary, None) => "message summarised from the diff".to_string(),
        };
        let summary = format!(
            "commit {} file{}, +{} −{} — {by}; e edits the message",
            stat.files,
            if stat.files == 1 { "" } else { "s" },
            stat.insertions,
            stat.deletions
        );
        let hooks = match self.vet_hooks().await? {
            Ok(hooks) => hooks,
            Err(why) => return Ok(Err(why)),
        };
        let action = proposal.action();
        let mut assessment = proposal.assessment.clone();
        assessment.reasons.push(runs_hooks(&hooks));
        let ask = Ask::new(summary, GateWords::COMMIT).editable();
        let message = match self.pass_gate(&action, assessment, ask).await? {
            Gated::Stop(reason) => return Ok(Err(reason)),
            Gated::Picked(_) => return Ok(Err("Not committed.".into())),
            Gated::Proceed { edited } => edited.unwrap_or(proposal.message),
        };
        let options = self.commit_options();
        match with_repo(self.workspace.clone(), move |repo| git::commit(repo, &message, &options)).await {
            Ok(outcome) => Ok(Ok(self.committed(&outcome))),
            Err(e) => {
                self.log(LogLevel::Error, e.to_string());
                Ok(Err(format!("Not committed: {e}")))
            }
        }
    }

    /// Log hook output, remember the commit as kv1nt's own, and say what happened.
    fn committed(&self, outcome: &CommitOutcome) -> String {
        for line in outcome.hook_output.lines() {
            self.log(LogLevel::Info, format!("hook │ {line}"));
        }
        let short: String = outcome.id.chars().take(7).collect();
        if let (Some(store), Some(session)) = (&self.store, &self.session)
            && let Err(e) = store.record_commit(&session.id, &self.workspace, &outcome.id, &outcome.summary)
        {
            self.log(LogLevel::Error, format!("could not record the commit for /uncommit: {e}"));
        }
        let signed = if outcome.signed { " (signed)" } else { "" };
        self.log(LogLevel::Info, format!("committed {short}{signed} {}", outcome.summary));
        format!("Committed {short}{signed}: {}", outcome.summary)
    }

    async fn branch_flow(&mut self, name: String) -> Said {
        let full = self.branch_name(&name);
        let base = self.config.git.base_branch.clone();
        let branch = full.clone();
        let created = with_repo(self.workspace.clone(), move |repo| {
            let has_base = git::branches(repo)?.iter().any(|b| b.name == base);
            git::create_branch(repo, &branch, has_base.then_some(base.as_str()))?;
            git::switch_branch(repo, &branch)
        })
        .await;
        match created {
            Ok(()) => Ok(format!("Created and switched to `{full}`.")),
            Err(e) => Err(format!("Cannot create `{full}`: {e}")),
        }
    }

    async fn merge_flow(&mut self, branch: String) -> Result<Said, Interrupt> {
        let target = branch.clone();
        let outcome = match with_repo(self.workspace.clone(), move |repo| git::merge(repo, &target)).await {
            Ok(outcome) => outcome,
            Err(e) => return Ok(Err(format!("Cannot merge `{branch}`: {e}"))),
        };
        let message = match outcome {
            MergeOutcome::UpToDate => return Ok(Ok(format!("Already up to date with `{branch}`."))),
            MergeOutcome::FastForward { id } => {
                let short: String = id.chars().take(7).collect();
                return Ok(Ok(format!("Fast-forwarded to `{branch}` ({short}).")));
            }
            MergeOutcome::Clean { message } => message,
            MergeOutcome::Conflicts(conflicts) => {
                let total = conflicts.len();
                for (i, conflict) in conflicts.into_iter().enumerate() {
                    if let Err(stop) = self.resolve_one(&branch, conflict, i + 1, total).await {
                        let aborted = with_repo(self.workspace.clone(), git::abort_merge).await;
                        return match aborted {
                            Ok(()) => Ok(Err(format!("{stop} The merge is aborted; nothing changed."))),
                            Err(e) => Ok(Err(format!("{stop} Aborting the merge failed: {e}"))),
                        };
                    }
                }
                format!("Merge branch '{branch}'")
            }
        };
        self.merge_commit(&branch, message).await
    }

    /// One conflicted file: the model proposes, the user approves, edits, picks a side or denies.
    async fn resolve_one(
        &mut self,
        branch: &str,
        conflict: git::Conflict,
        index: usize,
        total: usize,
    ) -> Result<(), String> {
        let path = conflict.path.clone();
        self.log(LogLevel::Info, format!("asking the model to resolve {path} ({index}/{total})"));
        let (models, questions) = self.one_shot();
        let proposed = crate::engine::git::assist::propose_resolution(&models, &conflict);
        let asked = self.one_shot_answer(proposed, questions, "the conflicted file").await;
        let (proposal, note) = match asked.map_err(|_| "Cancelled.")? {
            Ok(content) => (content, "the model's resolution".to_string()),
            Err(why) => {
                let ours = conflict.ours.clone().unwrap_or_default();
                (ours, format!("no resolution from the model ({why}); showing ours"))
            }
        };
        let change =
            FileChange { path: path.clone(), before: conflict.ours.clone(), after: Some(proposal.clone()) };
        let action = GateAction::Edit { changes: vec![change] };
        let assessment = assess(&action, &self.workspace);
        let mut ask = Ask::new(
            format!("resolve conflict {index}/{total} in {path}: {note} (Diff: ours → proposed)"),
            GateWords::STEP,
        )
        .editable();
        ask.picks =
            vec![('o', "take ours (current branch)".into()), ('t', format!("take theirs ({branch})"))];
        let content = match self.pass_gate(&action, assessment, ask).await.map_err(|_| "Cancelled.")? {
            Gated::Proceed { edited } => Some(edited.unwrap_or(proposal)),
            Gated::Picked('o') => conflict.ours.clone(),
            Gated::Picked(_) => conflict.theirs.clone(),
            Gated::Stop(reason) => return Err(format!("{reason}.")),
        };
        let target = path.clone();
        with_repo(self.workspace.clone(), move |repo| git::resolve_file(repo, &target, content.as_deref()))
            .await
            .map_err(|e| format!("Cannot resolve {path}: {e}."))?;
        self.log(LogLevel::Info, format!("resolved {path}"));
        Ok(())
    }

    async fn merge_commit(&mut self, branch: &str, message: String) -> Result<Said, Interrupt> {
        let diff =
            with_repo(self.workspace.clone(), |repo| Ok(git::render_unified(&git::staged(repo, &[])?))).await;
        let diff = diff.unwrap_or_default();
        let hooks = match self.vet_hooks().await {
            Ok(Ok(hooks)) => hooks,
            Ok(Err(why)) => {
                let aborted = with_repo(self.workspace.clone(), git::abort_merge).await;
                let how = if aborted.is_ok() { "aborted; nothing changed" } else { "left in progress" };
                return Ok(Err(format!("{why} The merge is {how}.")));
            }
            Err(Interrupt::Cancel) => {
                let _ = with_repo(self.workspace.clone(), git::abort_merge).await;
                return Ok(Err("Cancelled: the merge is aborted.".into()));
            }
            Err(shutdown) => return Err(shutdown),
        };
        let action = GateAction::Commit { message: message.clone(), diff };
        let mut assessment = assess(&action, &self.workspace);
        assessment.reasons.push(runs_hooks(&hooks));
        let ask = Ask::new(format!("commit the merge of `{branch}`; e edits the message"), GateWords::COMMIT);
        let message = match self.pass_gate(&action, assessment, ask.editable()).await {
            Ok(Gated::Proceed { edited }) => edited.unwrap_or(message),
            Ok(_) | Err(Interrupt::Cancel) => {
                let aborted = with_repo(self.workspace.clone(), git::abort_merge).await;
                let how = if aborted.is_ok() { "aborted; nothing changed" } else { "left in progress" };
                return Ok(Err(format!("The merge commit was not approved: the merge is {how}.")));
            }
            Err(shutdown) => return Err(shutdown),
        };
        let options = self.commit_options();
        match with_repo(self.workspace.clone(), move |repo| git::merge_commit(repo, &message, &options)).await
        {
            Ok(outcome) => Ok(Ok(self.committed(&outcome))),
            Err(e) => Ok(Err(format!("The merge commit failed: {e}"))),
        }
    }

    async fn uncommit_flow(&mut self) -> Result<Said, Interrupt> {
        let workspace: PathBuf = self.workspace.clone();
        let last = self.store.as_ref().map(|s| s.last_commit(&workspace));
        let made = match last {
            Some(Ok(Some(made))) => made,
            Some(Ok(None)) => return Ok(Err("kv1nt has made no commit here that it could undo.".into())),
            Some(Err(e)) => return Ok(Err(format!("Cannot read kv1nt's commits: {e}"))),
            None => return Ok(Err("Session storage is unavailable, so kv1nt's commits are unknown.".into())),
        };
        let short: String = made.commit_id.chars().take(7).collect();
        let action = git_step(GitAction::Uncommit, short.clone(), String::new());
        let mut assessment = assess(&action, &self.workspace);
        assessment
            .reasons
            .insert(0, format!("undoes commit {short} \"{}\"; its changes stay staged", made.summary));
        let ask = Ask::new(format!("undo kv1nt's last commit {short}"), GateWords::STEP);
        match self.pass_gate(&action, assessment, ask).await? {
            Gated::Proceed { .. } => {}
            Gated::Stop(reason) => return Ok(Err(reason)),
            Gated::Picked(_) => return Ok(Err("Not undone.".into())),
        }
        let id = made.commit_id.clone();
        match with_repo(self.workspace.clone(), move |repo| git::uncommit(repo, &id)).await {
            Ok(()) => {
                if let Some(store) = &self.store {
                    let _ = store.mark_uncommitted(made.row);
                }
                Ok(Ok(format!("Undid commit {short} \"{}\"; its changes are staged.", made.summary)))
            }
            Err(e) => Ok(Err(format!("Cannot undo {short}: {e}"))),
        }
    }
}

/// The reason naming the hooks a commit will run.
fn runs_hooks(hooks: &[String]) -> String {
    if hooks.is_empty() {
        "runs no repository hooks".to_string()
    } else {
        format!("runs the repository's hooks: {}", hooks.join(", "))
    }
}

/// An unforced git step for the gate.
pub(super) fn git_step(op: GitAction, target: String, detail: String) -> GateAction {
    GateAction::Git { op, target, detail, force: false }
}

/// Run `f` on the repository at `workspace` on a blocking thread.
pub(super) async fn with_repo<T: Send + 'static>(
    workspace: PathBuf,
    f: impl FnOnce(&Repo) -> Result<T, VcsError> + Send + 'static,
) -> Result<T, VcsError> {
    let job = tokio::task::spawn_blocking(move || Repo::open(&workspace).and_then(|repo| f(&repo)));
    job.await.unwrap_or_else(|e| Err(VcsError::JobFailed(e.to_string())))
}
