//! The pure analysis: declarations × imports → missing, unused, duplicated and conflicting
//! dependencies.
//!
//! Invariants: a file's imports are judged against the nearest manifests of its ecosystem
//! (the deepest directory holding it; a directory's `pyproject.toml` and `requirements*.txt`
//! count together); a manifest no code file of its ecosystem falls under reports nothing
//! unused; tools (`assets/project_known.toml`) and Go's `// indirect` requirements are never
//! unused; requirements that cannot be read never conflict.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::usage::LocalNames;
use super::versions::compatible;
use super::{Declarations, Declared, Ecosystem, Manifest, Usage, go, python};
use crate::engine::project::known::known;
use crate::engine::project::walk;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DepsReport {
    /// Where the imports came from: `graph` (the index) or `parse` (the files, now).
    pub source: String,
    pub manifests: Vec<String>,
    pub lockfiles: Vec<String>,
    pub missing: Vec<Missing>,
    pub unused: Vec<Unused>,
    pub duplicates: Vec<Duplicate>,
    pub conflicts: Vec<Conflict>,
    pub problems: Vec<String>,
}

/// Imported but not declared by the nearest manifest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Missing {
    pub ecosystem: Ecosystem,
    /// The package to declare.
    pub package: String,
    /// The name the code imports.
    pub import: String,
    /// The manifest it belongs in.
    pub manifest: String,
    /// The files that import it.
    pub files: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Unused {
    pub ecosystem: Ecosystem,
    pub package: String,
    pub manifest: String,
    pub section: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Duplicate {
    pub ecosystem: Ecosystem,
    pub package: String,
    pub lockfile: String,
    pub versions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Conflict {
    pub ecosystem: Ecosystem,
    pub package: String,
    pub requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Requirement {
    pub manifest: String,
    pub section: String,
    pub requirement: String,
}

impl DepsReport {
    /// Nothing to report.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.unused.is_empty()
            && self.duplicates.is_empty()
            && self.conflicts.is_empty()
    }
}

fn provides(eco: Ecosystem, d: &Declared, import: &str) -> bool {
    match eco {
        Ecosystem::Go => go::in_module(import, &d.package),
        Ecosystem::Python => d.imports.iter().any(|m| m == import || m.eq_ignore_ascii_case(import)),
        _ => d.imports.iter().any(|m| m == import),
    }
}

fn is_local(eco: Ecosystem, import: &str, own: &BTreeSet<&str>, local: &LocalNames) -> bool {
    match eco {
        Ecosystem::Go => own.iter().any(|m| go::in_module(import, m)),
        // A crate's name is lowercase; `use Ordering::*` names an enum in scope.
        Ecosystem::Rust => {
            own.contains(import)
                || local.rust.contains(import)
                || !import.starts_with(|c: char| c.is_ascii_lowercase())
        }
        Ecosystem::Python => local.python.contains(import) || own.contains(import),
        Ecosystem::Js => (!import.starts_with('@') && local.root.contains(import)) || own.contains(import),
    }
}

/// The manifest a missing package goes in: `pyproject.toml` before `requirements.txt` before
/// other requirement files.
fn preferred<'a>(units: &[&'a Manifest]) -> &'a Manifest {
    let rank = |m: &Manifest| match walk::file_name(&m.path) {
        "pyproject.toml" => 0,
        "requirements.txt" => 1,
        _ => 2,
    };
    units.iter().min_by_key(|m| (rank(m), m.path.as_str())).copied().unwrap_or(units[0])
}

fn suggestion(eco: Ecosystem, import: &str) -> String {
    match eco {
        Ecosystem::Python => python::dist_for(import),
        Ecosystem::Go => go::module_for(import),
        _ => import.to_string(),
    }
}

/// The analysis; `local` are the repository's own module names ([`super::usage::local_names`]).
pub fn analyse(decl: &Declarations, usage: &Usage, local: &LocalNames) -> DepsReport {
    let own: BTreeMap<Ecosystem, BTreeSet<&str>> = Ecosystem::ALL
        .iter()
        .map(|e| {
            (
                *e,
                decl.manifests
                    .iter()
                    .filter(|m| m.ecosystem == *e)
                    .flat_map(|m| m.own.iter().map(String::as_str))
                    .collect(),
            )
        })
        .collect();
    let mut used: BTreeSet<(&str, usize)> = BTreeSet::new();
    let mut with_code: BTreeSet<&str> = BTreeSet::new();
    let mut missing: BTreeMap<(Ecosystem, String, String), (String, BTreeSet<String>)> = BTreeMap::new();
    for file in &usage.files {
        let Some(lang) = crate::engine::grammars::Language::from_path(file) else { continue };
        for m in decl.nearest(Ecosystem::of(lang), file) {
            with_code.insert(&m.path);
        }
    }
    for imp in &usage.imports {
        let units = decl.nearest(imp.ecosystem, &imp.file);
        if units.is_empty() {
            continue;
        }
        let mut declared = false;
        for m in &units {
            for (i, d) in m.deps.iter().enumerate() {
                if provides(imp.ecosystem, d, &imp.name) {
                    declared = true;
                    used.insert((&m.path, i));
                }
            }
        }
        // A declared package wins over a local module of the same name (`mod http;` beside
        // the `http` crate): the use counts for it; an undeclared local name is no package.
        if !declared && imp.certain && !is_local(imp.ecosystem, &imp.name, &own[&imp.ecosystem], local) {
            let target = preferred(&units);
            let key = (imp.ecosystem, target.path.clone(), suggestion(imp.ecosystem, &imp.name));
            missing
                .entry(key)
                .or_insert_with(|| (imp.name.clone(), BTreeSet::new()))
                .1
                .insert(imp.file.clone());
        }
    }
    let k = known();
    let mut unused = Vec::new();
    for m in decl.manifests.iter().filter(|m| with_code.contains(m.path.as_str())) {
        let lists = match m.ecosystem {
            Ecosystem::Rust => &k.rust,
            Ecosystem::Python => &k.python,
            Ecosystem::Js => &k.js,
            Ecosystem::Go => &k.go,
        };
        for (i, d) in m.deps.iter().enumerate() {
            if used.contains(&(m.path.as_str(), i)) || d.section == go::INDIRECT || lists.is_tool(&d.package)
            {
                continue;
            }
            unused.push(Unused {
                ecosystem: m.ecosystem,
                package: d.package.clone(),
                manifest: m.path.clone(),
                section: d.section.clone(),
            });
        }
    }
    unused
        .sort_by(|a, b| (a.ecosystem, &a.manifest, &a.package).cmp(&(b.ecosystem, &b.manifest, &b.package)));
    let mut duplicates = Vec::new();
    for l in &decl.lockfiles {
        for (package, versions) in &l.versions {
            if versions.len() > 1 {
                duplicates.push(Duplicate {
                    ecosystem: l.ecosystem,
                    package: package.clone(),
                    lockfile: l.path.clone(),
                    versions: {
                        let mut v: Vec<String> = versions.iter().cloned().collect();
                        v.sort_by_key(|v| super::versions::sort_key(v));
                        v
                    },
                });
            }
        }
    }
    duplicates
        .sort_by(|a, b| (a.ecosystem, &a.lockfile, &a.package).cmp(&(b.ecosystem, &b.lockfile, &b.package)));
    DepsReport {
        source: usage.source.to_string(),
        manifests: decl
            .manifests
            .iter()
            .map(|m| m.path.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        lockfiles: decl
            .lockfiles
            .iter()
            .map(|l| l.path.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        missing: missing
            .into_iter()
            .map(|((ecosystem, manifest, package), (import, files))| Missing {
                ecosystem,
                package,
                import,
                manifest,
                files: files.into_iter().collect(),
            })
            .collect(),
        unused,
        duplicates,
        conflicts: conflicts(decl),
        problems: decl.problems.clone(),
    }
}

fn conflicts(decl: &Declarations) -> Vec<Conflict> {
    let mut groups: BTreeMap<(Ecosystem, String), Vec<Requirement>> = BTreeMap::new();
    for m in &decl.manifests {
        for d in m.deps.iter().filter(|d| !d.requirement.is_empty()) {
            let key = if m.ecosystem == Ecosystem::Python {
                python::normalise(&d.package)
            } else {
                d.package.clone()
            };
            groups.entry((m.ecosystem, key)).or_default().push(Requirement {
                manifest: m.path.clone(),
                section: d.section.clone(),
                requirement: d.requirement.clone(),
            });
        }
    }
    let mut out = Vec::new();
    for ((ecosystem, package), mut reqs) in groups {
        let clash = reqs.iter().enumerate().any(|(i, a)| {
            reqs[i + 1..].iter().any(|b| !compatible(&a.requirement, &b.requirement, ecosystem.syntax()))
        });
        if clash {
            reqs.sort_by(|a, b| (&a.manifest, &a.section).cmp(&(&b.manifest, &b.section)));
            out.push(Conflict { ecosystem, package, requirements: reqs });
        }
    }
    out
}
