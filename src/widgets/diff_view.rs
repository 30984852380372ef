//! Line diffs with word-level emphasis, and their rendering.
//!
//! Owns [`DiffModel`] (built from two texts with `similar`, or parsed from a unified diff) and
//! [`render_diff`].
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
//! - Rendering processes only visible rows: columns are old number, new number, a `+`/`-`/space
//!   marker and the text; syntax fg (per line, fresh state) sits over the `diff_add`/`diff_del`
//!   background with `diff_add_emph`/`diff_del_emph` patched over changed tokens.

use std::ops::Range;
use std::time::{Duration, Instant};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use similar::{Algorithm, DiffTag, TextDiff, capture_diff_slices_deadline};

use super::highlight::{display_slice, highlight_lines};
use super::theme::Theme;

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
}

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

/// Applies `emph` over the byte `ranges` of raw spans (whose contents concatenate to the text).
fn overlay(spans: Vec<Span<'static>>, ranges: &[Range<usize>], emph: Style) -> Vec<Span<'static>> {
    if ranges.is_empty() {
        return spans;
    }
    let mut out = Vec::with_capacity(spans.len() + 2 * ranges.len());
    let mut off = 0;
    for span in spans {
        let s = span.content.as_ref();
        let end = off + s.len();
        let mut cuts = vec![0, s.len()];
        for r in ranges.iter().filter(|r| r.start < end && r.end > off) {
            cuts.push(r.start.saturating_sub(off).min(s.len()));
            cuts.push(r.end.saturating_sub(off).min(s.len()));
        }
        cuts.sort_unstable();
        cuts.dedup();
        cuts.retain(|&c| s.is_char_boundary(c));
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let Some(piece) = s.get(a..b) else { continue };
            let in_emph = ranges.iter().any(|r| r.start <= off + a && off + a < r.end);
            let style = if in_emph { span.style.patch(emph) } else { span.style };
            out.push(Span::styled(piece.to_string(), style));
        }
        off = end;
    }
    out
}

fn digits(n: usize) -> u16 {
    n.max(1).to_string().len() as u16
}

/// Syntax-highlighted diff lines already computed, by line index, for one theme. Kept next to
/// the model so a redraw does not re-run the highlighter over the visible rows.
#[derive(Debug, Default)]
pub struct DiffHighlights {
    theme: String,
    lines: std::collections::HashMap<usize, ratatui::text::Line<'static>>,
}

/// Renders `model` from row `scroll_y`, syntax-highlighting text as `lang`.
pub fn render_diff(
    area: Rect,
    buf: &mut Buffer,
    model: &DiffModel,
    lang: Option<&str>,
    scroll_y: usize,
    theme: &Theme,
) {
    render_diff_cached(area, buf, model, lang, scroll_y, theme, &mut DiffHighlights::default());
}

/// [`render_diff`] reusing (and filling) `cache`, which must belong to `model`.
pub fn render_diff_cached(
    area: Rect,
    buf: &mut Buffer,
    model: &DiffModel,
    lang: Option<&str>,
    scroll_y: usize,
    theme: &Theme,
    cache: &mut DiffHighlights,
) {
    let area = area.intersection(*buf.area());
    if area.is_empty() {
        return;
    }
    let t = theme;
    buf.set_style(area, t.base);
    let max_no = |f: fn(&DiffRow) -> Option<usize>| model.lines.iter().rev().find_map(f);
    let ow = digits(max_no(|l| l.old_no).unwrap_or(0));
    let nw = digits(max_no(|l| l.new_no).unwrap_or(0));
    let marker_x = area.x.saturating_add(ow + nw + 2);
    let text_x = marker_x.saturating_add(2);
    let right = area.right();
    let visible: Vec<&DiffRow> = model.lines.iter().skip(scroll_y).take(usize::from(area.height)).collect();
    let ready = crate::widgets::highlight::is_ready();
    if cache.theme != t.name || !ready {
        cache.lines.clear();
        cache.theme = t.name.clone();
    }
    let missing: Vec<usize> =
        (scroll_y..scroll_y + visible.len()).filter(|i| !cache.lines.contains_key(i)).collect();
    if !missing.is_empty() {
        let texts: Vec<&str> = missing
            .iter()
            .map(|&i| match model.lines[i].kind {
                DiffKind::HunkHeader => "",
                _ => model.lines[i].text.as_str(),
            })
            .collect();
        for (i, line) in missing.into_iter().zip(highlight_lines(lang, &texts, t)) {
            cache.lines.insert(i, line);
        }
    }
    let highlighted: Vec<ratatui::text::Line<'static>> = (scroll_y..scroll_y + visible.len())
        .map(|i| cache.lines.get(&i).cloned().unwrap_or_default())
        .collect();
    for (row, (l, hl)) in visible.into_iter().zip(highlighted).enumerate() {
        let y = area.y + row as u16;
        if l.kind == DiffKind::HunkHeader {
            let band = Rect::new(area.x, y, area.width, 1);
            buf.set_style(band, t.diff_hunk_header);
            buf.set_stringn(area.x, y, &l.text, usize::from(area.width), t.diff_hunk_header);
            continue;
        }
        let num = |n: Option<usize>, w: u16| match n {
            Some(n) => format!("{n:>w$} ", w = usize::from(w)),
            None => " ".repeat(usize::from(w) + 1),
        };
        let nums = num(l.old_no, ow) + &num(l.new_no, nw);
        buf.set_stringn(area.x, y, nums, usize::from(area.width), t.line_number);
        let (marker, bg, emph) = match l.kind {
            DiffKind::Added => ("+", t.diff_add, t.diff_add_emph),
            DiffKind::Removed => ("-", t.diff_del, t.diff_del_emph),
            _ => (" ", Style::default(), Style::default()),
        };
        if marker_x >= right {
            continue;
        }
        buf.set_style(Rect::new(marker_x, y, right - marker_x, 1), bg);
        buf.set_stringn(marker_x, y, marker, 1, bg);
        if text_x >= right {
            continue;
        }
        let spans: Vec<Span<'static>> = hl
            .spans
            .into_iter()
            .map(|s| {
                let st = bg.patch(s.style);
                s.style(st)
            })
            .collect();
        let spans = overlay(spans, &l.emphasis, emph);
        let (line, _) = display_slice(&spans, 0, usize::from(right - text_x));
        buf.set_line(text_x, y, &line, right - text_x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::widgets::highlight::warm_up_blocking;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    const OLD: &str = "fn main() {\n    let total = compute(1, 2);\n    println!(\"{total}\");\n}\n\
        // one\n// two\n// three\n// four\n// five\nfn tail() {}\n";
    const NEW: &str = "fn main() {\n    let total = compute(1, 3);\n    println!(\"{total}\");\n}\n\
        // one\n// two\n// three\n// four\n// five\nfn tail() -> u8 { 0 }\nfn more() {}\n";

    fn theme() -> Theme {
        Theme::builtin("dark").unwrap()
    }

    fn summary(m: &DiffModel) -> Vec<String> {
        m.lines
            .iter()
            .map(|l| {
                let n = |o: Option<usize>| o.map_or("-".into(), |n| n.to_string());
                let emph: Vec<&str> = l.emphasis.iter().map(|r| &l.text[r.clone()]).collect();
                format!("{:?} {} {} {} {emph:?}", l.kind, n(l.old_no), n(l.new_no), l.text)
            })
            .collect()
    }

    #[test]
    fn between_groups_hunks_with_word_emphasis() {
        let m = DiffModel::between(OLD, NEW, 1);
        assert_eq!((m.added, m.removed), (3, 2));
        assert_eq!(
            summary(&m),
            [
                "HunkHeader - - @@ -1,3 +1,3 @@ []",
                "Context 1 1 fn main() { []",
                "Removed 2 -     let total = compute(1, 2); [\"2\"]",
                "Added - 2     let total = compute(1, 3); [\"3\"]",
                "Context 3 3     println!(\"{total}\"); []",
                "HunkHeader - - @@ -9,2 +9,3 @@ []",
                "Context 9 9 // five []",
                "Removed 10 - fn tail() {} []",
                "Added - 10 fn tail() -> u8 { 0 } [\"-> u8\", \"0\"]",
                "Added - 11 fn more() {} []",
            ]
        );
    }

    #[test]
    fn edge_diffs() {
        assert!(DiffModel::between("same\n", "same\n", 3).lines.is_empty());
        let m = DiffModel::between("", "a\n", 3);
        assert_eq!(summary(&m), ["HunkHeader - - @@ -0,0 +1,1 @@ []", "Added - 1 a []"]);
        let m = DiffModel::between("a\r\nb", "a\r\nc", 0);
        assert_eq!(m.lines[1].text, "b");
        assert_eq!(m.lines[2].text, "c");
        assert!(m.lines[1].emphasis.is_empty(), "whole line changed: no emphasis");
        let m = DiffModel::between("héllo wörld\n", "héllo wärld\n", 0);
        assert_eq!(&m.lines[2].text[m.lines[2].emphasis[0].clone()], "wärld");
    }

    #[test]
    fn unified_round_trip_matches_between() {
        let patch = similar::TextDiff::from_lines(OLD, NEW)
            .unified_diff()
            .context_radius(1)
            .header("a/x.rs", "b/x.rs")
            .to_string();
        let parsed = DiffModel::from_unified(&format!("diff --git a/x.rs b/x.rs\nindex 1..2\n{patch}"));
        let direct = DiffModel::between(OLD, NEW, 1);
        let body = |m: &DiffModel| {
            summary(m).into_iter().filter(|s| !s.starts_with("HunkHeader")).collect::<Vec<_>>()
        };
        assert_eq!(body(&parsed), body(&direct));
        assert_eq!((parsed.added, parsed.removed), (3, 2));
        assert_eq!(parsed.lines[0].text, "@@ -1,3 +1,3 @@");
    }

    #[test]
    fn unified_edge_cases() {
        let patch = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@ fn ctx\n--- not a header\n+++ still content\n\
            \n\\ No newline at end of file\ntrailing junk\n@@ -10 +10 @@\n-x\n+y\n";
        let m = DiffModel::from_unified(patch);
        assert_eq!(
            summary(&m),
            [
                "HunkHeader - - @@ -1,2 +1,2 @@ fn ctx []",
                "Removed 1 - -- not a header []",
                "Added - 1 ++ still content []",
                "Context 2 2  []",
                "HunkHeader - - @@ -10 +10 @@ []",
                "Removed 10 - x []",
                "Added - 10 y []",
            ]
        );
        for junk in ["", "@@", "@@ -a +b @@\n+x", "@@ -1,1 +1,1 @@\n-é\n+ê", "+\n-\n"] {
            let _ = DiffModel::from_unified(junk);
        }
    }

    fn draw(w: u16, h: u16, m: &DiffModel, scroll: usize) -> Terminal<TestBackend> {
        let t = theme();
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| render_diff(f.area(), f.buffer_mut(), m, Some("rs"), scroll, &t)).unwrap();
        term
    }

    #[test]
    fn snapshot_with_word_emphasis() {
        warm_up_blocking();
        let t = theme();
        let m = DiffModel::between(OLD, NEW, 1);
        let term = draw(44, 10, &m, 0);
        insta::assert_snapshot!(term.backend());
        let buf = term.backend().buffer();
        // Row 3 is the added `compute(1, 3)` line; text starts at column 7.
        let row: String = (0..44).map(|x| buf[(x, 3)].symbol().to_string()).collect();
        let x3 = row.find("3)").unwrap() as u16;
        assert_eq!(buf[(x3, 3)].bg, t.diff_add_emph.bg.unwrap());
        assert_eq!(buf[(x3 + 1, 3)].bg, t.diff_add.bg.unwrap());
        assert_eq!(buf[(x3, 2)].bg, t.diff_del_emph.bg.unwrap(), "removed `2`");
        assert_eq!(buf[(6, 3)].symbol(), "+");
        assert_eq!(buf[(0, 0)].bg, t.diff_hunk_header.bg.unwrap());
        // `let` keeps its syntax colour over the diff background.
        let xl = row.find("let").unwrap() as u16;
        assert_ne!(buf[(xl, 3)].fg, buf[(xl + 4, 3)].fg);
        assert_eq!(buf[(xl, 3)].bg, t.diff_add.bg.unwrap());
    }

    #[test]
    fn narrow_and_empty_areas_do_not_panic() {
        let m = DiffModel::between(OLD, NEW, 3);
        insta::assert_snapshot!("diff_width_1", draw(1, 4, &m, 0).backend());
        for (w, h) in [(0, 0), (0, 3), (3, 0), (2, 2), (7, 2), (8, 2)] {
            let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
            render_diff(buf.area, &mut buf, &m, None, 0, &theme());
            render_diff(Rect::new(2, 2, 40, 40), &mut buf, &m, None, 1, &theme());
            render_diff(buf.area, &mut buf, &m, None, usize::MAX, &theme());
        }
        let empty = DiffModel::default();
        let _ = draw(10, 2, &empty, 0);
        let long = DiffModel::between("a\n", &format!("{}\n", "\tx".repeat(100_000)), 0);
        let _ = draw(20, 3, &long, 0);
    }
}
