//! Word wrapping for the markdown renderer: styled spans → lines of at most `width` columns,
//! each with how it joins the line above (`text::lines::Join`: soft at dropped whitespace, hard
//! inside a word too long for a line).

use ratatui::text::Span;
use unicode_width::UnicodeWidthChar;

use crate::text::highlight::push_span;
use crate::text::lines::Join;

/// Word-wraps styled text to `width` (≥ 1) columns, each line with how it joins the one
/// above. Whitespace at wrap points is dropped; words wider than a line are split at character
/// boundaries.
pub(super) fn wrap(spans: &[Span<'static>], width: usize) -> Vec<(Vec<Span<'static>>, Join)> {
    let mut w = Wrapper {
        width: width.max(1),
        lines: Vec::new(),
        cur_join: Join::New,
        cur: Vec::new(),
        cur_w: 0,
        word: Vec::new(),
        word_w: 0,
        gap: Vec::new(),
        gap_w: 0,
    };
    let mut buf = [0u8; 4];
    for span in spans {
        for ch in span.content.chars() {
            if ch.is_whitespace() && ch != '\u{a0}' {
                w.commit_word();
                push_span(&mut w.gap, " ", span.style);
                w.gap_w += 1;
            } else {
                let (ch, cw) = match ch.width() {
                    _ if ch.is_control() => ('\u{fffd}', 1),
                    cw => (ch, cw.unwrap_or(0)),
                };
                push_span(&mut w.word, ch.encode_utf8(&mut buf), span.style);
                w.word_w += cw;
            }
        }
    }
    w.commit_word();
    if !w.cur.is_empty() {
        w.lines.push((w.cur, w.cur_join));
    }
    w.lines
}

struct Wrapper {
    width: usize,
    lines: Vec<(Vec<Span<'static>>, Join)>,
    /// How the line being filled joins the one above.
    cur_join: Join,
    cur: Vec<Span<'static>>,
    cur_w: usize,
    word: Vec<Span<'static>>,
    word_w: usize,
    gap: Vec<Span<'static>>,
    gap_w: usize,
}

impl Wrapper {
    /// Ends the current line; the next one continues it by `join`.
    fn newline(&mut self, join: Join) {
        let join = std::mem::replace(&mut self.cur_join, join);
        self.lines.push((std::mem::take(&mut self.cur), join));
        self.cur_w = 0;
    }

    fn append(&mut self, spans: Vec<Span<'static>>) {
        for s in spans {
            push_span(&mut self.cur, &s.content, s.style);
        }
    }

    fn commit_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut self.word);
        let word_w = std::mem::take(&mut self.word_w);
        let gap = std::mem::take(&mut self.gap);
        let gap_w = std::mem::take(&mut self.gap_w);
        if self.cur_w > 0 {
            if self.cur_w + gap_w + word_w <= self.width {
                self.append(gap);
                self.append(word);
                self.cur_w += gap_w + word_w;
                return;
            }
            self.newline(Join::Soft);
        }
        if word_w <= self.width {
            self.append(word);
            self.cur_w = word_w;
            return;
        }
        // Hard-break an over-long word.
        let mut buf = [0u8; 4];
        for s in &word {
            for ch in s.content.chars() {
                let cw = ch.width().unwrap_or(0);
                if self.cur_w + cw > self.width && self.cur_w > 0 {
                    self.newline(Join::Hard);
                }
                push_span(&mut self.cur, ch.encode_utf8(&mut buf), s.style);
                self.cur_w += cw;
            }
        }
    }
}
