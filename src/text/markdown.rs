//! Markdown → styled, width-wrapped lines for the chat pane.
//!
//! Owns [`render_markdown`] / [`wrapped_height`] (and [`render_markdown_meta`], which also says
//! how to copy each line: `text::lines`): headings (`#` markers kept), nested bullet and
//! numbered lists, task markers, emphasis/strong/strikethrough, inline code, block quotes,
//! links (text, then the url dimmed), rules, raw HTML as text, and fenced/indented code blocks
//! highlighted by [`crate::text::highlight`] behind a `│ ` gutter.
//!
//! Invariants:
//! - Streaming-tolerant: any prefix of a document renders; an unterminated fence is an open
//!   code block running to the end of the text (CommonMark semantics, via pulldown-cmark).
//! - Prose is word-wrapped to `width` columns (unicode-width aware; words longer than a line are
//!   broken hard). Every line fits `width` unless container prefixes alone (deeply nested lists or
//!   quotes at tiny widths) exceed it; content always gets at least one column.
//! - Code lines are never wrapped: they are **truncated** to the available width with a dim `…`
//!   as the last column, so a code line is always exactly one screen line. Tabs are expanded.
//!   When the theme's `code_block_bg` has a background, code lines are padded to full width.
//! - Work is linear in the input (a 1 MB single line is fine); nothing panics, and width 0 is
//!   treated as width 1.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use crate::text::highlight::{display_slice, highlight_block, push_span};
use crate::text::lines::{Join, LineMeta};
use crate::text::theme::Theme;

const BULLETS: [&str; 3] = ["• ", "◦ ", "▪ "];
const QUOTE: &str = "▌ ";
const GUTTER: &str = "│ ";

/// Renders `text` as markdown wrapped to `width` columns.
pub fn render_markdown(text: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    render_markdown_meta(text, width, theme).0
}

/// [`render_markdown`] with how to copy each line back out (`text::lines`): quote bars and code
/// gutters are decoration, list markers are text, wrapped prose joins back into one line, code
/// lines carry their whole text.
pub fn render_markdown_meta(text: &str, width: u16, theme: &Theme) -> (Vec<Line<'static>>, Vec<LineMeta>) {
    let mut r = Renderer {
        theme,
        width: usize::from(width.max(1)),
        out: Vec::new(),
        meta: Vec::new(),
        containers: Vec::new(),
        inline: Vec::new(),
        styles: Vec::new(),
        lists: Vec::new(),
        link: None,
        code: None,
        pending_blank: false,
    };
    let opts = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    for ev in Parser::new_ext(text, opts) {
        r.event(ev);
    }
    if let Some((lang, code)) = r.code.take() {
        r.code_block(lang.as_deref(), &code);
    }
    r.flush();
    (r.out, r.meta)
}

/// Number of lines [`render_markdown`] produces.
pub fn wrapped_height(text: &str, width: u16, theme: &Theme) -> usize {
    render_markdown(text, width, theme).len()
}

enum Container {
    Quote,
    Item { marker: String, first: bool },
}

struct Link {
    url: String,
    text: String,
}

struct Renderer<'t> {
    theme: &'t Theme,
    width: usize,
    out: Vec<Line<'static>>,
    /// How to copy each line of `out`.
    meta: Vec<LineMeta>,
    containers: Vec<Container>,
    inline: Vec<Span<'static>>,
    styles: Vec<Style>,
    lists: Vec<Option<u64>>,
    link: Option<Link>,
    code: Option<(Option<String>, String)>,
    pending_blank: bool,
}

impl Renderer<'_> {
    fn style(&self) -> Style {
        self.styles.iter().fold(Style::default(), |acc, s| acc.patch(*s))
    }

    fn text(&mut self, t: &str, style: Style) {
        if let Some(link) = &mut self.link {
            link.text.push_str(t);
        }
        push_span(&mut self.inline, t, style);
    }

    fn event(&mut self, ev: Event<'_>) {
        if let Some((_, code)) = &mut self.code {
            match ev {
                Event::Text(t) => code.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    if let Some((lang, code)) = self.code.take() {
                        self.code_block(lang.as_deref(), &code);
                    }
                    self.pending_blank = true;
                }
                _ => {}
            }
            return;
        }
        let t = self.theme;
        match ev {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(s) => self.text(&s, self.style()),
            Event::Code(s) => self.text(&s, self.style().patch(t.inline_code)),
            Event::InlineMath(s) | Event::DisplayMath(s) => self.text(&s, self.style()),
            Event::InlineHtml(s) | Event::FootnoteReference(s) => self.text(&s, t.dim),
            Event::Html(s) => {
                for l in s.lines() {
                    self.text(l, t.dim);
                    self.flush();
                }
            }
            Event::SoftBreak => self.text(" ", self.style()),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.flush();
                let avail = self.avail();
                let rule = Span::styled("─".repeat(avail), t.border);
                self.emit(vec![rule], LineMeta::decor(usize::MAX));
                self.pending_blank = true;
            }
            Event::TaskListMarker(done) => {
                let mark = if done { "[x] " } else { "[ ] " };
                self.text(mark, t.accent);
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        let t = self.theme;
        match tag {
            Tag::Paragraph | Tag::HtmlBlock | Tag::Table(_) | Tag::TableHead | Tag::TableRow => self.flush(),
            Tag::Heading { level, .. } => {
                self.flush();
                self.styles.push(t.heading);
                let mut marks = "#".repeat(level as usize);
                marks.push(' ');
                self.text(&marks, t.heading);
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.flush();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info
                        .split(|c: char| c.is_whitespace() || c == ',')
                        .next()
                        .filter(|s| !s.is_empty())
                        .map(str::to_lowercase),
                    CodeBlockKind::Indented => None,
                };
                self.code = Some((lang, String::new()));
            }
            Tag::List(start) => {
                self.flush();
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush();
                let depth = self.lists.len().saturating_sub(1);
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n = n.saturating_add(1);
                        format!("{}. ", *n - 1)
                    }
                    _ => BULLETS[depth % BULLETS.len()].to_string(),
                };
                self.containers.push(Container::Item { marker, first: true });
            }
            Tag::TableCell => self.text(" │ ", t.border),
            Tag::Emphasis => self.styles.push(Style::new().add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.styles.push(Style::new().add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self.styles.push(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.styles.push(t.accent.add_modifier(Modifier::UNDERLINED));
                self.link = Some(Link { url: dest_url.to_string(), text: String::new() });
            }
            _ => self.styles.push(Style::default()),
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::HtmlBlock | TagEnd::Table => {
                self.flush();
                self.pending_blank = true;
            }
            TagEnd::TableHead | TagEnd::TableRow => self.flush(),
            TagEnd::TableCell | TagEnd::CodeBlock => {}
            TagEnd::Heading(_) => {
                self.styles.pop();
                self.flush();
                self.pending_blank = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.pending_blank = true;
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                if self.lists.is_empty() {
                    self.pending_blank = true;
                }
            }
            TagEnd::Item => {
                self.flush();
                if matches!(self.containers.last(), Some(Container::Item { first: true, .. })) {
                    self.emit(Vec::new(), LineMeta::default());
                }
                self.containers.pop();
            }
            TagEnd::Link | TagEnd::Image => {
                self.styles.pop();
                if let Some(link) = self.link.take()
                    && !link.url.is_empty()
                    && link.url != link.text
                    && !link.url.starts_with('#')
                {
                    let url = format!(" ({})", link.url);
                    push_span(&mut self.inline, &url, self.theme.dim);
                }
            }
            _ => {
                self.styles.pop();
            }
        }
    }

    fn prefix_width(&self) -> usize {
        self.containers
            .iter()
            .map(|c| match c {
                Container::Quote => 2,
                Container::Item { marker, .. } => marker.width(),
            })
            .sum()
    }

    /// Columns left for content after the prefixes (at least 1).
    fn avail(&self) -> usize {
        self.width.saturating_sub(self.prefix_width()).max(1)
    }

    /// Appends one output line: blank separator if pending, prefixes, then `content`.
    ///
    /// `meta.decor` counts columns of `content` that are decoration (a code gutter); the
    /// prefixes up to the innermost quote bar are added to it, and all of them on a wrapped
    /// continuation.
    fn emit(&mut self, content: Vec<Span<'static>>, mut meta: LineMeta) {
        let t = self.theme;
        if std::mem::take(&mut self.pending_blank) && !self.out.is_empty() {
            let quotes = self
                .containers
                .iter()
                .filter(|c| matches!(c, Container::Quote))
                .map(|_| Span::styled("▌", t.dim));
            self.out.push(Line::from(quotes.collect::<Vec<_>>()));
            self.meta.push(LineMeta::decor(usize::MAX));
        }
        let mut spans = Vec::with_capacity(content.len() + self.containers.len());
        let (mut prefix, mut quoted) = (0, 0);
        for c in &mut self.containers {
            match c {
                Container::Quote => {
                    spans.push(Span::styled(QUOTE, t.dim));
                    prefix += QUOTE.width();
                    quoted = prefix;
                }
                Container::Item { marker, first } => {
                    if std::mem::take(first) {
                        spans.push(Span::styled(marker.clone(), t.accent));
                    } else {
                        spans.push(Span::raw(" ".repeat(marker.width())));
                    }
                    prefix += marker.width();
                }
            }
        }
        let whole_prefix = meta.join != Join::New || meta.decor > 0;
        if meta.decor != usize::MAX {
            meta.decor += if whole_prefix { prefix } else { quoted };
        }
        spans.extend(content);
        self.out.push(Line::from(spans));
        self.meta.push(meta);
    }

    /// Wraps and emits the pending inline text.
    fn flush(&mut self) {
        if self.inline.is_empty() {
            return;
        }
        let inline = std::mem::take(&mut self.inline);
        for (line, join) in wrap(&inline, self.avail()) {
            self.emit(line, LineMeta { join, ..LineMeta::default() });
        }
    }

    fn code_block(&mut self, lang: Option<&str>, code: &str) {
        let t = self.theme;
        let avail = self.avail().saturating_sub(2).max(1);
        let mut lines = highlight_block(lang, code, t);
        if lines.is_empty() {
            lines.push(Line::default());
        }
        let raw: Vec<&str> = code.lines().collect();
        for (i, hl) in lines.into_iter().enumerate() {
            let (mut line, cut) = display_slice(&hl.spans, 0, avail);
            if cut {
                line = display_slice(&hl.spans, 0, avail - 1).0;
                line.spans.push(Span::styled("…", t.dim));
            }
            let pad = avail.saturating_sub(line.width());
            let mut spans = vec![Span::styled(GUTTER, t.border)];
            spans.extend(line.spans.into_iter().map(|s| {
                let st = t.code_block_bg.patch(s.style);
                s.style(st)
            }));
            if t.code_block_bg.bg.is_some() && pad > 0 {
                // A visible code background spans the block's full width.
                spans.push(Span::styled(" ".repeat(pad), t.code_block_bg));
            }
            let full = Some(raw.get(i).copied().unwrap_or_default().to_string());
            self.emit(spans, LineMeta { decor: GUTTER.width(), join: Join::New, full });
        }
    }
}

mod wrap;
use wrap::wrap;

#[cfg(test)]
mod tests;
