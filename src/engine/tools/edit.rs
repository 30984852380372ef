//! `edit_file` and `write_file`: turn the model's request into a [`Proposal`] for the approval
//! gate. Nothing is written here.
//!
//! Invariants:
//! - All-or-nothing: every search/replace block must apply (in order, each matching exactly once
//!   in the content as left by the blocks before it), or no proposal is made.
//! - An existing file must be text and, if the ledger has seen it, still hash to what the model
//!   saw; otherwise [`ToolError::Stale`]. `before_hash` is the hash of the bytes read now, for
//!   [`apply`](super::apply) to re-check.
//! - `change.before` is the file exactly as on disk; `change.after` keeps its line endings: in a
//!   file whose every newline is CRLF, blocks are matched with `\n` and written back with CRLF
//!   (also for `write_file` content given with bare `\n`).
//! - A request that would change nothing is refused, so the gate never sees an empty change.

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

use super::read::{human_size, load_text};
use super::{MAX_FILE_BYTES, ReadLedger, ToolError, Workspace};
use crate::engine::approval::FileChange;

/// One search/replace block of `edit_file`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchReplace {
    pub search: String,
    pub replace: String,
}

/// Arguments of `edit_file`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditArgs {
    pub path: String,
    pub edits: Vec<SearchReplace>,
}

/// Arguments of `write_file`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteArgs {
    pub path: String,
    pub content: String,
}

/// A change ready for the approval gate. Nothing is written yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub change: FileChange,
    /// "edit src/a.rs: 2 blocks, +3 −1 lines".
    pub summary: String,
    /// sha256 of the file as read now; `None` when it does not exist.
    pub before_hash: Option<String>,
}

/// Applies `args.edits` in order to the current content of an existing text file.
pub fn propose_edit(ws: &Workspace, ledger: &ReadLedger, args: &EditArgs) -> Result<Proposal, ToolError> {
    let (abs, rel) = ws.resolve(&args.path, true)?;
    if args.edits.is_empty() {
        return Err(ToolError::Invalid(format!(
            "no edits given for `{rel}`; pass at least one {{search, replace}} block"
        )));
    }
    let Some((before, hash)) = load_text(&abs, &rel)? else {
        return Err(if ledger.seen(&rel).is_some() {
            ToolError::NotFound(format!(
                "`{rel}` no longer exists: it was deleted or moved since you read it; use list_dir \
                 to find it, or write_file to create it again"
            ))
        } else {
            ToolError::NotFound(format!(
                "`{rel}` does not exist; use write_file to create a new file, or list_dir to find \
                 the right path"
            ))
        });
    };
    check_fresh(ledger, &rel, &hash)?;

    let crlf = is_crlf(&before);
    let mut text = if crlf { before.replace("\r\n", "\n") } else { before.clone() };
    let n = args.edits.len();
    for (i, edit) in args.edits.iter().enumerate() {
        let which = if n == 1 { String::new() } else { format!("edit {} of {n}: ", i + 1) };
        let after_prev = match i {
            0 => String::new(),
            1 => " (line numbers count edit 1 as applied)".to_string(),
            _ => format!(" (line numbers count edits 1–{i} as applied)"),
        };
        let search = if crlf { edit.search.replace("\r\n", "\n") } else { edit.search.clone() };
        let replace = if crlf { edit.replace.replace("\r\n", "\n") } else { edit.replace.clone() };
        if search.is_empty() {
            return Err(ToolError::Invalid(format!(
                "{which}search is empty; copy the exact lines to replace from `{rel}` (use \
                 write_file to replace a whole file)"
            )));
        }
        let hits = occurrences(&text, &search);
        match hits.as_slice() {
            [] => {
                let why = not_found(&text, &search, &rel);
                return Err(ToolError::Invalid(format!("{which}{why}{after_prev}")));
            }
            [at] => text.replace_range(*at..*at + search.len(), &replace),
            many => {
                let lines: Vec<String> =
                    many.iter().take(20).map(|&o| line_of(&text, o).to_string()).collect();
                let more = if many.len() > 20 { ", …" } else { "" };
                return Err(ToolError::Invalid(format!(
                    "{which}the search text occurs {} times in `{rel}`, at lines {}{more}{after_prev}; \
                     include more surrounding lines in search so it matches exactly once",
                    many.len(),
                    lines.join(", ")
                )));
            }
        }
    }
    let after = if crlf { text.replace('\n', "\r\n") } else { text };
    if after == before {
        return Err(ToolError::Invalid(format!(
            "these edits leave `{rel}` unchanged (replace equals search); nothing to do"
        )));
    }
    let (plus, minus) = line_delta(&before, &after);
    let blocks = if n == 1 { "1 block".to_string() } else { format!("{n} blocks") };
    Ok(Proposal {
        summary: format!("edit {rel}: {blocks}, +{plus} −{minus} lines"),
        change: FileChange { path: rel, before: Some(before), after: Some(after) },
        before_hash: Some(hash),
    })
}

/// A new file, or a whole rewrite of an existing text file (same stale rule as edits).
pub fn propose_write(ws: &Workspace, ledger: &ReadLedger, args: &WriteArgs) -> Result<Proposal, ToolError> {
    let (abs, rel) = ws.resolve(&args.path, true)?;
    if args.content.len() as u64 > MAX_FILE_BYTES {
        return Err(ToolError::Invalid(format!(
            "the content for `{rel}` is {}, over the {} limit",
            human_size(args.content.len() as u64),
            human_size(MAX_FILE_BYTES)
        )));
    }
    match load_text(&abs, &rel)? {
        None => {
            let lines = args.content.lines().count();
            Ok(Proposal {
                summary: format!("create {rel}: {lines} line{}", if lines == 1 { "" } else { "s" }),
                change: FileChange { path: rel, before: None, after: Some(args.content.clone()) },
                before_hash: None,
            })
        }
        Some((before, hash)) => {
            check_fresh(ledger, &rel, &hash)?;
            let after = if is_crlf(&before) && !args.content.contains('\r') {
                args.content.replace('\n', "\r\n")
            } else {
                args.content.clone()
            };
            if after == before {
                return Err(ToolError::Invalid(format!(
                    "`{rel}` already has exactly this content; nothing to do"
                )));
            }
            let (plus, minus) = line_delta(&before, &after);
            Ok(Proposal {
                summary: format!("rewrite {rel}: +{plus} −{minus} lines"),
                change: FileChange { path: rel, before: Some(before), after: Some(after) },
                before_hash: Some(hash),
            })
        }
    }
}

fn check_fresh(ledger: &ReadLedger, rel: &str, hash: &str) -> Result<(), ToolError> {
    match ledger.seen(rel) {
        Some(seen) if seen != hash => {
            Err(ToolError::Stale(format!("{rel} changed on disk since you read it; read it again")))
        }
        _ => Ok(()),
    }
}

/// Every newline is CRLF (and there is at least one).
fn is_crlf(text: &str) -> bool {
    let crlf = text.matches("\r\n").count();
    crlf > 0 && crlf == text.matches('\n').count()
}

/// Byte offsets of every (possibly overlapping) occurrence of `needle`.
fn occurrences(hay: &str, needle: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        out.push(from + i);
        from += i + hay[from + i..].chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// 1-based line number of byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// Lines added and removed between two texts.
fn line_delta(before: &str, after: &str) -> (usize, usize) {
    let diff = TextDiff::configure().timeout(Duration::from_millis(500)).diff_lines(before, after);
    diff.iter_all_changes().fold((0, 0), |(p, m), c| match c.tag() {
        ChangeTag::Insert => (p + 1, m),
        ChangeTag::Delete => (p, m + 1),
        ChangeTag::Equal => (p, m),
    })
}

/// The message for a search text that is not in the file: its first line, and where the file
/// has that line (then the later lines differ) or the line most like it.
fn not_found(text: &str, search: &str, rel: &str) -> String {
    let first = search.lines().find(|l| !l.trim().is_empty()).unwrap_or(search);
    let quoted = clip(first.trim());
    let want = first.trim();
    let fix = "read the file again and copy the search text exactly, including whitespace and indentation";
    if let Some((n, _)) = text.lines().enumerate().find(|(_, l)| *l == first) {
        return format!(
            "the search text was not found in `{rel}`. Its first line `{quoted}` matches line {} \
             exactly, but the lines after it differ from the file; {fix}",
            n + 1
        );
    }
    let best = text
        .lines()
        .enumerate()
        .map(|(n, l)| (similarity(want, l.trim()), n, l))
        .filter(|(s, _, _)| *s > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    match best {
        Some((s, n, l)) if l.trim() == want && s >= 1.0 => format!(
            "the search text was not found in `{rel}`. Its first line `{quoted}` matches line {} \
             except for indentation: `{}`; {fix}",
            n + 1,
            clip(l)
        ),
        Some((_, n, l)) => format!(
            "the search text was not found in `{rel}`. Its first line `{quoted}` is not in the \
             file; the most similar line is line {}: `{}`; {fix}",
            n + 1,
            clip(l.trim())
        ),
        None => format!("the search text was not found in `{rel}` (its first line is `{quoted}`); {fix}"),
    }
}

/// Dice coefficient of the character bigrams of `a` and `b` (1.0 = identical).
fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let grams = |s: &str| {
        let cs: Vec<char> = s.chars().take(400).collect();
        let mut g: Vec<(char, char)> = cs.windows(2).map(|w| (w[0], w[1])).collect();
        g.sort_unstable();
        g
    };
    let (ga, gb) = (grams(a), grams(b));
    if ga.is_empty() || gb.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < ga.len() && j < gb.len() {
        match ga[i].cmp(&gb[j]) {
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    2.0 * common as f64 / (ga.len() + gb.len()) as f64
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
