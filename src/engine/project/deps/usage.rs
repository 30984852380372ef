//! What the code imports, per file, as package names of its ecosystem: from the knowledge
//! graph's stored references when the repository is indexed ([`Usage::from_graph`]), else from
//! the graph's own tree-sitter extraction run on the files now ([`Usage::from_parse`]) — one
//! extractor either way (`graph::parse`).
//!
//! A `use`/`import` is a *certain* use (it may make a package missing); in Rust, a qualified
//! path in code (`serde_json::to_string(…)`, `impl serde::Serialize`) only proves a declared
//! crate used, because the same reference shape also names local variables (`x.len()`).

use std::collections::BTreeSet;
use std::path::Path;

use rayon::prelude::*;

use super::{Ecosystem, go, js, rust};
use crate::engine::grammars::Language;
use crate::engine::graph::GraphDb;
use crate::engine::graph::parse::{self, RefKind};
use crate::engine::project::walk::{self, RepoFile};

/// One package name a file uses.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Import {
    pub ecosystem: Ecosystem,
    /// Rust: the crate's identifier; Python: the top-level module; JS: the package; Go: the
    /// whole import path.
    pub name: String,
    pub file: String,
    /// From an import statement (rather than a qualified path in code).
    pub certain: bool,
}

/// The imports of a repository and where they were read from.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    /// `graph` (the index) or `parse` (the files, parsed now).
    pub source: &'static str,
    pub imports: Vec<Import>,
    /// The code files looked at (for local module names).
    pub files: Vec<String>,
}

/// The package a reference names, if it names one outside the file's own project.
pub fn import_of(lang: Language, file: &str, kind: RefKind, name: &str, path: &[&str]) -> Option<Import> {
    let ecosystem = Ecosystem::of(lang);
    let is_import = kind == RefKind::Imports;
    let mut full: Vec<&str> = path.to_vec();
    full.push(name);
    let first = *full.first()?;
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    let (name, certain) = match ecosystem {
        Ecosystem::Rust if is_import => (rust::crate_of(first)?.to_string(), true),
        Ecosystem::Rust
            if matches!(
                kind,
                RefKind::Calls | RefKind::TypeHint | RefKind::Inherits | RefKind::Implements
            ) && !path.is_empty() =>
        {
            let first = path[0];
            if !(ident(first) && first.starts_with(|c: char| c.is_ascii_lowercase())) {
                return None;
            }
            (rust::crate_of(first)?.to_string(), false)
        }
        Ecosystem::Python if is_import => {
            let known = crate::engine::project::known::known();
            (!known.python.std.contains(first) && ident(first)).then(|| (first.to_string(), true))?
        }
        Ecosystem::Js if is_import => (js::package_of(&full)?, true),
        Ecosystem::Go if is_import => {
            let import = full.join("/");
            (!go::is_std(&import)).then_some((import, true))?
        }
        _ => return None,
    };
    Some(Import { ecosystem, name, file: file.to_string(), certain })
}

fn code_file(rel: &str) -> Option<Language> {
    crate::engine::learning::conventions::ours(rel).then(|| Language::from_path(rel)).flatten()
}

impl Usage {
    /// Parse every code file among `files` with the graph's extractor.
    pub fn from_parse(files: &[RepoFile]) -> Usage {
        let code: Vec<(&RepoFile, Language)> =
            files.iter().filter_map(|f| code_file(&f.rel).map(|l| (f, l))).collect();
        let mut imports: Vec<Import> = code
            .par_iter()
            .flat_map_iter(|(f, lang)| {
                let parsed = walk::read(&f.abs).and_then(|src| parse::parse_source(*lang, &f.rel, &src));
                parsed
                    .map(|p| {
                        p.refs
                            .iter()
                            .filter_map(|r| {
                                let path: Vec<&str> = r.path.iter().map(String::as_str).collect();
                                import_of(*lang, &f.rel, r.kind, &r.name, &path)
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect();
        imports.sort();
        imports.dedup();
        Usage { source: "parse", imports, files: code.iter().map(|(f, _)| f.rel.clone()).collect() }
    }

    /// The references the index holds (`None` when it has no files: not indexed yet).
    pub fn from_graph(db: &GraphDb) -> Option<Usage> {
        let conn = db.connection();
        let mut st = conn.prepare("SELECT path FROM files ORDER BY path").ok()?;
        let files: Vec<String> = st
            .query_map([], |r| r.get::<_, String>(0))
            .ok()?
            .filter_map(Result::ok)
            .filter(|f| code_file(f).is_some())
            .collect();
        if files.is_empty() {
            return None;
        }
        let mut st = conn
            .prepare(
                "SELECT file, kind, name, path FROM refs
                 WHERE kind = 'imports' OR (path != '' AND kind IN ('calls', 'typehint', 'inherits', 'implements'))",
            )
            .ok()?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .ok()?;
        let mut imports = BTreeSet::new();
        for (file, kind, name, path) in rows.filter_map(Result::ok) {
            let (Some(lang), Some(kind)) = (code_file(&file), RefKind::parse(&kind)) else { continue };
            let path: Vec<&str> = path.split('\u{1f}').filter(|s| !s.is_empty()).collect();
            if let Some(i) = import_of(lang, &file, kind, &name, &path) {
                imports.insert(i);
            }
        }
        Some(Usage { source: "graph", imports: imports.into_iter().collect(), files })
    }

    /// From the index at `db_path` when it exists and holds files, else by parsing; with the
    /// Rust files' qualified paths ([`rust_paths`]).
    pub fn gather(db_path: Option<&Path>, files: &[RepoFile]) -> Usage {
        let mut usage = db_path
            .filter(|p| p.exists())
            .and_then(|p| GraphDb::open(p).ok())
            .and_then(|db| Usage::from_graph(&db))
            .unwrap_or_else(|| Usage::from_parse(files));
        usage.add_rust_paths(files);
        usage
    }

    /// Adds the crates Rust files name in qualified paths (uncertain uses).
    pub fn add_rust_paths(&mut self, files: &[RepoFile]) {
        let more: Vec<Import> = files
            .par_iter()
            .filter(|f| code_file(&f.rel) == Some(Language::Rust))
            .flat_map_iter(|f| {
                let text = walk::read(&f.abs).unwrap_or_default();
                rust_paths(&text)
                    .into_iter()
                    .filter_map(|name| rust::crate_of(&name).map(str::to_string))
                    .map(|name| Import {
                        ecosystem: Ecosystem::Rust,
                        name,
                        file: f.rel.clone(),
                        certain: false,
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        self.imports.extend(more);
        self.imports.sort();
        self.imports.dedup();
    }
}

/// The first segments of the qualified paths in Rust source (`tracing::info!`,
/// `#[derive(thiserror::Error)]`, `tree_sitter_rust::LANGUAGE`): crates are used without a
/// `use`, in attributes and macro arguments the syntax tree keeps as unparsed tokens. They
/// only prove a declared crate used (never make one missing), so a word in a comment costs
/// at most an unreported unused dependency.
pub fn rust_paths(src: &str) -> BTreeSet<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"(?:^|[^A-Za-z0-9_:])([a-z_][a-z0-9_]*)\s*::").expect("valid regex")
    });
    re.captures_iter(src).filter_map(|c| c.get(1)).map(|m| m.as_str().to_string()).collect()
}

/// Names that are the repository's own modules, not packages: Python's top-level modules (a
/// file's module path's first segment), Rust's module names (any segment of a file's module
/// path: `use store::x` inside `src/` names the child module `store`), and the entries at the
/// root (what a relative JS import resolves to).
#[derive(Clone, Debug, Default)]
pub struct LocalNames {
    pub python: BTreeSet<String>,
    pub rust: BTreeSet<String>,
    pub root: BTreeSet<String>,
}

pub fn local_names(root: &Path, files: &[RepoFile]) -> LocalNames {
    let mut out = LocalNames::default();
    for f in files {
        match Language::from_path(&f.rel) {
            Some(Language::Python) => {
                let module = parse::module_path(Language::Python, &f.rel);
                if let Some(first) = module.split('.').next() {
                    out.python.insert(first.to_string());
                }
            }
            Some(Language::Rust) => {
                let module = parse::module_path(Language::Rust, &f.rel);
                out.rust.extend(module.split("::").skip(1).map(str::to_string));
                if let Some(stem) = walk::file_name(&f.rel).strip_suffix(".rs") {
                    out.rust.insert(stem.to_string());
                }
            }
            _ => {}
        }
    }
    for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
        if let Some(name) = entry.file_name().to_str() {
            let stem = name.split('.').next().unwrap_or(name);
            if !stem.is_empty() && name != "node_modules" {
                out.root.insert(stem.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_package_names() {
        let i = |lang, kind, name: &str, path: &[&str]| {
            import_of(lang, "f", kind, name, path).map(|i| (i.name, i.certain))
        };
        assert_eq!(
            i(Language::Rust, RefKind::Imports, "Serialize", &["serde"]),
            Some(("serde".into(), true))
        );
        assert_eq!(i(Language::Rust, RefKind::Imports, "HashMap", &["std", "collections"]), None);
        assert_eq!(i(Language::Rust, RefKind::Imports, "x", &["crate", "a"]), None);
        assert_eq!(
            i(Language::Rust, RefKind::Calls, "to_string", &["serde_json"]),
            Some(("serde_json".into(), false))
        );
        assert_eq!(i(Language::Rust, RefKind::Calls, "len", &[]), None);
        assert_eq!(i(Language::Rust, RefKind::Calls, "new", &["Vec"]), None);
        assert_eq!(i(Language::Python, RefKind::Imports, "Image", &["PIL"]), Some(("PIL".into(), true)));
        assert_eq!(i(Language::Python, RefKind::Imports, "os", &[]), None);
        assert_eq!(
            i(Language::TypeScript, RefKind::Imports, "x", &["@scope", "pkg"]),
            Some(("@scope/pkg".into(), true))
        );
        assert_eq!(i(Language::JavaScript, RefKind::Imports, "fs", &[]), None);
        assert_eq!(
            i(Language::Go, RefKind::Imports, "text", &["golang.org", "x"]),
            Some(("golang.org/x/text".into(), true))
        );
        assert_eq!(i(Language::Go, RefKind::Imports, "http", &["net"]), None);
        let paths = rust_paths(
            "#[derive(thiserror::Error)]\nfn f() { tracing::info!(\"x\"); let l = tree_sitter_rust::LANGUAGE; std::mem::drop(Foo::new()); a::b::c(); }",
        );
        assert_eq!(
            paths.into_iter().collect::<Vec<_>>(),
            ["a", "std", "thiserror", "tracing", "tree_sitter_rust"]
        );
    }
}
