//! Risk assessment: how much could an [`GateAction`] go wrong, and why, in sentences for the modal.
//!
//! Path, command and secret rules are data (`assets/risk_paths.toml`, compiled once in
//! `risk/rules.rs`); edits, commits and secrets are weighed here, commands in `risk/command.rs`,
//! other git steps (branch, merge, uncommit, pull request, push, hook) in `risk/git.rs`, MCP tool
//! calls in `risk/mcp.rs`.
//!
//! Invariants:
//! - The risk is the maximum over all reasons; reasons are sorted most severe first, deduplicated
//!   and capped at [`MAX_REASONS`]. There is always at least one reason.
//! - Edits and commits: ≤ 20 lines touched (added + removed, over all files) is low, ≤ 200
//!   medium, more high; deleting a file is high; removing over half of a file of 5+ lines is at
//!   least medium (edits only: a diff does not show whole files); a path outside the workspace
//!   is critical; a path outside source and test
//!   trees is at least medium; path rules (CI, lockfiles, build scripts, dotfiles…) as in the
//!   data; a secret in an *added* line is critical; anything under a repository's `.kv1nt/` or
//!   kv1nt's own config and data directories ([`own_dirs`]) is critical.
//! - A secret is never echoed: reasons and [`SecretFinding`]s carry its first 4 chars + "…".
//! - Commands: every command rule that matches adds its reason; writes outside the workspace
//!   are high (critical for system paths); a command that trips nothing is low only when every
//!   piece of it is a known build, test or read-only command, and medium otherwise.

mod command;
mod git;
mod mcp;
mod rules;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use similar::{ChangeTag, TextDiff};

use super::grants::normalize_path;
use super::types::{Assessment, FileChange, GateAction, Risk};
use rules::rules;

const LOW_LINES: usize = 20;
const MEDIUM_LINES: usize = 200;
/// Files shorter than this may be rewritten wholesale without the "removes most of" reason.
const MIN_LINES_FOR_SHRINK: usize = 5;
/// The most reasons an assessment lists (the last says how many more there were).
pub const MAX_REASONS: usize = 12;

/// A secret found in text; `masked` is its first 4 characters followed by "…".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFinding {
    pub kind: &'static str,
    /// 1-based line number within the scanned text.
    pub line: usize,
    pub masked: String,
}

/// Assesses `action`; `workspace` is the absolute workspace root (for paths and command writes).
pub fn assess(action: &GateAction, workspace: &Path) -> Assessment {
    let mut found = match action {
        GateAction::Edit { changes } => assess_files(
            &changes.iter().filter_map(|c| FileStat::from_change(c, workspace)).collect::<Vec<_>>(),
        ),
        GateAction::Command { command, cwd } => command::assess_command(command, cwd, workspace),
        GateAction::Commit { message, diff } => {
            let mut found = assess_files(&parse_diff(diff, workspace));
            for s in find_secrets(message) {
                let (kind, line, masked) = (s.kind, s.line, s.masked);
                found.push((Risk::Critical, format!("commit message has a {kind} on line {line}: {masked}")));
            }
            found
        }
        GateAction::Git { op, target, force, .. } => git::assess_git(*op, target, *force),
        GateAction::Mcp { server, tool, arguments, hint } => mcp::assess_mcp(server, tool, arguments, *hint),
    };
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    let risk = found.first().map_or(Risk::Low, |f| f.0);
    let mut reasons: Vec<String> = Vec::new();
    for (_, reason) in found {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    if reasons.len() > MAX_REASONS {
        let more = reasons.len() - (MAX_REASONS - 1);
        reasons.truncate(MAX_REASONS - 1);
        reasons.push(format!("…and {more} more"));
    }
    Assessment { risk, reasons }
}

/// Every secret in `text`, line by line; placeholders and examples are skipped.
pub fn find_secrets(text: &str) -> Vec<SecretFinding> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (kind, value) in secrets_in_line(line) {
            out.push(SecretFinding { kind, line: i + 1, masked: mask(&line[value]) });
        }
    }
    out
}

/// `text` with every secret replaced by its masked form, for logs and the audit table.
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut values: Vec<_> = secrets_in_line(line).into_iter().map(|(_, v)| v).collect();
        values.sort_by_key(|v| v.start);
        let mut at = 0;
        for v in values {
            if v.start < at {
                continue;
            }
            out.push_str(&line[at..v.start]);
            out.push_str(&mask(&line[v.clone()]));
            at = v.end;
        }
        out.push_str(&line[at..]);
    }
    out
}

fn mask(value: &str) -> String {
    format!("{}…", value.chars().take(4).collect::<String>())
}

/// The secrets of one line: (kind, byte range of the secret value).
fn secrets_in_line(line: &str) -> Vec<(&'static str, std::ops::Range<usize>)> {
    let rules = rules();
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    let mut out = Vec::new();
    for s in &rules.secrets {
        for caps in s.regex.captures_iter(line) {
            let Some(whole) = caps.get(0) else { continue };
            let value = caps.name("secret").unwrap_or(whole);
            if spans.iter().any(|r| r.start < whole.end() && whole.start() < r.end)
                || (s.require_digit && !value.as_str().bytes().any(|b| b.is_ascii_digit()))
                || rules.is_placeholder(value.as_str())
            {
                continue;
            }
            spans.push(whole.range());
            out.push((s.kind.as_str(), value.range()));
        }
    }
    out
}

/// kv1nt's own config and data directories as this process resolves them (and their canonical
/// forms): writing there could change what kv1nt trusts or where it sends keys.
pub fn own_dirs() -> &'static [PathBuf] {
    static DIRS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    DIRS.get_or_init(|| {
        let dirs = crate::engine::config::own_dirs(&|name| std::env::var(name).ok());
        let canonical = dirs.iter().filter_map(|d| std::fs::canonicalize(d).ok()).collect::<Vec<_>>();
        dirs.into_iter().chain(canonical).collect()
    })
}

/// Whether the absolute `path` (`.`/`..` resolved) lies in one of `dirs`.
fn in_dirs(path: &Path, dirs: &[PathBuf]) -> bool {
    let path = command::lexical(path);
    dirs.iter().any(|d| path.starts_with(d))
}

/// The reason given for writing into kv1nt's own directories.
fn own_reason(shown: &str) -> (Risk, String) {
    (Risk::Critical, format!("changes kv1nt's own configuration or data: {shown}"))
}

/// One file's side of an edit or commit, reduced to what the rules need.
struct FileStat<'a> {
    /// Workspace-relative path; None when the path escapes the workspace.
    rel: Option<String>,
    shown: String,
    /// Added lines with their 1-based line numbers in the new file.
    added: Vec<(usize, String)>,
    removed: usize,
    created: bool,
    deleted: bool,
    /// The whole change, when known (edits, not commit diffs).
    change: Option<&'a FileChange>,
    /// The path lies in kv1nt's own config or data directory.
    own: bool,
}

impl<'a> FileStat<'a> {
    fn new(path: &str, workspace: &Path) -> Self {
        let rel = match Path::new(path).strip_prefix(workspace) {
            Ok(inner) if Path::new(path).is_absolute() => normalize_path(&inner.to_string_lossy()),
            _ => normalize_path(path),
        };
        let shown = path.to_string();
        let own = in_dirs(&workspace.join(path), own_dirs());
        FileStat {
            rel,
            shown,
            added: Vec::new(),
            removed: 0,
            created: false,
            deleted: false,
            change: None,
            own,
        }
    }

    /// None when the change changes nothing.
    fn from_change(c: &'a FileChange, workspace: &Path) -> Option<Self> {
        if c.before == c.after {
            return None;
        }
        let mut stat = FileStat::new(&c.path, workspace);
        let (before, after) = (c.before.as_deref().unwrap_or(""), c.after.as_deref().unwrap_or(""));
        let diff = TextDiff::configure().timeout(Duration::from_millis(250)).diff_lines(before, after);
        for ch in diff.iter_all_changes() {
            match ch.tag() {
                ChangeTag::Insert => {
                    let line = ch.new_index().map_or(0, |i| i + 1);
                    stat.added.push((line, ch.value().trim_end_matches(['\n', '\r']).to_string()));
                }
                ChangeTag::Delete => stat.removed += 1,
                ChangeTag::Equal => {}
            }
        }
        (stat.created, stat.deleted, stat.change) = (c.before.is_none(), c.after.is_none(), Some(c));
        Some(stat)
    }

    /// Whether the JSON value under `key` differs (true when it cannot be told).
    fn json_key_changed(&self, key: &str) -> bool {
        let Some(c) = self.change else { return true };
        let value = |text: &Option<String>| {
            let v: serde_json::Value = serde_json::from_str(text.as_deref()?).ok()?;
            Some(v.get(key).cloned())
        };
        match (value(&c.before), value(&c.after)) {
            (Some(a), Some(b)) => a != b,
            _ => true,
        }
    }
}

fn assess_files(files: &[FileStat]) -> Vec<(Risk, String)> {
    let rules = rules();
    let total: usize = files.iter().map(|f| f.added.len() + f.removed).sum();
    let risk = if total <= LOW_LINES {
        Risk::Low
    } else if total <= MEDIUM_LINES {
        Risk::Medium
    } else {
        Risk::High
    };
    let label = match risk {
        Risk::Low => "small change",
        Risk::Medium => "moderate change",
        _ => "large change (over 200 lines)",
    };
    let size = match files {
        [] => "no changes".to_string(),
        [f] => format!("{label}: {total} lines in {}", f.shown),
        _ => format!("{label}: {total} lines across {} files", files.len()),
    };
    let mut found = vec![(risk, size)];
    for f in files {
        if f.own {
            found.push(own_reason(&f.shown));
        }
        let Some(rel) = &f.rel else {
            found.push((Risk::Critical, format!("writes outside the workspace: {}", f.shown)));
            continue;
        };
        let before_lines = f.change.and_then(|c| c.before.as_deref()).map_or(0, |b| b.lines().count());
        if f.deleted {
            found.push((Risk::High, format!("deletes a file: {rel}")));
        } else if f.created {
            found.push((Risk::Low, format!("creates a new file: {rel}")));
        } else if before_lines >= MIN_LINES_FOR_SHRINK && f.removed * 2 > before_lines {
            let removed = f.removed;
            found.push((Risk::Medium, format!("removes {removed} of {before_lines} lines of {rel}")));
        }
        let mut flagged = false;
        for rule in &rules.paths {
            if rule.globs.is_match(rel) && rule.json_key.as_deref().is_none_or(|k| f.json_key_changed(k)) {
                found.push((rule.risk, format!("{}: {rel}", rule.reason)));
                flagged = true;
            }
        }
        if !flagged && !rules.is_source(rel) {
            found.push((Risk::Medium, format!("outside source and test directories: {rel}")));
        }
        for (line, text) in &f.added {
            for s in find_secrets(text) {
                found.push((Risk::Critical, format!("adds a {} at {rel}:{line}: {}", s.kind, s.masked)));
            }
        }
    }
    found
}

/// Per-file statistics from a unified diff (`git diff` / `git show` output).
fn parse_diff<'a>(diff: &str, workspace: &Path) -> Vec<FileStat<'a>> {
    let mut files: Vec<FileStat> = Vec::new();
    let (mut old_left, mut new_left, mut new_line, mut header_open) = (0usize, 0usize, 0usize, false);
    let strip = |p: &str| {
        let p = p.split('\t').next().unwrap_or(p).trim();
        p.strip_prefix("a/").or_else(|| p.strip_prefix("b/")).unwrap_or(p).to_string()
    };
    for line in diff.lines() {
        if old_left > 0 || new_left > 0 {
            let Some(f) = files.last_mut() else { break };
            match line.as_bytes().first() {
                Some(b'+') => {
                    f.added.push((new_line, line[1..].to_string()));
                    (new_line, new_left) = (new_line + 1, new_left.saturating_sub(1));
                }
                Some(b'-') => (f.removed, old_left) = (f.removed + 1, old_left.saturating_sub(1)),
                Some(b'\\') => {}
                _ => {
                    (new_line, old_left, new_left) =
                        (new_line + 1, old_left.saturating_sub(1), new_left.saturating_sub(1))
                }
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("diff --git ") {
            files.push(FileStat::new(rest.rsplit_once(" b/").map_or(rest, |(_, b)| b), workspace));
            header_open = true;
        } else if let Some(p) = line.strip_prefix("--- ") {
            if !header_open {
                files.push(FileStat::new(&strip(p), workspace));
                header_open = true;
            }
            if let Some(f) = files.last_mut() {
                f.created |= p.starts_with("/dev/null");
            }
        } else if let Some(p) = line.strip_prefix("+++ ") {
            header_open = false;
            let Some(f) = files.last_mut() else { continue };
            if p.starts_with("/dev/null") {
                f.deleted = true;
            } else {
                let fresh = FileStat::new(&strip(p), workspace);
                (f.rel, f.shown, f.own) = (fresh.rel, fresh.shown, fresh.own);
            }
        } else if line.starts_with("new file mode") || line.starts_with("deleted file mode") {
            if let Some(f) = files.last_mut() {
                f.created |= line.starts_with("new");
                f.deleted |= line.starts_with("deleted");
            }
        } else if let Some(rest) = line.strip_prefix("@@ ") {
            let mut nums = rest.split_whitespace().take(2).map(|r| {
                let mut it = r[1..].splitn(2, ',').map(|n| n.parse::<usize>().unwrap_or(0));
                (it.next().unwrap_or(0), it.next().unwrap_or(1))
            });
            let ((_, old_count), (new_start, new_count)) =
                (nums.next().unwrap_or_default(), nums.next().unwrap_or_default());
            (old_left, new_left, new_line, header_open) = (old_count, new_count, new_start, false);
        }
    }
    files
}
