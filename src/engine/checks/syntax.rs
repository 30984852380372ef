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
//! - The old content is parsed only when the new one has errors, so a clean change costs one
//!   parse (the `syntax` bench: 7.5 ms for a 2,000-line Rust file; the 2 ms goal needs an
//!   incremental re-parse of a cached tree).

use tree_sitter::Node;

use crate::engine::grammars::{self, Grammar};
use crate::engine::protocol::{FileChange, FileSyntax, SyntaxError, SyntaxErrorKind, SyntaxVerdict};

/// Contents larger than this are not parsed (a generated file; the dialog says so).
pub const MAX_CHECKED_BYTES: usize = 2 * 1024 * 1024;
/// Errors a verdict lists (the rest are counted).
const MAX_LISTED: usize = 5;
/// Longest offending text shown, in characters.
const MAX_TEXT_CHARS: usize = 60;

/// Checks `after`, the new content of the workspace-relative `path` (`before`: its content
/// before the change, `None` for a new file).
pub fn check(path: &str, before: Option<&str>, after: &str) -> SyntaxVerdict {
    let Some(grammar) = Grammar::from_path(path) else {
        let name = path.rsplit('/').next().unwrap_or(path);
        let why = match name.rsplit_once('.') {
            Some((_, ext)) if !ext.is_empty() => format!("no parser for .{ext} files"),
            _ => format!("no parser for {name}"),
        };
        return SyntaxVerdict::NotChecked { why };
    };
    if after.len() > MAX_CHECKED_BYTES {
        return SyntaxVerdict::NotChecked { why: format!("larger than {} MB", MAX_CHECKED_BYTES >> 20) };
    }
    let language = grammar.as_str().to_string();
    let Some(tree) = grammars::parse(grammar, after) else {
        return SyntaxVerdict::NotChecked { why: "the parser gave up".into() };
    };
    if !tree.root_node().has_error() {
        return SyntaxVerdict::Ok { language };
    }
    let found = errors(tree.root_node(), after);
    let mut old: Vec<Found> = before
        .filter(|b| b.len() <= MAX_CHECKED_BYTES)
        .and_then(|b| grammars::parse(grammar, b).map(|t| (t, b)))
        .filter(|(t, _)| t.root_node().has_error())
        .map(|(t, b)| errors(t.root_node(), b))
        .unwrap_or_default();
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
    if new.is_empty() {
        return SyntaxVerdict::PreExisting { language, count };
    }
    let total = new.len();
    let errors = new.into_iter().take(MAX_LISTED).map(|e| e.error).collect();
    SyntaxVerdict::Broken { language, errors, total }
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
