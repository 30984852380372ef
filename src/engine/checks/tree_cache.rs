//! The syntax gate's tree cache: the tree-sitter trees of file contents the engine has seen
//! (read by the model, or parsed by the gate), so that the gate can re-parse a proposed content
//! incrementally from the tree of the content it replaces (`checks::syntax`).
//!
//! Invariants:
//! - An entry is found by its grammar and its exact content (compared byte for byte, not by a
//!   hash), so a hit is always the tree of that very text: a wrong or stale tree cannot be
//!   used. No path is part of the key: a tree depends on grammar and text only, so the same
//!   text under two paths (or in two workspaces of one process) is rightly one tree.
//! - Bounded: at most [`MAX_ENTRIES`] entries and [`MAX_BYTES`] of content; the least recently
//!   used go first. Contents larger than [`MAX_KEPT_BYTES`] are not kept.
//! - One cache per process, behind a mutex held only to look up or insert (never while
//!   parsing); trees are handed out as copies (`Tree::clone` shares the nodes), so the cached
//!   tree is never edited.

use std::sync::Mutex;

use tree_sitter::Tree;

use crate::engine::grammars::Grammar;

/// Most trees kept.
pub const MAX_ENTRIES: usize = 32;
/// Most content bytes kept. A tree takes up to ~65 times its text (measured on dense Rust and
/// Python; the versions of one file share most nodes), so this bounds the cache near 65 MB.
pub const MAX_BYTES: usize = 1024 * 1024;
/// The largest content kept.
pub const MAX_KEPT_BYTES: usize = MAX_BYTES / 2;

struct Entry {
    grammar: Grammar,
    content: Box<str>,
    tree: Tree,
}

struct Trees {
    /// Least recently used first.
    entries: Vec<Entry>,
    bytes: usize,
}

static CACHE: Mutex<Trees> = Mutex::new(Trees { entries: Vec::new(), bytes: 0 });

fn cache() -> std::sync::MutexGuard<'static, Trees> {
    // A panic while holding the lock cannot leave an entry half-made (push and remove are
    // whole), so a poisoned cache is still sound.
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The cached tree of `content` by `grammar`, marked as just used.
pub fn get(grammar: Grammar, content: &str) -> Option<Tree> {
    let mut trees = cache();
    let i = trees.entries.iter().rposition(|e| e.grammar == grammar && *e.content == *content)?;
    let entry = trees.entries.remove(i);
    let tree = entry.tree.clone();
    trees.entries.push(entry);
    Some(tree)
}

/// Keeps `tree`, the tree of `content` by `grammar`.
pub fn put(grammar: Grammar, content: &str, tree: &Tree) {
    if content.len() > MAX_KEPT_BYTES {
        return;
    }
    let mut trees = cache();
    if let Some(i) = trees.entries.iter().rposition(|e| e.grammar == grammar && *e.content == *content) {
        let entry = trees.entries.remove(i);
        trees.entries.push(entry);
        return;
    }
    trees.bytes += content.len();
    trees.entries.push(Entry { grammar, content: content.into(), tree: tree.clone() });
    while trees.entries.len() > MAX_ENTRIES || trees.bytes > MAX_BYTES {
        let oldest = trees.entries.remove(0);
        trees.bytes -= oldest.content.len();
    }
}

/// Forgets every tree (the `syntax` bench's cold case: a file nobody read).
pub fn clear() {
    let mut trees = cache();
    trees.entries.clear();
    trees.bytes = 0;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::grammars::{Language, parse};

    const PY: Grammar = Grammar::Code(Language::Python);

    /// Contents unique to this test, so tests running at the same time cannot collide.
    fn content(test: &str, i: usize) -> String {
        format!("x_{test}_{i} = {i}\n")
    }

    #[test]
    fn a_hit_is_the_tree_of_that_exact_text() {
        let text = content("exact", 0);
        let tree = parse(PY, &text).unwrap();
        put(PY, &text, &tree);
        let hit = get(PY, &text).expect("cached");
        assert_eq!(hit.root_node().to_sexp(), tree.root_node().to_sexp());
        assert!(get(PY, &content("exact", 1)).is_none(), "other text");
        assert!(get(Grammar::Code(Language::Rust), &text).is_none(), "other grammar");
        let longer = format!("{text} ");
        assert!(get(PY, &longer).is_none(), "a prefix is not a match");
    }

    #[test]
    fn the_least_recently_used_go_first() {
        let texts: Vec<String> = (0..MAX_ENTRIES + 3).map(|i| content("lru", i)).collect();
        for text in &texts {
            put(PY, text, &parse(PY, text).unwrap());
            // The first one is used all along, so it stays.
            assert!(get(PY, &texts[0]).is_some());
        }
        for text in &texts[1..4] {
            assert!(get(PY, text).is_none(), "evicted: {text}");
        }
        let trees = cache();
        assert!(trees.entries.len() <= MAX_ENTRIES && trees.bytes <= MAX_BYTES);
        assert_eq!(trees.bytes, trees.entries.iter().map(|e| e.content.len()).sum::<usize>());
    }

    #[test]
    fn oversized_contents_are_not_kept() {
        let text = format!("# {}\n", "x".repeat(MAX_KEPT_BYTES));
        put(PY, &text, &parse(PY, "x = 1\n").unwrap());
        assert!(get(PY, &text).is_none());
    }
}
