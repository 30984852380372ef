//! Extraction of fenced code blocks from (possibly still streaming) markdown.
//!
//! Owns [`CodeBlock`], [`extract_code_blocks`] and [`FenceTracker`] (which lines are inside a
//! fence, for callers that split markdown without extracting it: the chat's streaming blocks).
//! The one fence parser: the engine (commit messages, conflict resolutions) and the UI use it.
//!
//! Rules (a CommonMark subset, line-based):
//! - An opening fence is 0–3 spaces of indentation then a run of 3+ backticks or tildes; the
//!   info string's first whitespace-separated word, lowercased, is the language (`None` when
//!   empty). A backtick fence whose info string contains a backtick is not a fence.
//! - The block closes at a line of 0–3 spaces then a run of the *same* character at least as
//!   long as the opener, followed only by whitespace.
//! - Content lines lose up to as many leading spaces as the opening fence had. `code` holds each
//!   content line followed by `\n`, except a final line the input did not terminate. CRLF
//!   line endings are normalised to `\n`.
//! - A block still open at the end of the input is returned with `complete == false`.
//! - Fences nested in block quotes or deeper-indented list items are not recognised.

/// One fenced code block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// First word of the info string, lowercased; `None` when empty.
    pub lang: Option<String>,
    /// The block's content (see the module rules for newlines).
    pub code: String,
    /// False when the input ended before the closing fence.
    pub complete: bool,
}

struct Fence {
    ch: char,
    len: usize,
    indent: usize,
}

/// Parses `line` (without line ending) as a fence: (fence, rest after the run).
fn fence(line: &str) -> Option<(Fence, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ch = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = rest.len() - rest.trim_start_matches(ch).len();
    if len < 3 {
        return None;
    }
    Some((Fence { ch, len, indent }, &rest[len..]))
}

/// Follows fences line by line: after [`FenceTracker::line`], [`FenceTracker::open`] says
/// whether the text so far ends inside a fence (same open/close rules as
/// [`extract_code_blocks`]).
#[derive(Default)]
pub struct FenceTracker {
    open: Option<Fence>,
}

impl FenceTracker {
    /// Feeds one line (line ending optional); returns true when it opened or closed a fence.
    pub fn line(&mut self, line: &str) -> bool {
        let line = line.trim_end_matches(['\n', '\r']);
        match &self.open {
            None => match fence(line) {
                Some((f, info)) if !(f.ch == '`' && info.contains('`')) => {
                    self.open = Some(f);
                    true
                }
                _ => false,
            },
            Some(f) => {
                let closes = fence(line)
                    .is_some_and(|(c, after)| c.ch == f.ch && c.len >= f.len && after.trim().is_empty());
                if closes {
                    self.open = None;
                }
                closes
            }
        }
    }

    /// Whether the lines so far end inside a fence.
    pub fn open(&self) -> bool {
        self.open.is_some()
    }
}

/// All fenced code blocks in `markdown`, in order.
pub fn extract_code_blocks(markdown: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<(Fence, CodeBlock)> = None;
    let mut rest = markdown;
    while !rest.is_empty() {
        let (raw, terminated) = match rest.find('\n') {
            Some(i) => {
                let l = &rest[..i];
                rest = &rest[i + 1..];
                (l, true)
            }
            None => (std::mem::take(&mut rest), false),
        };
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match open.take() {
            None => {
                let Some((f, info)) = fence(line) else {
                    continue;
                };
                if f.ch == '`' && info.contains('`') {
                    continue;
                }
                let lang = info.split_whitespace().next().map(str::to_lowercase);
                let block = CodeBlock { lang, code: String::new(), complete: false };
                open = Some((f, block));
            }
            Some((f, mut block)) => {
                let closes = fence(line)
                    .is_some_and(|(c, after)| c.ch == f.ch && c.len >= f.len && after.trim().is_empty());
                if closes {
                    block.complete = true;
                    blocks.push(block);
                    continue;
                }
                let strip = line.len() - line.trim_start_matches(' ').len();
                block.code.push_str(&line[strip.min(f.indent)..]);
                if terminated {
                    block.code.push('\n');
                }
                open = Some((f, block));
            }
        }
    }
    if let Some((_, block)) = open {
        blocks.push(block);
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(lang: Option<&str>, code: &str, complete: bool) -> CodeBlock {
        CodeBlock { lang: lang.map(str::to_string), code: code.to_string(), complete }
    }

    #[test]
    fn basic_blocks_and_langs() {
        let md = "intro\n```Rust extra words\nfn main() {}\n```\ntext\n~~~\nplain\n~~~\n";
        assert_eq!(
            extract_code_blocks(md),
            vec![block(Some("rust"), "fn main() {}\n", true), block(None, "plain\n", true)]
        );
    }

    #[test]
    fn no_blocks() {
        assert!(extract_code_blocks("").is_empty());
        assert!(extract_code_blocks("just text\n`` not a fence\n").is_empty());
        assert!(extract_code_blocks("    ```\n").is_empty(), "4 spaces is not a fence");
        assert!(extract_code_blocks("``` has ` tick\ncode\n").is_empty());
    }

    #[test]
    fn closing_fence_rules() {
        // Shorter or different-char fences do not close; longer ones do.
        let md = "````py\n```\n~~~~\nx\n`````\nafter";
        assert_eq!(extract_code_blocks(md), vec![block(Some("py"), "```\n~~~~\nx\n", true)]);
        // Text after the closing run means it is content.
        let md = "```\n``` nope\n```\n";
        assert_eq!(extract_code_blocks(md), vec![block(None, "``` nope\n", true)]);
    }

    #[test]
    fn streaming_unterminated() {
        assert_eq!(extract_code_blocks("a\n```rust\nfn ma"), vec![block(Some("rust"), "fn ma", false)]);
        assert_eq!(extract_code_blocks("```rus"), vec![block(Some("rus"), "", false)]);
        assert_eq!(extract_code_blocks("```\nx\n``"), vec![block(None, "x\n``", false)]);
        let two = extract_code_blocks("```a\n1\n```\n```b\n2\n");
        assert_eq!(two.len(), 2);
        assert!(two[0].complete && !two[1].complete);
    }

    #[test]
    fn indentation_and_crlf() {
        let md = "   ```go\r\n     x := 1\r\n  y\r\n   ```\r\n";
        assert_eq!(extract_code_blocks(md), vec![block(Some("go"), "  x := 1\ny\n", true)]);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for md in ["```", "~~~~~~", "\n\n", "```\u{feff}é\n", "  ~~~ é\n\tx\n", "\r\n```\r"] {
            let _ = extract_code_blocks(md);
        }
        let big = format!("```\n{}\n", "x".repeat(1_000_000));
        assert_eq!(extract_code_blocks(&big)[0].code.len(), 1_000_001);
    }
}
