//! Reference resolution: unresolved [`RefRow`]s → relations between entity ids.
//!
//! Strengths:
//! - **1.0** — resolved through scope (`self.x()`/`Self::x`/`this.x()` in the enclosing type or
//!   its bases, the enclosing function/module, the same Go package), a typed variable
//!   (`let x = Repo::new()`, `repo: Repo`, `self.repo = Repo()`), an import alias or an
//!   absolute/module path that matches exactly one entity's qualified-name suffix.
//! - **0.6** — the only entity of a fitting kind with that name elsewhere (same language family).
//! - **0.3** — one of 2..=[`MAX_CANDIDATES`] such entities; more candidates → no edge.
//!
//! Invariants:
//! - A reference whose qualifier is known to be external (an import that matches nothing, a
//!   `std::`/`core::`/`alloc::` path, an unknown capitalised type) yields no relation.
//! - Resolution only reads the [`Sym`]s and context refs it is given; callers decide how much
//!   of the graph to load (everything for a full run; the names involved for one file).

mod scope;

use std::collections::HashMap;

use super::model::{EntityKind, RelationKind};
use super::parse::{Language, RefKind, segments};

/// At most this many targets for an ambiguous name-only match.
pub const MAX_CANDIDATES: usize = 5;

/// An entity as the resolver sees it.
#[derive(Clone, Debug)]
pub struct Sym {
    pub id: i64,
    pub name: String,
    pub qn: String,
    pub kind: EntityKind,
    pub file: String,
}

/// A stored reference.
#[derive(Clone, Debug)]
pub struct RefRow {
    pub id: i64,
    pub file: String,
    pub source: i64,
    pub kind: RefKind,
    pub name: String,
    pub path: Vec<String>,
    pub alias: Option<String>,
}

/// One resolved edge, tied to the reference it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub ref_id: i64,
    pub source: i64,
    pub target: i64,
    pub kind: RelationKind,
    pub strength: f32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Rust,
    Python,
    Ecma,
    Go,
    Other,
}

fn family(file: &str) -> Family {
    match Language::from_path(file) {
        Some(Language::Rust) => Family::Rust,
        Some(Language::Python) => Family::Python,
        Some(Language::TypeScript | Language::Tsx | Language::JavaScript) => Family::Ecma,
        Some(Language::Go) => Family::Go,
        None => Family::Other,
    }
}

/// `a::b::C::m` → `a::b::C`.
fn container<'a>(qn: &'a str, name: &str) -> &'a str {
    qn.strip_suffix(name).unwrap_or(qn).trim_end_matches([':', '.', '/'])
}

enum Base {
    Type(usize),
    Path(Vec<String>, bool),
    External,
    Unknown,
}

thread_local! {
    /// Nesting of [`Resolver::expand`] on this thread: type hints can be cyclic (`x: x`), so
    /// it is bounded. Per thread rather than per resolver, so a resolver is `Sync` and one
    /// table serves every thread of a parallel resolution.
    static EXPAND_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

pub struct Resolver<'a> {
    syms: &'a [Sym],
    segs: Vec<Vec<&'a str>>,
    fams: Vec<Family>,
    by_name: HashMap<&'a str, Vec<usize>>,
    by_id: HashMap<i64, usize>,
    by_qn: HashMap<(&'a str, &'a str), usize>,
    imports: HashMap<(&'a str, &'a str), Vec<String>>,
    globs: HashMap<&'a str, Vec<Vec<String>>>,
    hints: HashMap<(i64, &'a str), &'a [String]>,
    bases: HashMap<i64, Vec<&'a RefRow>>,
    named_impls: Vec<&'a RefRow>,
}

impl<'a> Resolver<'a> {
    /// `context` must hold the imports, type hints and inherits/implements refs of every file
    /// whose refs will be resolved (more is fine).
    pub fn new(syms: &'a [Sym], context: &'a [RefRow]) -> Resolver<'a> {
        let mut r = Resolver {
            syms,
            segs: syms.iter().map(|s| segments(&s.qn)).collect(),
            fams: syms.iter().map(|s| family(&s.file)).collect(),
            by_name: HashMap::new(),
            by_id: HashMap::new(),
            by_qn: HashMap::new(),
            imports: HashMap::new(),
            globs: HashMap::new(),
            hints: HashMap::new(),
            bases: HashMap::new(),
            named_impls: Vec::new(),
        };
        for (i, s) in syms.iter().enumerate() {
            r.by_name.entry(s.name.as_str()).or_default().push(i);
            r.by_id.insert(s.id, i);
            r.by_qn.insert((s.file.as_str(), s.qn.as_str()), i);
        }
        for c in context {
            match c.kind {
                RefKind::Imports => {
                    let mut full = c.path.clone();
                    full.push(c.name.clone());
                    match c.alias.as_deref() {
                        Some("*") => r.globs.entry(c.file.as_str()).or_default().push(full),
                        Some(a) => {
                            r.imports.insert((c.file.as_str(), a), full);
                        }
                        None => {}
                    }
                }
                RefKind::TypeHint => {
                    r.hints.insert((c.source, c.name.as_str()), c.path.as_slice());
                }
                RefKind::Inherits | RefKind::Implements => {
                    if c.alias.is_some() {
                        r.named_impls.push(c);
                    } else {
                        r.bases.entry(c.source).or_default().push(c);
                    }
                }
                _ => {}
            }
        }
        // `impl Trait for Type` where Type lives in another file: attach to the type by name.
        for c in r.named_impls.clone() {
            if let Some(t) = c.alias.as_deref().and_then(|a| r.unique_type_named(a, &c.file)) {
                r.bases.entry(r.syms[t].id).or_default().push(c);
            }
        }
        r
    }

    fn unique_type_named(&self, name: &str, file: &str) -> Option<usize> {
        let fam = family(file);
        let c: Vec<usize> = self
            .by_name
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| self.syms[i].kind.is_type() && self.fams[i] == fam)
            .collect();
        let same_file: Vec<usize> = c.iter().copied().filter(|&i| self.syms[i].file == file).collect();
        match (same_file.len(), c.len()) {
            (1, _) => Some(same_file[0]),
            (_, 1) => Some(c[0]),
            _ => None,
        }
    }

    /// The relations `r` resolves to (empty when unresolved or not an edge).
    pub fn resolve(&self, r: &RefRow) -> Vec<Resolved> {
        let (kind, source) = match r.kind {
            RefKind::Calls => (RelationKind::Calls, r.source),
            RefKind::Imports => (RelationKind::Imports, r.source),
            RefKind::Inherits => (RelationKind::Inherits, r.source),
            RefKind::Implements => (RelationKind::Implements, r.source),
            RefKind::Handles => (RelationKind::Handles, r.source),
            RefKind::Uses => (RelationKind::Uses, r.source),
            RefKind::Returns => (RelationKind::Returns, r.source),
            RefKind::TypeHint => return Vec::new(),
        };
        let source = match (r.kind, r.alias.as_deref()) {
            (RefKind::Implements | RefKind::Inherits, Some(a)) => match self.unique_type_named(a, &r.file) {
                Some(t) => self.syms[t].id,
                None => return Vec::new(),
            },
            _ => source,
        };
        let targets = if r.kind == RefKind::Imports { self.import_target(r) } else { self.lookup(r) };
        targets
            .into_iter()
            .filter(|&(t, _)| self.syms[t].id != source || r.kind == RefKind::Calls)
            .map(|(t, strength)| Resolved { ref_id: r.id, source, target: self.syms[t].id, kind, strength })
            .collect()
    }

    fn import_target(&self, r: &RefRow) -> Vec<(usize, f32)> {
        let mut full: Vec<&str> = r.path.iter().map(String::as_str).collect();
        full.push(&r.name);
        self.import_entity(&full, &r.file).map(|i| vec![(i, 1.0)]).unwrap_or_default()
    }

    /// The entity an absolute import path names: a qualified-name suffix match, else (Go) the
    /// module whose directory path the import path ends with.
    fn import_entity(&self, full: &[&str], file: &str) -> Option<usize> {
        if let Some(i) = self.suffix_unique(full, file, |_| true) {
            return Some(i);
        }
        let fam = family(file);
        let name = full.last()?;
        let cands = self.by_name.get(name)?;
        let module = cands
            .iter()
            .copied()
            .filter(|&i| self.syms[i].kind == EntityKind::Module && self.fams[i] == fam)
            .filter(|&i| full.ends_with(&self.segs[i]))
            .max_by_key(|&i| self.segs[i].len());
        if module.is_some() {
            return module;
        }
        // A re-export (`pub use self::common::*`, `from .x import Y` in `__init__`): the path
        // is internal to the repository, so the only entity of that name is the one meant.
        let root = *full.first()?;
        let internal = root == "crate"
            || self.by_name.get(root).is_some_and(|r| {
                r.iter().any(|&i| self.syms[i].kind == EntityKind::Module && self.fams[i] == fam)
            });
        let same: Vec<usize> = cands.iter().copied().filter(|&i| self.fams[i] == fam).collect();
        (internal && same.len() == 1).then(|| same[0])
    }

    /// Entities whose qualified-name segments end with `path` (last = name), best first: one
    /// in the same file, else the single match.
    fn suffix_unique(&self, path: &[&str], file: &str, ok: impl Fn(EntityKind) -> bool) -> Option<usize> {
        let c = self.suffix_all(path, file, ok);
        let same: Vec<usize> = c.iter().copied().filter(|&i| self.syms[i].file == file).collect();
        match (same.len(), c.len()) {
            (1, _) => Some(same[0]),
            (_, 1) => Some(c[0]),
            _ => {
                // Prefer a module entity (one per file) when a directory maps to several.
                c.into_iter().find(|&i| self.segs[i].len() == path.len())
            }
        }
    }

    fn suffix_all(&self, path: &[&str], file: &str, ok: impl Fn(EntityKind) -> bool) -> Vec<usize> {
        let Some(name) = path.last() else { return Vec::new() };
        let fam = family(file);
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| self.fams[i] == fam && ok(self.syms[i].kind) && self.segs[i].ends_with(path))
            .collect()
    }

    fn wants(kind: RefKind, bare: bool) -> impl Fn(EntityKind) -> bool {
        move |k: EntityKind| match kind {
            RefKind::Inherits | RefKind::Implements | RefKind::Uses | RefKind::Returns => k.is_type(),
            RefKind::Handles => k.is_callable(),
            _ if bare => k == EntityKind::Function || k.is_type(),
            _ => k.is_callable() || k.is_type(),
        }
    }

    fn lookup(&self, r: &RefRow) -> Vec<(usize, f32)> {
        let src = self.by_id.get(&r.source).copied();
        if r.path.is_empty() {
            if let Some(t) = self.scoped(src, &r.file, &r.name, r.kind) {
                return vec![(t, 1.0)];
            }
            if let Some(full) = self.imports.get(&(r.file.as_str(), r.name.as_str())) {
                let p: Vec<&str> = full.iter().map(String::as_str).collect();
                let want = Self::wants(r.kind, false);
                return match self.import_entity(&p, &r.file).filter(|&t| want(self.syms[t].kind)) {
                    Some(t) => vec![(t, 1.0)],
                    None => Vec::new(), // imported from outside the repository
                };
            }
            for g in self.globs.get(r.file.as_str()).into_iter().flatten() {
                let mut p: Vec<&str> = g.iter().map(String::as_str).collect();
                p.push(&r.name);
                if let Some(t) = self.suffix_unique(&p, &r.file, Self::wants(r.kind, false)) {
                    return vec![(t, 1.0)];
                }
            }
            return self.name_only(&r.name, &r.file, Self::wants(r.kind, true));
        }
        let typed = matches!(r.kind, RefKind::Uses | RefKind::Returns);
        match self.expand(src, &r.file, &r.path) {
            // A type reference never falls back to a method of the same name.
            Base::Type(t) if typed => self
                .member(t, &r.name, 0)
                .filter(|&m| self.syms[m].kind.is_type())
                .map(|m| vec![(m, 1.0)])
                .unwrap_or_default(),
            Base::Type(t) => match self.member(t, &r.name, 0) {
                Some(m) => vec![(m, 1.0)],
                None => self.name_only(&r.name, &r.file, |k| k == EntityKind::Method),
            },
            Base::Path(p, absolute) => {
                let mut full: Vec<&str> = p.iter().map(String::as_str).collect();
                full.push(&r.name);
                let c = self.suffix_all(&full, &r.file, Self::wants(r.kind, false));
                if let Some(t) = self.suffix_unique(&full, &r.file, Self::wants(r.kind, false)) {
                    return vec![(t, 1.0)];
                }
                if !c.is_empty() {
                    return self.limit(c, 0.3);
                }
                let first = p.first().map(String::as_str).unwrap_or("");
                if typed {
                    return Vec::new();
                }
                let capital = first.chars().next().is_some_and(char::is_uppercase);
                if absolute || capital || matches!(first, "std" | "core" | "alloc" | "crate") {
                    return Vec::new();
                }
                self.name_only(&r.name, &r.file, |k| k == EntityKind::Method)
            }
            Base::External => Vec::new(),
            Base::Unknown if typed => Vec::new(),
            Base::Unknown => self.name_only(&r.name, &r.file, |k| k == EntityKind::Method),
        }
    }

    fn limit(&self, c: Vec<usize>, strength: f32) -> Vec<(usize, f32)> {
        if c.len() > MAX_CANDIDATES { Vec::new() } else { c.into_iter().map(|i| (i, strength)).collect() }
    }

    fn name_only(&self, name: &str, file: &str, ok: impl Fn(EntityKind) -> bool) -> Vec<(usize, f32)> {
        let fam = family(file);
        let c: Vec<usize> = self
            .by_name
            .get(name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| self.fams[i] == fam && ok(self.syms[i].kind))
            .collect();
        match c.len() {
            1 => vec![(c[0], 0.6)],
            _ => self.limit(c, 0.3),
        }
    }

    /// Resolves a type path (as written at `src`) to a type entity.
    fn resolve_type(&self, src: Option<usize>, file: &str, path: &[String]) -> Option<usize> {
        match self.expand(src, file, path) {
            Base::Type(t) => Some(t),
            Base::Path(p, _) => {
                let p: Vec<&str> = p.iter().map(String::as_str).collect();
                self.suffix_unique(&p, file, |k| k.is_type() || k == EntityKind::Module)
            }
            _ => None,
        }
    }

    /// What a qualifier path denotes: a type entity, an absolute path, or nothing known.
    fn expand(&self, src: Option<usize>, file: &str, path: &[String]) -> Base {
        let d = EXPAND_DEPTH.get();
        if d > 8 {
            return Base::Unknown;
        }
        EXPAND_DEPTH.set(d + 1);
        let out = self.expand_inner(src, file, path);
        EXPAND_DEPTH.set(d);
        out
    }

    fn expand_inner(&self, src: Option<usize>, file: &str, path: &[String]) -> Base {
        let Some(first) = path.first().map(String::as_str) else { return Base::Unknown };
        if first == "self" || first == "super" {
            let Some(t) = self.enclosing_type(src) else { return Base::Unknown };
            if path.len() == 1 {
                return Base::Type(t);
            }
            let key = format!("self.{}", path[1]);
            let Some(tp) = self.hints.get(&(self.syms[t].id, key.as_str())).copied() else {
                return Base::Unknown;
            };
            // A field of a known type that the graph does not define is external.
            return match self.resolve_type(Some(t), file, tp) {
                Some(t2) if path.len() == 2 => Base::Type(t2),
                Some(_) => Base::Unknown,
                None => Base::External,
            };
        }
        if first == "?" {
            // `?` + the name of the call that produced the receiver: when the graph defines
            // no such function, the receiver's type comes from outside the repository.
            return match path.get(1) {
                Some(producer) if !self.by_name.contains_key(producer.as_str()) => Base::External,
                _ => Base::Unknown,
            };
        }
        if let Some(tp) = self.hint(src, first) {
            return match self.resolve_type(src, file, tp) {
                Some(t) if path.len() == 1 => Base::Type(t),
                Some(_) => Base::Unknown,
                None => Base::External,
            };
        }
        if let Some(full) = self.imports.get(&(file, first)) {
            let segs: Vec<&str> = full.iter().map(String::as_str).collect();
            let Some(target) = self.import_entity(&segs, file) else { return Base::External };
            if path.len() == 1 && self.syms[target].kind.is_type() {
                return Base::Type(target);
            }
            let mut p: Vec<String> = self.segs[target].iter().map(|s| s.to_string()).collect();
            p.extend(path[1..].iter().cloned());
            return Base::Path(p, true);
        }
        if path.len() == 1 {
            // A type or module in scope by its bare name.
            if let Some(t) = self.scoped_type(src, file, first) {
                return Base::Type(t);
            }
        }
        Base::Path(path.to_vec(), first == "crate")
    }
}
