//! `kv1nt undo` and `kv1nt rewind [N]`: the TUI's `/undo` and `/rewind` for scripts and shells,
//! through the same planning, restore and crash recovery (`engine::undo`); `kv1nt rewind`
//! without N lists the session's changes.
//!
//! Invariants:
//! - The session is this workspace's: `last` is the most recent session that worked in it, and
//!   an id of a session that worked elsewhere is refused.
//! - What will be restored (the change(s), each file with a +/− line count and a short diff) is
//!   printed before anything happens. On a terminal the user answers y/N; without one nothing
//!   is restored unless `--yes` is given.
//! - A file changed after kv1nt's edit (a conflict) is never overwritten silently: on a
//!   terminal it is asked about by name (unless `--force`); without one the command refuses,
//!   naming it, unless `--yes --force`.
//! - The audit row is written before any file; a restore writes all files or none, each only if
//!   it still holds what was shown.
//! - Interrupted restores found in the journal are rolled back (or completed) first, as the
//!   TUI does at start-up, and said on stderr.
//!
//! Exit status: 0 when restored or when there is nothing to restore; 1 when refused (no answer,
//! a conflict, a bad session or change) or when the restore failed (then nothing changed).

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Args;
use similar::{ChangeTag, TextDiff};

use super::audit::printable;
use super::commit::ask;
use crate::engine::approval::risk::redact_secrets;
use crate::engine::config::Paths;
use crate::engine::store::{NewAudit, SessionInfo, Store};
use crate::engine::tools::Workspace;
use crate::engine::undo::{self, Plan, PlanError, Restore};

/// Diff lines shown per file before "…".
const DIFF_LINES: usize = 12;

#[derive(Debug, Args)]
pub struct UndoArgs {
    #[command(flatten)]
    pub common: RestoreArgs,
}

#[derive(Debug, Args)]
pub struct RewindArgs {
    /// The change to rewind to (the workspace ends as it was right after it); 0: before the
    /// session's first change. Without it: list the session's changes.
    #[arg(value_parser = clap::value_parser!(i64).range(0..))]
    pub to: Option<i64>,
    #[command(flatten)]
    pub common: RestoreArgs,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The session: an id (or unique prefix), or `last` (this workspace's most recent one).
    #[arg(long, value_name = "ID|last", default_value = "last")]
    pub session: String,
    /// Restore without asking (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
    /// With --yes: also overwrite files changed after kv1nt's edit.
    #[arg(long)]
    pub force: bool,
}

pub fn run_undo(args: &UndoArgs, paths: &Paths) -> Result<i32> {
    run(&args.common, paths, "undo", undo::plan_undo)
}

pub fn run_rewind(args: &RewindArgs, paths: &Paths) -> Result<i32> {
    let Some(to) = args.to else { return list(&args.common, paths) };
    run(&args.common, paths, "rewind", |store, session, ws| undo::plan_rewind(store, session, to, ws))
}

fn run(
    args: &RestoreArgs,
    paths: &Paths,
    verb: &str,
    plan: impl FnOnce(&Store, &str, &Workspace) -> Result<Plan, PlanError>,
) -> Result<i32> {
    let store =
        super::open_store(&paths.data_dir).map_err(|e| anyhow::anyhow!("{e}; nothing was restored"))?;
    for (ids, rolled_back) in undo::recover(&store) {
        eprintln!("kv1nt: {}", undo::recovered_notice(&ids, rolled_back));
    }
    let workspace = Workspace::new(&paths.workspace)
        .map_err(|e| anyhow::anyhow!("cannot open the workspace {}: {e}", paths.workspace.display()))?;
    let Some(session) = session_here(&store, &args.session, &paths.workspace, verb)? else {
        println!("No kv1nt session has worked in {}: nothing to {verb}.", paths.workspace.display());
        return Ok(0);
    };
    let restore = match plan(&store, &session.id, &workspace) {
        Ok(Plan::Ready(restore)) => restore,
        Ok(Plan::Nothing(why)) => {
            println!("{why}");
            return Ok(0);
        }
        Err(PlanError::NoSuchChange(n)) => {
            bail!("there is no change #{n} in session {} (see `kv1nt rewind --help`)", session.id)
        }
        Err(e) => bail!("cannot {verb}: {e}; nothing was restored"),
    };
    print!("{}", render(&restore, &session));
    let (action, assessment) = undo::describe(&restore, &paths.workspace);
    let conflicts = restore.conflicts();
    let interactive = std::io::stdin().is_terminal();
    if !interactive && !args.yes {
        bail!(
            "not restoring: there is no terminal to ask (stdin is not one); pass --yes to {verb} without asking"
        );
    }
    if !interactive && !conflicts.is_empty() && !args.force {
        bail!(
            "not restoring: {} changed after kv1nt's edit and restoring would overwrite that; pass --yes --force \
             to overwrite it",
            conflicts.join(", ")
        );
    }
    let mut answered_no = false;
    if interactive {
        let mut input = std::io::stdin().lock();
        if !args.yes {
            answered_no =
                !matches!(ask(&mut input, &format!("{}? [y/N] ", capitalised(verb)))?.as_str(), "y" | "yes");
        }
        if !args.force {
            for path in &conflicts {
                if answered_no {
                    break;
                }
                let question = format!(
                    "{} was changed after kv1nt's edit; restoring overwrites that change. Overwrite it? [y/N] ",
                    printable(path)
                );
                answered_no = !matches!(ask(&mut input, &question)?.as_str(), "y" | "yes");
            }
        }
    }
    let note = format!(
        "kv1nt {verb}{}{}",
        if args.yes { " --yes" } else { "" },
        if args.force { " --force" } else { "" }
    );
    let decision = if answered_no { "denied" } else { "approved-once" };
    let target = redact_secrets(&action.target());
    let entry = NewAudit {
        session_id: &session.id,
        request_id: 0,
        action: action.kind(),
        target: &target,
        risk: assessment.risk,
        reasons: &assessment.reasons,
        decision,
        scope: None,
        note: Some(&note),
    };
    let audited = store.record_audit(&entry);
    if answered_no {
        bail!("not restoring: you answered no; nothing was restored");
    }
    audited.context("nothing was restored: the audit log could not be written")?;
    // perform refuses such a file too; this only names it in the user's words.
    let moved = restore
        .steps
        .iter()
        .zip(&restore.current)
        .find(|(step, shown)| undo::read_current(&workspace, &step.path) != **shown);
    if let Some((step, _)) = moved {
        bail!(
            "nothing was restored: {} changed while you were deciding; run kv1nt {verb} again to see it as it is now",
            printable(&step.path)
        );
    }
    match undo::perform(&store, &workspace, &restore) {
        Ok(_) => {
            println!("Restored: {}.", printable(&restore.title));
            Ok(0)
        }
        Err(e) => bail!("nothing was restored: {e}"),
    }
}

/// `kv1nt rewind` without N: the session's changes, oldest first, with their files.
fn list(args: &RestoreArgs, paths: &Paths) -> Result<i32> {
    let store = super::open_store(&paths.data_dir).map_err(anyhow::Error::msg)?;
    let Some(session) = session_here(&store, &args.session, &paths.workspace, "rewind")? else {
        println!("No kv1nt session has worked in {}.", paths.workspace.display());
        return Ok(0);
    };
    let changes = store.changes(&session.id)?;
    if changes.is_empty() {
        println!("No changes in session {} yet.", session.id);
        return Ok(0);
    }
    println!("Changes in session {} (restore with kv1nt rewind N, or kv1nt undo for the last):", session.id);
    for c in changes {
        let time: String = c.time.replace('T', " ").chars().take(19).collect();
        let files: Vec<String> = c.files.iter().map(|f| printable(&f.path)).collect();
        println!("#{}  {time}  {}  [{}]  {}", c.id, printable(&c.description), c.state, files.join(", "));
    }
    Ok(0)
}

/// The session `key` names, if it worked in `workspace` (`last`: the most recent one that did).
fn session_here(store: &Store, key: &str, workspace: &Path, verb: &str) -> Result<Option<SessionInfo>> {
    let here = workspace.display().to_string();
    if key.trim().eq_ignore_ascii_case("last") {
        return Ok(store.list_sessions(usize::MAX)?.into_iter().find(|s| s.cwd == here));
    }
    let session = store
        .resolve_session(key)
        .with_context(|| format!("cannot {verb} `{key}` (see `kv1nt sessions`)"))?;
    if session.cwd != here {
        bail!(
            "session {} worked in {}, not in {here}; run kv1nt {verb} there",
            session.id,
            printable(&session.cwd)
        );
    }
    Ok(Some(session))
}

fn capitalised(verb: &str) -> String {
    let mut chars = verb.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The restore for a reader: the title, one line per file (what happens, +/− lines, conflict),
/// then a short diff per text file. Control characters are shown as spaces.
pub fn render(restore: &Restore, session: &SessionInfo) -> String {
    let mut out = format!("Session {}: {}\n", session.id, printable(&restore.title));
    let mut diffs = String::new();
    for (step, now) in restore.steps.iter().zip(&restore.current) {
        let what = match (now, &step.content) {
            (None, Some(_)) => "re-create",
            (Some(_), None) => "delete",
            (None, None) => "(absent)",
            (Some(a), Some(b)) if a == b => "unchanged",
            _ => "rewrite",
        };
        let (counts, diff) =
            line_diff(now.as_deref().unwrap_or_default(), step.content.as_deref().unwrap_or_default());
        let conflict = if step.conflict { "  CONFLICT: changed after kv1nt's edit" } else { "" };
        out.push_str(&format!("  {what:<10} {}  {counts}{conflict}\n", printable(&step.path)));
        if !diff.is_empty() {
            diffs.push_str(&format!("--- {}\n{diff}", printable(&step.path)));
        }
    }
    out + &diffs
}

/// "+a −b" and up to [`DIFF_LINES`] changed lines from `now` to `then` ("binary" when either is
/// not UTF-8).
fn line_diff(now: &[u8], then: &[u8]) -> (String, String) {
    let (Ok(now), Ok(then)) = (std::str::from_utf8(now), std::str::from_utf8(then)) else {
        return (format!("binary, {} → {} bytes", now.len(), then.len()), String::new());
    };
    let diff = TextDiff::from_lines(now, then);
    let (mut plus, mut minus, mut shown) = (0, 0, String::new());
    let mut lines = 0;
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            ChangeTag::Equal => continue,
            ChangeTag::Insert => {
                plus += 1;
                '+'
            }
            ChangeTag::Delete => {
                minus += 1;
                '-'
            }
        };
        lines += 1;
        if lines <= DIFF_LINES {
            let text = change.value().trim_end_matches(['\n', '\r']);
            shown.push_str(&format!("{sign}{}\n", printable(text)));
        }
    }
    if lines > DIFF_LINES {
        shown.push_str(&format!("  … {} more changed line(s)\n", lines - DIFF_LINES));
    }
    (format!("+{plus} −{minus}"), shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_diff_counts_and_caps() {
        let (counts, diff) = line_diff(b"a\r\nb\n", b"a\r\nc\nd\n");
        assert_eq!(counts, "+2 −1");
        assert_eq!(diff, "-b\n+c\n+d\n");
        let (counts, diff) = line_diff(b"\xff\xfe", b"x");
        assert_eq!((counts.as_str(), diff.as_str()), ("binary, 2 → 1 bytes", ""));
        let many: String = (0..30).map(|i| format!("{i}\n")).collect();
        let (counts, diff) = line_diff(b"", many.as_bytes());
        assert_eq!(counts, "+30 −0");
        assert!(diff.ends_with("… 18 more changed line(s)\n"), "{diff}");
        assert_eq!(capitalised("rewind"), "Rewind");
    }
}
