//! [`HighlightCache`]: incremental, on-demand highlighting of large documents.
//!
//! Invariants:
//! - `exact[i]` is the exact parser state at the start of line `i * 256`, derived by parsing
//!   every line above it; lines `0..exact_through` have been parsed exactly.
//! - Approximate states (fresh parser at a block start, used more than ~2,000 lines past the
//!   exact frontier) are only stored for blocks the exact frontier has not reached; lines
//!   highlighted from them are replaced or dropped when the frontier passes.
//! - Checkpoints hold parser state plus scope stack only, so they survive theme changes; cached
//!   lines are keyed on (theme name, syntect theme, colour mode).

use std::collections::BTreeMap;
use std::sync::Arc;

use ratatui::text::Line;
use syntect::highlighting::{HighlightIterator, HighlightState, Highlighter};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference};

use super::{Assets, Grammar, MAX_HIGHLIGHT_BYTES, assets, convert, push_span, resolve, syn_theme};
use crate::text::theme::{ColorMode, Theme};

const CHECKPOINT_EVERY: usize = 256;
const APPROX_GAP: usize = 2000;

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
    syntax: Option<Grammar>,
    exact: Vec<Checkpoint>,
    exact_through: usize,
    approx: BTreeMap<usize, Checkpoint>,
    cursor: Option<Cursor>,
    /// The exact parse state before the last line, kept for [`HighlightCache::grow`].
    tail: Option<Cursor>,
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
            tail: None,
            cached: vec![None; n],
            style_key: None,
            empty: Line::default(),
        }
    }

    /// The document changed to `lines`, usually by growing at its end (a code block streaming
    /// in): the lines before the first changed one keep their highlighting, and parsing resumes
    /// from the exact state kept nearest before it instead of from the top.
    pub fn grow(&mut self, lines: Arc<[String]>) {
        let keep = self.lines.iter().zip(lines.iter()).take_while(|(a, b)| a == b).count();
        let mut next = HighlightCache::new(self.lang.as_deref(), lines);
        next.syntax = self.syntax;
        next.style_key = self.style_key.take();
        for (to, from) in next.cached.iter_mut().zip(&mut self.cached).take(keep) {
            *to = from.take();
        }
        next.exact = std::mem::take(&mut self.exact);
        next.exact.truncate(keep / CHECKPOINT_EVERY + 1);
        next.approx = std::mem::take(&mut self.approx);
        next.approx.retain(|block, _| block * CHECKPOINT_EVERY <= keep);
        let through = self.exact_through.min(keep);
        let resume = [self.cursor.take(), self.tail.take()]
            .into_iter()
            .flatten()
            .filter(|c| c.exact && c.next <= through)
            .max_by_key(|c| c.next);
        next.exact_through =
            resume.as_ref().map_or(next.exact.len().saturating_sub(1) * CHECKPOINT_EVERY, |c| c.next);
        next.cursor = resume;
        *self = next;
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
            (Some((a, grammar)), None | Some(Tier::Plain)) => {
                let (from, cp, exact) = self.start_point(idx, grammar.syntax);
                match syn_theme(a, theme) {
                    Some(st) => {
                        let h = Highlighter::new(st);
                        let hl_from = idx - idx % CHECKPOINT_EVERY;
                        self.run(a, from, cp, exact, idx + 1, Some((&h, theme, hl_from)));
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

    fn ready(&mut self) -> Option<(&'static Assets, Grammar)> {
        let a = assets()?;
        let grammar = *self.syntax.get_or_insert_with(|| resolve(a, self.lang.as_deref()));
        if self.exact.is_empty() {
            self.exact.push(Checkpoint { parse: ParseState::new(grammar.syntax), stack: ScopeStack::new() });
        }
        Some((a, grammar))
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
        hl: Option<(&Highlighter<'_>, &Theme, usize)>,
    ) {
        let to = to.min(self.lines.len());
        let tier = if exact { Tier::Exact } else { Tier::Approx };
        let mut hs: Option<HighlightState> = None;
        let mut buf = String::new();
        for i in from..to {
            if i % CHECKPOINT_EVERY == 0 {
                self.record(i / CHECKPOINT_EVERY, &cp, exact);
            }
            if exact && i + 1 == self.lines.len() {
                self.tail = Some(Cursor { next: i, cp: cp.clone(), exact });
            }
            let have = self.cached[i].as_ref().map(|(_, t)| *t);
            // Highlight (and cache) only from `hl_from` on: lines merely parsed on the way to
            // a far target are not worth styling.
            let want = hl.is_some_and(|(_, _, hl_from)| i >= hl_from) && have.is_none_or(|t| t < tier);
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
            let grammar = self.syntax.unwrap_or_else(|| resolve(a, None));
            let Ok(ops) = cp.parse.parse_line(&buf, grammar.set) else {
                cp.parse = ParseState::new(grammar.syntax);
                cp.stack = ScopeStack::new();
                hs = None;
                continue;
            };
            match hl.filter(|_| want) {
                Some((h, theme, _)) => {
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
    use crate::text::highlight::{highlight_block, warm_up_blocking};
    use std::time::Instant;

    fn dark() -> Theme {
        Theme::builtin("dark").unwrap()
    }

    fn text_of(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
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
