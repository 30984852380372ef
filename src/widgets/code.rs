//! Read-only source viewer: line-number gutter plus lazily highlighted text.
//!
//! Owns [`CodeDoc`] (the document and its [`HighlightCache`]) and the [`CodeView`] stateful
//! widget / [`render_code`] function that draw it. No border: the caller draws the pane frame.
//!
//! Invariants:
//! - Rendering touches only the visible rows: cost is O(rows × (scroll_x + width)) once their
//!   highlighting is cached, independent of document size.
//! - The gutter is right-aligned 1-based line numbers, one blank column, then text; the current
//!   line's number (the top line for [`render_code`]) uses `line_number_current`.
//! - Tabs expand to the next multiple of 4 columns; control characters show as '�'; text that
//!   scrolls off either edge is clipped, never wrapped. Zero-size areas and scroll offsets past
//!   the end render nothing and do not panic.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::StatefulWidget;

use crate::app::code::CodeDoc;
use crate::text::highlight::display_slice;
use crate::text::theme::Theme;

/// Draws a [`CodeDoc`] (the widget state) scrolled to `(scroll_y, scroll_x)`.
pub struct CodeView<'a> {
    theme: &'a Theme,
    scroll_y: usize,
    scroll_x: usize,
    current: Option<usize>,
}

impl<'a> CodeView<'a> {
    /// A view at the top-left with no current line.
    pub fn new(theme: &'a Theme) -> Self {
        CodeView { theme, scroll_y: 0, scroll_x: 0, current: None }
    }

    /// Sets the first visible line and the number of columns scrolled off to the left.
    pub fn scroll(mut self, y: usize, x: usize) -> Self {
        self.scroll_y = y;
        self.scroll_x = x;
        self
    }

    /// The line (0-based) whose number is drawn with `line_number_current`.
    pub fn current_line(mut self, line: Option<usize>) -> Self {
        self.current = line;
        self
    }
}

impl StatefulWidget for CodeView<'_> {
    type State = CodeDoc;

    fn render(self, area: Rect, buf: &mut Buffer, doc: &mut CodeDoc) {
        let area = area.intersection(*buf.area());
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        buf.set_style(area, t.base);
        let gutter = doc.gutter_width();
        let digits = usize::from(gutter - 1);
        let text_x = area.x.saturating_add(gutter);
        let text_w = area.width.saturating_sub(gutter);
        for row in 0..area.height {
            let Some(idx) = self.scroll_y.checked_add(usize::from(row)) else {
                break;
            };
            if idx >= doc.line_count() {
                break;
            }
            let y = area.y + row;
            let style = if self.current == Some(idx) { t.line_number_current } else { t.line_number };
            let number = format!("{:>digits$} ", idx + 1);
            buf.set_stringn(area.x, y, number, usize::from(area.width), style);
            if text_w == 0 {
                continue;
            }
            let hl = doc.cache.line(idx, t);
            let (line, _) = display_slice(&hl.spans, self.scroll_x, usize::from(text_w));
            buf.set_line(text_x, y, &line, text_w);
        }
    }
}

/// Renders `doc` into `area`, marking the top visible line as current.
pub fn render_code(
    area: Rect,
    buf: &mut Buffer,
    doc: &mut CodeDoc,
    scroll_y: usize,
    scroll_x: usize,
    theme: &Theme,
) {
    CodeView::new(theme).scroll(scroll_y, scroll_x).current_line(Some(scroll_y)).render(area, buf, doc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::highlight::warm_up_blocking;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::Color;
    use std::time::{Duration, Instant};

    fn theme() -> Theme {
        Theme::builtin("dark").unwrap()
    }

    fn generated(n: usize) -> String {
        (1..=n)
            .map(|i| match i % 4 {
                0 => format!("\tlet v{i} = \"tab-indented {i}\";\n"),
                1 => format!("fn f{i}(x: u32) -> u32 {{ x + {i} }} // a long comment past the edge\n"),
                2 => format!("// 世界 comment {i}\n"),
                _ => "\n".to_string(),
            })
            .collect()
    }

    fn draw(w: u16, h: u16, doc: &mut CodeDoc, y: usize, x: usize) -> Terminal<TestBackend> {
        let t = theme();
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| render_code(f.area(), f.buffer_mut(), doc, y, x, &t)).unwrap();
        term
    }

    #[test]
    fn snapshot_scrolled_to_line_100() {
        warm_up_blocking();
        let mut doc = CodeDoc::new(Some("rs"), "gen.rs", &generated(300));
        assert_eq!(doc.line_count(), 300);
        assert_eq!(doc.gutter_width(), 4);
        let term = draw(44, 8, &mut doc, 99, 0);
        insta::assert_snapshot!(term.backend());
        let buf = term.backend().buffer();
        let t = theme();
        assert_eq!(buf[(0, 0)].symbol(), "1");
        assert_eq!(buf[(0, 0)].fg, t.line_number_current.fg.unwrap());
        assert_eq!(buf[(0, 1)].fg, t.line_number.fg.unwrap());
        // Line 101 is `fn f101…`: the keyword is coloured unlike the function name.
        assert_eq!(buf[(4, 1)].symbol(), "f");
        assert_ne!(buf[(4, 1)].fg, Color::Reset);
        assert_ne!(buf[(4, 1)].fg, buf[(7, 1)].fg);
    }

    #[test]
    fn horizontal_scroll_and_tabs() {
        let mut doc = CodeDoc::new(None, "t", "\tab\nxyz世界\n");
        let term = draw(10, 2, &mut doc, 0, 0);
        insta::assert_snapshot!(term.backend(), @r#"
        "1     ab  "
        "2 xyz世界 " Hidden by multi-width symbols: [(6, " "), (8, " ")]
        "#);
        let term = draw(10, 2, &mut doc, 0, 4);
        insta::assert_snapshot!(term.backend(), @r#"
        "1 ab      "
        "2  界     " Hidden by multi-width symbols: [(4, " ")]
        "#);
    }

    #[test]
    fn narrow_and_empty_areas_do_not_panic() {
        let mut doc = CodeDoc::new(Some("rs"), "x", &generated(20));
        let term = draw(1, 3, &mut doc, 0, 0);
        insta::assert_snapshot!("code_width_1", term.backend());
        for (w, h) in [(0, 0), (0, 5), (5, 0), (2, 1), (3, 3)] {
            let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
            render_code(buf.area, &mut buf, &mut doc, 0, 0, &theme());
            render_code(Rect::new(1, 1, 50, 50), &mut buf, &mut doc, 5, 1_000, &theme());
            render_code(buf.area, &mut buf, &mut doc, usize::MAX, usize::MAX, &theme());
        }
        let mut empty = CodeDoc::new(None, "empty", "");
        assert_eq!(empty.line_count(), 0);
        let _ = draw(10, 3, &mut empty, 0, 0);
        empty.advance_highlight(100);
        assert!(empty.highlight_complete());
        let mut huge = CodeDoc::new(None, "huge", &"é\t".repeat(500_000));
        let _ = draw(20, 2, &mut huge, 0, 999_990);
        assert_eq!(huge.line(0).map(str::len), Some(1_500_000));
    }

    #[test]
    fn big_file_renders_fast_after_first_frame() {
        warm_up_blocking();
        let mut doc = CodeDoc::new(Some("rs"), "big.rs", &generated(50_000));
        let t = theme();
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 50));
        render_code(buf.area, &mut buf, &mut doc, 49_950, 0, &t);
        assert!(doc.cache.exact_lines() < 1_000, "first render parsed from the top");
        let mut best = Duration::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            render_code(buf.area, &mut buf, &mut doc, 49_950, 0, &t);
            best = best.min(start.elapsed());
        }
        assert!(best < Duration::from_millis(2), "{best:?}");
        doc.advance_highlight(500);
        assert!(!doc.highlight_complete());
    }
}
