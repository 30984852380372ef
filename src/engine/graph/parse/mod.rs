//! Source → entities and unresolved references, one tree-sitter grammar per language (which
//! file is which [`Language`], and the parsers, are `engine::grammars`).
//!
//! Each language module walks the syntax tree with the shared [`extract::Ctx`] and produces a
//! [`ParsedFile`]: entities in pre-order (a parent always precedes its children, index 0 is the
//! file's module entity) and [`RawRef`]s naming what the code calls, imports, inherits or which
//! variables have a known type. Resolution to entity ids happens later, globally
//! ([`super::resolve`]), because it needs every file's symbols.
//!
//! Invariants:
//! - Parsing never fails on bad syntax: tree-sitter recovers, the entities of the partial tree
//!   are kept and `errors` counts ERROR/MISSING nodes.
//! - Qualified names use the language's separator (`::` Rust, `.` elsewhere; TS/JS module paths
//!   keep `/`); [`segments`] splits any of them into the same segment list, which is what
//!   resolution compares.
//! - Import paths in refs are absolute (relative `super::`, `from .x`, `./x` are resolved
//!   against the file's module here), so resolution never needs the importing file's location.

mod extract;
mod go;
mod javascript;
mod python;
mod rust;
mod rust_paths;
mod siblings;
mod type_refs;
mod typescript;

use super::model::EntityKind;
use crate::engine::grammars::{self, Grammar};

pub use extract::ParsedEntity;

pub use crate::engine::grammars::Language;

impl Language {
    /// The separator between a qualified name's members.
    pub fn separator(self) -> &'static str {
        if self == Language::Rust { "::" } else { "." }
    }
}

/// What an unresolved reference asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefKind {
    Calls,
    Imports,
    Inherits,
    Implements,
    /// An endpoint's handler (source is the endpoint).
    Handles,
    /// `uses`: a type named in a parameter, field or local annotation of the source.
    Uses,
    /// `returns`: a type named in the source function's return type.
    Returns,
    /// Not an edge: `name` (a variable, or `self.field`) has the type `path` inside the source
    /// entity's scope. Used to resolve method calls on that variable.
    TypeHint,
}

impl RefKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RefKind::Calls => "calls",
            RefKind::Imports => "imports",
            RefKind::Inherits => "inherits",
            RefKind::Implements => "implements",
            RefKind::Handles => "handles",
            RefKind::Uses => "uses",
            RefKind::Returns => "returns",
            RefKind::TypeHint => "typehint",
        }
    }

    pub fn parse(s: &str) -> Option<RefKind> {
        [
            RefKind::Calls,
            RefKind::Imports,
            RefKind::Inherits,
            RefKind::Implements,
            RefKind::Handles,
            RefKind::Uses,
            RefKind::Returns,
            RefKind::TypeHint,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A reference found in the source, to be resolved against the global symbol table.
///
/// - Calls: `name` is the callee's last segment, `path` the receiver/qualifier segments:
///   `[]` bare call, `["self"]` the enclosing type (`self.`, `this.`, `Self::`, Go receiver),
///   `["a", "b"]` a path or variable chain, `["?"]` an expression receiver.
/// - Imports: `path` + `name` is the absolute imported path, `alias` the local name (`*` glob).
/// - Inherits/Implements/Handles/Uses/Returns: `path` + `name` is the written type/handler
///   path.
/// - TypeHint: `name` is the variable key, `path` the type path.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRef {
    /// Index into [`ParsedFile::entities`].
    pub source: usize,
    pub kind: RefKind,
    pub name: String,
    pub path: Vec<String>,
    pub alias: Option<String>,
    pub line: u32,
}

/// The result of parsing one file.
#[derive(Clone, Debug)]
pub struct ParsedFile {
    pub language: Language,
    pub entities: Vec<ParsedEntity>,
    pub refs: Vec<RawRef>,
    /// Edges known at parse time besides `contains` (e.g. an endpoint to its handler in the
    /// same file): (source index, target index, kind).
    pub local_edges: Vec<(usize, usize, super::model::RelationKind)>,
    /// ERROR and MISSING nodes in the tree (0 for a clean parse).
    pub errors: u32,
}

/// Splits a qualified name or path into segments (`::`, `.` and `/` all separate).
pub fn segments(qualified: &str) -> Vec<&str> {
    qualified.split([':', '.', '/']).filter(|s| !s.is_empty()).collect()
}

/// The module path of a file: Rust `crate::a::b` (relative to the nearest `src/`), Python
/// `pkg.mod` (`__init__` dropped, a leading `src/` dropped), TS/JS the path without extension,
/// Go the directory (or `main` at the root).
pub fn module_path(lang: Language, rel_path: &str) -> String {
    let no_ext = rel_path.rsplit_once('.').map_or(rel_path, |(p, _)| p);
    match lang {
        Language::Rust => {
            let tail = match no_ext.rfind("src/") {
                Some(i) if i == 0 || no_ext[..i].ends_with('/') => &no_ext[i + 4..],
                _ => no_ext,
            };
            let mut parts: Vec<&str> = tail.split('/').filter(|s| !s.is_empty()).collect();
            if matches!(parts.last(), Some(&"mod") | Some(&"lib") | Some(&"main")) {
                parts.pop();
            }
            let mut out = String::from("crate");
            for p in parts {
                out.push_str("::");
                out.push_str(p);
            }
            out
        }
        Language::Python => {
            let p = no_ext.strip_prefix("src/").unwrap_or(no_ext);
            let mut parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
            if parts.len() > 1 && parts.last() == Some(&"__init__") {
                parts.pop();
            }
            parts.join(".")
        }
        Language::TypeScript | Language::Tsx | Language::JavaScript => {
            no_ext.strip_suffix("/index").unwrap_or(no_ext).to_string()
        }
        Language::Go => match rel_path.rsplit_once('/') {
            Some((dir, _)) => dir.to_string(),
            None => "main".to_string(),
        },
    }
}

/// Parses `src` (the file at `rel_path`, `/`-separated, relative to the repository root).
/// Returns `None` only when tree-sitter gives up (cancelled or out of memory).
pub fn parse_source(lang: Language, rel_path: &str, src: &str) -> Option<ParsedFile> {
    let tree = grammars::parse(Grammar::Code(lang), src)?;
    let root = tree.root_node();
    let module = module_path(lang, rel_path);
    let mut ctx = extract::Ctx::new(lang, src.as_bytes(), &module, root);
    match lang {
        Language::Rust => rust::walk(&mut ctx, root),
        Language::Python => python::walk(&mut ctx, root),
        Language::TypeScript | Language::Tsx => typescript::walk(&mut ctx, root),
        Language::JavaScript => javascript::walk(&mut ctx, root),
        Language::Go => go::walk(&mut ctx, root),
    }
    let errors = if root.has_error() { extract::count_errors(root) } else { 0 };
    Some(ParsedFile {
        language: lang,
        entities: ctx.entities,
        refs: ctx.refs,
        local_edges: ctx.local_edges,
        errors,
    })
}

/// Whether `kind` is one the parser emits for a module-level container.
pub fn is_container(kind: EntityKind) -> bool {
    kind == EntityKind::Module || kind.is_type()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_paths() {
        assert_eq!(module_path(Language::Rust, "src/lib.rs"), "crate");
        assert_eq!(module_path(Language::Rust, "src/store/mod.rs"), "crate::store");
        assert_eq!(module_path(Language::Rust, "crates/x/src/a/b.rs"), "crate::a::b");
        assert_eq!(module_path(Language::Python, "src/app/models.py"), "app.models");
        assert_eq!(module_path(Language::Python, "app/__init__.py"), "app");
        assert_eq!(module_path(Language::TypeScript, "src/a/index.ts"), "src/a");
        assert_eq!(module_path(Language::Go, "store/repo.go"), "store");
        assert_eq!(segments("crate::a::B.c/d"), vec!["crate", "a", "B", "c", "d"]);
    }
}
