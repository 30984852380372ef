//! The Code pane's state: the document shown ([`CodeDoc`]: its lines and incremental
//! highlighting) and which code block or file it shows.

use std::sync::Arc;

use crate::engine::protocol::CodeBlock;
use crate::text::highlight::HighlightCache;

/// A document shown in a code pane.
pub struct CodeDoc {
    /// Language tag or extension used for highlighting (`None` → plain text). Fixed at
    /// construction: changing it later does not re-highlight (build a new `CodeDoc`).
    pub lang: Option<String>,
    /// Pane title (usually the path).
    pub title: String,
    pub(crate) lines: Arc<[String]>,
    pub(crate) cache: HighlightCache,
}

impl CodeDoc {
    /// Splits `code` into lines (`\n` or `\r\n`) and prepares lazy highlighting.
    pub fn new(lang: Option<&str>, title: impl Into<String>, code: &str) -> CodeDoc {
        let lines: Arc<[String]> = code.lines().map(str::to_string).collect();
        CodeDoc {
            lang: lang.map(str::to_string),
            title: title.into(),
            cache: HighlightCache::new(lang, Arc::clone(&lines)),
            lines,
        }
    }

    /// The same document, grown (a code block streaming in): highlighting already done for the
    /// unchanged lines is kept (see [`HighlightCache::grow`]).
    pub fn grow(&mut self, title: impl Into<String>, code: &str) {
        let lines: Arc<[String]> = code.lines().map(str::to_string).collect();
        self.cache.grow(Arc::clone(&lines));
        self.lines = lines;
        self.title = title.into();
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// The raw text of line `idx` (0-based).
    pub fn line(&self, idx: usize) -> Option<&str> {
        self.lines.get(idx).map(String::as_str)
    }

    /// Width of the line-number gutter, including its separator column.
    pub fn gutter_width(&self) -> u16 {
        let digits = self.lines.len().max(1).to_string().len();
        u16::try_from(digits + 1).unwrap_or(u16::MAX)
    }

    /// Makes highlighting more exact by parsing up to `budget_lines` more lines (idle ticks).
    pub fn advance_highlight(&mut self, budget_lines: usize) {
        self.cache.advance(budget_lines);
    }

    /// Whether highlighting has parsed the whole document exactly.
    pub fn highlight_complete(&self) -> bool {
        self.cache.is_complete()
    }
}

/// A code block of the conversation, located by its chat entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeBlockRef {
    pub entry: usize,
    pub block: CodeBlock,
}

#[derive(Default)]
pub struct CodeState {
    pub blocks: Vec<CodeBlockRef>,
    /// Index into `blocks` of the block shown; `None` before the first block.
    pub selected: Option<usize>,
    /// Show each new block as it arrives (off once the user steps back through blocks).
    pub follow_latest: bool,
    pub doc: Option<CodeDoc>,
    /// The workspace file `doc` shows (opened from Problems or the Graph panel), `None` for a
    /// code block of the conversation: sent with each prompt (`Op::InView`).
    pub file: Option<String>,
    /// What the engine was last told Code shows (`Op::InView` is sent only when it changes).
    pub announced: Option<(String, usize)>,
    /// Byte length of the block `doc` was made from (a streaming block grows).
    pub doc_source_len: usize,
    pub scroll_y: usize,
    pub scroll_x: usize,
}
