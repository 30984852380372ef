//! The languages kv1nt parses with tree-sitter: the one extension table, the grammar of each
//! language, and the per-thread parsers. The knowledge graph (`graph::parse`) extracts entities
//! from the code [`Language`]s; the syntax gate (`checks::syntax`) parses every [`Grammar`],
//! which adds the data formats (JSON, YAML, TOML) the graph does not index.
//!
//! Invariants: a file's language is decided here and nowhere else ([`Grammar::from_path`],
//! [`Language::from_path`]); every grammar loads into the tree-sitter runtime we link (the
//! `every_grammar_loads` test); a parser is created once per thread and grammar.

use std::cell::RefCell;

/// A programming language the graph understands (and the syntax gate checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    Rust,
    Python,
    TypeScript,
    Tsx,
    JavaScript,
    Go,
}

impl Language {
    /// Detects the language from a file name's extension.
    pub fn from_path(path: &str) -> Option<Language> {
        match Grammar::from_path(path)? {
            Grammar::Code(lang) => Some(lang),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::JavaScript => "javascript",
            Language::Go => "go",
        }
    }
}

/// Everything tree-sitter parses here: a programming language or a data format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grammar {
    Code(Language),
    Json,
    Yaml,
    Toml,
}

impl Grammar {
    /// The grammar for a file name's extension (`None`: kv1nt has no parser for it).
    pub fn from_path(path: &str) -> Option<Grammar> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.').map(|(_, e)| e)?;
        Some(match ext {
            "rs" => Grammar::Code(Language::Rust),
            "py" | "pyi" => Grammar::Code(Language::Python),
            "ts" | "mts" | "cts" => Grammar::Code(Language::TypeScript),
            "tsx" => Grammar::Code(Language::Tsx),
            "js" | "mjs" | "cjs" | "jsx" => Grammar::Code(Language::JavaScript),
            "go" => Grammar::Code(Language::Go),
            "json" => Grammar::Json,
            "yaml" | "yml" => Grammar::Yaml,
            "toml" => Grammar::Toml,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grammar::Code(lang) => lang.as_str(),
            Grammar::Json => "json",
            Grammar::Yaml => "yaml",
            Grammar::Toml => "toml",
        }
    }

    fn tree_sitter(self) -> tree_sitter::Language {
        match self {
            Grammar::Code(Language::Rust) => tree_sitter_rust::LANGUAGE.into(),
            Grammar::Code(Language::Python) => tree_sitter_python::LANGUAGE.into(),
            Grammar::Code(Language::TypeScript) => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Grammar::Code(Language::Tsx) => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Grammar::Code(Language::JavaScript) => tree_sitter_javascript::LANGUAGE.into(),
            Grammar::Code(Language::Go) => tree_sitter_go::LANGUAGE.into(),
            Grammar::Json => tree_sitter_json::LANGUAGE.into(),
            Grammar::Yaml => tree_sitter_yaml::LANGUAGE.into(),
            Grammar::Toml => tree_sitter_toml_ng::LANGUAGE.into(),
        }
    }
}

/// Parses `src` with this thread's parser for `grammar`. Returns `None` only when tree-sitter
/// gives up (cancelled, out of memory, or a grammar the runtime refuses).
pub fn parse(grammar: Grammar, src: &str) -> Option<tree_sitter::Tree> {
    parse_with(grammar, src, None)
}

/// Parses `new`, reusing `old_tree` (a tree of `old` by the same grammar; it is not changed):
/// the one edited range between the two contents is marked on a copy of the tree, and
/// tree-sitter re-parses only around it. The result is the tree a full parse of `new` gives
/// (the syntax gate's `incremental_matches_full` tests hold it to that); the cost is that of
/// the edited region, not of the file.
pub fn reparse(
    grammar: Grammar,
    old: &str,
    old_tree: &tree_sitter::Tree,
    new: &str,
) -> Option<tree_sitter::Tree> {
    let mut tree = old_tree.clone();
    tree.edit(&edit_between(old, new));
    parse_with(grammar, new, Some(&tree))
}

fn parse_with(grammar: Grammar, src: &str, old: Option<&tree_sitter::Tree>) -> Option<tree_sitter::Tree> {
    thread_local! {
        /// One parser per thread and grammar: creating one per file is measurable.
        static PARSERS: RefCell<Vec<(Grammar, tree_sitter::Parser)>> = const { RefCell::new(Vec::new()) };
    }
    PARSERS.with(|cell| {
        let mut parsers = cell.borrow_mut();
        let i = match parsers.iter().position(|(g, _)| *g == grammar) {
            Some(i) => i,
            None => {
                let mut parser = tree_sitter::Parser::new();
                parser.set_language(&grammar.tree_sitter()).ok()?;
                parsers.push((grammar, parser));
                parsers.len() - 1
            }
        };
        let parser = &mut parsers[i].1;
        let tree = parser.parse(src, old);
        if tree.is_none() {
            // A cancelled parse leaves state behind; start the next one clean.
            parser.reset();
        }
        tree
    })
}

/// The one edit that turns `old` into `new`: everything between their longest common prefix
/// and longest common suffix (both cut back to character boundaries), with tree-sitter's
/// row/byte-column points.
pub fn edit_between(old: &str, new: &str) -> tree_sitter::InputEdit {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let mut start = common_prefix(a, b);
    while !old.is_char_boundary(start) {
        start -= 1;
    }
    let room = a.len().min(b.len()) - start;
    let mut suffix = common_prefix_rev(&a[start..], &b[start..]).min(room);
    // The suffix bytes are the same in both, so a boundary in one is a boundary in the other.
    while !old.is_char_boundary(a.len() - suffix) {
        suffix -= 1;
    }
    let (old_end, new_end) = (a.len() - suffix, b.len() - suffix);
    let start_position = point_at(a, start);
    tree_sitter::InputEdit {
        start_byte: start,
        old_end_byte: old_end,
        new_end_byte: new_end,
        start_position,
        old_end_position: point_after(start_position, &a[start..old_end]),
        new_end_position: point_after(start_position, &b[start..new_end]),
    }
}

/// How many leading bytes `a` and `b` share (compared a block at a time, then byte by byte).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let len = a.len().min(b.len());
    let mut i = 0;
    while i + BLOCK <= len && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    i + a[i..len].iter().zip(&b[i..len]).take_while(|(x, y)| x == y).count()
}

/// How many trailing bytes `a` and `b` share.
fn common_prefix_rev(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let len = a.len().min(b.len());
    let (a, b) = (&a[a.len() - len..], &b[b.len() - len..]);
    let mut n = 0;
    while n + BLOCK <= len && a[len - n - BLOCK..len - n] == b[len - n - BLOCK..len - n] {
        n += BLOCK;
    }
    n + a[..len - n].iter().rev().zip(b[..len - n].iter().rev()).take_while(|(x, y)| x == y).count()
}

/// The point (row, byte column) of byte `at` of `src`.
fn point_at(src: &[u8], at: usize) -> tree_sitter::Point {
    point_after(tree_sitter::Point::new(0, 0), &src[..at])
}

/// The point reached from `from` after `text`.
fn point_after(from: tree_sitter::Point, text: &[u8]) -> tree_sitter::Point {
    match text.iter().rposition(|&c| c == b'\n') {
        None => tree_sitter::Point::new(from.row, from.column + text.len()),
        Some(last) => {
            let rows = text.iter().filter(|&&c| c == b'\n').count();
            tree_sitter::Point::new(from.row + rows, text.len() - last - 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions() {
        assert_eq!(Grammar::from_path("src/a.rs"), Some(Grammar::Code(Language::Rust)));
        assert_eq!(Grammar::from_path("web/x.mjs"), Some(Grammar::Code(Language::JavaScript)));
        assert_eq!(Grammar::from_path("web/x.tsx"), Some(Grammar::Code(Language::Tsx)));
        assert_eq!(Grammar::from_path(".github/ci.yml"), Some(Grammar::Yaml));
        assert_eq!(Grammar::from_path("Cargo.toml"), Some(Grammar::Toml));
        assert_eq!(Language::from_path("package.json"), None);
        assert_eq!(Grammar::from_path("README.md"), None);
        assert_eq!(Grammar::from_path("a.d/Makefile"), None);
    }

    #[test]
    fn every_grammar_loads() {
        let all = [
            Grammar::Code(Language::Rust),
            Grammar::Code(Language::Python),
            Grammar::Code(Language::TypeScript),
            Grammar::Code(Language::Tsx),
            Grammar::Code(Language::JavaScript),
            Grammar::Code(Language::Go),
            Grammar::Json,
            Grammar::Yaml,
            Grammar::Toml,
        ];
        for grammar in all {
            let tree = parse(grammar, "").unwrap_or_else(|| panic!("{grammar:?} does not load"));
            assert!(!tree.root_node().has_error(), "{grammar:?}");
        }
    }
}
