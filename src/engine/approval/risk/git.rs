//! Git-step risk: the rules for [`GateAction::Git`](crate::engine::protocol::GateAction::Git)
//! (commits are weighed by their diff in `risk.rs`).
//!
//! Invariants:
//! - Anything that leaves the machine (a pull request, a push) is at least high.
//! - A forced step (`-f`, `--force`: a forced switch, merge or push) is critical: it discards or
//!   overwrites work the plain step keeps.
//! - Rewriting local history (`/uncommit`) is high; a pushed commit is refused before it gets
//!   here (`git::uncommit`).
//! - Running a hook created or changed during the session is critical: it runs outside the
//!   sandbox with the user's rights.
//! - Switching to a new branch or merging locally is medium (reversible, nothing leaves).

use crate::engine::approval::types::{GitAction, Risk};

pub(super) fn assess_git(op: GitAction, target: &str, force: bool) -> Vec<(Risk, String)> {
    let mut found = vec![match op {
        GitAction::Branch => (Risk::Medium, format!("switches the working tree to the branch `{target}`")),
        GitAction::Merge => (Risk::Medium, format!("merges `{target}` into the current branch (local only)")),
        GitAction::Uncommit => {
            (Risk::High, format!("rewrites local history: moves the branch back past commit {target}"))
        }
        GitAction::PullRequest => {
            (Risk::High, format!("leaves the machine: opens a pull request {target}, visible to others"))
        }
        GitAction::Push => (Risk::High, format!("leaves the machine: pushes to {target}")),
        GitAction::Hook => (
            Risk::Critical,
            format!(
                "runs the hook `{target}` outside the sandbox: it was created or changed during this \
                 session (read it below)"
            ),
        ),
    }];
    if force {
        found.push((Risk::Critical, format!("forced {}: discards or overwrites work", op.as_str())));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(op: GitAction, force: bool) -> Risk {
        assess_git(op, "x", force).into_iter().map(|f| f.0).max().unwrap_or(Risk::Low)
    }

    #[test]
    fn what_leaves_the_machine_is_at_least_high() {
        assert_eq!(risk(GitAction::PullRequest, false), Risk::High);
        assert_eq!(risk(GitAction::Push, false), Risk::High);
    }

    #[test]
    fn force_and_planted_hooks_are_critical() {
        for op in [GitAction::Branch, GitAction::Merge, GitAction::Push] {
            assert_eq!(risk(op, true), Risk::Critical, "{op:?}");
        }
        assert_eq!(risk(GitAction::Hook, false), Risk::Critical);
    }

    #[test]
    fn local_steps() {
        assert_eq!(risk(GitAction::Branch, false), Risk::Medium);
        assert_eq!(risk(GitAction::Merge, false), Risk::Medium);
        assert_eq!(risk(GitAction::Uncommit, false), Risk::High);
    }
}
