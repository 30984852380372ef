//! Documentation coverage for `kv1nt graph stats`: of the public items the index holds, how many
//! have a doc comment, and the first undocumented ones.
//!
//! "Public" per language, from what the index stores: Rust a `pub ` signature (not
//! `pub(crate)`); Go an exported (capitalised) name; Python, TypeScript and JavaScript a name
//! without a leading `_` or `#` (their export is not in the stored signature). Modules,
//! variables, endpoints and tests (`explain::is_test`) are not counted.

use serde::Serialize;

use crate::engine::grammars::Language;
use crate::engine::graph::query::ENTITY_COLUMNS;
use crate::engine::graph::{Entity, EntityKind, GraphDb, Result};

/// Most undocumented items listed.
pub const MAX_LISTED: usize = 20;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DocCoverage {
    pub public_items: usize,
    pub documented: usize,
    /// `kind qualified_name — file:line`, the first [`MAX_LISTED`] by file and line.
    pub undocumented: Vec<String>,
}

impl DocCoverage {
    /// Documented share in percent (100 when there is nothing public).
    pub fn percent(&self) -> f64 {
        if self.public_items == 0 { 100.0 } else { self.documented as f64 * 100.0 / self.public_items as f64 }
    }
}

/// Whether the index's `e` is part of its file's public surface.
pub fn is_public(e: &Entity) -> bool {
    let counted = !matches!(
        e.kind,
        EntityKind::Module | EntityKind::Variable | EntityKind::ApiEndpoint | EntityKind::Package
    );
    if !counted || super::explain::is_test(e) {
        return false;
    }
    match Language::from_path(&e.file) {
        Some(Language::Rust) => e.signature.starts_with("pub ") || e.signature.starts_with("pub unsafe "),
        Some(Language::Go) => e.name.starts_with(|c: char| c.is_uppercase()),
        Some(_) => !e.name.starts_with(['_', '#']),
        None => false,
    }
}

pub fn coverage(db: &GraphDb) -> Result<DocCoverage> {
    let sql = format!("SELECT {ENTITY_COLUMNS} FROM entities e ORDER BY e.file, e.start_line, e.id");
    let mut st = db.connection().prepare(&sql)?;
    let mut out = DocCoverage::default();
    for e in st.query_map([], crate::engine::graph::query::entity_from_row)?.flatten() {
        if !is_public(&e) {
            continue;
        }
        out.public_items += 1;
        if e.doc.as_deref().is_some_and(|d| !d.trim().is_empty()) {
            out.documented += 1;
        } else if out.undocumented.len() < MAX_LISTED {
            out.undocumented.push(format!(
                "{} {} — {}:{}",
                e.kind.as_str(),
                e.qualified_name,
                e.file,
                e.start_line
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(kind: EntityKind, name: &str, file: &str, signature: &str) -> Entity {
        Entity {
            id: 1,
            name: name.into(),
            qualified_name: name.into(),
            kind,
            file: file.into(),
            start_line: 1,
            end_line: 2,
            signature: signature.into(),
            doc: None,
            complexity: 1,
        }
    }

    #[test]
    fn public_by_language() {
        assert!(is_public(&entity(EntityKind::Function, "open", "src/a.rs", "pub fn open()")));
        assert!(!is_public(&entity(EntityKind::Function, "open", "src/a.rs", "pub(crate) fn open()")));
        assert!(!is_public(&entity(EntityKind::Function, "open", "src/a.rs", "fn open()")));
        assert!(is_public(&entity(EntityKind::Function, "Open", "db/a.go", "func Open()")));
        assert!(!is_public(&entity(EntityKind::Function, "open", "db/a.go", "func open()")));
        assert!(is_public(&entity(EntityKind::Class, "User", "app/m.py", "class User")));
        assert!(!is_public(&entity(EntityKind::Method, "_key", "app/m.py", "def _key(self)")));
        assert!(!is_public(&entity(EntityKind::Function, "test_x", "tests/test_a.py", "def test_x()")));
        assert!(!is_public(&entity(EntityKind::Module, "app", "app/__init__.py", "")));
    }
}
