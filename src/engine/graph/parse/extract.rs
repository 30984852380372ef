//! The shared extractor: scope stack, entity/ref recording, signatures, doc comments,
//! cyclomatic complexity and error counting over any tree-sitter tree.
//!
//! Invariants:
//! - `entities[0]` is the file's module entity; every other entity's `parent` is an earlier
//!   index, so the list is in pre-order.
//! - Traversals that may meet arbitrarily deep trees (complexity, error count) are iterative;
//!   the language walkers recurse but stop descending past [`MAX_DEPTH`].
//! - Lines are 1-based; text that is not valid UTF-8 (never, given `&str` input) reads as "".

use tree_sitter::Node;

use super::{Language, RawRef, RefKind};
use crate::engine::graph::model::{EntityKind, RelationKind};

/// Recursion limit of the language walkers (deeper nodes are skipped, not an error).
pub const MAX_DEPTH: usize = 400;
/// Signatures are cut to this many characters.
const MAX_SIGNATURE: usize = 400;
/// Doc comments are cut to this many characters.
const MAX_DOC: usize = 2000;

/// An entity as parsed, before it has a database id.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedEntity {
    pub name: String,
    pub qualified_name: String,
    pub kind: EntityKind,
    pub start_line: u32,
    pub end_line: u32,
    pub signature: String,
    pub doc: Option<String>,
    pub complexity: u32,
    /// Index of the containing entity (`None` only for the module entity at index 0).
    pub parent: Option<usize>,
}

/// One level of lexical scope.
#[derive(Clone, Debug)]
pub struct Scope {
    /// The entity references made in this scope come from.
    pub entity: usize,
    /// Qualified-name prefix for entities defined here.
    pub qn: String,
    /// Local names meaning "the enclosing type" (`self`, `cls`, a Go receiver).
    pub self_names: Vec<String>,
}

pub struct Ctx<'a> {
    pub lang: Language,
    pub src: &'a [u8],
    pub module_qn: String,
    pub entities: Vec<ParsedEntity>,
    pub refs: Vec<RawRef>,
    /// Edges known at parse time (source index, target index, kind), besides `contains`.
    pub local_edges: Vec<(usize, usize, RelationKind)>,
    pub scopes: Vec<Scope>,
    pub depth: usize,
    /// Qualified name → index of the type entities recorded so far (impl/receiver lookup).
    pub types: std::collections::HashMap<String, usize>,
    /// What the `uses`/`returns` refs of this file need to remember (`type_refs`).
    pub type_refs: super::type_refs::State,
    /// Previous siblings of the children of the containers walked (`siblings`).
    pub siblings: super::siblings::Siblings,
}

impl<'a> Ctx<'a> {
    pub fn new(lang: Language, src: &'a [u8], module_qn: &str, root: Node) -> Ctx<'a> {
        let name = super::segments(module_qn).last().copied().unwrap_or("main").to_string();
        let module = ParsedEntity {
            name,
            qualified_name: module_qn.to_string(),
            kind: EntityKind::Module,
            start_line: 1,
            end_line: root.end_position().row as u32 + 1,
            signature: String::new(),
            doc: None,
            complexity: 1,
            parent: None,
        };
        Ctx {
            lang,
            src,
            module_qn: module_qn.to_string(),
            entities: vec![module],
            refs: Vec::new(),
            local_edges: Vec::new(),
            scopes: vec![Scope { entity: 0, qn: module_qn.to_string(), self_names: Vec::new() }],
            depth: 0,
            types: std::collections::HashMap::new(),
            type_refs: Default::default(),
            siblings: Default::default(),
        }
    }

    pub fn text(&self, node: Node) -> &'a str {
        node.utf8_text(self.src).unwrap_or("")
    }

    /// The source between two byte offsets (empty if they are not on character boundaries).
    pub fn bytes_text(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }

    pub fn field_text(&self, node: Node, field: &str) -> Option<&'a str> {
        node.child_by_field_name(field).map(|n| self.text(n))
    }

    pub fn scope(&self) -> &Scope {
        // The module scope is pushed in `new` and never popped.
        &self.scopes[self.scopes.len() - 1]
    }

    /// Whether `name` refers to the enclosing type in the current scope.
    pub fn is_self(&self, name: &str) -> bool {
        self.scope().self_names.iter().any(|s| s == name)
    }

    pub fn sep(&self) -> &'static str {
        self.lang.separator()
    }

    /// Records an entity inside the current scope and returns its index.
    pub fn add_entity(
        &mut self,
        node: Node,
        name: &str,
        kind: EntityKind,
        signature: String,
        doc: Option<String>,
        complexity: u32,
    ) -> usize {
        let scope = self.scope();
        let qualified_name = format!("{}{}{}", scope.qn, self.sep(), name);
        let parent = Some(scope.entity);
        self.entities.push(ParsedEntity {
            name: name.to_string(),
            qualified_name,
            kind,
            start_line: node.start_position().row as u32 + 1,
            end_line: node.end_position().row as u32 + 1,
            signature,
            doc,
            complexity,
            parent,
        });
        let idx = self.entities.len() - 1;
        if kind.is_type() {
            self.types.insert(self.entities[idx].qualified_name.clone(), idx);
        }
        idx
    }

    /// Records an entity directly under the module, whatever the current scope.
    pub fn add_module_entity(
        &mut self,
        node: Node,
        name: &str,
        kind: EntityKind,
        signature: String,
    ) -> usize {
        let saved = self.scopes.split_off(1);
        let idx = self.add_entity(node, name, kind, signature, None, 1);
        self.scopes.extend(saved);
        idx
    }

    /// Enters the scope of entity `idx` (its qualified name becomes the prefix).
    pub fn push_entity_scope(&mut self, idx: usize, self_names: Vec<String>) {
        let qn = self.entities[idx].qualified_name.clone();
        self.scopes.push(Scope { entity: idx, qn, self_names });
    }

    pub fn push_scope(&mut self, scope: Scope) {
        self.scopes.push(scope);
    }

    pub fn pop_scope(&mut self) {
        if self.scopes.len() > 1 {
            self.scopes.pop();
        }
    }

    /// Records a reference made from the current scope's entity.
    pub fn add_ref(
        &mut self,
        kind: RefKind,
        name: &str,
        path: Vec<String>,
        alias: Option<String>,
        node: Node,
    ) {
        let source = self.scope().entity;
        self.add_ref_from(source, kind, name, path, alias, node);
    }

    pub fn add_ref_from(
        &mut self,
        source: usize,
        kind: RefKind,
        name: &str,
        path: Vec<String>,
        alias: Option<String>,
        node: Node,
    ) {
        if name.is_empty() {
            return;
        }
        self.refs.push(RawRef {
            source,
            kind,
            name: name.to_string(),
            path,
            alias,
            line: node.start_position().row as u32 + 1,
        });
    }

    /// Records a type hint: in the current scope, `var` has the type `type_path`.
    pub fn add_hint(&mut self, var: &str, type_path: Vec<String>, node: Node) {
        if let Some((name, path)) = split_last(type_path) {
            let mut full = path;
            full.push(name);
            self.add_ref(RefKind::TypeHint, var, full, None, node);
        }
    }

    /// Records a call: `callee` with receiver/qualifier `path`.
    pub fn add_call(&mut self, callee: &str, path: Vec<String>, node: Node) {
        self.add_ref(RefKind::Calls, callee, path, None, node);
    }

    /// The declaration text from `node`'s start up to `body` (or the first line), one line.
    pub fn signature(&self, node: Node, body: Option<Node>) -> String {
        let start = node.start_byte();
        let end = match body {
            Some(b) if b.start_byte() > start => b.start_byte(),
            _ => {
                let rest = &self.src[start..node.end_byte()];
                start + rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())
            }
        };
        let raw = String::from_utf8_lossy(&self.src[start..end]);
        let mut out = String::with_capacity(raw.len());
        for word in raw.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        let trimmed = out.trim_end_matches(['{', ':', ' ', ';']).to_string();
        truncate(trimmed, MAX_SIGNATURE)
    }

    /// Doc comment from the comments right above `node` (skipping `skip` kinds such as
    /// attributes/decorators), accepted by `is_doc`, cleaned of comment markers.
    pub fn doc_above(&self, node: Node, skip: &[&str], is_doc: impl Fn(&str) -> bool) -> Option<String> {
        debug_assert!(skip.iter().all(|k| super::siblings::KINDS.contains(k)), "{skip:?}");
        let mut lines: Vec<&str> = Vec::new();
        let mut next_row = node.start_position().row;
        for prev in self.siblings.above(node) {
            if skip.contains(&prev.kind) {
                next_row = prev.start_row;
                continue;
            }
            if !prev.kind.contains("comment") || prev.end_row + 1 < next_row {
                break;
            }
            let text = self.bytes_text(prev.start_byte, prev.end_byte);
            if !is_doc(text) {
                break;
            }
            lines.push(text);
            next_row = prev.start_row;
        }
        if lines.is_empty() {
            return None;
        }
        lines.reverse();
        let cleaned: Vec<String> = lines.iter().flat_map(|t| super::siblings::clean_comment(t)).collect();
        let doc = cleaned.join("\n").trim().to_string();
        (!doc.is_empty()).then(|| truncate(doc, MAX_DOC))
    }
}

/// A Python-style string literal's content without quotes/prefixes, dedented.
pub fn unquote(text: &str) -> String {
    let t = text.trim_start_matches(['r', 'b', 'u', 'f', 'R', 'B', 'U', 'F']);
    let inner = ["\"\"\"", "'''", "\"", "'", "`"]
        .iter()
        .find_map(|q| t.strip_prefix(q).and_then(|s| s.strip_suffix(q)))
        .unwrap_or(t);
    let lines: Vec<&str> = inner.lines().map(str::trim).collect();
    truncate(lines.join("\n").trim().to_string(), MAX_DOC)
}

pub fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

fn split_last(mut v: Vec<String>) -> Option<(String, Vec<String>)> {
    let last = v.pop()?;
    Some((last, v))
}

/// Visits `node` and its descendants in pre-order without recursion; `f` returns whether to
/// descend into the node's children.
pub fn visit(node: Node, mut f: impl FnMut(Node) -> bool) {
    let mut cursor = node.walk();
    let mut descend = f(node);
    loop {
        if descend && cursor.goto_first_child() {
            descend = f(cursor.node());
            continue;
        }
        loop {
            if cursor.node() == node {
                return;
            }
            if cursor.goto_next_sibling() {
                descend = f(cursor.node());
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// 1 + the branch points inside `body`, not counting nested functions (`is_fn`).
pub fn complexity(body: Option<Node>, is_branch: impl Fn(Node) -> bool, is_fn: impl Fn(&str) -> bool) -> u32 {
    let mut n = 1;
    let Some(body) = body else { return n };
    visit(body, |node| {
        if node != body && is_fn(node.kind()) {
            return false;
        }
        if is_branch(node) {
            n += 1;
        }
        true
    });
    n
}

/// The binary operator of a `binary_expression`/`boolean_operator` node, if any.
pub fn operator(node: Node) -> Option<&'static str> {
    let op = node.child_by_field_name("operator")?;
    Some(match op.kind() {
        "&&" => "&&",
        "||" => "||",
        "??" => "??",
        "and" => "and",
        "or" => "or",
        _ => return None,
    })
}

/// Whether a binary node is a short-circuit (`&&`, `||`, `??`, `and`, `or`).
pub fn is_logical(node: Node) -> bool {
    operator(node).is_some()
}

/// ERROR and MISSING nodes under `root`.
pub fn count_errors(root: Node) -> u32 {
    let mut n = 0;
    visit(root, |node| {
        if node.is_error() || node.is_missing() {
            n += 1;
        }
        node.has_error()
    });
    n
}

/// Named children of `node` (a fresh cursor per call).
pub fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

/// String literal content (quotes stripped) for JS/TS/Python/Rust/Go string nodes.
pub fn string_value(ctx: &Ctx, node: Node) -> Option<String> {
    let kind = node.kind();
    if !(kind.contains("string") || kind == "template_string") {
        return None;
    }
    let t = ctx.text(node).trim();
    let inner = ["\"", "'", "`"].iter().find_map(|q| t.strip_prefix(q).and_then(|s| s.strip_suffix(q)))?;
    Some(inner.to_string())
}

/// HTTP method names recognised in route registrations.
pub fn http_method(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "get" => "GET",
        "post" => "POST",
        "put" => "PUT",
        "delete" => "DELETE",
        "patch" => "PATCH",
        "head" => "HEAD",
        "options" => "OPTIONS",
        "all" | "any" => "ANY",
        _ => return None,
    })
}

/// A member access (`a.b`, `self.x.y`) as a receiver path: the object's path (from `receiver`,
/// the language's own walk) plus the member; an unknown object (`?`) stays unknown.
pub fn member_path(
    ctx: &Ctx,
    node: Node,
    object_field: &str,
    member_field: &str,
    receiver: fn(&Ctx, Node) -> Vec<String>,
) -> Vec<String> {
    let (Some(object), Some(member)) =
        (node.child_by_field_name(object_field), node.child_by_field_name(member_field))
    else {
        return vec!["?".into()];
    };
    let mut path = receiver(ctx, object);
    if path.first().map(String::as_str) != Some("?") {
        path.push(ctx.text(member).to_string());
    }
    path
}
