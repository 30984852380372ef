//! Python: `pyproject.toml` (PEP 621 `[project]` dependencies and optional dependencies, PEP 735
//! `[dependency-groups]`, Poetry's `[tool.poetry.*dependencies]`), `requirements*.txt`, and the
//! `uv.lock` / `poetry.lock` lockfiles.
//!
//! Invariant: a distribution is imported by the modules `assets/project_known.toml` lists for
//! it, else by its name lowercased with `-` and `.` as `_`; names compare normalised (PEP 503).

use std::collections::{BTreeMap, BTreeSet};

use super::{Declared, Ecosystem, Lockfile, Manifest};
use crate::engine::project::known::known;

/// PEP 503: lowercase, runs of `-`, `_`, `.` as one `-`.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The top-level modules `dist` installs.
pub fn modules_of(dist: &str) -> Vec<String> {
    let n = normalise(dist);
    known()
        .python
        .aliases
        .iter()
        .find(|(d, _)| normalise(d) == n)
        .map(|(_, m)| m.clone())
        .unwrap_or_else(|| vec![n.replace('-', "_")])
}

/// The distribution to declare for an imported top-level module.
pub fn dist_for(module: &str) -> String {
    known()
        .python
        .aliases
        .iter()
        .find(|(d, m)| m.iter().any(|m| m == module) && normalise(d) != "setuptools")
        .map(|(d, _)| d.clone())
        .unwrap_or_else(|| module.replace('_', "-"))
}

/// A PEP 508 line → (name, requirement without extras and markers); `None` for anything else.
pub fn pep508(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(line.len());
    let name = &line[..end];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut rest = line[end..].trim_start();
    if rest.starts_with('[') {
        rest = rest.find(']').map_or("", |i| &rest[i + 1..]);
    }
    let spec = rest.split(';').next().unwrap_or("").trim();
    let spec = if spec.starts_with('@') { "" } else { spec.trim_start_matches('(').trim_end_matches(')') };
    Some((name.to_string(), spec.replace(' ', "")))
}

fn declared(name: &str, requirement: String, section: &str) -> Declared {
    Declared { package: name.into(), imports: modules_of(name), requirement, section: section.into() }
}

pub fn pyproject(path: &str, text: &str) -> Result<Manifest, String> {
    let table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| format!("not valid TOML: {}", e.message()))?;
    let mut deps = Vec::new();
    let mut own = Vec::new();
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    if let Some(project) = table.get("project") {
        if let Some(n) = project.get("name").and_then(|n| n.as_str()) {
            own.push(normalise(n).replace('-', "_"));
        }
        for line in strings(project.get("dependencies")) {
            if let Some((n, r)) = pep508(&line) {
                deps.push(declared(&n, r, "dependencies"));
            }
        }
        if let Some(groups) = project.get("optional-dependencies").and_then(|g| g.as_table()) {
            for (group, list) in groups {
                for line in strings(Some(list)) {
                    if let Some((n, r)) = pep508(&line) {
                        deps.push(declared(&n, r, &format!("optional-dependencies.{group}")));
                    }
                }
            }
        }
    }
    if let Some(groups) = table.get("dependency-groups").and_then(|g| g.as_table()) {
        for (group, list) in groups {
            for line in strings(Some(list)) {
                if let Some((n, r)) = pep508(&line) {
                    deps.push(declared(&n, r, &format!("dependency-groups.{group}")));
                }
            }
        }
    }
    if let Some(poetry) = table.get("tool").and_then(|t| t.get("poetry")) {
        if let Some(n) = poetry.get("name").and_then(|n| n.as_str()) {
            own.push(normalise(n).replace('-', "_"));
        }
        let mut sections: Vec<(String, &toml::Value)> = Vec::new();
        for s in ["dependencies", "dev-dependencies"] {
            if let Some(t) = poetry.get(s) {
                sections.push((format!("tool.poetry.{s}"), t));
            }
        }
        for (g, t) in poetry.get("group").and_then(|g| g.as_table()).into_iter().flatten() {
            if let Some(t) = t.get("dependencies") {
                sections.push((format!("tool.poetry.group.{g}.dependencies"), t));
            }
        }
        for (section, t) in sections {
            for (name, v) in t.as_table().into_iter().flatten() {
                if name.eq_ignore_ascii_case("python") {
                    continue;
                }
                let req = match v {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Table(t) => t.get("version").and_then(|v| v.as_str()).unwrap_or("").into(),
                    _ => String::new(),
                };
                deps.push(declared(name, req, &section));
            }
        }
    }
    Ok(Manifest { ecosystem: Ecosystem::Python, path: path.into(), deps, own, inherited_only: false })
}

/// `requirements*.txt`: one PEP 508 requirement a line; options (`-r`, `-e`, `--index-url`),
/// URLs and comments are skipped.
pub fn requirements(path: &str, text: &str) -> Manifest {
    let section = super::super::walk::file_name(path).to_string();
    let deps = text
        .lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with(['#', '-']) && !l.contains("://"))
        .filter_map(pep508)
        .map(|(n, r)| declared(&n, r, &section))
        .collect();
    Manifest { ecosystem: Ecosystem::Python, path: path.into(), deps, own: Vec::new(), inherited_only: false }
}

/// `uv.lock` and `poetry.lock`: `[[package]]` name and version.
pub fn lockfile(path: &str, text: &str) -> Result<Lockfile, String> {
    let table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| format!("not valid TOML: {}", e.message()))?;
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in table.get("package").and_then(|p| p.as_array()).into_iter().flatten() {
        if let (Some(n), Some(v)) =
            (p.get("name").and_then(|n| n.as_str()), p.get("version").and_then(|v| v.as_str()))
        {
            versions.entry(normalise(n)).or_default().insert(v.into());
        }
    }
    Ok(Lockfile { ecosystem: Ecosystem::Python, path: path.into(), versions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_lines_and_import_names() {
        assert_eq!(
            pep508("requests[socks] >= 2.31 ; python_version > '3.8'"),
            Some(("requests".into(), ">=2.31".into()))
        );
        assert_eq!(pep508("pkg @ https://x/y.whl"), Some(("pkg".into(), "".into())));
        assert_eq!(pep508("-r base.txt"), None);
        assert_eq!(modules_of("PyYAML"), ["yaml"]);
        assert_eq!(modules_of("typing-extensions"), ["typing_extensions"]);
        assert_eq!(modules_of("Flask"), ["flask"]);
        assert_eq!(dist_for("yaml"), "PyYAML");
        assert_eq!(dist_for("PIL"), "Pillow");
        assert_eq!(dist_for("requests"), "requests");
        let m = requirements(
            "requirements-dev.txt",
            "# tools\npytest==8.0  # runner\n-e .\n--index-url https://x\nblack\n",
        );
        let names: Vec<_> = m.deps.iter().map(|d| (d.package.as_str(), d.requirement.as_str())).collect();
        assert_eq!(names, [("pytest", "==8.0"), ("black", "")]);
        let p = pyproject(
            "pyproject.toml",
            "[project]\nname = \"my-app\"\ndependencies = [\"PyYAML>=6\"]\n[project.optional-dependencies]\ndev = [\"pytest\"]\n\
             [tool.poetry.dependencies]\npython = \"^3.10\"\nrich = { version = \"^13\" }\n",
        )
        .unwrap();
        let got: Vec<_> =
            p.deps.iter().map(|d| (d.package.as_str(), d.requirement.as_str(), d.section.as_str())).collect();
        assert_eq!(
            got,
            [
                ("PyYAML", ">=6", "dependencies"),
                ("pytest", "", "optional-dependencies.dev"),
                ("rich", "^13", "tool.poetry.dependencies")
            ]
        );
        assert_eq!(p.own, ["my_app"]);
    }
}
