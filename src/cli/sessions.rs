//! `kv1nt sessions`: the saved sessions, newest first, as a table or JSON lines.

use anyhow::Result;
use clap::Args;

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

pub fn run(args: &SessionsArgs, store: &Store) -> Result<()> {
    let sessions = store.list_sessions(args.limit)?;
    if args.json {
        for s in &sessions {
            let line = serde_json::json!({
                "id": s.id, "created_at": s.created_at, "updated_at": s.updated_at, "cwd": s.cwd,
                "provider": s.provider, "model": s.model, "title": s.title, "messages": s.message_count,
            });
            println!("{line}");
        }
        return Ok(());
    }
    if sessions.is_empty() {
        println!("No sessions yet. Start one with `kv1nt`.");
        return Ok(());
    }
    println!("{:<8}  {:<19}  {:>4}  {:<28}  TITLE", "ID", "UPDATED (UTC)", "MSGS", "MODEL");
    for s in sessions {
        let updated: String = s.updated_at.replace('T', " ").chars().take(19).collect();
        let model: String = format!("{}/{}", s.provider, s.model).chars().take(28).collect();
        println!("{:<8}  {:<19}  {:>4}  {:<28}  {}", s.id, updated, s.message_count, model, s.title);
    }
    Ok(())
}
