//! `kv1nt audit`: the approval decisions recorded by the gate, oldest first, as a table or JSON
//! lines.
//!
//! Invariants:
//! - The table never prints control characters from stored text (a target may be a command
//!   line with newlines or escape sequences): they are shown as spaces.
//! - JSON mode prints one object per entry with every stored field, and nothing else.

use anyhow::Result;
use clap::Args;

use crate::engine::store::{AuditEntry, Store, StoreError};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only this session: an id (or unique prefix), or `last`.
    #[arg(long, value_name = "ID|last")]
    pub session: Option<String>,
    /// One JSON object per decision.
    #[arg(long)]
    pub json: bool,
    /// How many of the most recent decisions to show.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

pub fn run(args: &AuditArgs, store: &Store) -> Result<()> {
    let session = args.session.as_deref().map(|key| resolve(store, key)).transpose()?;
    let entries = store.audit_entries(session.as_deref(), args.limit)?;
    if args.json {
        for e in &entries {
            let line = serde_json::json!({
                "id": e.id, "time": e.time, "session_id": e.session_id, "request_id": e.request_id,
                "action": e.action, "target": e.target, "risk": e.risk, "reasons": e.reasons,
                "decision": e.decision, "scope": e.scope, "note": e.note,
            });
            println!("{line}");
        }
        return Ok(());
    }
    if entries.is_empty() {
        println!("No approval decisions recorded yet.");
        return Ok(());
    }
    println!(
        "{:<19}  {:<8}  {:<7}  {:<40}  {:<8}  {:<19}  SCOPE",
        "TIME (UTC)", "SESSION", "ACTION", "TARGET", "RISK", "DECISION"
    );
    for e in &entries {
        print_entry(e);
    }
    Ok(())
}

/// A session key as `kv1nt sessions` knows it, or else the literal id of audited decisions made
/// in a session that was never saved.
fn resolve(store: &Store, key: &str) -> Result<String> {
    match store.resolve_session(key) {
        Ok(session) => Ok(session.id),
        Err(StoreError::NoSuchSession(_))
            if !key.eq_ignore_ascii_case("last") && !store.audit_entries(Some(key), 1)?.is_empty() =>
        {
            Ok(key.to_owned())
        }
        Err(e) => Err(e.into()),
    }
}

fn print_entry(e: &AuditEntry) {
    let time: String = e.time.replace('T', " ").chars().take(19).collect();
    println!(
        "{:<19}  {:<8}  {:<7}  {:<40}  {:<8}  {:<19}  {}",
        time,
        clip(&e.session_id, 8),
        clip(&e.action, 7),
        clip(&e.target, 40),
        clip(&e.risk, 8),
        clip(&e.decision, 19),
        e.scope.as_deref().map(printable).unwrap_or_else(|| "-".to_owned()),
    );
    if !e.reasons.is_empty() {
        let reasons: Vec<String> = e.reasons.iter().map(|r| printable(r)).collect();
        println!("    reasons: {}", reasons.join("; "));
    }
    if let Some(note) = &e.note {
        println!("    note: {}", printable(note));
    }
}

/// `text` with control characters shown as spaces.
pub(super) fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// [`printable`] `text` cut to `width` chars, ending in `…` when cut.
fn clip(text: &str, width: usize) -> String {
    let text = printable(text);
    if text.chars().count() <= width {
        return text;
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_and_printable() {
        assert_eq!(clip("rm -rf /\n\x1b[2J", 40), "rm -rf /  [2J");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abcd", 4), "abcd");
    }
}
