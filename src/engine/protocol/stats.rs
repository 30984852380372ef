//! How often the user accepts what kv1nt proposes, as `kv1nt stats`, `/stats` and `--json` show
//! it: the seed's success criteria per model, intent and language ([`StatsReport`]). Computed by
//! `engine::learning::stats` from the proposal records.
//!
//! Invariant: a rate is `None` when nothing it divides by was recorded — never a made-up 0 % or
//! 100 %.

use serde::Serialize;

/// The seed's targets (§6 success criteria), shown beside each figure.
pub const TARGET_ACCEPTANCE: f64 = 0.85;
pub const TARGET_SYNTAX_FIRST_PASS: f64 = 1.0;
pub const TARGET_CHECKS_FIRST_PASS: f64 = 0.80;

/// The figures of one group of proposals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Every gate verdict in the group (policy denials and cancelled dialogs included).
    pub proposals: u32,
    /// Approved once, for the session, automatically, or edited then approved.
    pub accepted: u32,
    /// Edited by the user before approving.
    pub modified: u32,
    /// Denied by the user (with or without a message).
    pub denied: u32,
    /// Accepted, wrote a change, and that change was undone later.
    pub undone: u32,
    /// accepted / (accepted + denied).
    pub acceptance: Option<f64>,
    /// modified / accepted.
    pub modified_rate: Option<f64>,
    /// denied / (accepted + denied).
    pub denial_rate: Option<f64>,
    /// undone / accepted proposals that wrote a change.
    pub undo_rate: Option<f64>,
    /// Parsed the first time, of the proposals the syntax gate checked.
    pub syntax_first_pass: Option<f64>,
    /// Turns whose checks passed with no fix round, of the turns whose checks ran.
    pub checks_first_pass: Option<f64>,
    /// Mean fix rounds over the turns whose checks ran.
    pub mean_fix_rounds: Option<f64>,
    /// Tokens (input + output) the turns spent, per accepted proposal.
    pub tokens_per_accepted: Option<f64>,
    /// USD the turns spent per accepted proposal, over the accepted proposals whose turn's
    /// every model has a price (`[learning.prices]`; Ollama's are free).
    pub cost_per_accepted: Option<f64>,
}

/// A group's name ("anthropic/claude-sonnet-4-5", "fix", "rust") and its figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsRow {
    pub key: String,
    pub figures: Figures,
}

/// Acceptance on one day (UTC), for the sparkline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayAcceptance {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub proposals: u32,
    pub acceptance: Option<f64>,
}

/// Which proposals a report counts: each `None` counts all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsFilter {
    /// At or after this time (RFC 3339 UTC).
    pub since: Option<String>,
    /// A model's name, or `provider/model`.
    pub model: Option<String>,
    pub intent: Option<String>,
    pub language: Option<String>,
}

/// Everything `kv1nt stats` reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatsReport {
    /// The earliest time counted (RFC 3339 UTC), or `None` for all of history.
    pub since: Option<String>,
    /// Only this model, when asked.
    pub model: Option<String>,
    /// Only this intent (`fix`, `generate`, …, `free text`), when asked.
    pub intent: Option<String>,
    /// Only changes to files of this language (`rust`, `python`, …), when asked.
    pub language: Option<String>,
    pub total: Figures,
    pub by_model: Vec<StatsRow>,
    pub by_intent: Vec<StatsRow>,
    pub by_language: Vec<StatsRow>,
    /// By prompt variant and model: `a1b2c3d4 · openai/gpt-4o` (see `ProposalRecord::prompt_variant`).
    pub by_prompt: Vec<StatsRow>,
    pub daily: Vec<DayAcceptance>,
}
