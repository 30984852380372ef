//! ANSI colour codes in program output → ratatui styles. SGR sequences (colours: 16, 256 and
//! 24-bit; bold, dim, italic, underline, reverse; resets) become styles; every other escape
//! sequence (cursor movement, OSC titles, …) is dropped so it cannot move the real cursor.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// One line of program output with its colours, on top of `base`.
pub fn ansi_line(text: &str, base: Style) -> Line<'static> {
    let mut spans = Vec::new();
    let mut style = base;
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            if c == '\t' {
                current.push_str("    ");
            } else if !c.is_control() {
                current.push(c);
            }
            continue;
        }
        match chars.peek() {
            Some('[') => {
                chars.next();
                let mut params = String::new();
                let mut final_byte = None;
                for p in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&p) {
                        final_byte = Some(p);
                        break;
                    }
                    params.push(p);
                }
                if final_byte == Some('m') {
                    if !current.is_empty() {
                        spans.push(Span::styled(std::mem::take(&mut current), style));
                    }
                    style = apply_sgr(style, base, &params);
                }
            }
            Some(']') => {
                // OSC: up to BEL or ESC \
                chars.next();
                while let Some(p) = chars.next() {
                    if p == '\x07' || (p == '\x1b' && chars.peek() == Some(&'\\')) {
                        if p == '\x1b' {
                            chars.next();
                        }
                        break;
                    }
                }
            }
            _ => {
                chars.next(); // a two-byte escape
            }
        }
    }
    if !current.is_empty() {
        spans.push(Span::styled(current, style));
    }
    Line::from(spans)
}

fn apply_sgr(mut style: Style, base: Style, params: &str) -> Style {
    let codes: Vec<u16> =
        if params.is_empty() { vec![0] } else { params.split(';').map(|p| p.parse().unwrap_or(0)).collect() };
    let mut i = 0;
    while i < codes.len() {
        match codes[i] {
            0 => style = base,
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
            39 => style.fg = base.fg,
            49 => style.bg = base.bg,
            n @ (38 | 48) => {
                let color = match codes.get(i + 1) {
                    Some(5) => {
                        let c = codes.get(i + 2).map(|v| Color::Indexed(*v as u8));
                        i += 2;
                        c
                    }
                    Some(2) => {
                        let rgb = (codes.get(i + 2), codes.get(i + 3), codes.get(i + 4));
                        i += 4;
                        match rgb {
                            (Some(r), Some(g), Some(b)) => Some(Color::Rgb(*r as u8, *g as u8, *b as u8)),
                            _ => None,
                        }
                    }
                    _ => None,
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
}
