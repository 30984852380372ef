//! The Diff pane's state: a line diff with word-level emphasis ([`DiffModel`], built from two
//! texts with `similar` or parsed from a unified diff), what it compares, and the highlighted
//! lines already computed for it ([`DiffHighlights`], filled by `widgets::diff_view`).
//!
//! Invariants:
//! - `DiffRow::text` has no line terminator; `emphasis` holds byte ranges into `text` on char
//!   boundaries, sorted and non-overlapping, only on `Added`/`Removed` lines that are part of a
//!   replaced region (a `-` run directly followed by a `+` run). A line whose every non-blank
//!   byte changed gets no emphasis (it would say nothing).
//! - Hunk headers read `@@ -a,b +c,d @@` with unified-diff numbering (start is 1-based, or the
//!   preceding line when the count is 0).
//! - Word diffs are bounded (≤ 200 lines / 10,000 tokens per side, 50 ms deadline) so huge
//!   rewrites stay fast; line diffs time out after 1 s and degrade to coarser hunks.

use std::ops::Range;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffTag, TextDiff, capture_diff_slices_deadline};

/// What a diff row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    HunkHeader,
    Context,
    Added,
    Removed,
}

/// One diff row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRow {
    pub kind: DiffKind,
    /// 1-based line number in the old text (context and removed rows).
    pub old_no: Option<usize>,
    /// 1-based line number in the new text (context and added rows).
    pub new_no: Option<usize>,
    pub text: String,
    /// Byte ranges of changed tokens within `text`.
    pub emphasis: Vec<Range<usize>>,
}

/// A whole diff: rows plus totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffModel {
    pub lines: Vec<DiffRow>,
    pub added: usize,
    pub removed: usize,
    /// The whole old and new texts, kept when they are small ([`CONTEXT_SOURCE_BYTES`]) so rows
    /// are highlighted in their context — and share the highlighting Chat and Code made of the
    /// same block — rather than line by line.
    pub sources: Option<(std::sync::Arc<str>, std::sync::Arc<str>)>,
}

/// Largest old or new text kept in [`DiffModel::sources`]: highlighting a whole text happens on
/// the UI thread, so big files keep the line-by-line way.
pub const CONTEXT_SOURCE_BYTES: usize = 32 * 1024;

fn row(kind: DiffKind, old_no: Option<usize>, new_no: Option<usize>, text: &str) -> DiffRow {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    DiffRow { kind, old_no, new_no, text: text.to_string(), emphasis: Vec::new() }
}

impl DiffModel {
    /// Line diff of `old` → `new` with `context` lines around each change.
    pub fn between(old: &str, new: &str, context: usize) -> DiffModel {
        let diff = TextDiff::configure()
            .algorithm(Algorithm::Myers)
            .timeout(Duration::from_secs(1))
            .diff_lines(old, new);
        let (olds, news) = (diff.old_slices(), diff.new_slices());
        let mut m = DiffModel::default();
        for group in diff.grouped_ops(context) {
            let (Some(first), Some(last)) = (group.first(), group.last()) else {
                continue;
            };
            let (o0, o1) = (first.old_range().start, last.old_range().end);
            let (n0, n1) = (first.new_range().start, last.new_range().end);
            let start = |s: usize, n: usize| if n == 0 { s } else { s + 1 };
            let header =
                format!("@@ -{},{} +{},{} @@", start(o0, o1 - o0), o1 - o0, start(n0, n1 - n0), n1 - n0);
            m.lines.push(row(DiffKind::HunkHeader, None, None, &header));
            for op in &group {
                let (tag, or, nr) = op.as_tag_tuple();
                if tag == DiffTag::Equal {
                    for (i, j) in or.zip(nr) {
                        let text = olds.get(i).copied().unwrap_or("");
                        m.lines.push(row(DiffKind::Context, Some(i + 1), Some(j + 1), text));
                    }
                    continue;
                }
                let rem_start = m.lines.len();
                for i in or {
                    let text = olds.get(i).copied().unwrap_or("");
                    m.lines.push(row(DiffKind::Removed, Some(i + 1), None, text));
                    m.removed += 1;
                }
                let add_start = m.lines.len();
                for j in nr {
                    let text = news.get(j).copied().unwrap_or("");
                    m.lines.push(row(DiffKind::Added, None, Some(j + 1), text));
                    m.added += 1;
                }
                if tag == DiffTag::Replace {
                    let (rem, add) = m.lines[rem_start..].split_at_mut(add_start - rem_start);
                    emphasize(rem, add);
                }
            }
        }
        if old.len().max(new.len()) <= CONTEXT_SOURCE_BYTES {
            m.sources = Some((old.into(), new.into()));
        }
        m
    }

    /// Parses a unified diff (`git diff` output; file headers are skipped).
    pub fn from_unified(patch: &str) -> DiffModel {
        let mut m = DiffModel::default();
        let (mut old_no, mut new_no, mut old_left, mut new_left) = (0, 0, 0, 0);
        for line in patch.lines() {
            if line.starts_with("@@") {
                if let Some((o, ol, n, nl)) = parse_hunk_header(line) {
                    (old_no, old_left, new_no, new_left) = (o, ol, n, nl);
                    m.lines.push(row(DiffKind::HunkHeader, None, None, line));
                }
                continue;
            }
            if old_left == 0 && new_left == 0 {
                continue;
            }
            let (marker, text) = match line.char_indices().nth(1) {
                Some((i, _)) => (&line[..i], &line[i..]),
                None => (line, ""),
            };
            match marker {
                " " | "" => {
                    m.lines.push(row(DiffKind::Context, Some(old_no), Some(new_no), text));
                    (old_no, new_no) = (old_no + 1, new_no + 1);
                    old_left = old_left.saturating_sub(1);
                    new_left = new_left.saturating_sub(1);
                }
                "-" => {
                    m.lines.push(row(DiffKind::Removed, Some(old_no), None, text));
                    old_no += 1;
                    old_left = old_left.saturating_sub(1);
                    m.removed += 1;
                }
                "+" => {
                    m.lines.push(row(DiffKind::Added, None, Some(new_no), text));
                    new_no += 1;
                    new_left = new_left.saturating_sub(1);
                    m.added += 1;
                }
                "\\" => {}
                _ => (old_left, new_left) = (0, 0),
            }
        }
        // Word emphasis for each `-` run directly followed by a `+` run.
        let mut i = 0;
        while i < m.lines.len() {
            let run = |from: usize, kind| m.lines[from..].iter().take_while(|l| l.kind == kind).count();
            let rem = run(i, DiffKind::Removed);
            let add = run(i + rem, DiffKind::Added);
            if rem > 0 && add > 0 {
                let (r, a) = m.lines[i..i + rem + add].split_at_mut(rem);
                emphasize(r, a);
            }
            i += (rem + add).max(1);
        }
        m
    }
}

/// `@@ -a[,b] +c[,d] @@` → (a, b, c, d); a missing count is 1.
fn parse_hunk_header(line: &str) -> Option<(usize, usize, usize, usize)> {
    let mut parts = line.split_whitespace().skip(1);
    let range = |s: Option<&str>, sign: char| -> Option<(usize, usize)> {
        let s = s?.strip_prefix(sign)?;
        match s.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((s.parse().ok()?, 1)),
        }
    };
    let (a, b) = range(parts.next(), '-')?;
    let (c, d) = range(parts.next(), '+')?;
    Some((a.max(1), b, c.max(1), d))
}

/// Splits `s` into word, whitespace-run and single-punctuation tokens (byte ranges).
fn tokens(s: &str) -> Vec<Range<usize>> {
    let class = |c: char| {
        if c.is_alphanumeric() || c == '_' {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut prev = None;
    for (i, c) in s.char_indices() {
        let k = class(c);
        match out.last_mut() {
            Some(last) if prev == Some(k) && k != 2 => last.end = i + c.len_utf8(),
            _ => out.push(i..i + c.len_utf8()),
        }
        prev = Some(k);
    }
    out
}

/// Token-level emphasis for a removed run and the added run replacing it: lines are paired
/// in order (unpaired extra lines get none) and each pair is diffed by tokens.
fn emphasize(removed: &mut [DiffRow], added: &mut [DiffRow]) {
    const MAX_PAIRS: usize = 200;
    const MAX_TOKENS: usize = 2_000;
    let deadline = Instant::now() + Duration::from_millis(50);
    for (old, new) in removed.iter_mut().zip(added.iter_mut()).take(MAX_PAIRS) {
        let (ot, nt) = (tokens(&old.text), tokens(&new.text));
        if ot.len() > MAX_TOKENS || nt.len() > MAX_TOKENS || Instant::now() > deadline {
            continue;
        }
        let os: Vec<&str> = ot.iter().map(|r| &old.text[r.clone()]).collect();
        let ns: Vec<&str> = nt.iter().map(|r| &new.text[r.clone()]).collect();
        for op in capture_diff_slices_deadline(Algorithm::Myers, &os, &ns, Some(deadline)) {
            let (tag, or, nr) = op.as_tag_tuple();
            if tag != DiffTag::Equal {
                old.emphasis.extend(ot[or].iter().cloned());
                new.emphasis.extend(nt[nr].iter().cloned());
            }
        }
        finish_emphasis(old);
        finish_emphasis(new);
    }
}

/// Sorts and merges ranges (also across whitespace-only gaps); drops all-changed emphasis.
fn finish_emphasis(l: &mut DiffRow) {
    l.emphasis.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in l.emphasis.drain(..) {
        match merged.last_mut() {
            Some(last) if l.text.get(last.end..r.start).is_some_and(|gap| gap.trim().is_empty()) => {
                last.end = last.end.max(r.end);
            }
            _ => merged.push(r),
        }
    }
    for r in &mut merged {
        let piece = l.text.get(r.clone()).unwrap_or("");
        r.start += piece.len() - piece.trim_start().len();
        r.end -= piece.len() - piece.trim_end().len();
    }
    merged.retain(|r| r.start < r.end);
    let solid = |s: &str| s.split_whitespace().map(str::len).sum::<usize>();
    let covered: usize = merged.iter().map(|r| solid(l.text.get(r.clone()).unwrap_or(""))).sum();
    if covered >= solid(&l.text) {
        merged.clear();
    }
    l.emphasis = merged;
}

/// Syntax-highlighted diff lines already computed, by line index, for one theme. Kept next to
/// the model so a redraw does not re-run the highlighter over the visible rows.
#[derive(Debug, Default)]
pub struct DiffHighlights {
    pub(crate) theme: String,
    pub(crate) lines: std::collections::HashMap<usize, ratatui::text::Line<'static>>,
}

#[derive(Debug, Default)]
pub struct DiffState {
    pub model: Option<DiffModel>,
    /// Highlighted lines of `model` (reset whenever `model` changes).
    pub highlights: DiffHighlights,
    pub lang: Option<String>,
    /// What is compared, e.g. "block 2 → block 5 (rust)".
    pub caption: String,
    pub scroll_y: usize,
}
