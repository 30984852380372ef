//! ANSI escape sequences in program output → ratatui styles, parsed by `vte` (the parser
//! Alacritty uses). SGR sequences (colours: 16, 256 and 24-bit; bold, dim, italic, underline,
//! reverse; resets) become styles; every other escape sequence (cursor movement, OSC titles, …)
//! is dropped so it cannot move the real cursor.
//!
//! [`AnsiStream`] is one output stream (a run's stdout or its stderr) read the way a terminal
//! reads it. Invariants:
//! - The SGR state carries from line to line until a reset, as in a terminal; it and any
//!   half-received escape sequence survive between chunks ([`AnsiStream::feed`]).
//! - Styles are deltas over a base (unset fields are the base's), so the theme is applied when
//!   drawing ([`styled_line`]): `\e[0m` goes back to the base, `\e[39m` to the base's foreground.
//! - `\n` ends a line; after a `\r` the next printed text rewrites the line (progress bars), so a
//!   `\r\n` keeps it; a tab is four spaces; other control characters are dropped.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use vte::{Params, Parser, Perform};

/// One line of output without escapes, and where its styles start: `(byte offset, style delta)`,
/// offsets ascending; text before the first run (or with no runs) has the base style.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StyledText {
    pub text: String,
    pub runs: Vec<(usize, Style)>,
}

/// `text` with its style `runs` (as in [`StyledText`]) applied over `base`.
pub fn styled_line<'a>(text: &'a str, runs: &[(usize, Style)], base: Style) -> Line<'a> {
    let first = runs.first().map_or(text.len(), |r| r.0);
    let mut spans = Vec::with_capacity(runs.len() + 1);
    if first > 0 || runs.is_empty() {
        spans.push(Span::styled(&text[..first], base));
    }
    for (i, &(start, style)) in runs.iter().enumerate() {
        let end = runs.get(i + 1).map_or(text.len(), |r| r.0);
        if end > start {
            spans.push(Span::styled(&text[start..end], base.patch(style)));
        }
    }
    Line::from(spans)
}

/// One line of program output with its colours, on top of `base`, parsed from a fresh state
/// (line breaks in `text` are dropped).
pub fn ansi_line(text: &str, base: Style) -> Line<'static> {
    let mut sink = Sink { one_line: true, ..Sink::default() };
    Parser::new().advance(&mut sink, text.as_bytes());
    let spans = styled_line(&sink.line.text, &sink.line.runs, base).spans;
    Line::from(spans.into_iter().map(|s| Span::styled(s.content.into_owned(), s.style)).collect::<Vec<_>>())
}

/// One stream of program output: the escape parser and the SGR state, kept between chunks.
#[derive(Default)]
pub struct AnsiStream {
    parser: Parser,
    sink: Sink,
}

impl std::fmt::Debug for AnsiStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnsiStream").field("style", &self.sink.style).field("line", &self.sink.line).finish()
    }
}

impl AnsiStream {
    /// Reads the next chunk of the stream; returns the lines it completed.
    pub fn feed(&mut self, chunk: &str) -> Vec<StyledText> {
        self.parser.advance(&mut self.sink, chunk.as_bytes());
        std::mem::take(&mut self.sink.done)
    }

    /// The unfinished last line, if it has text (the stream ended).
    pub fn finish(&mut self) -> Option<StyledText> {
        (self.sink.rewrite, self.sink.synced) = (false, false);
        Some(std::mem::take(&mut self.sink.line)).filter(|l| !l.text.is_empty())
    }
}

/// What the parser drives: the current style delta, the line being built, finished lines.
#[derive(Default)]
struct Sink {
    style: Style,
    line: StyledText,
    /// A `\r` was read: the next printed text starts the line again.
    rewrite: bool,
    /// [`ansi_line`]: ignore `\n` and `\r`.
    one_line: bool,
    /// The line's last run already has `style` (so printing needs no check).
    synced: bool,
    done: Vec<StyledText>,
}

impl Sink {
    fn push_str(&mut self, s: &str) {
        if !self.synced {
            self.sync();
        }
        self.line.text.push_str(s);
    }

    /// Starts the line again after a `\r`, and a run for `style` if it differs from the last.
    fn sync(&mut self) {
        if std::mem::take(&mut self.rewrite) {
            self.line = StyledText::default();
        }
        let len = self.line.text.len();
        let current = self.line.runs.last().map_or(Style::default(), |r| r.1);
        if current != self.style {
            match self.line.runs.last_mut() {
                Some(last) if last.0 == len => last.1 = self.style,
                _ => self.line.runs.push((len, self.style)),
            }
        }
        self.synced = true;
    }
}

impl Perform for Sink {
    fn print(&mut self, c: char) {
        if !c.is_control() {
            if !self.synced {
                self.sync();
            }
            self.line.text.push(c);
        }
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            b'\t' => self.push_str("    "),
            b'\n' if !self.one_line => {
                (self.rewrite, self.synced) = (false, false);
                let line = std::mem::take(&mut self.line);
                self.done.push(line);
            }
            b'\r' if !self.one_line => (self.rewrite, self.synced) = (true, false),
            _ => {}
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        if action == 'm' && intermediates.is_empty() && !ignore {
            self.style = apply_sgr(self.style, params);
            self.synced = false;
        }
    }
}

/// `style` after one SGR sequence; both are deltas (reset = `Style::default()`).
fn apply_sgr(mut style: Style, params: &Params) -> Style {
    let items: Vec<&[u16]> = params.iter().collect();
    if items.is_empty() {
        return Style::default();
    }
    let mut i = 0;
    while i < items.len() {
        let item = items[i];
        match item[0] {
            0 => style = Style::default(),
            1 => style = style.add_modifier(Modifier::BOLD),
            2 => style = style.add_modifier(Modifier::DIM),
            3 => style = style.add_modifier(Modifier::ITALIC),
            4 => style = style.add_modifier(Modifier::UNDERLINED),
            7 => style = style.add_modifier(Modifier::REVERSED),
            22 => style = style.remove_modifier(Modifier::BOLD | Modifier::DIM),
            23 => style = style.remove_modifier(Modifier::ITALIC),
            24 => style = style.remove_modifier(Modifier::UNDERLINED),
            27 => style = style.remove_modifier(Modifier::REVERSED),
            n @ 30..=37 => style = style.fg(Color::Indexed((n - 30) as u8)),
            n @ 90..=97 => style = style.fg(Color::Indexed((n - 90 + 8) as u8)),
            n @ 40..=47 => style = style.bg(Color::Indexed((n - 40) as u8)),
            n @ 100..=107 => style = style.bg(Color::Indexed((n - 100 + 8) as u8)),
            39 => style.fg = None,
            49 => style.bg = None,
            n @ (38 | 48) => {
                let color = if item.len() > 1 {
                    // Colon form: 38:5:n, 38:2:r:g:b or 38:2:space:r:g:b.
                    match &item[1..] {
                        [5, n, ..] => Some(Color::Indexed(*n as u8)),
                        [2, r, g, b] | [2, _, r, g, b, ..] => Some(Color::Rgb(*r as u8, *g as u8, *b as u8)),
                        _ => None,
                    }
                } else {
                    // Semicolon form: the colour's parameters follow as parameters of their own.
                    let at = i;
                    let arg = |k: usize| items.get(at + k).map(|p| p[0]);
                    match arg(1) {
                        Some(5) => {
                            i += 2;
                            arg(2).map(|n| Color::Indexed(n as u8))
                        }
                        Some(2) => {
                            let rgb = (arg(2), arg(3), arg(4));
                            i += 4;
                            match rgb {
                                (Some(r), Some(g), Some(b)) => Some(Color::Rgb(r as u8, g as u8, b as u8)),
                                _ => None,
                            }
                        }
                        _ => None,
                    }
                };
                if let Some(color) = color {
                    style = if n == 38 { style.fg(color) } else { style.bg(color) };
                }
            }
            _ => {}
        }
        i += 1;
    }
    style
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_resets_become_styles_and_other_escapes_vanish() {
        let line = ansi_line(
            "\x1b[1;31merror\x1b[0m: bad \x1b[38;5;42mthing\x1b[2K\x1b]0;title\x07!",
            Style::default(),
        );
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, "error: bad thing!");
        assert_eq!(line.spans[0].style.fg, Some(Color::Indexed(1)));
        assert!(line.spans[0].style.add_modifier.contains(Modifier::BOLD));
        assert_eq!(line.spans[1].style, Style::default());
        assert_eq!(line.spans[2].style.fg, Some(Color::Indexed(42)));
    }

    #[test]
    fn truecolor_and_garbage_never_panic() {
        let line = ansi_line("\x1b[38;2;1;2;3mrgb\x1b[38;2m\x1b[;;m\x1b[", Style::default());
        assert_eq!(line.spans[0].style.fg, Some(Color::Rgb(1, 2, 3)));
        let _ = ansi_line("\x1b", Style::default());
    }

    fn feed_all(chunks: &[&str]) -> Vec<StyledText> {
        let mut stream = AnsiStream::default();
        let mut lines: Vec<StyledText> = chunks.iter().flat_map(|c| stream.feed(c)).collect();
        lines.extend(stream.finish());
        lines
    }

    #[test]
    fn the_style_carries_across_lines_and_chunks_until_reset() {
        let red = Style::default().fg(Color::Indexed(1));
        let lines = feed_all(&["\x1b[3", "1mred\nstill", " red\x1b[0m\nplain\n"]);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["red", "still red", "plain"]);
        assert_eq!(lines[0].runs, [(0, red)]);
        assert_eq!(lines[1].runs, [(0, red)]);
        assert_eq!(lines[2].runs, []);
    }

    #[test]
    fn carriage_returns_rewrite_the_line_but_crlf_keeps_it() {
        let lines = feed_all(&["10%\r", "20%\r100%\n", "dos\r\n", "tail"]);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["100%", "dos", "tail"]);
    }

    #[test]
    fn colon_colours_and_resets_over_a_base() {
        let lines = feed_all(&["\x1b[38:2::1:2:3;1ma\x1b[39mb\x1b[22mc\n"]);
        let base = Style::default().fg(Color::Indexed(3)).bg(Color::Indexed(4));
        let line = styled_line(&lines[0].text, &lines[0].runs, base);
        let fg: Vec<_> = line.spans.iter().map(|s| s.style.fg).collect();
        assert_eq!(fg, [Some(Color::Rgb(1, 2, 3)), Some(Color::Indexed(3)), Some(Color::Indexed(3))]);
        assert!(line.spans[1].style.add_modifier.contains(Modifier::BOLD));
        assert!(!line.spans[2].style.add_modifier.contains(Modifier::BOLD));
        assert!(line.spans.iter().all(|s| s.style.bg == Some(Color::Indexed(4))));
    }
}
