//! The fate of every proposal that passed the gate: who proposed it (provider, model, intent),
//! what it was (kind, language, risk), what the user decided, what it wrote (its change, and so
//! whether it was undone later), and the quality loop's figures when they exist — parsed first
//! time or after N retries, checks passing after N fix rounds, test counts before and after.
//! These are the inputs of the seed's success criteria (syntax validity, first-pass success,
//! acceptance).
//!
//! Invariants:
//! - One row per gate verdict on an edit, command, commit or git step ([`Store::record_proposal`]),
//!   written after its audit row; the row is never deleted, only completed
//!   ([`Store::link_change`], [`Store::set_syntax`], [`Store::set_turn_checks`]).
//! - Nothing here leaves the machine; text content is not stored (the change ledger holds it).

use rusqlite::{OptionalExtension, params};

use super::Result;
use super::sessions::{Store, now_rfc3339};

/// A proposal as the gate saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProposal<'a> {
    pub session_id: &'a str,
    pub request_id: u64,
    pub turn: u64,
    pub kind: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
    pub intent: Option<&'a str>,
    pub language: Option<&'a str>,
    pub risk: &'a str,
    pub decision: &'a str,
    /// The code template the turn filled (`/template`), if any.
    pub template: Option<&'a str>,
    /// The prompt variant the model answered (`TurnState::prompt_variant`).
    pub prompt_variant: Option<&'a str>,
}

/// A recorded proposal with its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalRecord {
    pub id: i64,
    pub session_id: String,
    pub request_id: u64,
    pub turn: u64,
    pub kind: String,
    pub provider: String,
    pub model: String,
    pub intent: Option<String>,
    pub language: Option<String>,
    pub risk: String,
    pub decision: String,
    pub change_id: Option<i64>,
    /// The change it wrote was undone later, and when (RFC 3339 UTC; `None` for an undo
    /// recorded before schema v6).
    pub undone: bool,
    pub undone_at: Option<String>,
    /// The code template its turn filled.
    pub template: Option<String>,
    /// The prompt variant it answered: 8 hex digits of the system prompt's and intent
    /// template's hash.
    pub prompt_variant: Option<String>,
    pub syntax_retries: Option<u32>,
    pub parsed: Option<bool>,
    pub check_rounds: Option<u32>,
    pub checks_passed: Option<bool>,
    pub tests_before: Option<String>,
    pub tests_after: Option<String>,
    /// What the user changed before approving (`e`), as a unified diff.
    pub modification: Option<String>,
    /// When the verdict was given (RFC 3339 UTC).
    pub time: String,
}

impl Store {
    /// Records a gate verdict; returns the proposal's id.
    pub fn record_proposal(&self, p: &NewProposal) -> Result<i64> {
        let id = self
            .conn
            .prepare_cached(
                "INSERT INTO proposals (time, session_id, request_id, turn, kind, provider, model, intent,
                                        language, risk, decision, template, prompt_variant)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
            )?
            .query_row(
                params![
                    now_rfc3339(),
                    p.session_id,
                    p.request_id as i64,
                    p.turn as i64,
                    p.kind,
                    p.provider,
                    p.model,
                    p.intent,
                    p.language,
                    p.risk,
                    p.decision,
                    p.template,
                    p.prompt_variant
                ],
                |r| r.get(0),
            )?;
        Ok(id)
    }

    /// The change the proposal wrote (so its undo counts against it).
    pub fn link_change(&self, proposal_id: i64, change_id: i64) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE proposals SET change_id = ?2 WHERE id = ?1")?
            .execute(params![proposal_id, change_id])?;
        Ok(())
    }

    /// The user edited the proposal before approving it: `diff` is proposed → approved.
    pub fn set_modification(&self, proposal_id: i64, diff: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE proposals SET modification = ?2 WHERE id = ?1")?
            .execute(params![proposal_id, diff])?;
        Ok(())
    }

    /// The syntax gate's figures: how often it was sent back, and whether what was shown parses.
    pub fn set_syntax(&self, proposal_id: i64, retries: u32, parsed: bool) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE proposals SET syntax_retries = ?2, parsed = ?3 WHERE id = ?1")?
            .execute(params![proposal_id, retries, parsed])?;
        Ok(())
    }

    /// The turn's checks and tests, for every proposal of that turn.
    pub fn set_turn_checks(
        &self,
        session_id: &str,
        turn: u64,
        rounds: u32,
        passed: bool,
        tests: (Option<&str>, Option<&str>),
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE proposals SET check_rounds = ?3, checks_passed = ?4,
                        tests_before = COALESCE(?5, tests_before), tests_after = COALESCE(?6, tests_after)
                 WHERE session_id = ?1 AND turn = ?2",
            )?
            .execute(params![session_id, turn as i64, rounds, passed, tests.0, tests.1])?;
        Ok(())
    }

    /// Every proposal of a session (all sessions when `None`), oldest first.
    pub fn proposals(&self, session_id: Option<&str>) -> Result<Vec<ProposalRecord>> {
        self.proposals_since(session_id, None)
    }

    /// Like [`Store::proposals`], only those at or after `since` (an RFC 3339 UTC time).
    pub fn proposals_since(
        &self,
        session_id: Option<&str>,
        since: Option<&str>,
    ) -> Result<Vec<ProposalRecord>> {
        let mut st = self.conn.prepare_cached(
            "SELECT p.id, p.request_id, p.turn, p.kind, p.provider, p.model, p.intent, p.language, p.risk,
                    p.decision, p.change_id, c.state = 'undone', p.syntax_retries, p.parsed,
                    p.check_rounds, p.checks_passed, p.tests_before, p.tests_after, p.modification, p.time,
                    p.session_id, p.template, CASE WHEN c.state = 'undone' THEN c.marked_at END,
                    p.prompt_variant
             FROM proposals p LEFT JOIN changes c ON c.id = p.change_id
             WHERE (?1 IS NULL OR p.session_id = ?1) AND (?2 IS NULL OR p.time >= ?2) ORDER BY p.id",
        )?;
        let rows = st.query_map(params![session_id, since], |r| {
            Ok(ProposalRecord {
                id: r.get(0)?,
                request_id: r.get::<_, i64>(1)? as u64,
                turn: r.get::<_, i64>(2)? as u64,
                kind: r.get(3)?,
                provider: r.get(4)?,
                model: r.get(5)?,
                intent: r.get(6)?,
                language: r.get(7)?,
                risk: r.get(8)?,
                decision: r.get(9)?,
                change_id: r.get(10)?,
                undone: r.get::<_, Option<bool>>(11)?.unwrap_or(false),
                syntax_retries: r.get(12)?,
                parsed: r.get(13)?,
                check_rounds: r.get(14)?,
                checks_passed: r.get(15)?,
                tests_before: r.get(16)?,
                tests_after: r.get(17)?,
                modification: r.get(18)?,
                time: r.get(19)?,
                session_id: r.get(20)?,
                template: r.get(21)?,
                undone_at: r.get(22)?,
                prompt_variant: r.get(23)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The proposal made for `request_id` in a session, if any.
    pub fn proposal_for(&self, session_id: &str, request_id: u64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM proposals WHERE session_id = ?1 AND request_id = ?2")?
            .query_row(params![session_id, request_id as i64], |r| r.get(0))
            .optional()?)
    }
}
