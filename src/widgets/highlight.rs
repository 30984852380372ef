//! Syntax highlighting over syntect, loaded lazily and never waited for by the UI.
//!
//! Owns the global syntect assets (the bundled syntaxes plus a small embedded TOML grammar, and
//! the bundled themes), language-tag resolution, one-shot highlighting of short blocks
//! ([`highlight_block`], [`highlight_line`]), the incremental [`HighlightCache`] for big
//! documents, and [`display_slice`], which turns source text into display cells.
//!
//! Invariants:
//! - No function here blocks on loading except [`warm_up_blocking`]; before the assets are
//!   ready every function returns plain (syntax-unstyled) lines and kicks off [`warm_up`].
//! - Highlighted lines are *raw*: the concatenated span contents equal the source line (no
//!   newline, tabs and control characters kept), so byte ranges into the source stay valid.
//!   Only [`display_slice`] expands tabs (to multiples of [`TAB_WIDTH`]) and replaces controls.
//! - Syntect styles contribute fg and modifiers only (never bg), adapted to the theme's
//!   [`ColorMode`](super::theme::ColorMode); callers patch them over their own backgrounds.
//! - Lines longer than [`MAX_HIGHLIGHT_BYTES`] are not parsed (shown plain, parser state kept),
//!   so pathological lines cost linear time.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::highlighting::{FontStyle, HighlightIterator, HighlightState, Highlighter};
use syntect::highlighting::{Theme as SynTheme, ThemeSet};
use syntect::parsing::{ParseState, ScopeStack, SyntaxDefinition, SyntaxReference, SyntaxSet};
use unicode_width::UnicodeWidthChar;

use super::theme::{ColorMode, Theme};

/// Tab stops for display.
pub const TAB_WIDTH: usize = 4;
/// Longer source lines are shown without syntax colours.
pub const MAX_HIGHLIGHT_BYTES: usize = 16 * 1024;
const CHECKPOINT_EVERY: usize = 256;
const APPROX_GAP: usize = 2000;

struct Assets {
    syntaxes: SyntaxSet,
    themes: ThemeSet,
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
    let defaults = SyntaxSet::load_defaults_newlines();
    let syntaxes = match SyntaxDefinition::load_from_str(TOML_SYNTAX, true, None) {
        Ok(def) => {
            let mut builder = defaults.into_builder();
            builder.add(def);
            builder.build()
        }
        Err(_) => defaults,
    };
    Assets { syntaxes, themes: ThemeSet::load_defaults() }
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
fn resolve<'a>(ss: &'a SyntaxSet, lang: Option<&str>) -> &'a SyntaxReference {
    let found = lang.map(|l| l.trim().to_lowercase()).and_then(|tag| {
        let by_alias = ALIASES
            .iter()
            .find(|(names, _)| names.contains(&tag.as_str()))
            .and_then(|(_, name)| ss.find_syntax_by_name(name));
        by_alias.or_else(|| if tag.is_empty() { None } else { ss.find_syntax_by_token(&tag) })
    });
    found.unwrap_or_else(|| ss.find_syntax_plain_text())
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
    a: &Assets,
    h: &Highlighter<'_>,
    with_nl: &str,
    theme: &Theme,
) -> Option<Line<'static>> {
    let ops = parse.parse_line(with_nl, &a.syntaxes).ok()?;
    let mut spans = Vec::new();
    for (style, text) in HighlightIterator::new(hs, &ops, with_nl, h) {
        push_span(&mut spans, text.trim_end_matches('\n'), convert(style, theme));
    }
    Some(Line::from(spans))
}

/// Highlights a short block (chat code) in one pass; one raw line per source line.
pub fn highlight_block(lang: Option<&str>, code: &str, theme: &Theme) -> Vec<Line<'static>> {
    let plain = || code.lines().map(|l| Line::raw(l.to_string())).collect();
    let Some(a) = assets() else { return plain() };
    let Some(st) = syn_theme(a, theme) else {
        return plain();
    };
    let h = Highlighter::new(st);
    let syntax = resolve(&a.syntaxes, lang);
    let mut parse = ParseState::new(syntax);
    let mut hs = HighlightState::new(&h, ScopeStack::new());
    let mut buf = String::new();
    code.lines()
        .map(|l| {
            if l.len() > MAX_HIGHLIGHT_BYTES {
                return Line::raw(l.to_string());
            }
            buf.clear();
            buf.push_str(l);
            buf.push('\n');
            highlight_one(&mut parse, &mut hs, a, &h, &buf, theme).unwrap_or_else(|| {
                parse = ParseState::new(syntax);
                hs = HighlightState::new(&h, ScopeStack::new());
                Line::raw(l.to_string())
            })
        })
        .collect()
}

/// Highlights a single line from a fresh parser state (diff rows).
pub fn highlight_line(lang: Option<&str>, line: &str, theme: &Theme) -> Line<'static> {
    let first = line.split(['\n', '\r']).next().unwrap_or("");
    highlight_block(lang, first, theme).pop().unwrap_or_default()
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

#[derive(Clone)]
struct Checkpoint {
    parse: ParseState,
    stack: ScopeStack,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Plain,
    Approx,
    Exact,
}

struct Cursor {
    next: usize,
    cp: Checkpoint,
    exact: bool,
}

/// Incremental, on-demand highlighting of a large document.
///
/// Keeps exact parser checkpoints every 256 lines from the top, caches highlighted lines, and
/// for a line more than ~2,000 lines past the exact frontier starts from a fresh parser state
/// at that line's 256-block (approximate colours) instead of parsing everything before it.
/// [`HighlightCache::advance`] extends the exact frontier and drops approximate lines it passes,
/// so accuracy catches up on idle ticks. Checkpoints are theme-independent; cached lines are
/// dropped when the theme (name, syntect theme or colour mode) changes.
pub struct HighlightCache {
    lang: Option<String>,
    lines: Arc<[String]>,
    syntax: Option<&'static SyntaxReference>,
    exact: Vec<Checkpoint>,
    exact_through: usize,
    approx: BTreeMap<usize, Checkpoint>,
    cursor: Option<Cursor>,
    cached: Vec<Option<(Line<'static>, Tier)>>,
    style_key: Option<(String, String, ColorMode)>,
    empty: Line<'static>,
}

impl HighlightCache {
    /// A cache over `lines` (one entry per source line, without newlines).
    pub fn new(lang: Option<&str>, lines: Arc<[String]>) -> Self {
        let n = lines.len();
        HighlightCache {
            lang: lang.map(str::to_string),
            lines,
            syntax: None,
            exact: Vec::new(),
            exact_through: 0,
            approx: BTreeMap::new(),
            cursor: None,
            cached: vec![None; n],
            style_key: None,
            empty: Line::default(),
        }
    }

    /// Number of source lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the document has no lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Lines `0..exact_lines()` have been parsed exactly from the top.
    pub fn exact_lines(&self) -> usize {
        self.exact_through
    }

    /// Whether the whole document has been parsed exactly.
    pub fn is_complete(&self) -> bool {
        self.exact_through >= self.lines.len()
    }

    /// The raw highlighted line `idx` (empty past the end), computing it if needed.
    pub fn line(&mut self, idx: usize, theme: &Theme) -> &Line<'static> {
        if idx >= self.lines.len() {
            return &self.empty;
        }
        self.sync_style(theme);
        let have = self.cached[idx].as_ref().map(|(_, t)| *t);
        match (self.ready(), have) {
            (None, None) => {
                self.cached[idx] = Some((Line::raw(self.lines[idx].clone()), Tier::Plain));
            }
            (Some((a, syntax)), None | Some(Tier::Plain)) => {
                let (from, cp, exact) = self.start_point(idx, syntax);
                match syn_theme(a, theme) {
                    Some(st) => {
                        let h = Highlighter::new(st);
                        self.run(a, from, cp, exact, idx + 1, Some((&h, theme)));
                    }
                    None => self.cached[idx] = Some((Line::raw(self.lines[idx].clone()), Tier::Exact)),
                }
            }
            _ => {}
        }
        self.cached[idx].as_ref().map_or(&self.empty, |(l, _)| l)
    }

    /// Extends the exact frontier by up to `budget_lines` lines (call on idle ticks).
    pub fn advance(&mut self, budget_lines: usize) {
        let Some((a, _)) = self.ready() else { return };
        if self.is_complete() || budget_lines == 0 {
            return;
        }
        let (from, cp) = match self.cursor.take() {
            Some(c) if c.exact && c.next == self.exact_through => (c.next, c.cp),
            other => {
                self.cursor = other;
                let i = self.exact.len() - 1;
                (i * CHECKPOINT_EVERY, self.exact[i].clone())
            }
        };
        let to = from.saturating_add(budget_lines).min(self.lines.len());
        self.run(a, from, cp, true, to, None);
    }

    fn ready(&mut self) -> Option<(&'static Assets, &'static SyntaxReference)> {
        let a = assets()?;
        let syntax = *self.syntax.get_or_insert_with(|| resolve(&a.syntaxes, self.lang.as_deref()));
        if self.exact.is_empty() {
            self.exact.push(Checkpoint { parse: ParseState::new(syntax), stack: ScopeStack::new() });
        }
        Some((a, syntax))
    }

    fn sync_style(&mut self, theme: &Theme) {
        let same = self
            .style_key
            .as_ref()
            .is_some_and(|(n, s, m)| *n == theme.name && *s == theme.syntect_theme && *m == theme.color_mode);
        if !same {
            self.cached.iter_mut().for_each(|c| *c = None);
            let key = (theme.name.clone(), theme.syntect_theme.clone(), theme.color_mode);
            self.style_key = Some(key);
        }
    }

    /// Where to start parsing to produce line `idx`: (line, state, exact?).
    fn start_point(&mut self, idx: usize, syntax: &SyntaxReference) -> (usize, Checkpoint, bool) {
        let block = idx / CHECKPOINT_EVERY;
        let cursor_at = |c: &Option<Cursor>, exact: bool, lo: usize| {
            c.as_ref()
                .filter(|c| c.exact == exact && c.next >= lo && c.next <= idx)
                .map(|c| (c.next, c.cp.clone(), exact))
        };
        if block < self.exact.len() {
            let base = block * CHECKPOINT_EVERY;
            return cursor_at(&self.cursor, true, base)
                .unwrap_or_else(|| (base, self.exact[block].clone(), true));
        }
        let last = self.exact.len() - 1;
        let last_line = last * CHECKPOINT_EVERY;
        if idx - self.exact_through.max(last_line) <= APPROX_GAP {
            return cursor_at(&self.cursor, true, last_line + 1)
                .unwrap_or_else(|| (last_line, self.exact[last].clone(), true));
        }
        let lo = idx - APPROX_GAP;
        let from_map = self
            .approx
            .range(..=block)
            .next_back()
            .filter(|(k, _)| **k * CHECKPOINT_EVERY >= lo)
            .map(|(k, cp)| (*k * CHECKPOINT_EVERY, cp.clone(), false));
        match (cursor_at(&self.cursor, false, lo), from_map) {
            (Some(c), Some(m)) => Some(if c.0 >= m.0 { c } else { m }),
            (c, m) => c.or(m),
        }
        .unwrap_or_else(|| {
            let fresh = Checkpoint { parse: ParseState::new(syntax), stack: ScopeStack::new() };
            (block * CHECKPOINT_EVERY, fresh, false)
        })
    }

    fn run(
        &mut self,
        a: &'static Assets,
        from: usize,
        mut cp: Checkpoint,
        exact: bool,
        to: usize,
        hl: Option<(&Highlighter<'_>, &Theme)>,
    ) {
        let to = to.min(self.lines.len());
        let tier = if exact { Tier::Exact } else { Tier::Approx };
        let mut hs: Option<HighlightState> = None;
        let mut buf = String::new();
        for i in from..to {
            if i % CHECKPOINT_EVERY == 0 {
                self.record(i / CHECKPOINT_EVERY, &cp, exact);
            }
            let have = self.cached[i].as_ref().map(|(_, t)| *t);
            let want = hl.is_some() && have.is_none_or(|t| t < tier);
            if exact && !want && have == Some(Tier::Approx) {
                self.cached[i] = None;
            }
            let text = &self.lines[i];
            if text.len() > MAX_HIGHLIGHT_BYTES {
                if want {
                    self.cached[i] = Some((Line::raw(text.clone()), tier));
                }
                continue;
            }
            buf.clear();
            buf.push_str(text);
            buf.push('\n');
            let Ok(ops) = cp.parse.parse_line(&buf, &a.syntaxes) else {
                cp.parse = ParseState::new(self.syntax.unwrap_or(a.syntaxes.find_syntax_plain_text()));
                cp.stack = ScopeStack::new();
                hs = None;
                continue;
            };
            match hl.filter(|_| want) {
                Some((h, theme)) => {
                    let state = hs.get_or_insert_with(|| HighlightState::new(h, cp.stack.clone()));
                    let mut spans = Vec::new();
                    for (style, text) in HighlightIterator::new(state, &ops, &buf, h) {
                        push_span(&mut spans, text.trim_end_matches('\n'), convert(style, theme));
                    }
                    self.cached[i] = Some((Line::from(spans), tier));
                }
                None => hs = None,
            }
            for (_, op) in &ops {
                let _ = cp.stack.apply(op);
            }
        }
        if exact {
            self.exact_through = self.exact_through.max(to);
        }
        self.cursor = Some(Cursor { next: to, cp, exact });
    }

    fn record(&mut self, block: usize, cp: &Checkpoint, exact: bool) {
        if exact {
            if self.exact.len() == block {
                self.exact.push(cp.clone());
                self.approx.remove(&block);
            }
        } else if block >= self.exact.len() {
            self.approx.entry(block).or_insert_with(|| cp.clone());
        }
    }
}

#[cfg(test)]
mod tests {
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
        let ss = &ASSETS.get().unwrap().syntaxes;
        let name = |l: &str| resolve(ss, Some(l)).name.clone();
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
        assert_eq!(resolve(ss, None).name, "Plain Text");
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

    fn big_doc(n: usize) -> Arc<[String]> {
        let mut v = vec!["/* opening comment".to_string()];
        v.extend((1..5).map(|i| format!("   comment line {i}")));
        v.push("*/".to_string());
        v.extend((v.len()..n).map(|i| format!("let v{i} = f({i}); // {i}")));
        v.into()
    }

    #[test]
    fn cache_is_lazy_then_exact() {
        warm_up_blocking();
        let t = dark();
        let lines = big_doc(50_000);
        let mut cache = HighlightCache::new(Some("rs"), Arc::clone(&lines));
        assert_eq!(cache.len(), 50_000);
        // First render near the end must not parse from the top.
        let start = Instant::now();
        for i in 49_950..50_000 {
            assert_eq!(text_of(cache.line(i, &t)), lines[i]);
        }
        let first = start.elapsed();
        assert!(cache.exact_lines() < 1_000, "{}", cache.exact_lines());
        assert!(first.as_millis() < 2_000, "{first:?}");
        // Cached renders are cheap.
        let start = Instant::now();
        for i in 49_950..50_000 {
            let _ = cache.line(i, &t);
        }
        let again = start.elapsed();
        assert!(again.as_micros() < 2_000, "{again:?}");
        // Comment body is exact near the top.
        let comment = cache.line(3, &t).spans[0].style.fg;
        let code = cache.line(10, &t).spans[0].style.fg;
        assert_ne!(comment, code);
        assert_eq!(cache.line(50_000, &t), &Line::default());
    }

    #[test]
    fn advanced_cache_matches_one_pass() {
        warm_up_blocking();
        let t = dark();
        let lines = big_doc(2_600);
        let mut cache = HighlightCache::new(Some("rs"), Arc::clone(&lines));
        let _ = cache.line(2_590, &t); // approximate
        let _ = cache.line(700, &t); // exact, within the gap
        while !cache.is_complete() {
            cache.advance(1_000);
        }
        let one_pass = highlight_block(Some("rs"), &lines[..].join("\n"), &t);
        for i in [0, 3, 5, 6, 255, 256, 700, 1_999, 2_590, 2_599] {
            assert_eq!(cache.line(i, &t), &one_pass[i], "line {i}");
        }
    }

    #[test]
    fn cache_approximation_and_theme_switch() {
        warm_up_blocking();
        let t = dark();
        // A block comment spanning the whole file: approximations near the end get it wrong,
        // exact parsing (after advance) gets it right.
        let mut v = vec!["/*".to_string()];
        v.extend((0..2_600).map(|i| format!("let x{i} = {i};")));
        let lines: Arc<[String]> = v.into();
        let mut cache = HighlightCache::new(Some("rs"), lines.clone());
        let approx = cache.line(2_590, &t).clone();
        let near = cache.line(1_500, &t).clone(); // within the gap: exact
        while !cache.is_complete() {
            cache.advance(1_000);
        }
        let exact = cache.line(2_590, &t).clone();
        assert_eq!(exact.spans.len(), 1, "all comment");
        assert_ne!(approx, exact);
        assert_eq!(near.spans.len(), 1);
        let light = Theme::builtin("light").unwrap();
        assert_ne!(cache.line(2_590, &light).spans[0].style, exact.spans[0].style);
        let mut empty = HighlightCache::new(None, Arc::from(Vec::new()));
        assert!(empty.is_empty() && empty.is_complete());
        empty.advance(10);
        assert_eq!(empty.line(0, &t), &Line::default());
    }
}
