//! Plan mode as the user sees it: the plan the model proposes with `propose_plan` while the
//! policy is `plan` ([`PlanProposal`], `Event::PlanProposed`), and the user's answer
//! ([`PlanDecision`], `Op::Plan`). Plain data; the engine's `agent::plan` runs it.
//!
//! Invariants: an approved plan's steps pass `todo::validate` as a list of pending items (they
//! become the task list), and the policy it switches to is one that lets changes through
//! ([`PlanDecision::approve`] refuses `read-only` and `plan`).

use super::gate::Policy;
use super::todo::{TodoItem, TodoStatus, validate};

/// A plan waiting for the user: approve it (switching to a policy), edit its steps, or reject it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanProposal {
    pub id: u64,
    /// What the plan does and why, in the model's words.
    pub summary: String,
    /// The steps in order, one line each.
    pub steps: Vec<String>,
    /// The files it expects to change or create.
    pub files: Vec<String>,
    /// What could go wrong.
    pub risks: Vec<String>,
    /// The policy approval switches to unless the user picks another: the one in force before
    /// plan mode when it let changes through, else `ask`.
    pub policy: Policy,
}

/// The user's answer to a [`PlanProposal`].
#[derive(Debug, Clone, PartialEq)]
pub enum PlanDecision {
    /// Carry it out under `policy`, with these steps (the proposal's or the user's edit) as the
    /// task list.
    Approve { policy: Policy, steps: Vec<String> },
    /// Not this plan. With feedback the model revises it in the same turn; without, the turn ends
    /// and plan mode stays.
    Reject { feedback: Option<String> },
}

impl PlanDecision {
    /// An approval, checked: `steps` trimmed, blank lines dropped, the list valid as a task list,
    /// and `policy` one under which changes can be made.
    pub fn approve(policy: Policy, steps: &[String]) -> Result<PlanDecision, String> {
        if policy.changes_nothing() {
            return Err(format!(
                "approving a plan switches to a policy that allows changes, not {}",
                policy.as_str()
            ));
        }
        let steps: Vec<String> =
            steps.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if steps.is_empty() {
            return Err("a plan needs at least one step".into());
        }
        if let Some(why) = validate(&todo_items(&steps)) {
            return Err(why);
        }
        Ok(PlanDecision::Approve { policy, steps })
    }
}

/// The task list an approved plan becomes: every step pending.
pub fn todo_items(steps: &[String]) -> Vec<TodoItem> {
    steps.iter().map(|s| TodoItem::new(s.clone(), TodoStatus::Pending)).collect()
}

/// The policies a plan may be approved under, in the dialog's order.
pub const APPROVE_POLICIES: [Policy; 3] = [Policy::Ask, Policy::AutoEdit, Policy::Auto];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_needs_a_policy_that_allows_changes_and_valid_steps() {
        let steps = vec!["  Read the parser ".to_string(), String::new(), "Fix it".to_string()];
        assert_eq!(
            PlanDecision::approve(Policy::AutoEdit, &steps),
            Ok(PlanDecision::Approve {
                policy: Policy::AutoEdit,
                steps: vec!["Read the parser".into(), "Fix it".into()]
            })
        );
        assert!(PlanDecision::approve(Policy::Plan, &steps).is_err());
        assert!(PlanDecision::approve(Policy::ReadOnly, &steps).is_err());
        assert!(PlanDecision::approve(Policy::Ask, &[" ".into()]).is_err());
        assert!(PlanDecision::approve(Policy::Ask, &["x".repeat(301)]).is_err());
    }
}
