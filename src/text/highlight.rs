//! Syntax highlighting over syntect, loaded lazily and never waited for by the UI.
//!
//! Owns the global syntect assets (the bundled syntaxes, a small embedded TOML grammar in a set
//! of its own, and the bundled themes), language-tag resolution, one-shot highlighting of short blocks
//! ([`highlight_block`], [`highlight_line`]), the incremental [`HighlightCache`] for big
//! documents (in `highlight/cache.rs`), and [`display_slice`], which turns source text into
//! display cells.
//!
//! Invariants:
//! - No function here blocks on loading except [`warm_up_blocking`]; before the assets are
//!   ready every function returns plain (syntax-unstyled) lines and kicks off [`warm_up`].
//! - Highlighted lines are *raw*: the concatenated span contents equal the source line (no
//!   newline, tabs and control characters kept), so byte ranges into the source stay valid.
//!   Only [`display_slice`] expands tabs (to multiples of [`TAB_WIDTH`]) and replaces controls.
//! - Syntect styles contribute fg and modifiers only (never bg), adapted to the theme's
//!   [`ColorMode`](crate::text::theme::ColorMode); callers patch them over their own backgrounds.
//! - The bundled set is never rebuilt: syntect deserialises a syntax's contexts and compiles its
//!   regexes on first use, so a session pays only for the languages it meets (merging TOML into
//!   it with a builder would deserialise all 75 — 13 MB of heap before anything is shown).
//! - Lines longer than [`MAX_HIGHLIGHT_BYTES`] are not parsed (shown plain, parser state kept),
//!   so pathological lines cost linear time.

use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::highlighting::{FontStyle, HighlightIterator, HighlightState, Highlighter};
use syntect::highlighting::{Theme as SynTheme, ThemeSet};
use syntect::parsing::{
    ParseState, ScopeStack, SyntaxDefinition, SyntaxReference, SyntaxSet, SyntaxSetBuilder,
};
use unicode_width::UnicodeWidthChar;

use crate::text::theme::{ColorMode, Theme};

mod cache;
mod shared;
pub use cache::HighlightCache;

/// Tab stops for display.
pub const TAB_WIDTH: usize = 4;
/// Longer source lines are shown without syntax colours.
pub const MAX_HIGHLIGHT_BYTES: usize = 16 * 1024;

struct Assets {
    /// syntect's bundled syntaxes, as loaded (lazily deserialised per syntax).
    syntaxes: SyntaxSet,
    /// The embedded TOML grammar alone.
    toml: SyntaxSet,
    themes: ThemeSet,
}

/// A syntax and the set it belongs to: parsing needs both.
#[derive(Clone, Copy)]
struct Grammar {
    set: &'static SyntaxSet,
    syntax: &'static SyntaxReference,
}

static ASSETS: OnceLock<Assets> = OnceLock::new();
static STARTED: OnceLock<()> = OnceLock::new();

const TOML_SYNTAX: &str = r#"%YAML 1.2
---
name: TOML
file_extensions: [toml]
scope: source.toml
contexts:
  main:
    - match: '#.*$'
      scope: comment.line.number-sign.toml
    - match: '^\s*(\[\[?)([^\]]*)(\]\]?)'
      captures:
        1: punctuation.definition.table.toml
        2: entity.name.section.toml
        3: punctuation.definition.table.toml
    - match: '([A-Za-z0-9_.-]+)\s*(=)'
      captures:
        1: entity.name.tag.toml
        2: keyword.operator.assignment.toml
    - match: '"""'
      push: [{meta_scope: string.quoted.triple.toml}, {match: '"""', pop: true}]
    - match: "'''"
      push: [{meta_scope: string.quoted.triple.toml}, {match: "'''", pop: true}]
    - match: '"'
      push: [{meta_scope: string.quoted.double.toml}, {match: '\\.', scope: constant.character.escape.toml}, {match: '"|$', pop: true}]
    - match: "'"
      push: [{meta_scope: string.quoted.single.toml}, {match: "'|$", pop: true}]
    - match: '\b(true|false)\b'
      scope: constant.language.boolean.toml
    - match: '\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?)?'
      scope: constant.other.date.toml
    - match: '[+-]?(0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+|\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?|inf|nan)\b'
      scope: constant.numeric.toml
"#;

const ALIASES: &[(&[&str], &str)] = &[
    (&["rs", "rust"], "Rust"),
    (&["py", "python", "py3", "python3", "pyw", "pyi"], "Python"),
    (&["ts", "typescript", "tsx", "js", "javascript", "jsx", "mjs", "cjs", "node"], "JavaScript"),
    (&["go", "golang"], "Go"),
    (&["sh", "bash", "shell", "zsh", "console", "shellsession", "ksh", "ash"], "Bourne Again Shell (bash)"),
    (&["toml"], "TOML"),
    (&["json", "jsonc", "json5", "jsonl"], "JSON"),
    (&["c", "h"], "C"),
    (&["cpp", "c++", "cc", "cxx", "hpp", "hh", "hxx"], "C++"),
    (&["cs", "csharp", "c#"], "C#"),
    (&["yaml", "yml"], "YAML"),
    (&["md", "markdown"], "Markdown"),
    (&["html", "htm", "xhtml"], "HTML"),
    (&["xml", "svg", "xsd"], "XML"),
    (&["rb", "ruby"], "Ruby"),
    (&["diff", "patch"], "Diff"),
    (&["make", "makefile", "mk"], "Makefile"),
    (&["hs", "haskell"], "Haskell"),
];

fn load() -> Assets {
    let mut toml = SyntaxSetBuilder::new();
    toml.add_plain_text_syntax();
    if let Ok(def) = SyntaxDefinition::load_from_str(TOML_SYNTAX, true, None) {
        toml.add(def);
    }
    Assets {
        syntaxes: SyntaxSet::load_defaults_newlines(),
        toml: toml.build(),
        themes: ThemeSet::load_defaults(),
    }
}

/// Starts loading the syntect assets on a background thread (idempotent, returns at once).
pub fn warm_up() {
    if ASSETS.get().is_some() || STARTED.set(()).is_err() {
        return;
    }
    let spawned = std::thread::Builder::new().name("kv1nt-syntect".into()).spawn(|| {
        ASSETS.get_or_init(load);
    });
    if spawned.is_err() {
        // Could not spawn: load lazily on the next blocking call instead of never.
        ASSETS.get_or_init(load);
    }
}

/// Loads the assets on this thread (or waits for the background load). For tests and tools.
pub fn warm_up_blocking() {
    ASSETS.get_or_init(load);
}

/// Whether highlighting is available without waiting.
pub fn is_ready() -> bool {
    ASSETS.get().is_some()
}

fn assets() -> Option<&'static Assets> {
    let a = ASSETS.get();
    if a.is_none() {
        warm_up();
    }
    a
}

/// The language tag for a file path: its extension, or the file name (`Makefile`).
pub fn lang_from_path(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext.to_lowercase()),
        _ if !name.is_empty() => Some(name.to_lowercase()),
        _ => None,
    }
}

/// Syntax for a fence tag or file extension; unknown or `None` → plain text.
fn resolve(a: &'static Assets, lang: Option<&str>) -> Grammar {
    let in_set = |set: &'static SyntaxSet, syntax| Grammar { set, syntax };
    let found = lang.map(|l| l.trim().to_lowercase()).and_then(|tag| {
        let name = ALIASES.iter().find(|(names, _)| names.contains(&tag.as_str())).map(|(_, name)| *name);
        if let Some(toml) = name.and_then(|n| a.toml.find_syntax_by_name(n)) {
            return Some(in_set(&a.toml, toml));
        }
        let ss = &a.syntaxes;
        let by_alias = name.and_then(|n| ss.find_syntax_by_name(n));
        by_alias
            .or_else(|| if tag.is_empty() { None } else { ss.find_syntax_by_token(&tag) })
            .map(|s| in_set(ss, s))
    });
    found.unwrap_or_else(|| in_set(&a.syntaxes, a.syntaxes.find_syntax_plain_text()))
}

fn syn_theme<'a>(a: &'a Assets, theme: &Theme) -> Option<&'a SynTheme> {
    let t = &a.themes.themes;
    t.get(&theme.syntect_theme).or_else(|| t.get("base16-ocean.dark")).or_else(|| t.values().next())
}

fn convert(s: syntect::highlighting::Style, theme: &Theme) -> Style {
    let mut out = Style::default();
    if theme.color_mode != ColorMode::NoColor {
        let c = s.foreground;
        out.fg = Some(theme.adapt_color(Color::Rgb(c.r, c.g, c.b)));
    }
    for (fs, m) in [
        (FontStyle::BOLD, Modifier::BOLD),
        (FontStyle::ITALIC, Modifier::ITALIC),
        (FontStyle::UNDERLINE, Modifier::UNDERLINED),
    ] {
        if s.font_style.contains(fs) {
            out = out.add_modifier(m);
        }
    }
    out
}

/// Pushes a span, merging with the previous one when the style matches.
pub(crate) fn push_span(spans: &mut Vec<Span<'static>>, text: &str, style: Style) {
    if text.is_empty() {
        return;
    }
    match spans.last_mut() {
        Some(last) if last.style == style => last.content.to_mut().push_str(text),
        _ => spans.push(Span::styled(text.to_string(), style)),
    }
}

/// Highlights one line (`with_nl` ends in '\n'), advancing `state`; `None` if unparsable.
fn highlight_one(
    parse: &mut ParseState,
    hs: &mut HighlightState,
    set: &SyntaxSet,
    h: &Highlighter<'_>,
    with_nl: &str,
    theme: &Theme,
) -> Option<Line<'static>> {
    let ops = parse.parse_line(with_nl, set).ok()?;
    let mut spans = Vec::new();
    for (style, text) in HighlightIterator::new(hs, &ops, with_nl, h) {
        push_span(&mut spans, text.trim_end_matches('\n'), convert(style, theme));
    }
    Some(Line::from(spans))
}

/// Highlights `lines` in order; `independent` restarts the parser for every line.
fn highlight_iter<'s>(
    lang: Option<&str>,
    lines: impl Iterator<Item = &'s str>,
    theme: &Theme,
    independent: bool,
) -> Vec<Line<'static>> {
    let plain = |l: &str| Line::raw(l.to_string());
    let Some((a, st)) = assets().and_then(|a| Some((a, syn_theme(a, theme)?))) else {
        return lines.map(plain).collect();
    };
    let h = Highlighter::new(st);
    let grammar = resolve(a, lang);
    let fresh = || (ParseState::new(grammar.syntax), HighlightState::new(&h, ScopeStack::new()));
    let (mut parse, mut hs) = fresh();
    let mut buf = String::new();
    lines
        .map(|l| {
            if independent {
                (parse, hs) = fresh();
            }
            if l.len() > MAX_HIGHLIGHT_BYTES {
                return plain(l);
            }
            buf.clear();
            buf.push_str(l);
            buf.push('\n');
            highlight_one(&mut parse, &mut hs, grammar.set, &h, &buf, theme).unwrap_or_else(|| {
                (parse, hs) = fresh();
                plain(l)
            })
        })
        .collect()
}

/// Highlights a short block (chat code) in one pass; one raw line per source line.
pub fn highlight_block(lang: Option<&str>, code: &str, theme: &Theme) -> Vec<Line<'static>> {
    highlight_shared(lang, code, theme).to_vec()
}

/// [`highlight_block`] shared: the same block shown in Chat, Code and Diff is highlighted once
/// (`highlight/shared.rs` keeps the last few).
pub fn highlight_shared(lang: Option<&str>, code: &str, theme: &Theme) -> std::sync::Arc<[Line<'static>]> {
    shared::block(lang, code, theme, is_ready(), || highlight_iter(lang, code.lines(), theme, false))
}

/// Highlights each of `lines` on its own, from a fresh parser state (diff rows).
pub fn highlight_lines(lang: Option<&str>, lines: &[&str], theme: &Theme) -> Vec<Line<'static>> {
    highlight_iter(lang, lines.iter().copied(), theme, true)
}

/// Highlights a single line (up to its first line break) from a fresh parser state.
pub fn highlight_line(lang: Option<&str>, line: &str, theme: &Theme) -> Line<'static> {
    let first = line.split(['\n', '\r']).next().unwrap_or("");
    highlight_lines(lang, &[first], theme).pop().unwrap_or_default()
}

/// Display-ready slice of raw `spans`: tabs expanded to the next multiple of [`TAB_WIDTH`],
/// control characters shown as '�', the first `skip` columns dropped and at most `max` columns
/// kept. Returns the line and whether visible content was cut off on the right.
/// Costs O(skip + max) characters, not O(line).
pub fn display_slice(spans: &[Span<'_>], skip: usize, max: usize) -> (Line<'static>, bool) {
    let end = skip.saturating_add(max);
    let mut col = 0usize;
    let mut emitted = false;
    let mut out: Vec<Span<'static>> = Vec::new();
    for span in spans {
        let mut text = String::new();
        let mut cut = false;
        for ch in span.content.chars() {
            let (w, shown) = match ch {
                '\t' => (TAB_WIDTH - col % TAB_WIDTH, ' '),
                c if c.is_control() => (1, '\u{fffd}'),
                c => (c.width().unwrap_or(0), c),
            };
            if w == 0 {
                // Combining marks attach to the previous visible character.
                if emitted {
                    text.push(shown);
                }
                continue;
            }
            if col + w <= skip {
                col += w;
                continue;
            }
            if col + w > end {
                cut = true;
                break;
            }
            if col < skip || ch == '\t' {
                // A tab, or a wide char straddling the left edge: show its visible part blank.
                let visible = col + w - skip.max(col);
                text.extend(std::iter::repeat_n(' ', visible));
            } else {
                text.push(shown);
            }
            emitted = true;
            col += w;
        }
        push_span(&mut out, &text, span.style);
        if cut {
            return (Line::from(out), true);
        }
    }
    (Line::from(out), false)
}

#[cfg(test)]
mod tests;
