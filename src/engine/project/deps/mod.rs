//! Dependencies: what the code imports (the knowledge graph's import references, or the same
//! tree-sitter extraction run on the files when there is no index — [`usage`]) against what
//! the manifests declare, per ecosystem (one file each: [`rust`], [`python`], [`js`], [`go`]),
//! analysed by the pure [`analysis`]: *missing* (imported, undeclared), *unused* (declared,
//! never imported, tools excepted), *duplicates* (one package at several versions in a
//! lockfile), *conflicts* (manifests asking for versions no single one meets, [`versions`]).
//! [`add`] builds the manifest edit that declares a missing package (never installs it).
//!
//! Invariants: every path in a report is `/`-separated and relative to the repository root;
//! lists are sorted, so the same tree gives byte-identical JSON; a manifest that does not parse
//! is a `problems` line and contributes nothing rather than a guess.

pub mod add;
pub mod analysis;
pub mod go;
pub mod js;
pub mod python;
pub mod rust;
pub mod usage;
pub mod versions;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::walk::{self, RepoFile};

pub use analysis::{Conflict, DepsReport, Duplicate, Missing, Unused, analyse};
pub use usage::{Import, Usage};

/// A package ecosystem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Rust,
    Python,
    Js,
    Go,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 4] = [Ecosystem::Rust, Ecosystem::Python, Ecosystem::Js, Ecosystem::Go];

    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Rust => "rust",
            Ecosystem::Python => "python",
            Ecosystem::Js => "js",
            Ecosystem::Go => "go",
        }
    }

    pub fn parse(name: &str) -> Option<Ecosystem> {
        match name.to_ascii_lowercase().as_str() {
            "rust" | "cargo" => Some(Ecosystem::Rust),
            "python" | "py" | "pip" => Some(Ecosystem::Python),
            "js" | "javascript" | "ts" | "typescript" | "npm" | "node" => Some(Ecosystem::Js),
            "go" | "golang" => Some(Ecosystem::Go),
            _ => None,
        }
    }

    /// The ecosystem whose code `lang` is.
    pub fn of(lang: crate::engine::grammars::Language) -> Ecosystem {
        use crate::engine::grammars::Language as L;
        match lang {
            L::Rust => Ecosystem::Rust,
            L::Python => Ecosystem::Python,
            L::TypeScript | L::Tsx | L::JavaScript => Ecosystem::Js,
            L::Go => Ecosystem::Go,
        }
    }

    pub fn syntax(self) -> versions::Syntax {
        match self {
            Ecosystem::Rust => versions::Syntax::Cargo,
            Ecosystem::Python => versions::Syntax::Python,
            Ecosystem::Js => versions::Syntax::Npm,
            Ecosystem::Go => versions::Syntax::Go,
        }
    }
}

/// One declared dependency.
#[derive(Clone, Debug, PartialEq)]
pub struct Declared {
    /// The package as the registry names it (`serde_json`, `PyYAML`, `@scope/x`, a Go module).
    pub package: String,
    /// The names code imports it by (a renamed Cargo dependency's key; a Python
    /// distribution's modules; a Go module path, matched as a prefix).
    pub imports: Vec<String>,
    /// As written (`"1.0"`, `">=2,<3"`, `"v1.2.3"`; `""` when none).
    pub requirement: String,
    /// Where: `dependencies`, `dev-dependencies`, `build-dependencies`, `devDependencies`,
    /// `peerDependencies`, `optional-dependencies.NAME`, `require`, ….
    pub section: String,
}

/// One manifest file and what it declares.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub ecosystem: Ecosystem,
    /// The manifest's path.
    pub path: String,
    pub deps: Vec<Declared>,
    /// Names that are the project's own (a Go module path, a Cargo package's crate name).
    pub own: Vec<String>,
    /// Declares nothing code imports directly (a virtual Cargo workspace root).
    pub inherited_only: bool,
}

/// The versions a lockfile pins, per package.
#[derive(Clone, Debug)]
pub struct Lockfile {
    pub ecosystem: Ecosystem,
    pub path: String,
    pub versions: BTreeMap<String, BTreeSet<String>>,
}

/// Everything the manifests and lockfiles of a repository say.
#[derive(Clone, Debug, Default)]
pub struct Declarations {
    pub manifests: Vec<Manifest>,
    pub lockfiles: Vec<Lockfile>,
    /// Files that could not be read as what their name says, with why.
    pub problems: Vec<String>,
}

impl Declarations {
    /// Reads every manifest and lockfile among `files`.
    pub fn read(files: &[RepoFile]) -> Declarations {
        let mut out = Declarations::default();
        for f in files {
            let name = walk::file_name(&f.rel);
            let Some(kind) = kind_of(name) else { continue };
            let Some(text) = walk::read(&f.abs) else {
                out.problems.push(format!("{}: unreadable, too large or not UTF-8", f.rel));
                continue;
            };
            let result: Result<(), String> = match kind {
                Kind::Cargo => rust::manifest(&f.rel, &text).map(|m| out.manifests.push(m)),
                Kind::CargoLock => rust::lockfile(&f.rel, &text).map(|l| out.lockfiles.push(l)),
                Kind::Pyproject => python::pyproject(&f.rel, &text).map(|m| out.manifests.push(m)),
                Kind::PyLock => python::lockfile(&f.rel, &text).map(|l| out.lockfiles.push(l)),
                Kind::PackageJson => js::manifest(&f.rel, &text).map(|m| out.manifests.push(m)),
                Kind::NpmLock => js::package_lock(&f.rel, &text).map(|l| out.lockfiles.push(l)),
                Kind::Requirements => Ok(python::requirements(&f.rel, &text)).map(|m| out.manifests.push(m)),
                Kind::GoMod => Ok(go::go_mod(&f.rel, &text)).map(|m| out.manifests.push(m)),
                Kind::YarnLock => Ok(js::yarn_lock(&f.rel, &text)).map(|l| out.lockfiles.push(l)),
                Kind::PnpmLock => Ok(js::pnpm_lock(&f.rel, &text)).map(|l| out.lockfiles.push(l)),
                Kind::GoSum => Ok(go::go_sum(&f.rel, &text)).map(|l| out.lockfiles.push(l)),
            };
            if let Err(e) = result {
                out.problems.push(format!("{}: {e}", f.rel));
            }
        }
        out
    }

    /// The manifests of `eco` whose directory holds `file`, nearest first.
    pub fn nearest(&self, eco: Ecosystem, file: &str) -> Vec<&Manifest> {
        let deepest = self
            .manifests
            .iter()
            .filter(|m| m.ecosystem == eco && !m.inherited_only && walk::within(walk::dir_of(&m.path), file))
            .map(|m| walk::dir_of(&m.path).len())
            .max();
        let Some(len) = deepest else { return Vec::new() };
        self.manifests
            .iter()
            .filter(|m| {
                m.ecosystem == eco
                    && !m.inherited_only
                    && walk::dir_of(&m.path).len() == len
                    && walk::within(walk::dir_of(&m.path), file)
            })
            .collect()
    }
}

/// Parses `text` as the manifest its file name says (`Cargo.toml`, `pyproject.toml`,
/// `requirements*.txt`, `package.json`, `go.mod`); `None` when the name is no manifest's
/// (lockfiles included). The knowledge graph's `depends_on` relations come from here.
pub fn parse_manifest(rel: &str, text: &str) -> Option<Result<Manifest, String>> {
    Some(match kind_of(walk::file_name(rel))? {
        Kind::Cargo => rust::manifest(rel, text),
        Kind::Pyproject => python::pyproject(rel, text),
        Kind::PackageJson => js::manifest(rel, text),
        Kind::Requirements => Ok(python::requirements(rel, text)),
        Kind::GoMod => Ok(go::go_mod(rel, text)),
        _ => return None,
    })
}

/// Whether a file of this name is a manifest [`parse_manifest`] reads.
pub fn is_manifest_name(name: &str) -> bool {
    matches!(
        kind_of(name),
        Some(Kind::Cargo | Kind::Pyproject | Kind::PackageJson | Kind::Requirements | Kind::GoMod)
    )
}

#[derive(Clone, Copy)]
enum Kind {
    Cargo,
    CargoLock,
    Pyproject,
    Requirements,
    PyLock,
    PackageJson,
    NpmLock,
    YarnLock,
    PnpmLock,
    GoMod,
    GoSum,
}

fn kind_of(name: &str) -> Option<Kind> {
    Some(match name {
        "Cargo.toml" => Kind::Cargo,
        "Cargo.lock" => Kind::CargoLock,
        "pyproject.toml" => Kind::Pyproject,
        "uv.lock" | "poetry.lock" => Kind::PyLock,
        "package.json" => Kind::PackageJson,
        "package-lock.json" | "npm-shrinkwrap.json" => Kind::NpmLock,
        "yarn.lock" => Kind::YarnLock,
        "pnpm-lock.yaml" => Kind::PnpmLock,
        "go.mod" => Kind::GoMod,
        "go.sum" => Kind::GoSum,
        n if n.starts_with("requirements") && n.ends_with(".txt") => Kind::Requirements,
        _ => return None,
    })
}

/// The whole analysis of the repository at `root`, imports taken from `usage`.
pub fn report(root: &Path, files: &[RepoFile], usage: &Usage) -> DepsReport {
    analyse(&Declarations::read(files), usage, &usage::local_names(root, files))
}
