//! `kv1nt sessions`: the saved sessions, newest first, as a table or JSON lines, with the tokens
//! each spent and what they cost (`engine::pricing`; `?` when a model of it has no price); a fork
//! (`/fork`) names the session it came from and how many of its messages it began with.

use anyhow::Result;
use clap::Args;

use crate::engine::pricing::Prices;
use crate::engine::protocol::{Usage, format_usd};
use crate::engine::store::Store;

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// One JSON object per session.
    #[arg(long)]
    pub json: bool,
    /// How many sessions to list.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// A session's tokens over all its models, and their cost when every model has a price.
fn spent(store: &Store, prices: &Prices, session_id: &str) -> Result<(Usage, Option<f64>)> {
    let mut total = Usage::default();
    let mut cost = Some(0.0);
    for (provider, model, usage) in store.session_usage(session_id)? {
        total.add(usage);
        cost = cost.zip(prices.cost(&provider, &model, &usage)).map(|(sum, c)| sum + c);
    }
    Ok((total, cost))
}

pub fn run(args: &SessionsArgs, store: &Store, prices: &Prices) -> Result<()> {
    let sessions = store.list_sessions(args.limit)?;
    if args.json {
        for s in &sessions {
            let (usage, cost) = spent(store, prices, &s.id)?;
            let line = serde_json::json!({
                "id": s.id, "created_at": s.created_at, "updated_at": s.updated_at, "cwd": s.cwd,
                "provider": s.provider, "model": s.model, "title": s.title, "messages": s.message_count,
                "usage": usage, "cost_usd": cost, "parent_id": s.parent_id, "forked_at": s.forked_at,
            });
            println!("{line}");
        }
        return Ok(());
    }
    if sessions.is_empty() {
        println!("No sessions yet. Start one with `kv1nt`.");
        return Ok(());
    }
    println!("{:<8}  {:<19}  {:>4}  {:<28}  {:>9}  TITLE", "ID", "UPDATED (UTC)", "MSGS", "MODEL", "COST");
    for s in sessions {
        let updated: String = s.updated_at.replace('T', " ").chars().take(19).collect();
        let model: String = format!("{}/{}", s.provider, s.model).chars().take(28).collect();
        let (usage, cost) = spent(store, prices, &s.id)?;
        let cost = match cost {
            _ if usage.is_empty() => "—".to_string(),
            Some(cost) => format_usd(cost),
            None => "?".to_string(),
        };
        let title = match &s.parent_id {
            Some(parent) => {
                format!(
                    "{}  (fork of {parent}, from its first {} messages)",
                    s.title,
                    s.forked_at.unwrap_or(0)
                )
            }
            None => s.title,
        };
        println!("{:<8}  {:<19}  {:>4}  {:<28}  {:>9}  {title}", s.id, updated, s.message_count, model, cost);
    }
    Ok(())
}
