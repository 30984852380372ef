//! One-shot requests as the engine runs them (commit messages, conflict resolutions, pull-request
//! descriptions): the models from configuration, and the fallback question put to the user with
//! the same confirm dialog (`Event::ConfirmRequest` / `Op::Answer`) a streaming turn uses.
//!
//! Invariant: with `llm.fallback_confirm` set, no one-shot request reaches the fallback provider
//! before the user said yes; Esc while waiting cancels the request.

use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::llm::oneshot::{FALLBACK_TITLE, FallbackConsent, FallbackQuestion, OneShot};
use crate::engine::llm::providers;
use crate::engine::protocol::Op;
use tokio::sync::mpsc;

/// Where a one-shot request's fallback questions arrive.
pub(super) type Questions = mpsc::UnboundedReceiver<FallbackQuestion>;

impl Engine {
    /// The models git's one-shot requests ask (commit messages, resolutions, PR descriptions),
    /// and where they ask to move to the fallback when `llm.fallback_confirm` is set (answered
    /// by [`Engine::one_shot_answer`]).
    pub(super) fn one_shot(&self) -> (OneShot, Questions) {
        let mut models = providers::one_shot(&self.config, &self.secrets, &self.client);
        let (ask, questions) = mpsc::unbounded_channel();
        if self.config.llm.fallback_confirm {
            models.consent = FallbackConsent::Ask(ask);
        }
        (models, questions)
    }

    /// Await a one-shot request (`work`), putting its fallback questions to the user with the
    /// same confirm dialog as a turn's; Esc cancels, as in [`Engine::unless_interrupted`].
    pub(super) async fn one_shot_answer<T>(
        &mut self,
        work: impl Future<Output = T>,
        mut questions: Questions,
        what: &str,
    ) -> Result<T, Interrupt> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return Ok(result),
                Some(question) = questions.recv() => {
                    let yes = self.confirm(FALLBACK_TITLE, question.body(what)).await?;
                    let _ = question.answer.send(yes);
                }
                op = self.ops.recv() => match op {
                    Some(Op::Cancel) => return Err(Interrupt::Cancel),
                    Some(Op::Shutdown) | None => return Err(Interrupt::Shutdown),
                    Some(other) => self.defer(other),
                },
            }
        }
    }
}
