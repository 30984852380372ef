//! The figures of `kv1nt stats` and `/stats`: a pure function of the proposal records and the
//! turns' token usage ([`compute`]), plus [`report`] reading them from the store, and
//! [`parse_since`] for `--since 7d`.
//!
//! Invariants:
//! - Accepted = approved once, for the session, automatically, or edited then approved; denied
//!   = the user said no (a policy denial or a cancelled dialog is neither). Rates divide by
//!   what they are about and are `None` when that is zero.
//! - A turn's tokens are shared equally by the proposals it had accepted, so the per-group
//!   "tokens per accepted change" add up to the whole.

use std::collections::{BTreeMap, HashMap};

use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

use crate::engine::pricing::Prices;
use crate::engine::protocol::stats::{DayAcceptance, Figures, StatsFilter, StatsReport, StatsRow};
use crate::engine::store::{ProposalRecord, Store, StoreError, TurnUsage};

const ACCEPTED: &[&str] =
    &["approved-once", "approved-session", "auto-approved", "hook-allowed", "edited-and-approved"];
const DENIED: &[&str] = &["denied", "denied-with-message"];

/// The report from the store of the proposals `filter` lets through.
pub fn report(store: &Store, filter: &StatsFilter, prices: &Prices) -> Result<StatsReport, StoreError> {
    let since = filter.since.as_deref();
    let proposals = store.proposals_since(None, since)?;
    let usage = store.turn_usage(since)?;
    Ok(compute(&proposals, &usage, filter, prices))
}

/// The figures of the `proposals` that `filter` lets through (its `since` is only reported:
/// the caller selected by time), with the tokens of `usage`.
pub fn compute(
    proposals: &[ProposalRecord],
    usage: &[TurnUsage],
    filter: &StatsFilter,
    prices: &Prices,
) -> StatsReport {
    let matches = |p: &ProposalRecord| {
        filter.model.as_deref().is_none_or(|m| p.model == m || model_key(p) == m)
            && filter.intent.as_deref().is_none_or(|i| intent_key(p) == i)
            && filter.language.as_deref().is_none_or(|l| p.language.as_deref() == Some(l))
    };
    let chosen: Vec<&ProposalRecord> = proposals.iter().filter(|p| matches(p)).collect();
    let shares = token_shares(&chosen, usage, prices);
    let figures = |group: &[&ProposalRecord]| figures(group, &shares);
    let grouped = |key: &dyn Fn(&ProposalRecord) -> Option<String>| {
        let mut groups: BTreeMap<String, Vec<&ProposalRecord>> = BTreeMap::new();
        for p in &chosen {
            if let Some(k) = key(p) {
                groups.entry(k).or_default().push(p);
            }
        }
        groups.into_iter().map(|(key, group)| StatsRow { key, figures: figures(&group) }).collect()
    };
    StatsReport {
        since: filter.since.clone(),
        model: filter.model.clone(),
        intent: filter.intent.clone(),
        language: filter.language.clone(),
        total: figures(&chosen),
        by_model: grouped(&|p| Some(model_key(p))),
        by_intent: grouped(&|p| Some(intent_key(p))),
        by_language: grouped(&|p| p.language.clone()),
        by_prompt: grouped(&|p| p.prompt_variant.as_ref().map(|v| format!("{v} · {}", model_key(p)))),
        daily: daily(&chosen),
    }
}

fn intent_key(p: &ProposalRecord) -> String {
    p.intent.clone().unwrap_or_else(|| "free text".into())
}

fn model_key(p: &ProposalRecord) -> String {
    if p.model.is_empty() { p.provider.clone() } else { format!("{}/{}", p.provider, p.model) }
}

fn is_accepted(p: &ProposalRecord) -> bool {
    ACCEPTED.contains(&p.decision.as_str())
}

fn ratio(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

/// Each accepted proposal's share of its turn's tokens and, when every model of the turn has a
/// price, of its cost in USD; by proposal id.
fn token_shares(
    proposals: &[&ProposalRecord],
    usage: &[TurnUsage],
    prices: &Prices,
) -> HashMap<i64, (f64, Option<f64>)> {
    let mut turn_tokens: HashMap<(&str, u64), (u64, Option<f64>)> = HashMap::new();
    for u in usage {
        let entry = turn_tokens.entry((u.session_id.as_str(), u.turn)).or_insert((0, Some(0.0)));
        let tokens = u.usage();
        entry.0 += tokens.prompt_tokens() + tokens.output_tokens;
        let cost = prices.cost(&u.provider, &u.model, &tokens);
        entry.1 = entry.1.zip(cost).map(|(sum, cost)| sum + cost);
    }
    let mut accepted_in_turn: HashMap<(&str, u64), u32> = HashMap::new();
    for p in proposals.iter().filter(|p| is_accepted(p)) {
        *accepted_in_turn.entry((p.session_id.as_str(), p.turn)).or_default() += 1;
    }
    proposals
        .iter()
        .filter(|p| is_accepted(p))
        .filter_map(|p| {
            let key = (p.session_id.as_str(), p.turn);
            let (tokens, cost) = *turn_tokens.get(&key)?;
            let n = f64::from(accepted_in_turn[&key]);
            Some((p.id, (tokens as f64 / n, cost.map(|c| c / n))))
        })
        .collect()
}

fn figures(group: &[&ProposalRecord], shares: &HashMap<i64, (f64, Option<f64>)>) -> Figures {
    let count = |f: &dyn Fn(&ProposalRecord) -> bool| group.iter().filter(|p| f(p)).count() as u32;
    let accepted = count(&|p| is_accepted(p));
    let denied = count(&|p| DENIED.contains(&p.decision.as_str()));
    let modified = count(&|p| p.decision == "edited-and-approved");
    let wrote = count(&|p| is_accepted(p) && p.change_id.is_some());
    let undone = count(&|p| is_accepted(p) && p.change_id.is_some() && p.undone);
    let checked = count(&|p| p.parsed.is_some());
    let first_parse = count(&|p| p.parsed == Some(true) && p.syntax_retries == Some(0));
    // Checks are a turn's: count each (session, turn) once.
    let mut turns: BTreeMap<(&str, u64), (u32, bool)> = BTreeMap::new();
    for p in group {
        if let Some(rounds) = p.check_rounds {
            turns.insert((&p.session_id, p.turn), (rounds, p.checks_passed == Some(true)));
        }
    }
    let first_checks = turns.values().filter(|(rounds, passed)| *rounds == 0 && *passed).count() as u32;
    let rounds: u32 = turns.values().map(|(r, _)| r).sum();
    let tokens: Vec<f64> = group.iter().filter_map(|p| shares.get(&p.id).map(|s| s.0)).collect();
    let costs: Vec<f64> = group.iter().filter_map(|p| shares.get(&p.id).and_then(|s| s.1)).collect();
    Figures {
        proposals: group.len() as u32,
        accepted,
        modified,
        denied,
        undone,
        acceptance: ratio(accepted, accepted + denied),
        modified_rate: ratio(modified, accepted),
        denial_rate: ratio(denied, accepted + denied),
        undo_rate: ratio(undone, wrote),
        syntax_first_pass: ratio(first_parse, checked),
        checks_first_pass: ratio(first_checks, turns.len() as u32),
        mean_fix_rounds: ratio(rounds, turns.len() as u32),
        tokens_per_accepted: (accepted > 0 && !tokens.is_empty())
            .then(|| tokens.iter().sum::<f64>() / f64::from(accepted)),
        cost_per_accepted: (!costs.is_empty()).then(|| costs.iter().sum::<f64>() / costs.len() as f64),
    }
}

/// Acceptance per UTC day, oldest first.
fn daily(proposals: &[&ProposalRecord]) -> Vec<DayAcceptance> {
    let mut days: BTreeMap<&str, (u32, u32, u32)> = BTreeMap::new();
    for p in proposals {
        let day = p.time.get(..10).unwrap_or(&p.time);
        let entry = days.entry(day).or_default();
        entry.0 += 1;
        if is_accepted(p) {
            entry.1 += 1;
        } else if DENIED.contains(&p.decision.as_str()) {
            entry.2 += 1;
        }
    }
    days.into_iter()
        .map(|(day, (n, accepted, denied))| DayAcceptance {
            day: day.to_string(),
            proposals: n,
            acceptance: ratio(accepted, accepted + denied),
        })
        .collect()
}

/// The languages a proposal may be counted under (`ProposalRecord::language`).
const LANGUAGES: &[&str] =
    &["rust", "python", "typescript", "tsx", "javascript", "go", "json", "yaml", "toml"];

/// `/stats` words: each a span or date ([`parse_since`]), an intent (`fix`, `free-text`) or a
/// language (`rust`), in any order, each kind at most once.
pub fn parse_query(words: &[String], now: OffsetDateTime) -> Result<StatsFilter, String> {
    let mut filter = StatsFilter::default();
    for word in words {
        let lower = word.to_lowercase();
        let (slot, value) = if let Some(intent) = crate::engine::protocol::Intent::parse(&lower) {
            (&mut filter.intent, intent.name().to_string())
        } else if lower == "free-text" {
            (&mut filter.intent, "free text".to_string())
        } else if LANGUAGES.contains(&lower.as_str()) {
            (&mut filter.language, lower)
        } else {
            (&mut filter.since, parse_since(word, now)?)
        };
        if slot.replace(value).is_some() {
            return Err(format!("`{word}`: give one span, one intent and one language at most"));
        }
    }
    Ok(filter)
}

/// `--since`: a span back from `now` (`30m`, `24h`, `7d`, `2w`) or a date (`2026-12-01`, UTC
/// midnight) or an RFC 3339 time; returned in the store's timestamp form.
pub fn parse_since(text: &str, now: OffsetDateTime) -> Result<String, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a span like 30m, 24h, 7d, 2w, or a date like 2026-12-01");
    let start = if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        t
    } else if let Ok(date) =
        time::Date::parse(text, time::macros::format_description!("[year]-[month]-[day]"))
    {
        date.midnight().assume_utc()
    } else {
        let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (digits, unit) = text.split_at(split);
        let n: i64 = digits.parse().map_err(|_| bad())?;
        let span = match unit {
            "m" | "min" => Duration::minutes(n),
            "h" => Duration::hours(n),
            "d" => Duration::days(n),
            "w" => Duration::weeks(n),
            _ => return Err(bad()),
        };
        now.checked_sub(span).ok_or_else(bad)?
    };
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    start.to_offset(time::UtcOffset::UTC).format(&fmt).map_err(|_| bad())
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
