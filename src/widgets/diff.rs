//! Draws a [`DiffModel`] (`app::diff`) with syntax colours and word emphasis: [`render_diff`].
//!
//! Invariant: rendering processes only visible rows: columns are old number, new number, a
//! `+`/`-`/space marker and the text; syntax fg (per line, fresh state) sits over the
//! `diff_add`/`diff_del` background with `diff_add_emph`/`diff_del_emph` patched over changed
//! tokens.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;

use crate::app::diff::{DiffHighlights, DiffKind, DiffModel, DiffRow};
use crate::text::highlight::{display_slice, highlight_lines, highlight_shared};
use crate::text::theme::Theme;

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

/// Columns before a row's text: both line numbers and the marker, each with its space.
pub fn diff_text_offset(model: &DiffModel) -> u16 {
    let max_no = |f: fn(&DiffRow) -> Option<usize>| model.lines.iter().rev().find_map(f);
    digits(max_no(|l| l.old_no).unwrap_or(0)) + digits(max_no(|l| l.new_no).unwrap_or(0)) + 4
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
    let ready = crate::text::highlight::is_ready();
    if cache.theme != t.name || !ready {
        cache.lines.clear();
        cache.theme = t.name.clone();
    }
    let missing: Vec<usize> =
        (scroll_y..scroll_y + visible.len()).filter(|i| !cache.lines.contains_key(i)).collect();
    if !missing.is_empty() {
        match model.sources.as_ref().filter(|_| ready) {
            // Both texts whole and small: each row is its line highlighted in context.
            Some((old, new)) => {
                let (old, new) = (highlight_shared(lang, old, t), highlight_shared(lang, new, t));
                for i in missing {
                    let row = &model.lines[i];
                    let line = match row.kind {
                        DiffKind::HunkHeader => None,
                        DiffKind::Removed => row.old_no.and_then(|n| old.get(n - 1)),
                        _ => row.new_no.and_then(|n| new.get(n - 1)),
                    };
                    cache.lines.insert(i, line.cloned().unwrap_or_default());
                }
            }
            None => {
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
    use crate::text::highlight::warm_up_blocking;
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

    /// Rows of a diff between two whole texts are coloured in their context: a changed line
    /// inside a block comment is a comment, as the whole block shows it in Chat and Code.
    #[test]
    fn rows_are_highlighted_in_context() {
        warm_up_blocking();
        let old = "/* opening\n   let x = 1;\n*/\nfn f() {}\n";
        let new = "/* opening\n   let x = 2;\n*/\nfn f() {}\n";
        let model = DiffModel::between(old, new, 3);
        let mut cache = DiffHighlights::default();
        let area = Rect::new(0, 0, 60, 10);
        let mut buf = Buffer::empty(area);
        render_diff_cached(area, &mut buf, &model, Some("rs"), 0, &theme(), &mut cache);
        let whole = crate::text::highlight::highlight_block(Some("rs"), new, &theme());
        let added = model.lines.iter().position(|l| l.kind == DiffKind::Added).unwrap();
        assert_eq!(cache.lines[&added], whole[1]);
        let alone = crate::text::highlight::highlight_line(Some("rs"), "   let x = 2;", &theme());
        assert_ne!(cache.lines[&added], alone, "line by line it would be code, not comment");
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
