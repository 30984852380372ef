//! The Git view's background jobs: one worker task takes jobs in order (so a stage never races
//! another stage), runs each on a blocking thread, and answers with events. The UI tags each
//! request with a sequence number and ignores answers older than the newest it asked for.
//!
//! Invariant: the worker never blocks the engine or the UI; a job that fails answers with a
//! notice (and, for status, a snapshot carrying the error) instead of silence.

use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::engine::git::{self, Repo, RepoState};
use crate::engine::protocol::{Event, LogLevel};
use crate::engine::protocol::{GitFileDiff, GitOp, GitPart, GitSnapshot};

/// Handle to the worker; dropping it ends the worker after its current job.
pub struct GitWorker {
    jobs: mpsc::UnboundedSender<GitOp>,
}

impl GitWorker {
    pub fn spawn(workspace: PathBuf, events: mpsc::UnboundedSender<Event>) -> GitWorker {
        let (jobs, mut rx) = mpsc::unbounded_channel::<GitOp>();
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let workspace = workspace.clone();
                let answers = tokio::task::spawn_blocking(move || run(&workspace, job)).await;
                for event in answers.unwrap_or_else(|e| vec![notice(format!("git job failed: {e}"))]) {
                    if events.send(event).is_err() {
                        return;
                    }
                }
            }
        });
        GitWorker { jobs }
    }

    pub fn submit(&self, job: GitOp) {
        let _ = self.jobs.send(job);
    }
}

fn notice(text: String) -> Event {
    Event::Notice { level: LogLevel::Warn, text }
}

fn run(workspace: &std::path::Path, job: GitOp) -> Vec<Event> {
    let repo = match Repo::open(workspace) {
        Ok(repo) => repo,
        Err(e) => {
            let seq = match &job {
                GitOp::Refresh { seq }
                | GitOp::ShowFile { seq, .. }
                | GitOp::ShowAll { seq }
                | GitOp::Stage { seq, .. } => *seq,
                _ => 0,
            };
            let error = Some(format!("{e} — git features are off; everything else works"));
            return vec![Event::GitStatus(GitSnapshot {
                seq,
                head: String::new(),
                state: None,
                files: vec![],
                error,
            })];
        }
    };
    match job {
        GitOp::Refresh { seq } => vec![snapshot(&repo, seq)],
        GitOp::ShowFile { seq, path, staged } => vec![file_diff(&repo, seq, path, staged)],
        GitOp::ShowAll { seq } => {
            let side = |staged: bool| {
                let files = if staged { git::staged(&repo, &[]) } else { git::unstaged(&repo, &[]) };
                files.map(|f| git::render_unified(&f))
            };
            match (side(true), side(false)) {
                (Ok(staged), Ok(unstaged)) => vec![Event::GitWholeDiff { seq, staged, unstaged }],
                (Err(e), _) | (_, Err(e)) => vec![notice(format!("/diff: {e}"))],
            }
        }
        GitOp::Stage { seq, path, part, unstage } => {
            let result = match (&part, unstage) {
                (GitPart::File, false) => git::stage_paths(&repo, &[&path]),
                (GitPart::File, true) => git::unstage_paths(&repo, &[&path]),
                (GitPart::Hunk(h), false) => git::stage_hunk(&repo, &path, h),
                (GitPart::Hunk(h), true) => git::unstage_hunk(&repo, &path, h),
                (GitPart::Lines(h, lines), false) => git::stage_lines(&repo, &path, h, lines),
                (GitPart::Lines(h, lines), true) => git::unstage_lines(&repo, &path, h, lines),
            };
            let mut events = Vec::new();
            if let Err(e) = result {
                events.push(notice(format!("{} {path}: {e}", if unstage { "unstage" } else { "stage" })));
            }
            events.push(snapshot(&repo, seq));
            events.push(file_diff(&repo, seq, path, unstage));
            events
        }
        other => vec![notice(format!("not a background git job: {other:?}"))],
    }
}

fn snapshot(repo: &Repo, seq: u64) -> Event {
    let state = match repo.state() {
        RepoState::Clean => None,
        other => Some(format!("{} in progress", other.as_str())),
    };
    let (head, files, error) = match (repo.head(), git::status(repo)) {
        (Ok(head), Ok(files)) => (head.describe(), files, None),
        (Err(e), _) | (_, Err(e)) => (String::new(), Vec::new(), Some(e.to_string())),
    };
    Event::GitStatus(GitSnapshot { seq, head, state, files, error })
}

fn file_diff(repo: &Repo, seq: u64, path: String, staged: bool) -> Event {
    let diffs = if staged { git::staged(repo, &[&path]) } else { git::unstaged(repo, &[&path]) };
    match diffs {
        Ok(mut files) => {
            let diff = files.iter().position(|f| f.path == path).map(|i| files.swap_remove(i));
            Event::GitFileDiff(GitFileDiff { seq, path, staged, diff })
        }
        Err(e) => notice(format!("diff of {path}: {e}")),
    }
}
