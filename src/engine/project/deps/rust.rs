//! Rust: `Cargo.toml` (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, their
//! `[target.*.…]` forms, renamed `package =` dependencies, `workspace = true` members; a
//! virtual workspace root declares nothing code imports) and `Cargo.lock`.
//!
//! Invariant: a dependency is imported by its key with `-` as `_` (a renamed one by its key,
//! not its package).

use std::collections::{BTreeMap, BTreeSet};

use super::{Declared, Ecosystem, Lockfile, Manifest};

const SECTIONS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

pub fn manifest(path: &str, text: &str) -> Result<Manifest, String> {
    let table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| format!("not valid TOML: {}", e.message()))?;
    let package = table.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
    let mut own: Vec<String> = package.map(|n| n.replace('-', "_")).into_iter().collect();
    if let Some(lib) = table.get("lib").and_then(|l| l.get("name")).and_then(|n| n.as_str()) {
        own.push(lib.replace('-', "_"));
    }
    let mut deps = Vec::new();
    for section in SECTIONS {
        collect(table.get(section), section, &mut deps);
    }
    if let Some(targets) = table.get("target").and_then(|t| t.as_table()) {
        for (cfg, t) in targets {
            for section in SECTIONS {
                collect(t.get(section), &format!("target.{cfg}.{section}"), &mut deps);
            }
        }
    }
    Ok(Manifest {
        ecosystem: Ecosystem::Rust,
        path: path.into(),
        deps,
        own,
        inherited_only: package.is_none(),
    })
}

fn collect(section: Option<&toml::Value>, name: &str, out: &mut Vec<Declared>) {
    let Some(table) = section.and_then(|s| s.as_table()) else { return };
    for (key, value) in table {
        let (package, requirement) = match value {
            toml::Value::String(v) => (key.clone(), v.clone()),
            toml::Value::Table(t) => {
                let package = t.get("package").and_then(|p| p.as_str()).unwrap_or(key).to_string();
                let requirement = t.get("version").and_then(|v| v.as_str()).unwrap_or("").to_string();
                (package, requirement)
            }
            _ => continue,
        };
        out.push(Declared {
            package,
            imports: vec![key.replace('-', "_")],
            requirement,
            section: name.into(),
        });
    }
}

pub fn lockfile(path: &str, text: &str) -> Result<Lockfile, String> {
    let table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| format!("not valid TOML: {}", e.message()))?;
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in table.get("package").and_then(|p| p.as_array()).into_iter().flatten() {
        if let (Some(n), Some(v)) =
            (p.get("name").and_then(|n| n.as_str()), p.get("version").and_then(|v| v.as_str()))
        {
            versions.entry(n.into()).or_default().insert(v.into());
        }
    }
    Ok(Lockfile { ecosystem: Ecosystem::Rust, path: path.into(), versions })
}

/// The crate a `use` path names (its first segment), `None` for the crate itself, its
/// modules and the standard library.
pub fn crate_of(first: &str) -> Option<&str> {
    let skip = matches!(first, "crate" | "self" | "super" | "Self" | "" | "*");
    (!skip && !super::super::known::known().rust.std.contains(first)).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_sections_renames_and_virtual_roots() {
        let m = manifest(
            "crates/a/Cargo.toml",
            "[package]\nname = \"my-app\"\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n\
             json = { package = \"serde_json\", version = \"1.0\" }\nrand = { workspace = true }\n\
             [dev-dependencies]\npretty-assertions = \"1\"\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n",
        )
        .unwrap();
        let mut got: Vec<(&str, &str, &str, &str)> = m
            .deps
            .iter()
            .map(|d| (d.package.as_str(), d.imports[0].as_str(), d.requirement.as_str(), d.section.as_str()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("libc", "libc", "0.2", "target.cfg(unix).dependencies"),
                ("pretty-assertions", "pretty_assertions", "1", "dev-dependencies"),
                ("rand", "rand", "", "dependencies"),
                ("serde", "serde", "1", "dependencies"),
                ("serde_json", "json", "1.0", "dependencies"),
            ]
        );
        assert_eq!(m.own, ["my_app"]);
        assert!(!m.inherited_only);
        assert!(manifest("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n").unwrap().inherited_only);
        assert!(manifest("Cargo.toml", "[package\n").unwrap_err().contains("not valid TOML"));
    }
}
