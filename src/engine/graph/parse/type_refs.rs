//! Type references for the `uses` and `returns` relations: every named type inside a type node
//! (a parameter, field, local annotation or return type), generic arguments and unions
//! included, as [`RefKind::Uses`]/[`RefKind::Returns`] refs.
//!
//! Invariants:
//! - Only the type node itself is visited (a few nodes), never the surrounding tree, so
//!   collecting type references costs no extra walk of the file.
//! - A (source, kind, path) triple is recorded once per file; which names are the
//!   repository's own types is decided by resolution (a `String`, `Optional` or `Promise` finds
//!   no entity and gives no edge).
//! - Rust `Self` is written as the enclosing type's absolute path.
//! - Names that cannot be the repository's are not stored (they would only cost index time):
//!   an unqualified builtin or prelude type or trait of the language ([`builtin`]), a single
//!   capital letter (a generic parameter by convention: `T`, `E`, `F`), an associated type
//!   (`Self::Output`, `T::Item`), and a name or qualifier the
//!   file imports from the standard library (`use std::fmt;` → `fmt::Formatter`, Go
//!   `"net/http"` → `http.Request`, `from typing import Iterator`).

use std::collections::HashSet;

use tree_sitter::Node;

use super::extract::{Ctx, unquote, visit};
use super::rust_paths::{absolute, path_segments};
use super::{Language, RawRef, RefKind};

/// Per-file bookkeeping of the type references (lives in the parse context).
#[derive(Default)]
pub struct State {
    /// (source, is `returns`, joined path) of the refs recorded so far.
    seen: HashSet<(usize, bool, String)>,
    /// Local names the file imports from the standard library.
    std_names: HashSet<String>,
    /// How many of the file's refs have been looked at for `std_names`.
    scanned: usize,
}

/// Whether an import whose path starts with `root` comes from the language's standard library.
fn std_root(lang: Language, root: &str) -> bool {
    let known = crate::engine::project::known::known();
    match lang {
        Language::Rust => known.rust.std.contains(root),
        Language::Python => known.python.std.contains(root),
        Language::TypeScript | Language::Tsx | Language::JavaScript => {
            known.js.std.contains(root.strip_prefix("node:").unwrap_or(root))
        }
        Language::Go => !root.contains('.'),
    }
}

/// Whether `path` (as written, last segment = name) names a standard-library type.
fn from_std(ctx: &mut Ctx, path: &[String]) -> bool {
    let new = &ctx.refs[ctx.type_refs.scanned..];
    for r in new.iter().filter(|r| r.kind == RefKind::Imports) {
        let root = r.path.first().unwrap_or(&r.name);
        if let Some(alias) = r.alias.as_deref().filter(|a| *a != "*")
            && std_root(ctx.lang, root)
        {
            ctx.type_refs.std_names.insert(alias.to_string());
        }
    }
    ctx.type_refs.scanned = ctx.refs.len();
    let Some(first) = path.first() else { return false };
    ctx.type_refs.std_names.contains(first)
        || (path.len() > 1 && ctx.lang == Language::Rust && std_root(ctx.lang, first))
}

/// Records a `kind` ref from entity `source` for each type named inside `ty`.
pub fn add_type_refs(ctx: &mut Ctx, source: usize, kind: RefKind, ty: Node) {
    let mut found: Vec<(Vec<String>, u32)> = Vec::new();
    collect(ctx, ty, &mut found);
    for (path, line) in found {
        add(ctx, source, kind, path, line);
    }
}

/// The type paths inside `ty`, with their lines.
fn collect(ctx: &Ctx, ty: Node, out: &mut Vec<(Vec<String>, u32)>) {
    visit(ty, |n| match type_name(ctx, n) {
        Some(Named::Path(p)) => {
            out.push((p, n.start_position().row as u32 + 1));
            false
        }
        Some(Named::Paths(ps)) => {
            out.extend(ps.into_iter().map(|p| (p, n.start_position().row as u32 + 1)));
            false
        }
        Some(Named::Skip) => false,
        // Rust `Iterator<Item = T>`: `Item` names the trait's associated type, `T` a type.
        None if n.kind() == "type_binding" => {
            if let Some(t) = n.child_by_field_name("type") {
                collect(ctx, t, out);
            }
            false
        }
        None => true,
    });
}

/// Records one `kind` ref from `source` to the written type `path` (last segment = name).
pub fn add(ctx: &mut Ctx, source: usize, kind: RefKind, mut path: Vec<String>, line: u32) {
    if path.iter().any(String::is_empty) {
        return;
    }
    // `Self::Output`, `T::Item`: an associated type, never an entity.
    if path.len() > 1
        && (path[0] == "Self"
            || (path[0].len() == 1 && path[0].starts_with(|c: char| c.is_ascii_uppercase())))
    {
        return;
    }
    if let [name] = path.as_slice() {
        let mut chars = name.chars();
        let one_capital = chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.next().is_none();
        if one_capital || builtin(ctx.lang, name) {
            return;
        }
    }
    if from_std(ctx, &path)
        || !ctx.type_refs.seen.insert((source, kind == RefKind::Returns, path.join("\u{1f}")))
    {
        return;
    }
    let Some(name) = path.pop() else { return };
    ctx.refs.push(RawRef { source, kind, name, path, alias: None, line });
}

/// Unqualified type names that always mean the language's own type.
fn builtin(lang: Language, name: &str) -> bool {
    match lang {
        // The prelude's types and traits (`impl Into<T>`, `dyn Send`, `T: Clone` are everywhere).
        Language::Rust => matches!(
            name,
            "Result"
                | "Option"
                | "Box"
                | "Vec"
                | "String"
                | "Send"
                | "Sync"
                | "Sized"
                | "Unpin"
                | "Copy"
                | "Clone"
                | "Default"
                | "Drop"
                | "Eq"
                | "PartialEq"
                | "Ord"
                | "PartialOrd"
                | "Fn"
                | "FnMut"
                | "FnOnce"
                | "From"
                | "Into"
                | "TryFrom"
                | "TryInto"
                | "Iterator"
                | "IntoIterator"
                | "DoubleEndedIterator"
                | "ExactSizeIterator"
                | "Extend"
                | "AsRef"
                | "AsMut"
                | "ToOwned"
                | "ToString"
        ),
        Language::Python => matches!(
            name,
            "None"
                | "str"
                | "int"
                | "float"
                | "bool"
                | "bytes"
                | "list"
                | "dict"
                | "set"
                | "tuple"
                | "object"
                | "Any"
                | "Optional"
                | "List"
                | "Dict"
                | "Set"
                | "Tuple"
                | "Union"
        ),
        Language::TypeScript | Language::Tsx | Language::JavaScript => matches!(
            name,
            "string"
                | "number"
                | "boolean"
                | "object"
                | "null"
                | "undefined"
                | "Promise"
                | "Array"
                | "Record"
                | "Partial"
                | "Readonly"
                | "Map"
                | "Set"
        ),
        Language::Go => matches!(
            name,
            "error"
                | "string"
                | "bool"
                | "byte"
                | "rune"
                | "any"
                | "int"
                | "int8"
                | "int16"
                | "int32"
                | "int64"
                | "uint"
                | "uint8"
                | "uint16"
                | "uint32"
                | "uint64"
                | "uintptr"
                | "float32"
                | "float64"
                | "complex64"
                | "complex128"
        ),
    }
}

enum Named {
    /// A type path (don't descend).
    Path(Vec<String>),
    /// Several (a string holding a type expression; don't descend).
    Paths(Vec<Vec<String>>),
    /// Nothing here names a repository type (don't descend).
    Skip,
}

fn type_name(ctx: &Ctx, n: Node) -> Option<Named> {
    let path = |s: &str| s.split('.').map(|p| p.trim().to_string()).collect::<Vec<_>>();
    match ctx.lang {
        Language::Rust => match n.kind() {
            "type_identifier" if ctx.text(n) == "Self" => self_type(ctx).map(Named::Path),
            "type_identifier" => Some(Named::Path(vec![ctx.text(n).to_string()])),
            "scoped_type_identifier" => {
                let mut segs = Vec::new();
                path_segments(ctx, n, &mut segs);
                Some(Named::Path(absolute(ctx, segs)))
            }
            // Lifetimes, `T: Bound` in `impl`, primitive types.
            "lifetime" | "primitive_type" => Some(Named::Skip),
            _ => None,
        },
        Language::Python => match n.kind() {
            "identifier" => Some(Named::Path(vec![ctx.text(n).to_string()])),
            "attribute" => Some(Named::Path(path(ctx.text(n)))),
            "string" => {
                // A forward reference: `"Repository"`, `"Repository | None"`, `"list[Item]"`.
                let t = unquote(ctx.text(n));
                let names = t
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                    .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()))
                    .map(path)
                    .collect();
                Some(Named::Paths(names))
            }
            "none" | "integer" | "true" | "false" => Some(Named::Skip),
            _ => None,
        },
        Language::TypeScript | Language::Tsx | Language::JavaScript => match n.kind() {
            "type_identifier" => Some(Named::Path(vec![ctx.text(n).to_string()])),
            "nested_type_identifier" => Some(Named::Path(path(ctx.text(n)))),
            "predefined_type" | "literal_type" | "type_query" => Some(Named::Skip),
            _ => None,
        },
        Language::Go => match n.kind() {
            "type_identifier" => Some(Named::Path(vec![ctx.text(n).to_string()])),
            "qualified_type" => Some(Named::Path(path(ctx.text(n)))),
            _ => None,
        },
    }
}

/// The absolute path of the type whose `impl`/body encloses the current scope.
fn self_type(ctx: &Ctx) -> Option<Vec<String>> {
    let scope = ctx.scopes.iter().rev().find(|s| s.self_names.iter().any(|n| n == "Self"))?;
    // A method's scope is `module::Type::method`; the impl's own scope is `module::Type`.
    let e = &ctx.entities[scope.entity];
    let qn = if e.kind.is_callable() {
        scope.qn.rsplit_once("::").map_or(scope.qn.as_str(), |(t, _)| t)
    } else {
        scope.qn.as_str()
    };
    Some(qn.split("::").map(str::to_string).collect())
}

/// JSDoc `@returns {T}` / `@param {T} name` of a JavaScript function's doc comment: the type
/// names inside the braces (`Promise<User>`, `User|null`, `Array.<User>` → `Promise`, `User`,
/// `Array`), `(is_return, path)` each.
pub fn jsdoc_types(doc: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    for line in doc.lines() {
        let line = line.trim();
        let is_return = line.starts_with("@returns") || line.starts_with("@return ");
        let is_uses = line.starts_with("@param") || line.starts_with("@type ");
        if !is_return && !is_uses {
            continue;
        }
        let Some(inner) = line.split_once('{').and_then(|(_, r)| r.split_once('}')).map(|(t, _)| t) else {
            continue;
        };
        for word in inner.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '$')) {
            let word = word.trim_matches('.');
            if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            out.push((is_return, word.split('.').map(str::to_string).collect()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsdoc_type_names() {
        let got = jsdoc_types("Loads a user.\n@param {string} id the id\n@returns {Promise<User|null>} it");
        let names: Vec<(bool, String)> = got.into_iter().map(|(r, p)| (r, p.join("."))).collect();
        assert_eq!(
            names,
            [
                (false, "string".to_string()),
                (true, "Promise".to_string()),
                (true, "User".to_string()),
                (true, "null".to_string()),
            ]
        );
        assert!(builtin(Language::JavaScript, "Promise") && !builtin(Language::JavaScript, "User"));
        assert!(jsdoc_types("@returns nothing useful").is_empty());
    }
}
