//! Unit tests of `markdown`.

use super::*;
use crate::text::highlight::warm_up_blocking;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;
use unicode_width::UnicodeWidthStr;

fn theme() -> Theme {
    Theme::builtin("dark").unwrap()
}

fn plain(lines: &[Line<'_>]) -> Vec<String> {
    lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
}

fn md(text: &str, width: u16) -> Vec<String> {
    plain(&render_markdown(text, width, &theme()))
}

const SAMPLE: &str = "# Title here\n\nSome *emphasis*, **strong** and `inline code` in a \
    paragraph that wraps.\n\n- first item\n- second item\n  1. nested one\n  2. nested two\n\
    \n```rust\nfn main() {\n    println!(\"hello, world and a long line\");\n}\n```\n";

#[test]
fn snapshot_width_40() {
    warm_up_blocking();
    let t = theme();
    let lines = render_markdown(SAMPLE, 40, &t);
    let mut term = Terminal::new(TestBackend::new(40, lines.len() as u16)).unwrap();
    term.draw(|f| {
        for (y, l) in lines.iter().enumerate() {
            f.buffer_mut().set_line(0, y as u16, l, 40);
        }
    })
    .unwrap();
    insta::assert_snapshot!(term.backend());
    // The `fn` keyword cell in the code block is syntax-coloured.
    let buf = term.backend().buffer();
    let y = plain(&lines).iter().position(|l| l.contains("fn main")).unwrap() as u16;
    let fn_cell = &buf[(2, y)];
    assert_eq!(fn_cell.symbol(), "f");
    assert_ne!(fn_cell.fg, ratatui::style::Color::Reset);
    assert_ne!(fn_cell.fg, buf[(7, y)].fg, "keyword vs identifier");
    let h = &buf[(0, 0)];
    assert!(h.modifier.contains(Modifier::BOLD));
}

#[test]
fn wraps_prose_and_breaks_long_words() {
    assert_eq!(md("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
    assert_eq!(md("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    assert_eq!(md("世界世界 x", 5), ["世界", "世界", "x"]);
    assert_eq!(md("one\ntwo", 20), ["one two"]);
    assert_eq!(md("one  \ntwo", 20), ["one", "two"]);
    for w in 8..60 {
        for l in render_markdown(SAMPLE, w, &theme()) {
            assert!(l.width() <= usize::from(w), "width {w}: {l:?}");
        }
    }
    for l in md("word ".repeat(50).as_str(), 1) {
        assert!(l.width() <= 1, "{l:?}");
    }
}

#[test]
fn lists_quotes_links_rules() {
    assert_eq!(md("- a\n  - b\n    - c\n- d", 20), ["• a", "  ◦ b", "    ▪ c", "• d"]);
    assert_eq!(md("3. x\n4. y", 20), ["3. x", "4. y"]);
    assert_eq!(md("- [x] done\n- [ ] todo", 20), ["• [x] done", "• [ ] todo"]);
    assert_eq!(md("- long words here", 8), ["• long", "  words", "  here"]);
    assert_eq!(md("> quoted text", 20), ["▌ quoted text"]);
    assert_eq!(md("> a\n>\n> b", 20), ["▌ a", "▌", "▌ b"]);
    assert_eq!(md("[site](https://x.io) <https://y.io>", 40), ["site (https://x.io) https://y.io"]);
    assert_eq!(md("a\n\n---\n\nb", 5), ["a", "", "─────", "", "b"]);
    assert_eq!(md("## Sub", 20), ["## Sub"]);
    assert_eq!(md("p1\n\np2", 20), ["p1", "", "p2"]);
    let styled = render_markdown("~~gone~~ *it* **b** `c`", 40, &theme());
    let style_of = |txt: &str| styled[0].spans.iter().find(|s| s.content.contains(txt)).unwrap().style;
    assert!(style_of("gone").add_modifier.contains(Modifier::CROSSED_OUT));
    assert!(style_of("it").add_modifier.contains(Modifier::ITALIC));
    assert!(style_of("b").add_modifier.contains(Modifier::BOLD));
    assert_eq!(style_of("c"), theme().inline_code);
}

#[test]
fn code_blocks_truncate_and_stream() {
    assert_eq!(md("```\nabcdefghijkl\n\tx\n```", 8), ["│ abcde…", "│     x"]);
    // Unterminated fence: an open code block to the end of the text.
    assert_eq!(md("text\n```py\nprint(1)\nx = ", 20), ["text", "", "│ print(1)", "│ x = "]);
    assert_eq!(md("```rust\n", 20), ["│ "]);
    assert_eq!(md("    indented\n", 20), ["│ indented"]);
    assert_eq!(md("- item\n  ```\n  code\n  ```", 20), ["• item", "  │ code"]);
    assert_eq!(md("```\n世界世界\n```", 6), ["│ 世…"]);
}

#[test]
fn light_theme_code_background_fills_width() {
    let light = Theme::builtin("light").unwrap();
    let lines = render_markdown("```\nab\n```", 10, &light);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].width(), 10);
    let last = lines[0].spans.last().unwrap();
    assert_eq!(last.style.bg, light.code_block_bg.bg);
}

#[test]
fn odd_inputs_do_not_panic() {
    let t = theme();
    assert!(render_markdown("", 40, &t).is_empty());
    assert_eq!(wrapped_height("a b c", 1, &t), 3);
    for text in [
        "```",
        "~~~\n",
        "# ",
        "- ",
        "> ",
        "**unclosed",
        "[x](",
        "\t\ttabs\there",
        "\u{0}\u{7}",
        "1.\n2.",
        "- - - -",
        "<div>\nhtml\n</div>",
        "é\u{301}\u{200b}",
        "```\n\u{1b}[31m\n",
    ] {
        for w in [0, 1, 2, 3, 80] {
            let _ = render_markdown(text, w, &t);
        }
    }
    let deep: String = (0..50).map(|i| format!("{}- x\n", "  ".repeat(i))).collect();
    let _ = render_markdown(&deep, 3, &t);
    let quotes = format!("{} deep", ">".repeat(100));
    let _ = render_markdown(&quotes, 1, &t);
}

#[test]
fn megabyte_lines_are_linear() {
    let t = theme();
    let words = "word ".repeat(200_000);
    let start = Instant::now();
    let lines = render_markdown(&words, 80, &t);
    assert_eq!(lines.len(), 200_000 * 5 / 80);
    let one_word = "x".repeat(1_000_000);
    assert_eq!(render_markdown(&one_word, 100, &t).len(), 10_000);
    let code = format!("```\n{one_word}\n```");
    let lines = render_markdown(&code, 100, &t);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].width(), 100);
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    assert!(UnicodeWidthStr::width(plain(&lines)[0].as_str()) == 100);
}
