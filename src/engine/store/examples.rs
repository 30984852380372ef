//! The user's accepted edits as few-shot candidates (`learning::examples`): for each edit the
//! user accepted in a workspace and did not undo, the prompt of its turn and the files it wrote,
//! before and after.
//!
//! Invariants: read-only; only `applied` changes (an undone one is not an example to follow);
//! the prompt is the turn's user message (`messages.seq` = the proposal's turn, see
//! `TurnState::number`), and a proposal whose prompt is missing is skipped.

use rusqlite::params;

use super::Result;
use super::sessions::Store;

/// One accepted edit with the request that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedEdit {
    pub proposal_id: i64,
    pub session_id: String,
    pub turn: u64,
    /// The turn's prompt as the model received it.
    pub prompt: String,
    /// Workspace-relative path, content before (`None`: created) and after (`None`: deleted).
    pub files: Vec<(String, Option<String>, Option<String>)>,
}

impl Store {
    /// The newest `limit` accepted, not undone edits made in `workspace` (a session's `cwd`),
    /// newest first.
    pub fn accepted_edits(&self, workspace: &str, limit: usize) -> Result<Vec<AcceptedEdit>> {
        let mut st = self.conn.prepare_cached(
            "SELECT p.id, p.session_id, p.turn, json_extract(m.body, '$.text'), p.change_id
             FROM proposals p
             JOIN sessions s ON s.id = p.session_id
             JOIN changes c ON c.id = p.change_id
             JOIN messages m ON m.session_id = p.session_id AND m.seq = p.turn AND m.role = 'user'
             WHERE s.cwd = ?1 AND p.kind = 'edit' AND c.state = 'applied'
               AND p.decision IN ('approved-once', 'approved-session', 'auto-approved', 'edited-and-approved')
             ORDER BY p.id DESC LIMIT ?2",
        )?;
        let heads = st
            .query_map(params![workspace, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u64,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut edits = Vec::with_capacity(heads.len());
        for (proposal_id, session_id, turn, prompt, change_id) in heads {
            let Some(prompt) = prompt.filter(|p| !p.trim().is_empty()) else { continue };
            let Some(change) = self.change(change_id)? else { continue };
            let files = change
                .files
                .iter()
                .map(|f| -> Result<_> {
                    let text = |hash: Option<&str>| -> Result<Option<String>> {
                        Ok(match hash {
                            Some(h) => self.blob(h)?.map(|b| String::from_utf8_lossy(&b).into_owned()),
                            None => None,
                        })
                    };
                    Ok((f.path.clone(), text(f.before_hash.as_deref())?, text(f.after_hash.as_deref())?))
                })
                .collect::<Result<Vec<_>>>()?;
            edits.push(AcceptedEdit { proposal_id, session_id, turn, prompt, files });
        }
        Ok(edits)
    }
}
