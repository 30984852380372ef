//! The siblings just above an item — its doc comments and attributes — found without
//! tree-sitter's `prev_sibling`, which locates the node's parent by descending from the root and
//! then scans the parent's children: O(N) a call, so O(N²) over a file of N items (6 % of a
//! full index of the Rust corpus went there).
//!
//! A walker that iterates a container's children first calls [`Siblings::note`] on it; every
//! child then knows its previous sibling (anonymous nodes included, as `prev_sibling` returns
//! them). Nodes of containers not noted fall back to `prev_sibling`.
//!
//! [`clean_comment`] takes the markers off those doc comments.
//!
//! Invariant: [`Siblings::above`] yields what repeated `prev_sibling` calls would, for any node.

use std::collections::HashMap;

use tree_sitter::Node;

/// The kinds doc and attribute lookups tell apart; any other kind is `"other"`, and every kind
/// containing "comment" is `"comment"`. (`Node::kind` lives only as long as the tree.)
pub const KINDS: &[&str] = &["attribute_item", "inner_attribute_item", "decorator", "comment", "other"];

fn kind_of(kind: &str) -> &'static str {
    if kind.contains("comment") {
        return "comment";
    }
    KINDS.iter().find(|k| **k == kind).copied().unwrap_or("other")
}

/// What doc and attribute lookups need of a sibling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sibling {
    pub id: usize,
    pub kind: &'static str,
    pub start_row: usize,
    pub end_row: usize,
    pub start_byte: usize,
    pub end_byte: usize,
}

impl Sibling {
    pub fn of(node: Node) -> Sibling {
        Sibling {
            id: node.id(),
            kind: kind_of(node.kind()),
            start_row: node.start_position().row,
            end_row: node.end_position().row,
            start_byte: node.start_byte(),
            end_byte: node.end_byte(),
        }
    }
}

/// Node id → its previous sibling (`None`: the first child) for the children of noted containers.
#[derive(Debug, Default)]
pub struct Siblings(HashMap<usize, Option<Sibling>>);

impl Siblings {
    /// Records the previous sibling of each child of `container`.
    pub fn note(&mut self, container: Node) {
        let mut cursor = container.walk();
        let mut prev = None;
        for child in container.children(&mut cursor) {
            self.0.insert(child.id(), prev);
            prev = Some(Sibling::of(child));
        }
    }

    /// The siblings above `node`, nearest first.
    pub fn above<'s, 't: 's>(&'s self, node: Node<'t>) -> impl Iterator<Item = Sibling> + 's {
        let (mut cur, mut cur_node) = (Sibling::of(node), Some(node));
        std::iter::from_fn(move || {
            let mut found = None;
            let prev = self.prev_of(&cur, || {
                found = cur_node.and_then(|n| n.prev_sibling());
                found
            })?;
            (cur, cur_node) = (prev, found);
            Some(prev)
        })
    }

    /// The sibling before `s`; `fallback` is asked only when `s`'s container was not noted.
    pub fn prev_of<'t>(&self, s: &Sibling, fallback: impl FnOnce() -> Option<Node<'t>>) -> Option<Sibling> {
        match self.0.get(&s.id) {
            Some(prev) => *prev,
            None => fallback().map(Sibling::of),
        }
    }
}

/// Removes comment markers (`///`, `//!`, `//`, `#`, `/**`, `*/`, leading `*`) line by line.
pub fn clean_comment(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let l = l.trim();
            let l = l.strip_suffix("*/").unwrap_or(l);
            let l = ["///", "//!", "//", "/**", "/*", "*", "#"]
                .iter()
                .find_map(|m| l.strip_prefix(m))
                .unwrap_or(l);
            l.trim().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::grammars::{self, Grammar, Language};
    use crate::engine::graph::parse::extract::visit;

    /// Every noted node's previous sibling is tree-sitter's `prev_sibling`.
    #[test]
    fn noted_previous_siblings_equal_tree_sitters() {
        let src = "//! m\n/// a\n#[derive(X)]\nstruct A;\n\n// x\nfn f() { let a = 1; g(a); }\nimpl A {\n    /// d\n    fn m(&self) {}\n}\n";
        let tree = grammars::parse(Grammar::Code(Language::Rust), src).unwrap();
        let mut siblings = Siblings::default();
        let mut checked = 0;
        // Pre-order: a node's container is noted before the node is checked.
        visit(tree.root_node(), |n| {
            let above: Vec<Sibling> = siblings.above(n).collect();
            let mut want = Vec::new();
            let mut cur = n.prev_sibling();
            while let Some(p) = cur {
                want.push(Sibling::of(p));
                cur = p.prev_sibling();
            }
            assert_eq!(above, want, "{}", n.kind());
            siblings.note(n);
            checked += 1;
            true
        });
        assert!(checked > 30);
    }
}
