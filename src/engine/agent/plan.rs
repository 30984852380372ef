//! Plan mode as the engine runs it: under `Policy::Plan` the model is offered only reading and
//! searching tools plus `propose_plan`, and told so in its own system-prompt section
//! ([`section`]); a `propose_plan` call shows the plan to the user (`Event::PlanProposed`) and
//! waits for `Op::Plan`. Approval switches to the chosen policy and makes the steps the task
//! list (`todo.rs`), and the turn goes on carrying the plan out; rejection with words sends them
//! back for a revised plan; rejection without ends the turn, still in plan mode.
//!
//! Invariants: nothing changes in plan mode (the gate denies every change, `approval::policy`);
//! a plan is answered exactly once; the engine checks the answer again (`PlanDecision::approve`)
//! whatever the interface sent, and an invalid approval is treated as a rejection, said to the
//! user.

use super::reply::Interrupt;
use super::runtime::Engine;
use super::tool_calls::Outcome;
use crate::engine::approval::Policy;
use crate::engine::protocol::plan::todo_items;
use crate::engine::protocol::{Event, LogLevel, Op, PlanDecision, PlanProposal};
use crate::engine::tools::PlanArgs;

impl Engine {
    /// `propose_plan`: show the plan, wait for the user, act on the answer.
    pub(super) async fn plan_tool(&mut self, plan: PlanArgs) -> Result<Outcome, Interrupt> {
        if self.policy != Policy::Plan {
            return Ok(Outcome::error(
                "Not in plan mode: there is no plan to approve. Make the changes (each goes through the \
                 user's approval) and keep your steps with the `todo` tool.",
            ));
        }
        let id = self.next_confirm_id;
        self.next_confirm_id += 1;
        let policy =
            if self.policy_before_plan.changes_nothing() { Policy::Ask } else { self.policy_before_plan };
        self.emit(Event::PlanProposed(PlanProposal {
            id,
            summary: plan.summary,
            steps: plan.steps.clone(),
            files: plan.files,
            risks: plan.risks,
            policy,
        }));
        let decision = self
            .wait_for(|op| match op {
                Op::Plan { id: answered, decision } if *answered == id => Some(decision.clone()),
                _ => None,
            })
            .await?;
        let decision = match decision {
            PlanDecision::Approve { policy, steps } => match PlanDecision::approve(policy, &steps) {
                Ok(checked) => checked,
                Err(why) => {
                    self.notice(LogLevel::Warn, format!("The plan was not approved: {why}."));
                    PlanDecision::Reject { feedback: None }
                }
            },
            reject => reject,
        };
        Ok(match decision {
            PlanDecision::Approve { policy, steps } => {
                let edited = steps != plan.steps;
                self.set_policy(policy);
                self.todo_tool(todo_items(&steps));
                self.notice(
                    LogLevel::Info,
                    format!(
                        "Plan approved{}: the approval policy is now {}, and its {} steps are the task list.",
                        if edited { " with your edits" } else { "" },
                        policy.as_str(),
                        steps.len()
                    ),
                );
                Outcome::ok(format!(
                    "The user approved the plan{}. Plan mode is over: the approval policy is now `{}`, so \
                     you may edit files and run commands (each change goes through the user's approval \
                     as that policy says). Your task list holds the steps:\n{}\nCarry them out in order: \
                     mark each in_progress, then done, with the `todo` tool.",
                    if edited { " with their edits to the steps" } else { "" },
                    policy.as_str(),
                    numbered(&steps)
                ))
            }
            PlanDecision::Reject { feedback: Some(words) } if !words.trim().is_empty() => {
                Outcome::ok(format!(
                    "The user rejected the plan and said:\n{}\nYou are still in plan mode: read what you need \
                 and propose a revised plan with `propose_plan`.",
                    words.trim()
                ))
            }
            PlanDecision::Reject { .. } => {
                self.turn.stop_after_tools = true;
                Outcome::ok("The user rejected the plan. Stop here and wait for their next message.")
            }
        })
    }
}

fn numbered(steps: &[String]) -> String {
    steps.iter().enumerate().map(|(i, s)| format!("{}. {s}", i + 1)).collect::<Vec<_>>().join("\n")
}

/// The system-prompt section in plan mode.
pub(super) fn section() -> &'static str {
    "\n\n# Plan mode\n\nThe user turned on plan mode: you may only read and search (read_file, \
     list_dir, grep and the code search tools). Nothing can be changed and no command run until \
     they approve a plan. Find out what the request needs, then call `propose_plan` with a short \
     summary, the steps in order (one line each), the files to change and the risks. Do not \
     write the changes themselves.\n"
}
