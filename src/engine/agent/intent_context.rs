//! The context `/fix` and `/review` bring to the user's text before a turn starts.
//!
//! - `/fix [TEXT]`: the pasted error text, else the latest failure of this session kept in
//!   [`Engine::last_failure`] — a failed run (its command, summary and output tails, `runs.rs`)
//!   or failing project checks (their diagnostics, `checks.rs`; taken back once they pass); the
//!   prompt asks for the cause first, then the smallest change, then the failing command again.
//! - `/review [TEXT]`: the staged diff, else the current branch against `git.base_branch` (from
//!   their merge base); read-only tools (`intents::allows_edits`); findings come back as
//!   `severity path:line — …` with a suggested change the user can then have applied through
//!   the gate ("Apply the suggested changes").
//!
//! - `/explain SYMBOL [--detail …]`: the code index's facts about the symbol (`explain.rs`).
//! - `/docs SYMBOL`, `/docs readme`: the facts documentation is written from (`docs.rs`).
//!
//! Invariant: with nothing to fix or review, no turn starts — the user is told why.

use super::git::with_repo;
use super::runtime::Engine;
use crate::engine::git::{self, VcsError};
use crate::engine::protocol::{Event, Intent, LogLevel};

/// The largest diff a review prompt carries (the rest is named, not sent).
const MAX_REVIEW_DIFF: usize = 60 * 1024;

impl Engine {
    /// The turn's prompt for `intent` and the user's `text`; `Err` says why no turn starts.
    pub(super) async fn intent_prompt(
        &mut self,
        intent: Option<Intent>,
        text: String,
    ) -> Result<String, String> {
        match intent {
            Some(Intent::Fix) => self.fix_prompt(text),
            Some(Intent::Review) => self.review_prompt(text).await,
            Some(Intent::Explain) => self.explain_prompt(text).await,
            Some(Intent::Docs) => self.docs_prompt(text).await,
            _ => Ok(text),
        }
    }

    fn fix_prompt(&self, text: String) -> Result<String, String> {
        let failure = match (text.trim().is_empty(), &self.last_failure) {
            (false, _) => text,
            (true, Some(failure)) => failure.clone(),
            (true, None) => {
                return Err("Nothing to fix: no run or check failed in this session. Paste the error after \
                            /fix (e.g. /fix <the compiler's output>)."
                    .into());
            }
        };
        Ok(format!("Fix this failure.\n\n```text\n{}\n```", failure.trim_end()))
    }

    async fn review_prompt(&mut self, text: String) -> Result<String, String> {
        let base = self.config.git.base_branch.clone();
        let reviewed = with_repo(self.workspace.clone(), move |repo| {
            let staged = git::diff::staged(repo, &[])?;
            if !staged.is_empty() {
                return Ok(("the staged changes".to_string(), git::diff::render_unified(&staged)));
            }
            let head = repo.git().head()?.peel_to_commit()?.id();
            let base_id = repo.commit_of(&base)?.id();
            let fork = repo.git().merge_base(base_id, head)?;
            let files = git::diff::between(repo, &fork.to_string(), "HEAD", &[])?;
            Ok((format!("this branch against `{base}`"), git::diff::render_unified(&files)))
        })
        .await;
        let (what, diff) = match reviewed {
            Ok((_, diff)) if diff.trim().is_empty() => {
                return Err(format!(
                    "Nothing to review: nothing is staged and the branch has no commits beyond `{}`.",
                    self.config.git.base_branch
                ));
            }
            Ok(found) => found,
            Err(VcsError::NotARepo(_)) => {
                return Err("Nothing to review: this is not a git repository.".into());
            }
            Err(e) => return Err(format!("Cannot review: {e}")),
        };
        let mut diff = diff;
        if diff.len() > MAX_REVIEW_DIFF {
            let mut cut = MAX_REVIEW_DIFF;
            while !diff.is_char_boundary(cut) {
                cut -= 1;
            }
            diff.truncate(cut);
            diff.push_str("\n… (the diff is longer; read the files for the rest)\n");
        }
        let focus =
            if text.trim().is_empty() { String::new() } else { format!("\nFocus: {}\n", text.trim()) };
        Ok(format!("Review {what}.{focus}\n```diff\n{diff}```"))
    }

    /// A turn that could not start: say why, and end it.
    pub(super) fn refuse_turn(&self, why: String) {
        self.emit(Event::Notice { level: LogLevel::Warn, text: why.clone() });
        self.emit(Event::TurnEnded(crate::engine::protocol::TurnOutcome::Failed { reason: why }));
    }
}
