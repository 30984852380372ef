//! Unit tests of `highlight`.

use super::*;
use std::time::Instant;

fn dark() -> Theme {
    Theme::builtin("dark").unwrap()
}

fn text_of(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

#[test]
fn languages_resolve() {
    warm_up_blocking();
    let a = ASSETS.get().unwrap();
    let name = |l: &str| resolve(a, Some(l)).syntax.name.clone();
    for (tag, want) in [
        ("rs", "Rust"),
        ("Rust", "Rust"),
        ("py", "Python"),
        ("python", "Python"),
        ("ts", "JavaScript"),
        ("typescript", "JavaScript"),
        ("js", "JavaScript"),
        ("go", "Go"),
        ("sh", "Bourne Again Shell (bash)"),
        ("bash", "Bourne Again Shell (bash)"),
        ("toml", "TOML"),
        ("json", "JSON"),
        ("c", "C"),
        ("cpp", "C++"),
        ("java", "Java"),
        ("klingon", "Plain Text"),
        ("", "Plain Text"),
    ] {
        assert_eq!(name(tag), want, "{tag}");
    }
    assert_eq!(resolve(a, None).syntax.name, "Plain Text");
    assert_eq!(lang_from_path("src/main.rs").as_deref(), Some("rs"));
    assert_eq!(lang_from_path("Makefile").as_deref(), Some("makefile"));
    assert_eq!(lang_from_path(".bashrc").as_deref(), Some(".bashrc"));
    assert_eq!(lang_from_path(""), None);
}

#[test]
fn block_highlights_keywords_and_stays_raw() {
    warm_up_blocking();
    assert!(is_ready());
    let t = dark();
    let code = "fn main() {\n\tlet s = \"héllo 世界\";\n}\n";
    let lines = highlight_block(Some("rust"), code, &t);
    assert_eq!(lines.len(), 3);
    for (l, src) in lines.iter().zip(code.lines()) {
        assert_eq!(text_of(l), src);
    }
    let fn_span = lines[0].spans.iter().find(|s| s.content == "fn").unwrap();
    assert!(fn_span.style.fg.is_some());
    assert_ne!(fn_span.style.fg, lines[0].spans.last().unwrap().style.fg);
    assert!(lines[0].spans.iter().all(|s| s.style.bg.is_none()));
    let toml = highlight_block(Some("toml"), "[a]\nk = \"v\" # c", &t);
    assert!(toml[1].spans.len() > 2, "{:?}", toml[1]);
    assert!(highlight_block(None, "", &t).is_empty());
    let nc = t.clone().with_color_mode(ColorMode::NoColor);
    let lines = highlight_block(Some("rs"), "fn x() {}", &nc);
    assert!(lines[0].spans.iter().all(|s| s.style.fg.is_none()));
}

#[test]
fn odd_input_never_panics() {
    warm_up_blocking();
    let t = dark();
    let weird = [
        "",
        "\"unterminated",
        "/* open",
        "r#\"raw",
        "'''",
        "<<EOF",
        "\u{0}\u{7}\r\t",
        "é\u{301}世界🦀",
        "`${x}`",
        "#!/bin/sh",
        "[[a.b]]\nk = '''",
        "{\"a\": [1, {",
        "#include <",
        "<div",
        "%%%",
        "\\",
        "---\n- a:",
    ];
    for lang in ["rs", "py", "js", "sh", "toml", "json", "c", "cpp", "md", "html", "yaml", "go"] {
        let all = weird.join("\n");
        assert_eq!(highlight_block(Some(lang), &all, &t).len(), all.lines().count());
        for w in weird {
            let _ = highlight_line(Some(lang), w, &t);
        }
    }
    let lines = highlight_lines(Some("rs"), &["/* a", "b */", "fn"], &t);
    assert_eq!(lines.len(), 3);
    assert_ne!(lines[0].spans[0].style, lines[1].spans[0].style, "independent lines");
}

#[test]
fn huge_lines_are_plain_and_fast() {
    warm_up_blocking();
    let big = "let x = 1; ".repeat(100_000);
    let start = Instant::now();
    let lines = highlight_block(Some("rs"), &format!("{big}\nfn f() {{}}"), &dark());
    assert!(start.elapsed().as_secs() < 2);
    assert_eq!(lines[0].spans.len(), 1);
    assert!(lines[1].spans.len() > 1);
    assert_eq!(text_of(&highlight_line(Some("rs"), "a\nb", &dark())), "a");
}

#[test]
fn display_slice_columns() {
    let spans = [Span::raw("a\tb"), Span::raw("世界\u{1}x")];
    let (l, cut) = display_slice(&spans, 0, 80);
    assert_eq!(text_of(&l), "a   b世界\u{fffd}x");
    assert!(!cut);
    let (l, cut) = display_slice(&spans, 0, 6);
    assert_eq!(text_of(&l), "a   b");
    assert!(cut, "wide char does not fit");
    let (l, _) = display_slice(&spans, 6, 80);
    assert_eq!(text_of(&l), " 界\u{fffd}x", "straddling wide char shown blank");
    let (l, _) = display_slice(&spans, 2, 3);
    assert_eq!(text_of(&l), "  b");
    let (l, cut) = display_slice(&spans, 100, 10);
    assert!(l.spans.is_empty() && !cut);
    let (l, _) = display_slice(&[Span::raw("e\u{301}x")], 0, 1);
    assert_eq!(text_of(&l), "e\u{301}");
    assert!(display_slice(&[], 0, 0).0.spans.is_empty());
}

/// A code block streaming into Code: after every growth (the last line partial, then
/// completed; a block comment opened and closed across pieces; once an earlier line rewritten)
/// every line is coloured exactly as highlighting the whole text at once colours it.
#[test]
fn growing_document_highlights_like_one_pass() {
    warm_up_blocking();
    let t = dark();
    let full: String = (0..600)
        .map(|i| match i % 97 {
            10 => "/* a comment\n".to_string(),
            14 => "   still comment */ let after = 1;\n".to_string(),
            _ => format!("let v{i} = \"s{i}\"; // n{i}\n"),
        })
        .collect();
    let mut texts: Vec<String> =
        [7, 300, 301, 999, 5_000, 9_000, full.len()].iter().map(|&n| full[..n].to_string()).collect();
    texts.push(full.replacen("let v1 ", "/* let v1 ", 1)); // an earlier line changed
    let to_lines = |s: &str| -> std::sync::Arc<[String]> { s.lines().map(str::to_string).collect() };
    let mut cache = HighlightCache::new(Some("rs"), to_lines(&texts[0]));
    for text in &texts {
        cache.grow(to_lines(text));
        let _ = cache.line(cache.len().saturating_sub(1), &t); // what Code draws: the tail
        while !cache.is_complete() {
            cache.advance(100);
        }
        let one_pass = highlight_block(Some("rs"), text, &t);
        assert_eq!(one_pass.len(), cache.len());
        for (i, want) in one_pass.iter().enumerate() {
            assert_eq!(cache.line(i, &t), want, "line {i} of a {}-byte text", text.len());
        }
    }
}
