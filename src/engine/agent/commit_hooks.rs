//! The repository hooks a commit runs, vetted: the hooks present when the engine started are
//! trusted as they were; a hook created or changed since (by anything — a sandboxed command, the
//! model, another program) is shown with its content and runs only after the user approves it
//! in the gate (`GitAction::Hook`, always critical, never granted for the session).
//!
//! Invariants: the trusted set holds content hashes, so an approved hook changed again is asked
//! about again; `git::commit` re-checks the hash before it runs a hook (`CommitOptions::
//! trusted_hooks`), so a hook swapped after the approval is refused, not run.

use std::path::Path;

use super::gate::{Ask, GateWords, Gated};
use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::approval::risk::assess;
use crate::engine::approval::{GateAction, GitAction};
use crate::engine::git::Repo;
use crate::engine::git::hooks::{self, TrustedHooks};
use crate::engine::protocol::LogLevel;

/// Most bytes of a hook's content shown in the request.
const MAX_SHOWN: usize = 64 * 1024;

/// The commit hooks in the repository at `workspace` now (none when it is not a repository).
pub(super) fn present_at_start(workspace: &Path) -> TrustedHooks {
    Repo::open(workspace).and_then(|repo| hooks::trust_present(&repo)).unwrap_or_default()
}

impl Engine {
    /// Ask about every commit hook created or changed during the session. Ok(Ok(names of the
    /// hooks the commit will run)), or Ok(Err(why not to commit)) when one was not approved.
    pub(super) async fn vet_hooks(&mut self) -> Result<Result<Vec<String>, String>, Interrupt> {
        let workspace = self.workspace.clone();
        let found =
            tokio::task::spawn_blocking(move || Repo::open(&workspace).and_then(|r| hooks::commit_hooks(&r)))
                .await
                .map_err(|e| e.to_string());
        let present = match found {
            Ok(Ok(present)) => present,
            Ok(Err(e)) => return Ok(Err(format!("Cannot read the repository's hooks: {e}"))),
            Err(e) => return Ok(Err(format!("Cannot read the repository's hooks: {e}"))),
        };
        for hook in &present {
            if self.trusted_hooks.get(&hook.name) == Some(&hook.hash) {
                continue;
            }
            let shown = hook.path.strip_prefix(&self.workspace).unwrap_or(&hook.path).display().to_string();
            let mut content = hook.content.clone();
            if content.len() > MAX_SHOWN {
                let cut = (0..=MAX_SHOWN).rev().find(|i| content.is_char_boundary(*i)).unwrap_or(0);
                content.truncate(cut);
                content.push_str("\n…(cut: the hook is longer)");
            }
            let action = GateAction::Git {
                op: GitAction::Hook,
                target: hook.name.clone(),
                detail: content,
                force: false,
            };
            let mut assessment = assess(&action, &self.workspace);
            assessment
                .reasons
                .push(format!("{shown} was not there, or not like this, when the session started"));
            let ask =
                Ask::new(format!("run the {} hook {shown} with this commit?", hook.name), GateWords::STEP);
            match self.pass_gate(&action, assessment, ask).await? {
                Gated::Proceed { .. } => {
                    self.log(
                        LogLevel::Warn,
                        format!("the {} hook {shown} was approved for this session", hook.name),
                    );
                    self.trusted_hooks.insert(hook.name.clone(), hook.hash.clone());
                }
                Gated::Stop(_) | Gated::Picked(_) => {
                    return Ok(Err(format!(
                        "Not committed: the {} hook ({shown}) was created or changed during this session and \
                         not approved. Read it, and remove it or approve it to commit.",
                        hook.name
                    )));
                }
            }
        }
        Ok(Ok(present.into_iter().map(|h| h.name).collect()))
    }
}
