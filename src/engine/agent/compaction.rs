//! Compaction as the engine runs it: before a step whose request would fill `context.compact_at`
//! of the window (counted exactly first where the provider can, `window.rs`), or on
//! `/compact [FOCUS]`, the model (a one-shot request, with the fallback rule of every one-shot
//! request) summarises the oldest messages; the user accepts, edits or declines the summary
//! (`Event::CompactionProposed` → `Op::Compaction`); an accepted one is stored and sent in every
//! later request in place of those messages (`request.rs`).
//!
//! Invariants:
//! - Nothing is compacted without an answer to the proposal: the TUI accepts on its own only
//!   after `context.compact_accept_secs` and never under the `read-only` policy; `exec` accepts
//!   and prints the summary.
//! - A failed or declined compaction never fails the turn: the oldest messages are trimmed as
//!   before, and the user is told. The window filling tries again once per turn at most, and
//!   not before [`DECLINED_MESSAGES`] more messages after the user declined.

use super::reply::Interrupt;
use super::runtime::Engine;
use crate::engine::llm::compact::{self, Summary};
use crate::engine::llm::context::estimate_tokens;
use crate::engine::protocol::{Compacted, CompactionDecision, CompactionProposal, Event, LogLevel, Op};
use crate::engine::store::StoredCompaction;

/// Messages the history grows by after a declined proposal before a full window asks again.
const DECLINED_MESSAGES: usize = 10;

/// The most tokens a summary may take: an eighth of the input space, within 256..=2,048.
fn summary_tokens(space: usize) -> u32 {
    (space / 8).clamp(256, 2_048) as u32
}

impl Engine {
    /// Before a step: compact when the next request would cross `context.compact_at`.
    pub(super) async fn compact_if_full(&mut self) -> Result<(), Interrupt> {
        let kind = self.config.llm.primary;
        self.count_near_threshold(kind).await?;
        if self.turn.compaction_tried
            || self.compaction_declined.is_some_and(|at| self.history.len() < at + DECLINED_MESSAGES)
        {
            return Ok(());
        }
        let (used, space) = self.input_pressure(kind);
        if !compact::over_threshold(used, space, self.config.context.compact_at) {
            return Ok(());
        }
        self.turn.compaction_tried = true;
        let from = self.summary.as_ref().map_or(0, |s| s.through);
        let current = (self.turn.number as usize).saturating_sub(1);
        // What stays verbatim may take half the room the fixed parts and a new summary leave
        // under the threshold, so the next turns do not compact again at once.
        let threshold = space * self.config.context.compact_at.min(100) as usize / 100;
        let calibration = self.calibration(kind);
        let fixed = calibration.tokens(self.request_parts(kind).tokens()) + summary_tokens(space) as usize;
        let keep = calibration.raw_budget(threshold.saturating_sub(fixed) / 2);
        match self.cut_point(from, current, keep) {
            Some(cut) => self.compact(cut, None, false).await,
            None => Ok(()), // the current turn alone fills the window: trimming is all there is
        }
    }

    /// `/compact [FOCUS]`: summarise everything said so far.
    pub(super) async fn compact_now(&mut self, focus: Option<String>) -> Result<(), Interrupt> {
        let from = self.summary.as_ref().map_or(0, |s| s.through);
        match self.cut_point(from, self.history.len(), 0) {
            Some(cut) => self.compact(cut, focus, true).await,
            None => {
                let why = if from == 0 {
                    "Nothing to compact yet."
                } else {
                    "Nothing new to compact since the last summary."
                };
                self.notice(LogLevel::Info, why);
                Ok(())
            }
        }
    }

    /// Ask for a summary of messages `..cut`, put it to the user, and put the accepted one in
    /// force. Failures are reported and leave the history as it was.
    async fn compact(&mut self, cut: usize, focus: Option<String>, manual: bool) -> Result<(), Interrupt> {
        let kind = self.config.llm.primary;
        let previous = self.summary.clone();
        let from = previous.as_ref().map_or(0, |s| s.through);
        let (tokens_before, space) = self.input_pressure(kind);
        let max_tokens = summary_tokens(space);
        let overhead = estimate_tokens(compact::SUMMARY_SYSTEM)
            + previous.as_ref().map_or(0, |s| estimate_tokens(&s.text))
            + 200;
        // The transcript's budget in raw estimated tokens (it is cut by the raw estimate).
        let calibration = self.calibration(kind);
        let budget = calibration
            .raw_budget(space.saturating_sub(max_tokens as usize))
            .saturating_sub(overhead)
            .max(256);
        // Pinned messages are sent word for word (`compact::pinned_section`), never summarised.
        let unpinned: Vec<_> = (from..cut)
            .filter(|i| !self.pins.contains(i))
            .filter_map(|i| self.history.get(i).cloned())
            .collect();
        let transcript = compact::transcript(&unpinned, budget);
        let request = compact::summary_prompt(
            previous.as_ref().map(|s| s.text.as_str()),
            &transcript,
            focus.as_deref(),
        );
        self.notice(
            LogLevel::Info,
            format!("Compacting: summarising {} messages (about {tokens_before} tokens in use)…", cut - from),
        );
        let (models, questions) = self.one_shot();
        let work = async move { models.complete(compact::SUMMARY_SYSTEM, &request, max_tokens).await };
        let text = match self.one_shot_answer(work, questions, "the compaction request").await? {
            Ok(text) if !text.trim().is_empty() => text.trim().to_string(),
            Ok(_) => {
                self.compaction_failed("the model's summary was empty");
                return Ok(());
            }
            Err(e) => {
                self.compaction_failed(&e.to_string());
                return Ok(());
            }
        };
        let proposed = Summary { through: cut, text: text.clone() };
        let tokens_after = self.tokens_with(&proposed, kind);
        let id = self.next_confirm_id;
        self.next_confirm_id += 1;
        let secs = self.config.context.compact_accept_secs;
        let auto_accept_secs = (secs > 0 && !self.policy.changes_nothing()).then_some(secs);
        self.emit(Event::CompactionProposed(CompactionProposal {
            id,
            summary: text.clone(),
            through: cut,
            tokens_before,
            tokens_after,
            window: self.config.context_window(kind),
            auto_accept_secs,
            manual,
        }));
        let decision = self
            .wait_for(|op| match op {
                Op::Compaction { id: answered, decision } if *answered == id => Some(decision.clone()),
                _ => None,
            })
            .await?;
        match decision {
            CompactionDecision::Accept(summary) if !summary.trim().is_empty() => {
                let edited = summary.trim() != text;
                let summary = Summary { through: cut, text: summary.trim().to_string() };
                let tokens_after = self.tokens_with(&summary, kind);
                self.put_in_force(summary, tokens_before, tokens_after, edited);
            }
            _ => {
                self.compaction_declined = Some(self.history.len());
                self.notice(
                    LogLevel::Info,
                    "Summary declined: the messages stay, and the oldest are left out when the window fills.",
                );
            }
        }
        Ok(())
    }

    /// `compact::cut_point` over the held messages: a summary begins no earlier than the first
    /// held message (older ones were never sent again, `history.rs`).
    fn cut_point(&self, from: usize, limit: usize, keep: usize) -> Option<usize> {
        let base = self.history.base();
        let (from, limit) = (from.max(base) - base, limit.max(base) - base);
        compact::cut_point(self.history.held(), from, limit, keep).map(|cut| cut + base)
    }

    /// Estimated input tokens of the next request with `summary` in force.
    fn tokens_with(&mut self, summary: &Summary, kind: crate::engine::llm::ProviderKind) -> usize {
        let previous = self.summary.replace(summary.clone());
        let (tokens, _) = self.input_pressure(kind);
        self.summary = previous;
        tokens
    }

    fn compaction_failed(&mut self, why: &str) {
        self.notice(
            LogLevel::Warn,
            format!("Compaction failed ({why}): the oldest messages are left out instead to fit the window."),
        );
    }

    fn put_in_force(&mut self, summary: Summary, tokens_before: usize, tokens_after: usize, edited: bool) {
        if let (Some(store), Some(session)) = (&self.store, &self.session) {
            let row = StoredCompaction {
                through: summary.through,
                summary: summary.text.clone(),
                tokens_before,
                tokens_after,
                edited,
                created_at: String::new(),
            };
            if let Err(e) = store.add_compaction(&session.id, &row) {
                self.log(LogLevel::Error, format!("could not save the summary: {e}"));
            }
        }
        self.emit(Event::Compacted(Compacted {
            summary: summary.text.clone(),
            through: summary.through,
            tokens_before,
            tokens_after,
            edited,
            resumed: false,
        }));
        self.summary = Some(summary);
    }

    /// On resume: the stored summary in force again, announced after `SessionReady`.
    pub(super) fn resume_summary(&mut self) {
        let (Some(store), Some(session)) = (&self.store, &self.session) else { return };
        match store.latest_compaction(&session.id) {
            Ok(Some(c)) => {
                let through = c.through.min(self.history.len());
                self.emit(Event::Compacted(Compacted {
                    summary: c.summary.clone(),
                    through,
                    tokens_before: c.tokens_before,
                    tokens_after: c.tokens_after,
                    edited: c.edited,
                    resumed: true,
                }));
                self.summary = Some(Summary { through, text: c.summary });
            }
            Ok(None) => {}
            Err(e) => self.log(LogLevel::Error, format!("could not load the session's summary: {e}")),
        }
    }
}
