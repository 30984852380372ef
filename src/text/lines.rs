//! What a drawn line is made of, for copying it back out as text: [`LineMeta`] says how many
//! leading columns are decoration (a code gutter, quote bars, a header's bar), whether the line
//! continues the one above (a wrap) or starts its own, and the whole text of a line that was cut
//! to fit (code lines are truncated, never wrapped). [`Copier`] joins selected pieces of such
//! lines into the text a user meant to copy; [`slice_columns`] takes display columns of raw text.
//!
//! Invariants: copied text never contains a decoration column; a wrapped line copies as one line
//! (a soft wrap, at whitespace the wrapper dropped, joins with one space; a hard break inside a
//! word joins with nothing); a cut line copies whole when selected to its end; tabs count to the
//! next multiple of [`TAB_WIDTH`] columns, as drawn, and copy as tabs.

use ratatui::text::Line;
use unicode_width::UnicodeWidthChar;

/// Columns per tab stop (as `text::highlight` draws them).
pub const TAB_WIDTH: usize = 4;

/// How a drawn line relates to the one above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Join {
    /// A line of its own.
    #[default]
    New,
    /// The wrapper broke a line here at whitespace it dropped: copies joined by one space.
    Soft,
    /// The wrapper broke a word that did not fit: copies joined by nothing.
    Hard,
    /// A line of its own after a blank line the drawing left out (between markdown blocks).
    Blank,
}

/// How to copy one drawn line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineMeta {
    /// Leading display columns that are not text (`usize::MAX`: the whole line is decoration).
    pub decor: usize,
    pub join: Join,
    /// The whole text when the line was cut or padded to fit (a code line).
    pub full: Option<String>,
}

impl LineMeta {
    pub fn decor(decor: usize) -> Self {
        Self { decor, ..Self::default() }
    }
}

/// The characters of a drawn line.
pub fn line_text(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// Display width of `ch` at column `col` (tabs to the next stop, controls drawn as one `�`).
fn char_width(ch: char, col: usize) -> usize {
    match ch {
        '\t' => TAB_WIDTH - col % TAB_WIDTH,
        c if c.is_control() => 1,
        c => c.width().unwrap_or(0),
    }
}

/// The characters of `text` whose first column lies in `[from, to)` (zero-width marks follow
/// the character they attach to).
pub fn slice_columns(text: &str, from: usize, to: usize) -> String {
    let mut out = String::new();
    let mut col = 0;
    let mut taking = false;
    for ch in text.chars() {
        let w = char_width(ch, col);
        if w > 0 {
            if col >= to {
                break;
            }
            taking = col >= from;
        }
        if taking {
            out.push(ch);
        }
        col += w;
    }
    out
}

/// Display width of `text`, tabs expanded.
pub fn columns(text: &str) -> usize {
    text.chars().fold(0, |col, ch| col + char_width(ch, col))
}

/// The text of drawn `line` between columns `[from, to)`, decoration left out.
pub fn piece(line: &Line<'_>, meta: &LineMeta, from: usize, to: usize) -> String {
    if meta.decor == usize::MAX {
        return String::new();
    }
    let text = line_text(line);
    let from = from.max(meta.decor);
    if let Some(full) = &meta.full {
        if from == meta.decor && to >= columns(&text) {
            return full.clone();
        }
        // Part of a cut line: the drawn characters, without the padding or the `…`.
        let shown = slice_columns(&text, from, to);
        return shown.trim_end_matches([' ', '…']).to_string();
    }
    slice_columns(&text, from, to)
}

/// Joins the pieces of consecutive drawn lines.
#[derive(Debug, Default)]
pub struct Copier {
    out: String,
    started: bool,
}

impl Copier {
    pub fn push(&mut self, piece: &str, join: Join) {
        match join {
            _ if !self.started => self.started = true,
            Join::New => self.out.push('\n'),
            Join::Blank => self.out.push_str("\n\n"),
            Join::Soft if !piece.is_empty() && !self.out.ends_with('\n') && !self.out.is_empty() => {
                self.out.push(' ')
            }
            Join::Soft | Join::Hard => {}
        }
        self.out.push_str(piece);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// How many lines `text` has, as a user counts them ("copied 3 lines").
pub fn count_lines(text: &str) -> usize {
    text.lines().count().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_tabs_and_wide_characters() {
        assert_eq!(slice_columns("ab\tc", 2, 5), "\tc");
        assert_eq!(slice_columns("日本語", 2, 4), "本");
        assert_eq!(slice_columns("abc", 1, usize::MAX), "bc");
        assert_eq!(columns("a\tb"), 5);
    }

    #[test]
    fn wraps_join_back_and_decoration_stays_out() {
        let lines = [
            Line::raw("│ let x = 1;   "),
            Line::raw("one two"),
            Line::raw("three"),
            Line::raw("lo"),
            Line::raw("ng"),
        ];
        let metas = [
            LineMeta { decor: 2, join: Join::New, full: Some("let x = 1;".into()) },
            LineMeta::default(),
            LineMeta { join: Join::Soft, ..LineMeta::default() },
            LineMeta::default(),
            LineMeta { join: Join::Hard, ..LineMeta::default() },
        ];
        let mut copier = Copier::default();
        for (line, meta) in lines.iter().zip(&metas) {
            copier.push(&piece(line, meta, 0, usize::MAX), meta.join);
        }
        assert_eq!(copier.finish(), "let x = 1;\none two three\nlong");
        assert_eq!(piece(&lines[0], &metas[0], 0, 7), "let x", "part of a code line");
    }
}
