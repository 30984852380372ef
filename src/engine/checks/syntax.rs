//! The syntax gate's check: does a proposed file content parse, and if not, which errors did
//! the change introduce? Parsed with tree-sitter for the file's [`Grammar`] (chosen by
//! extension in `engine::grammars`, the same table the graph uses).
//!
//! Invariants:
//! - Only errors the change introduces are blamed: an error of the new content that matches an
//!   error of the old content (same kind, same offending text, same source line — positions
//!   shift with edits, so they are not compared) is the file's own and is not reported.
//! - A file without a parser, a deletion, non-UTF-8 or oversized content is `NotChecked`,
//!   never `Ok`.
//! - The old content's errors are looked at only when the new one has errors, so a clean
//!   change costs one parse of the new content.
//! - Incremental: when the tree of `before` is in the tree cache (`checks::tree_cache`: the
//!   model read the file, or an earlier proposal of it was checked), `after` is re-parsed from it
//!   (`grammars::reparse`) and the old errors come from that tree; otherwise `after` is parsed
//!   from scratch, and `before`, if its errors are needed, from the new tree. Either way the
//!   verdict is the one full parses give (`syntax_incremental_tests`).
//!
//! Cost (`cargo bench --bench syntax`, 2-core Debian VM, 2026-12-05, mean of two runs' medians)
//! for an edit of a 2,000-line file, Rust / Python. Warm — the model read the file, then
//! proposes the edit, as in a session: clean 0.18 / 0.35 ms, breaking 0.22 / 0.47 ms. Cold —
//! nothing cached (a file the model never read): clean 6.0 / 7.9 ms (one full parse), breaking
//! 6.3 / 15.7 ms (a Python bracket left open swallows the rest of the file, so re-parsing the
//! old content from the new tree reuses nothing).

use tree_sitter::{Node, Tree};

use super::tree_cache;
use crate::engine::grammars::{self, Grammar};
use crate::engine::protocol::{FileChange, FileSyntax, SyntaxError, SyntaxErrorKind, SyntaxVerdict};

/// Contents larger than this are not parsed (a generated file; the dialog says so).
pub const MAX_CHECKED_BYTES: usize = 2 * 1024 * 1024;
/// Errors a verdict lists (the rest are counted).
const MAX_LISTED: usize = 5;
/// Longest offending text shown, in characters.
const MAX_TEXT_CHARS: usize = 60;

/// Checks `after`, the new content of the workspace-relative `path` (`before`: its content
/// before the change, `None` for a new file). When the tree of `before` is cached (the model
/// read the file, or an earlier proposal was checked), `after` is re-parsed incrementally from
/// it; the new tree is cached, as it is the next change's `before` once applied.
pub fn check(path: &str, before: Option<&str>, after: &str) -> SyntaxVerdict {
    let grammar = match checkable(path, after) {
        Ok(grammar) => grammar,
        Err(verdict) => return verdict,
    };
    let before = before.filter(|b| b.len() <= MAX_CHECKED_BYTES);
    let old_tree = before.and_then(|b| tree_cache::get(grammar, b));
    let checked = check_parsed(grammar, before, old_tree, after, Reuse::Incremental);
    if let Some(tree) = &checked.new_tree {
        tree_cache::put(grammar, after, tree);
    }
    if let (Some(before), Some(tree)) = (before, &checked.parsed_old) {
        tree_cache::put(grammar, before, tree);
    }
    checked.verdict
}

/// Parses `content` of `path` into the tree cache (unless cached already, or not checkable),
/// so that a later change of it is checked incrementally: what reading a file does.
pub fn remember(path: &str, content: &str) {
    let Ok(grammar) = checkable(path, content) else { return };
    if content.len() > tree_cache::MAX_KEPT_BYTES || tree_cache::get(grammar, content).is_some() {
        return;
    }
    if let Some(tree) = grammars::parse(grammar, content) {
        tree_cache::put(grammar, content, &tree);
    }
}

/// The grammar of `path`, or why `content` is not checked.
fn checkable(path: &str, content: &str) -> Result<Grammar, SyntaxVerdict> {
    let Some(grammar) = Grammar::from_path(path) else {
        let name = path.rsplit('/').next().unwrap_or(path);
        let why = match name.rsplit_once('.') {
            Some((_, ext)) if !ext.is_empty() => format!("no parser for .{ext} files"),
            _ => format!("no parser for {name}"),
        };
        return Err(SyntaxVerdict::NotChecked { why });
    };
    if content.len() > MAX_CHECKED_BYTES {
        return Err(SyntaxVerdict::NotChecked { why: format!("larger than {} MB", MAX_CHECKED_BYTES >> 20) });
    }
    Ok(grammar)
}

/// How [`check_parsed`] gets its trees.
#[derive(Clone, Copy)]
enum Reuse {
    /// From each other: `after` from the old tree when there is one, and the old content (when
    /// its errors are needed and its tree was not given) from the new tree.
    Incremental,
    /// Every content parsed from scratch (what the tests hold the incremental path to).
    #[cfg_attr(not(test), allow(dead_code))]
    Full,
}

/// A verdict and the trees parsed to reach it (for the cache).
struct Checked {
    verdict: SyntaxVerdict,
    new_tree: Option<Tree>,
    /// The old content's tree, when it had to be parsed here.
    parsed_old: Option<Tree>,
}

/// The verdict on `after` against `before`, whose tree `old_tree` may be (see [`Reuse`]).
fn check_parsed(
    grammar: Grammar,
    before: Option<&str>,
    old_tree: Option<Tree>,
    after: &str,
    reuse: Reuse,
) -> Checked {
    let language = grammar.as_str().to_string();
    let tree = match (reuse, before, &old_tree) {
        (Reuse::Incremental, Some(before), Some(old)) => grammars::reparse(grammar, before, old, after),
        _ => grammars::parse(grammar, after),
    };
    let Some(tree) = tree else {
        let verdict = SyntaxVerdict::NotChecked { why: "the parser gave up".into() };
        return Checked { verdict, new_tree: None, parsed_old: None };
    };
    if !tree.root_node().has_error() {
        return Checked { verdict: SyntaxVerdict::Ok { language }, new_tree: Some(tree), parsed_old: None };
    }
    let found = errors(tree.root_node(), after);
    let mut parsed_old = None;
    let old_tree = match (before, old_tree) {
        (Some(_), Some(old)) => Some(old),
        (Some(before), None) => {
            parsed_old = match reuse {
                Reuse::Incremental => grammars::reparse(grammar, after, &tree, before),
                Reuse::Full => grammars::parse(grammar, before),
            };
            parsed_old.clone()
        }
        (None, _) => None,
    };
    let mut old: Vec<Found> = match (before, &old_tree) {
        (Some(before), Some(old)) if old.root_node().has_error() => errors(old.root_node(), before),
        _ => Vec::new(),
    };
    let count = found.len();
    let new: Vec<Found> = found
        .into_iter()
        .filter(|e| match old.iter().position(|o| same_error(o, e)) {
            Some(i) => {
                old.swap_remove(i);
                false
            }
            None => true,
        })
        .collect();
    let verdict = if new.is_empty() {
        SyntaxVerdict::PreExisting { language, count }
    } else {
        let total = new.len();
        let errors = new.into_iter().take(MAX_LISTED).map(|e| e.error).collect();
        SyntaxVerdict::Broken { language, errors, total }
    };
    Checked { verdict, new_tree: Some(tree), parsed_old }
}

/// The verdict on one proposed file change (a deletion is not checked).
pub fn check_change(change: &FileChange) -> FileSyntax {
    let verdict = match &change.after {
        Some(after) => check(&change.path, change.before.as_deref(), after),
        None => SyntaxVerdict::NotChecked { why: "deleted".into() },
    };
    FileSyntax { path: change.path.clone(), verdict }
}

/// The verdict on raw contents (a command's change set): non-UTF-8 is not checked.
pub fn check_bytes(path: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> FileSyntax {
    let verdict = match after.map(std::str::from_utf8) {
        None => SyntaxVerdict::NotChecked { why: "deleted".into() },
        Some(Err(_)) => SyntaxVerdict::NotChecked { why: "not UTF-8 text".into() },
        Some(Ok(after)) => check(path, before.and_then(|b| std::str::from_utf8(b).ok()), after),
    };
    FileSyntax { path: path.to_string(), verdict }
}

/// An error found in one content, with the source line it is on (what matching compares).
struct Found<'a> {
    error: SyntaxError,
    source_line: &'a str,
}

fn same_error(old: &Found, new: &Found) -> bool {
    old.error.kind == new.error.kind && old.error.text == new.error.text && old.source_line == new.source_line
}

/// The outermost ERROR nodes and every MISSING node, in source order.
fn errors<'a>(root: Node, src: &'a str) -> Vec<Found<'a>> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_error() {
            out.push(found(node, src, SyntaxErrorKind::Unexpected));
        } else if node.is_missing() {
            out.push(found(node, src, SyntaxErrorKind::Missing(node.kind().to_string())));
        } else if node.has_error() {
            let mut cursor = node.walk();
            let children: Vec<Node> = node.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
    }
    out
}

fn found<'a>(node: Node, src: &'a str, kind: SyntaxErrorKind) -> Found<'a> {
    let start = node.start_byte().min(src.len());
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
    let source_line = src[line_start..line_end].trim_end_matches('\r');
    let column = src.get(line_start..start).map_or(1, |s| s.chars().count() + 1);
    let text = match kind {
        SyntaxErrorKind::Unexpected => {
            let end = node.end_byte().clamp(start, src.len());
            let first = src.get(start..end).unwrap_or_default().lines().find(|l| !l.trim().is_empty());
            shorten(first.unwrap_or(source_line.trim()))
        }
        SyntaxErrorKind::Missing(_) => shorten(source_line.trim()),
    };
    let error = SyntaxError { line: node.start_position().row as u32 + 1, column: column as u32, text, kind };
    Found { error, source_line }
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_TEXT_CHARS {
        return text.to_string();
    }
    let mut short: String = text.chars().take(MAX_TEXT_CHARS - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
#[path = "syntax_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "syntax_incremental_tests.rs"]
mod incremental_tests;
