//! JavaScript and TypeScript: `package.json` (`dependencies`, `devDependencies`,
//! `peerDependencies`, `optionalDependencies`) and the lockfiles of npm (`package-lock.json`
//! v1–v3), yarn (classic and berry `yarn.lock`) and pnpm (`pnpm-lock.yaml` v5–v9).
//!
//! Invariant: a package is imported by its name; a specifier's package is its first segment,
//! or its first two for a scope (`@scope/name/sub` → `@scope/name`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Declared, Ecosystem, Lockfile, Manifest};

pub const SECTIONS: [&str; 4] =
    ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"];

pub fn manifest(path: &str, text: &str) -> Result<Manifest, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut deps = Vec::new();
    for section in SECTIONS {
        for (name, req) in json.get(section).and_then(Value::as_object).into_iter().flatten() {
            let requirement = req.as_str().unwrap_or("").to_string();
            deps.push(Declared {
                package: name.clone(),
                imports: vec![name.clone()],
                requirement,
                section: section.into(),
            });
        }
    }
    let own = json.get("name").and_then(Value::as_str).map(str::to_string).into_iter().collect();
    Ok(Manifest { ecosystem: Ecosystem::Js, path: path.into(), deps, own, inherited_only: false })
}

/// The package an import specifier names (`lodash/fp` → `lodash`), `None` for relative and
/// absolute paths, Node's built-ins and aliases (`~/x`, `#internal`, `@/x`).
pub fn package_of(specifier: &[&str]) -> Option<String> {
    let first = *specifier.first()?;
    if first.starts_with("node:") || !first.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '@') {
        return None;
    }
    if crate::engine::project::known::known().js.std.contains(first) {
        return None;
    }
    if let Some(scope) = first.strip_prefix('@') {
        let name = specifier.get(1)?;
        return (!scope.is_empty()).then(|| format!("{first}/{name}"));
    }
    Some(first.to_string())
}

fn insert(versions: &mut BTreeMap<String, BTreeSet<String>>, name: &str, version: &str) {
    if !name.is_empty() && !version.is_empty() {
        versions.entry(name.to_string()).or_default().insert(version.to_string());
    }
}

pub fn package_lock(path: &str, text: &str) -> Result<Lockfile, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut versions = BTreeMap::new();
    if let Some(packages) = json.get("packages").and_then(Value::as_object) {
        for (key, p) in packages {
            let Some(i) = key.rfind("node_modules/") else { continue };
            let version = p.get("version").and_then(Value::as_str).unwrap_or("");
            insert(&mut versions, &key[i + "node_modules/".len()..], version);
        }
    } else {
        fn v1(deps: &Value, versions: &mut BTreeMap<String, BTreeSet<String>>, depth: usize) {
            for (name, p) in deps.as_object().into_iter().flatten() {
                insert(versions, name, p.get("version").and_then(Value::as_str).unwrap_or(""));
                if let (Some(inner), true) = (p.get("dependencies"), depth < 64) {
                    v1(inner, versions, depth + 1);
                }
            }
        }
        if let Some(deps) = json.get("dependencies") {
            v1(deps, &mut versions, 0);
        }
    }
    Ok(Lockfile { ecosystem: Ecosystem::Js, path: path.into(), versions })
}

/// `name@range` (or `name@npm:range`) → name.
fn name_of_spec(spec: &str) -> &str {
    let spec = spec.trim().trim_matches('"');
    match spec[1.min(spec.len())..].find('@') {
        Some(i) => &spec[..i + 1],
        None => spec,
    }
}

pub fn yarn_lock(path: &str, text: &str) -> Lockfile {
    let mut versions = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with([' ', '#']) && line.trim_end().ends_with(':') {
            let head = line.trim_end().trim_end_matches(':');
            let first = head.split(", ").next().unwrap_or("");
            current = Some(name_of_spec(first).to_string()).filter(|n| n != "__metadata");
        } else if let (Some(name), Some(rest)) = (&current, line.trim().strip_prefix("version")) {
            let v = rest.trim_start_matches(':').trim().trim_matches('"');
            insert(&mut versions, name, v);
        }
    }
    Lockfile { ecosystem: Ecosystem::Js, path: path.into(), versions }
}

pub fn pnpm_lock(path: &str, text: &str) -> Lockfile {
    let mut versions = BTreeMap::new();
    let mut in_packages = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_packages = line.trim_end() == "packages:";
            continue;
        }
        let Some(key) = line.strip_prefix("  ").filter(|k| !k.starts_with(' ')) else { continue };
        if !in_packages {
            continue;
        }
        let key = key.trim_end().trim_end_matches(':').trim_matches(['"', '\'']);
        let key = key.strip_prefix('/').unwrap_or(key);
        let key = key.split('(').next().unwrap_or(key);
        let (name, version) = match key[1.min(key.len())..].rfind('@') {
            Some(i) => (&key[..i + 1], &key[i + 2..]),
            None => match key.rsplit_once('/') {
                Some((n, v)) => (n, v),
                None => continue,
            },
        };
        insert(&mut versions, name, version.split('_').next().unwrap_or(version));
    }
    Lockfile { ecosystem: Ecosystem::Js, path: path.into(), versions }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_and_lockfiles() {
        assert_eq!(package_of(&["@scope", "pkg", "sub"]).as_deref(), Some("@scope/pkg"));
        assert_eq!(package_of(&["lodash", "fp"]).as_deref(), Some("lodash"));
        assert_eq!(package_of(&["node:fs"]), None);
        assert_eq!(package_of(&["path"]), None);
        assert_eq!(package_of(&["@", "x"]), None);
        assert_eq!(package_of(&["~", "x"]), None);
        let y = yarn_lock(
            "yarn.lock",
            "# yarn\n\"@babel/core@^7.0.0\", \"@babel/core@^7.1\":\n  version \"7.2.0\"\nlodash@^4:\n  version \"4.17.21\"\nlodash@^3:\n  version \"3.10.1\"\n",
        );
        assert_eq!(y.versions["lodash"].len(), 2);
        assert!(y.versions["@babel/core"].contains("7.2.0"));
        let b = yarn_lock(
            "yarn.lock",
            "__metadata:\n  version: 6\n\"lodash@npm:^4.17.21\":\n  version: 4.17.21\n",
        );
        assert_eq!(b.versions.keys().collect::<Vec<_>>(), ["lodash"]);
        let p = pnpm_lock(
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\npackages:\n  lodash@4.17.21:\n    resolution: {}\n  '@s/x@1.0.0(react@18.0.0)':\n    x: 1\n  /old/3.0.0:\n    x: 1\nsnapshots:\n  lodash@4.17.20:\n    x: 1\n",
        );
        assert_eq!(p.versions["lodash"].iter().collect::<Vec<_>>(), ["4.17.21"]);
        assert!(p.versions["@s/x"].contains("1.0.0") && p.versions["old"].contains("3.0.0"));
        let l = package_lock(
            "package-lock.json",
            r#"{"packages": {"": {"name": "app"}, "node_modules/ms": {"version": "2.1.3"}, "node_modules/debug/node_modules/ms": {"version": "2.0.0"}}}"#,
        )
        .unwrap();
        assert_eq!(l.versions["ms"].len(), 2);
    }
}
